"""The commands' input and output: one bad record never stops a run or loses another.

Every input record comes out as a result or as one error record naming its line; output
is strict JSON; an output that cannot be written is one line on stderr and exit 2.
"""

from __future__ import annotations

import json
import os
import signal
import threading
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest

from humanfactors.cli import main

PII = ("Kirsty", "Smith", "Tomasz", "Nowak", "caf")
EXAMPLES = Path(__file__).resolve().parents[1] / "data" / "examples" / "reports.jsonl"


def _strict(line: str) -> Any:
    """Parse one line as strict JSON: ``NaN`` and ``Infinity`` are refused."""

    def refuse(name: str) -> None:
        raise ValueError(f"not strict JSON: {name}")

    return json.loads(line, parse_constant=refuse)


def _rows(text: str) -> list[dict[str, Any]]:
    return [_strict(x) for x in text.splitlines() if x.strip()]


def _no_pii(text: str) -> None:
    for word in PII:
        assert word not in text


@pytest.fixture
def bad_utf8(tmp_path: Path) -> Path:
    src = tmp_path / "bad8.jsonl"
    src.write_bytes(
        b'{"id":"u1","narrative":"Kirsty Smith rang."}\n'
        b'{"id":"u2","narrative":"caf\xe9"}\n'
        b'{"id":"u3","narrative":"Tomasz Nowak rang."}\n'
    )
    return src


@pytest.fixture
def deep(tmp_path: Path) -> Path:
    src = tmp_path / "deep.jsonl"
    nested = "[" * 100_000 + "]" * 100_000
    src.write_text(
        '{"id":"d1","narrative":"x","metadata":{"a":' + nested + "}}\n"
        '{"id":"d2","narrative":"Kirsty Smith rang."}\n',
        encoding="utf-8",
    )
    return src


# -- 1. a line that is not UTF-8 -----------------------------------------------------
def test_redact_non_utf8_line_is_one_error_and_the_rest_go_on(
    bad_utf8: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["redact", str(bad_utf8)]) == 1
    out, err = capsys.readouterr()
    rows = _rows(out)
    assert [r["id"] for r in rows] == ["u1", "u3"]
    assert rows[1]["narrative"] == "[PERSON_1] rang."
    errors = _rows(err)
    assert len(errors) == 1 and errors[0]["line"] == 2
    assert "line 2" in errors[0]["error"] and "utf-8" in errors[0]["error"].lower()
    _no_pii(err)


