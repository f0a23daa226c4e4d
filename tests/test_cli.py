"""The command line skeleton: version, taxonomy, schema, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from humanfactors import __version__
from humanfactors.cli import main


def test_version(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"humanfactors {__version__}"


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert "usage" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(capsys):
    assert main(["taxonomy", "--nope"]) == 2


def test_taxonomy_tree_prints_codes_and_definitions(capsys):
    assert main(["taxonomy"]) == 0
    out = capsys.readouterr().out
    assert "ERR.LAPSE" in out and "  ERR.MISTAKE.RULE" in out
    assert "Lapse" in out


@pytest.mark.parametrize("name", ["safeguarding", "hfacs", "asrs"])
def test_taxonomy_json(capsys, name):
    assert main(["taxonomy", name, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["taxonomy"]["name"] == name and data["factors"]


def test_taxonomy_error_is_one_line_exit_2(capsys, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('[taxonomy]\nname="x"\nversion="1"\n[[factors]]\ncode="A.B"\nname="n"\ndefinition="d"\n')
    assert main(["taxonomy", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "parent 'A' is not defined" in err and "Traceback" not in err


def test_schema(capsys):
    assert main(["schema"]) == 0
    assert "Incident" in json.loads(capsys.readouterr().out)["$defs"]


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "humanfactors", "taxonomy", "--list"],
                         capture_output=True, text=True, check=True)
    assert "safeguarding" in out.stdout