def test_check_non_utf8_line_is_one_error_and_the_rest_go_on(
    bad_utf8: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", str(bad_utf8)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["u1", "u3"]
    errors = _rows(err)
    assert len(errors) == 1 and errors[0]["line"] == 2 and "line 2" in errors[0]["error"]
    _no_pii(err)


def test_redact_errors_file_gets_the_encoding_error(bad_utf8: Path, tmp_path: Path) -> None:
    out, bad = tmp_path / "out.jsonl", tmp_path / "bad.jsonl"
    assert main(["redact", str(bad_utf8), "-o", str(out), "--errors", str(bad)]) == 1
    assert [r["id"] for r in _rows(out.read_text(encoding="utf-8"))] == ["u1", "u3"]
    assert [e["line"] for e in _rows(bad.read_text(encoding="utf-8"))] == [2]


def test_plain_text_line_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.txt"
    src.write_bytes(b"Kirsty Smith rang.\ncaf\xe9 \xff\nNo names here.\n")
    assert main(["redact", str(src)]) == 1
    out, err = capsys.readouterr()
    assert out == "[PERSON_1] rang.\nNo names here.\n"
    assert [e["line"] for e in _rows(err)] == [2]
    assert main(["check", str(src)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["line-1", "line-3"]
    assert [e["line"] for e in _rows(err)] == [2]


def test_stdin_non_utf8(
    bad_utf8: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    for command in ("redact", "check"):
        stdin = io.TextIOWrapper(io.BytesIO(bad_utf8.read_bytes()), encoding="utf-8")
        monkeypatch.setattr("sys.stdin", stdin)
        assert main([command, "-"]) == 1
        out, err = capsys.readouterr()
        assert [r["id"] for r in _rows(out)] == ["u1", "u3"]
        assert [e["line"] for e in _rows(err)] == [2]


# -- 2. a byte-order mark -------------------------------------------------------------
def test_bom_is_dropped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bom.jsonl"
    src.write_bytes(b'\xef\xbb\xbf{"id":"b1","narrative":"Kirsty Smith rang."}\n')
    assert main(["redact", str(src)]) == 0
    row = _strict(capsys.readouterr().out)
    assert row == {"id": "b1", "narrative": "[PERSON_1] rang."}
    assert main(["check", str(src)]) == 0
    assert _strict(capsys.readouterr().out)["id"] == "b1"


def test_utf16_input_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "u16.jsonl"
    src.write_bytes('{"id":"w1","narrative":"Kirsty rang."}\n'.encode("utf-16"))
    for command in ("redact", "check"):
        assert main([command, str(src)]) == 2
        err = capsys.readouterr().err
        assert "UTF-16" in err and len(err.splitlines()) == 1


# -- 3. strict JSON out ---------------------------------------------------------------
def test_redact_writes_non_finite_numbers_as_null(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io

    line = (
        '{"id":"r1","narrative":"Kirsty Smith","score":1e400,'
        '"more":[NaN,{"low":-Infinity}],"ok":1.5}\n'
    )
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(line.encode()), "utf-8"))
    assert main(["redact", "-"]) == 0
    row = _strict(capsys.readouterr().out)
    assert row == {
        "id": "r1",
        "narrative": "[PERSON_1]",
        "score": None,
        "more": [None, {"low": None}],
        "ok": 1.5,
    }


def test_analyse_also_writes_non_finite_metadata_as_null(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text('{"id":"r1","narrative":"x","metadata":{"score":1e400}}\n', encoding="utf-8")
    assert main(["analyse", str(src), "--no-model", "--quiet"]) == 0
    assert _strict(capsys.readouterr().out)["incident"]["metadata"] == {"score": None}


def test_lone_surrogate_escape_is_an_error_record(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id":"s1","narrative":"Kirsty \\ud800 Smith"}\n'
        '{"id":"\\ud800","narrative":"Kirsty Smith rang."}\n'
        '{"id":"s3","narrative":"Tomasz Nowak rang."}\n',
        encoding="utf-8",
    )
    assert main(["redact", str(src)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["s3"]
    errors = _rows(err)
    assert [e["line"] for e in errors] == [1, 2] and errors[1]["id"] is None
    _no_pii(err)
    assert main(["check", str(src)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["s3"]
    errors = _rows(err)
    assert [e["line"] for e in errors] == [1, 2] and errors[1]["id"] is None
    _no_pii(err)


# -- 4. deep nesting and other unreadable JSON ---------------------------------------
@pytest.mark.parametrize("command", ["redact", "check"])
def test_deeply_nested_json_is_one_error(
    command: str, deep: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([command, str(deep)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["d2"]
    errors = _rows(err)
    assert len(errors) == 1 and errors[0]["line"] == 1
    assert "nested too deeply" in errors[0]["error"]


@pytest.mark.parametrize("command", ["redact", "check"])
def test_number_too_long_to_read_is_one_error(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id":"n1","narrative":"Kirsty Smith","n":' + "1" * 5000 + "}\n"
        '{"id":"n2","narrative":"Kirsty Smith rang."}\n',
        encoding="utf-8",
    )
    assert main([command, str(src)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["n2"]
    assert [e["line"] for e in _rows(err)] == [1]
    _no_pii(err)


def test_check_deep_metadata_names_the_field_briefly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id":"m1","narrative":"x","metadata":{"a":' + "[" * 900 + "]" * 900 + "}}\n",
        encoding="utf-8",
    )
    assert main(["check", str(src)]) == 1
    (error,) = _rows(capsys.readouterr().err)
    assert error["id"] == "m1" and error["error"].startswith("line 1: field 'metadata")
    assert len(error["error"]) < 200


# -- one record that fails unexpectedly ---------------------------------------------
def test_redact_failure_on_one_record_is_an_error_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from humanfactors.redact import Redactor

    real = Redactor.redact

    def flaky(self: Redactor, text: str) -> Any:
        if "Tomasz" in text:
            raise RuntimeError(f"cannot handle {text}")
        return real(self, text)

    monkeypatch.setattr(Redactor, "redact", flaky)
    src = tmp_path / "in.txt"
    src.write_text(
        'Kirsty Smith rang.\nTomasz Nowak rang.\n{"id":"j1","narrative":"Tomasz rang."}\n'
        '{"id":"j2","narrative":"Kirsty rang."}\n',
        encoding="utf-8",
    )
    assert main(["redact", str(src)]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "[PERSON_1] rang."
    assert _strict(out.splitlines()[1])["id"] == "j2"
    errors = _rows(err)
    assert [(e["line"], e["id"]) for e in errors] == [(2, None), (3, "j1")]
    assert all("internal error (RuntimeError)" in e["error"] for e in errors)
    _no_pii(err)


def test_check_failure_on_one_record_is_an_error_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import humanfactors.rules as rules

    real = rules.check

    def flaky(subject: Any, **kwargs: Any) -> Any:
        text = subject if isinstance(subject, str) else subject.narrative
        if "Tomasz" in text:
            raise RuntimeError(f"cannot handle {text}")
        return real(subject, **kwargs)

    monkeypatch.setattr(rules, "check", flaky)
    src = tmp_path / "in.txt"
    src.write_text("Kirsty Smith rang.\nTomasz Nowak rang.\nNo names.\n", encoding="utf-8")
    assert main(["check", str(src)]) == 1
    out, err = capsys.readouterr()
    assert [r["id"] for r in _rows(out)] == ["line-1", "line-3"]
    (error,) = _rows(err)
    assert error["line"] == 2 and "internal error (RuntimeError)" in error["error"]
    _no_pii(err)


def test_check_unknown_taxonomy_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.txt"
    src.write_text("A near miss: the wrong dose was nearly given.\n", encoding="utf-8")
    assert main(["check", str(src), "--taxonomy", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "nosuch" in err


# -- 5. outputs that are not regular files, or cannot be written ---------------------
def test_analyse_to_dev_null_is_not_fsynced(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyse", str(EXAMPLES), "--no-model", "-o", os.devnull]) == 0
    assert "6 analysed, 0 failed" in capsys.readouterr().err


def _fifo_and_reader(tmp_path: Path) -> tuple[Path, list[bytes], threading.Thread]:
    """A FIFO in tmp_path and a thread (not started) that reads all of it into a list."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []

    def drain() -> None:
        with open(fifo, "rb") as fh:
            got.append(fh.read())

    return fifo, got, threading.Thread(target=drain, daemon=True)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_analyse_to_a_fifo(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Opening OUT twice (truncate, then append) let the reader see its end of file after
    # the first close, and the second open then waited for a reader for ever.
    fifo, got, reader = _fifo_and_reader(tmp_path)

    def too_slow(signum: int, frame: object) -> None:
        raise TimeoutError("analyse -o FIFO did not finish")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(60)
    reader.start()
    try:
        code = main(["analyse", str(EXAMPLES), "--no-model", "-o", str(fifo)])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        reader.join(timeout=5)
        if reader.is_alive():  # still waiting to open: let it read an empty FIFO and end
            with suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=5)
    assert code == 0 and not reader.is_alive()
    assert len(got[0].splitlines()) == 6
    assert "6 analysed" in capsys.readouterr().err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_atomic_write_to_a_fifo_writes_in_place(tmp_path: Path) -> None:
    import stat

    from humanfactors._cli._common import atomic_write_text

    # A FIFO, not a device: were it replaced by a regular file, only tmp_path would suffer.
    fifo, got, reader = _fifo_and_reader(tmp_path)
    reader.start()
    try:
        atomic_write_text(fifo, "x\n")
    finally:
        reader.join(timeout=5)
        if reader.is_alive():
            with suppress(OSError):
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            reader.join(timeout=5)
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)  # written to, not replaced
    assert got == [b"x\n"]
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]  # no temporary file left


@pytest.mark.parametrize(
    "argv",
    [
        ["analyse", str(EXAMPLES), "--no-model", "-o", "{missing}"],
        ["analyse", str(EXAMPLES), "--no-model", "--errors", "{missing}"],
        ["redact", str(EXAMPLES), "-o", "{missing}"],
        ["redact", str(EXAMPLES), "--errors", "{missing}"],
        ["check", str(EXAMPLES), "-o", "{missing}"],
        ["schema", "-o", "{missing}"],
    ],
)
def test_missing_output_folder_is_one_line_exit_2(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope" / "out.jsonl")
    assert main([a.replace("{missing}", missing) for a in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and missing in err and "Traceback" not in err


def test_any_os_error_is_one_line_exit_2(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import humanfactors._cli.schema as schema

    def fail(args: Any) -> int:
        raise PermissionError(13, "Permission denied", "/somewhere/out.json")

    monkeypatch.setattr(schema, "run", fail)
    assert main(["schema"]) == 2
    err = capsys.readouterr().err
    assert err == "humanfactors schema: error: /somewhere/out.json: Permission denied\n"


# -- 6. --resume counts each id ------------------------------------------------------
def test_resume_with_a_repeated_id_skips_only_what_is_in_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    records = [
        {"id": "a", "narrative": "I forgot to ring the family back."},
        {"id": "a", "narrative": "A different report that reuses the id."},
        {"id": "b", "narrative": "A third report."},
    ]
    first = tmp_path / "first.jsonl"
    first.write_text(json.dumps(records[0]) + "\n", encoding="utf-8")
    src = tmp_path / "all.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["analyse", str(first), "--no-model", "-o", str(out)]) == 0
    capsys.readouterr()

    assert main(["analyse", str(src), "--no-model", "--resume", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "2 analysed, 0 failed, 1 already in OUT" in err
    narratives = [_strict(x)["incident"]["narrative"] for x in out.read_text().splitlines()]
    assert narratives == [r["narrative"] for r in records]

    assert main(["analyse", str(src), "--no-model", "--resume", "-o", str(out)]) == 0
    assert "0 analysed, 0 failed, 3 already in OUT" in capsys.readouterr().err
    assert len(out.read_text().splitlines()) == 3


def test_resume_summary_adds_up_to_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        '{"id":"a","narrative":"one"}\n{"id":"a","narrative":"two"}\n{"not json\n'
        '{"id":"a","narrative":"three"}\n',
        encoding="utf-8",
    )
    out = tmp_path / "out.jsonl"
    done = '{"incident":{"id":"a","narrative":"one"}}\n'
    out.write_text(done + '{"incident":{"id":"zz"', encoding="utf-8")  # torn last line
    assert main(["analyse", str(src), "--no-model", "--resume", "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert "2 analysed, 1 failed, 1 already in OUT" in err
    assert len(out.read_text().splitlines()) == 3


def test_inputs_sharing_a_name_are_warned_of_and_both_analysed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, text in (("a", "I forgot to ring the school back.\n"), ("b", "No interpreter.\n")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "notes.txt").write_text(text, encoding="utf-8")
    out = tmp_path / "out.jsonl"
    paths = [str(tmp_path / "a" / "notes.txt"), str(tmp_path / "b" / "notes.txt")]
    assert main(["analyse", *paths, "--no-model", "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "share the name 'notes'" in err and "2 analysed" in err
    assert len(out.read_text().splitlines()) == 2
    assert main(["analyse", paths[0], "--no-model", "-o", str(out)]) == 0
    assert "warning" not in capsys.readouterr().err
