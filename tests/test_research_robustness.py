"""Research tools on awkward input: moved taxonomies, files that hold no fitted model,
label cells holding text, unknown codes in coders' files, numpy values and NaN.

Every test uses small synthetic data written to a temporary folder.
"""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from humanfactors.agreement import coder_agreement, krippendorff_alpha
from humanfactors.classifier import HumanFactorsClassifier
from humanfactors.cli import main
from humanfactors.evaluate import evaluate_model
from humanfactors.exceptions import InputError, ModelError, UnknownCodeError
from humanfactors.persistence import load_model, read_header, save_model
from humanfactors.taxonomy import Taxonomy, load_taxonomy

TEXTS = [
    "forgot to book the interpreter for the visit",
    "the interpreter did not come so the family could not follow",
    "missed the strategy meeting because of too many cases",
    "forgot the follow-up call after the visit",
    "caseload too high to visit every child this week",
    "no interpreter was available for the mother",
] * 3
CODES = [
    ["ERR.LAPSE"],
    ["FAM.LANGUAGE"],
    ["CF.TASK.WORKLOAD"],
    ["ERR.LAPSE"],
    ["CF.TASK.WORKLOAD"],
    ["FAM.LANGUAGE"],
] * 3


def _write_jsonl(path: Path, codes: list[list[str]], texts: list[str] = TEXTS) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        for i, (text, c) in enumerate(zip(texts, codes, strict=True)):
            fh.write(json.dumps({"id": f"r{i}", "narrative": text, "codes": c}) + "\n")
    return path


def _taxonomy_copy(folder: Path, name: str = "mytax.toml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    source = resources.files("humanfactors") / "taxonomies" / "safeguarding.toml"
    target.write_bytes(source.read_bytes())
    return target


def _one_error_line(err: str) -> str:
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]


# -- 1. a model keeps its taxonomy; no file is read again -----------------------------
def test_evaluate_model_uses_the_fitted_taxonomy_after_the_file_is_gone(tmp_path: Path) -> None:
    tax_file = _taxonomy_copy(tmp_path / "tax")
    model = HumanFactorsClassifier(taxonomy=str(tax_file), cv=0).fit(TEXTS, CODES)
    save_model(model, tmp_path / "m.hfm")
    shutil.rmtree(tmp_path / "tax")
    loaded = load_model(tmp_path / "m.hfm")
    # true codes given as aliases (any case) are resolved through the model's taxonomy
    aliases = [[c.lower() for c in codes] for codes in CODES]
    report = evaluate_model(loaded, TEXTS, aliases)
    assert report == evaluate_model(loaded, TEXTS, CODES)
    assert set(report.per_label) == {"CF.TASK.WORKLOAD", "ERR.LAPSE", "FAM.LANGUAGE"}


def test_cli_evaluate_from_another_folder_with_a_model_given_a_relative_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A model whose ``taxonomy`` parameter is a relative path, as older versions saved."""
    _taxonomy_copy(tmp_path / "sub")
    data = _write_jsonl(tmp_path / "test.jsonl", CODES)
    monkeypatch.chdir(tmp_path)
    model = HumanFactorsClassifier(taxonomy="sub/mytax.toml", cv=0).fit(TEXTS, CODES)
    save_model(model, "sub/mt.hfm")
    monkeypatch.chdir(tmp_path / "sub")  # sub/mytax.toml does not exist from here
    assert main(["evaluate", str(data), "--model", "mt.hfm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n"] == len(TEXTS) and out["refused"] == 0


def test_cli_train_stores_the_taxonomy_file_in_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _taxonomy_copy(tmp_path / "sub")
    _write_jsonl(tmp_path / "dev.jsonl", CODES)
    _write_jsonl(tmp_path / "test.jsonl", [[c.lower() for c in codes] for codes in CODES])
    monkeypatch.chdir(tmp_path)
    assert main(["train", "dev.jsonl", "-o", "sub/mt.hfm", "--taxonomy", "sub/mytax.toml"]) == 0
    model = load_model("sub/mt.hfm")
    assert isinstance(model.get_params()["taxonomy"], Taxonomy)
    (tmp_path / "sub" / "mytax.toml").unlink()
    monkeypatch.chdir(tmp_path / "sub")
    capsys.readouterr()
    assert main(["evaluate", "../test.jsonl", "--model", "mt.hfm", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == len(TEXTS)


def test_cli_train_keeps_a_builtin_taxonomy_by_name(tmp_path: Path) -> None:
    data = _write_jsonl(tmp_path / "dev.jsonl", CODES)
    assert main(["train", str(data), "-o", str(tmp_path / "m.hfm")]) == 0
    assert load_model(tmp_path / "m.hfm").get_params()["taxonomy"] == "safeguarding"


def test_cross_validate_still_reads_the_taxonomy_parameter(tmp_path: Path) -> None:
    from humanfactors.evaluate import cross_validate

    tax_file = _taxonomy_copy(tmp_path)
    est = HumanFactorsClassifier(taxonomy=str(tax_file), cv=0)
    report = cross_validate(est, TEXTS, [[c.lower() for c in codes] for codes in CODES], cv=3)
    assert set(report.per_label) == {"CF.TASK.WORKLOAD", "ERR.LAPSE", "FAM.LANGUAGE"}


# -- 2. a model file that holds no fitted model ---------------------------------------
@pytest.mark.parametrize("obj", [HumanFactorsClassifier(), {"a": 1}], ids=["unfitted", "dict"])
def test_cli_evaluate_refuses_a_file_without_a_fitted_model(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], obj: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from humanfactors import persistence

    data = _write_jsonl(tmp_path / "test.jsonl", CODES)
    # save_model refuses these; a file written without that check must still be refused
    monkeypatch.setattr(persistence, "_check_model", lambda model: None)
    save_model(obj, tmp_path / "x.hfm")
    assert main(["evaluate", str(data), "--model", str(tmp_path / "x.hfm")]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "needs a fitted model (it has no classes_)" in line


@pytest.mark.parametrize("obj", [HumanFactorsClassifier(), {"a": 1}, object()])
def test_evaluate_model_refuses_an_unfitted_model(obj: Any) -> None:
    with pytest.raises(ModelError, match=r"needs a fitted model \(it has no classes_\)"):
        evaluate_model(obj, TEXTS, CODES)


# -- 3. unknown codes: quote only what looks like a code ------------------------------
PERSONAL = "Dad, Tomasz Nowak, rang at 4.40pm"


@pytest.mark.parametrize(
    "value",
    ["ERR.LAPES", "A/B & C-D_E.F", "distracton", "Workoad", "ERR_LAPSE"],
)
def test_unknown_code_that_looks_like_a_code_is_quoted(value: str) -> None:
    with pytest.raises(UnknownCodeError) as info:
        load_taxonomy().resolve(value)
    assert f"unknown code {value!r} in taxonomy 'safeguarding'" in str(info.value)


def test_unknown_code_keeps_its_suggestions() -> None:
    with pytest.raises(UnknownCodeError, match=r"did you mean 'ERR\.LAPSE'"):
        load_taxonomy().resolve("ERR.LAPES")


@pytest.mark.parametrize(
    "value",
    [
        PERSONAL,  # punctuation
        "call 07700 900123",  # a run of digits
        "born 2019",
        "she said she was fine and left",  # more than five words
        "A" * 41,  # too long
        "Ms O'Brien",  # an apostrophe
        "line\nbreak",
        "Jane Smith",  # short and plain, but near no code: a name from a shifted column
        "LS6 2AB",  # a postcode
        "NOPE",
    ],
)
def test_unknown_code_that_does_not_look_like_a_code_is_not_quoted(value: str) -> None:
    with pytest.raises(UnknownCodeError) as info:
        load_taxonomy().resolve(value)
    message = str(info.value)
    assert message == (
        "unknown code in taxonomy 'safeguarding': a value that matches no code or alias "
        f"({len(value)} characters; not quoted, as it may be personal data)"
    )
    assert info.value.suggestions == ()


def test_cli_train_does_not_echo_a_narrative_given_as_labels(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pii = tmp_path / "pii.csv"
    pii.write_text(f'id,narrative,codes\n1,"{PERSONAL}","x"\n', encoding="utf-8")
    code = main(["train", str(pii), "-o", str(tmp_path / "p.hfm"), "--labels-column", "narrative"])
    err = capsys.readouterr().err
    assert code == 2
    assert "Tomasz" not in err and "4.40" not in err
    assert "matches no code or alias (33 characters; not quoted" in err


# -- 4. agreement: an unknown code names the coder, the line and the report ------------
def test_cli_agreement_unknown_code_names_coder_line_and_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = _write_jsonl(tmp_path / "ana.jsonl", CODES)
    ben_codes = [list(c) for c in CODES]
    ben_codes[2] = ["CF.TASK.WORKLOAD", "ERR.LAPES"]
    ben = _write_jsonl(tmp_path / "ben.jsonl", ben_codes)
    assert main(["agreement", str(ana), str(ben), "--taxonomy", "safeguarding"]) == 1
    captured = capsys.readouterr()
    assert "Agreement of 2 coders" in captured.out
    [line] = [
        ln
        for ln in captured.err.splitlines()
        if ln.startswith("humanfactors agreement") and "unknown code" in ln
    ]
    assert line.startswith(
        "humanfactors agreement: ben: line 3, report 'r2': unknown code 'ERR.LAPES' in "
        "taxonomy 'safeguarding'; did you mean 'ERR.LAPSE'"
    )


def test_cli_agreement_with_names_also_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ana = _write_jsonl(tmp_path / "ana.jsonl", CODES)
    ben = _write_jsonl(tmp_path / "ben.jsonl", [["ERR.NOPE"], *CODES[1:]])
    args = ["agreement", str(ana), str(ben), "--taxonomy", "safeguarding", "--names", "a,b"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"humanfactors agreement: b ({ben}): line 1, report 'r0': unknown code 'ERR.NOPE'" in err


def test_coder_agreement_leaves_out_a_record_with_an_unknown_code() -> None:
    a = {"r1": ["ERR.LAPSE"], "r2": ["lapse"], "r3": []}
    b = {"r1": ["err.lapse"], "r2": ["ERR.LAPSE"], "r3": ["NO.SUCH.CODE"]}
    report = coder_agreement([a, b], names=["ann", "bob"], taxonomy="safeguarding")
    assert report.n_reports == 2
    assert report.missing == {"r3": ("bob",)}
    [(coder, err)] = report.errors
    assert coder == "bob" and err.id == "r3" and err.line is None
    assert err.error.startswith("report 'r3': unknown code 'NO.SUCH.CODE'")
    assert report.codes["ERR.LAPSE"].percent_agreement == 1.0


# -- 5. save_model: numpy numbers, unserialisable metrics, unreadable training data -----
@pytest.fixture(scope="module")
def fitted() -> HumanFactorsClassifier:
    return HumanFactorsClassifier(cv=0).fit(TEXTS, CODES)


@pytest.mark.parametrize(
    "metrics, expected",
    [
        ({"n": np.int64(3)}, {"n": 3}),
        ({"f1": np.float32(0.5)}, {"f1": 0.5}),
        ({"ok": np.bool_(True), "per": {"a": np.float64(0.25)}}, {"ok": True, "per": {"a": 0.25}}),
        ({"f1s": np.array([0.5, 0.25])}, {"f1s": [0.5, 0.25]}),
    ],
)
def test_save_model_converts_numpy_numbers(
    tmp_path: Path, fitted: HumanFactorsClassifier, metrics: dict[str, Any], expected: Any
) -> None:
    save_model(fitted, tmp_path / "m.hfm", metrics=metrics)
    assert read_header(tmp_path / "m.hfm")["metrics"] == expected
    assert type(read_header(tmp_path / "m.hfm")["metrics"]) is dict
    load_model(tmp_path / "m.hfm")  # the signature still verifies


@pytest.mark.parametrize("metrics", [{1: 0.5, "a": 1}, {"f1": float("nan")}, {"when": object()}])
def test_save_model_refuses_metrics_json_cannot_write(
    tmp_path: Path, fitted: HumanFactorsClassifier, metrics: dict[Any, Any]
) -> None:
    with pytest.raises(InputError, match="must be JSON-serialisable"):
        save_model(fitted, tmp_path / "m.hfm", metrics=metrics)
    assert not (tmp_path / "m.hfm").exists()


@pytest.mark.parametrize("name", ["nonexistent.csv", "."])
def test_save_model_names_an_unreadable_training_data_file(
    tmp_path: Path, fitted: HumanFactorsClassifier, name: str
) -> None:
    with pytest.raises(InputError, match=r"training_data file .*: cannot read it"):
        save_model(fitted, tmp_path / "m.hfm", training_data=tmp_path / name)


# -- 6. Krippendorff's alpha: any NaN is a missing rating -----------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, object])
def test_krippendorff_alpha_treats_numpy_nan_as_missing(dtype: Any) -> None:
    data = np.array([[0, 1, 0, np.nan], [0, 1, 1, 1]], dtype=dtype)
    assert krippendorff_alpha(data) == pytest.approx(
        krippendorff_alpha([[0, 1, 0, None], [0, 1, 1, 1]])
    )
    assert krippendorff_alpha(data) == pytest.approx(4 / 9)


def test_krippendorff_alpha_numpy_nan_scalars_in_lists() -> None:
    rows = [[0, 1, 0, np.float32("nan")], [0, 1, 1, np.float64("nan")], [0, 1, 1, 1]]
    assert krippendorff_alpha(rows) == pytest.approx(
        krippendorff_alpha([[0, 1, 0, None], [0, 1, 1, None], [0, 1, 1, 1]])
    )


# -- 7. an empty --label-sep -----------------------------------------------------------
@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_cli_refuses_an_empty_label_sep(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    data = tmp_path / "d.csv"
    data.write_text("id,narrative,codes\n1,forgot the visit,ERR.LAPSE\n", encoding="utf-8")
    extra = ["-o", str(tmp_path / "m.hfm")] if command == "train" else ["--cv", "2"]
    assert main([command, str(data), "--label-sep", "", *extra]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--label-sep must not be empty" in line


# -- 8. cv_scores_ when the internal cross-validation is skipped ------------------------
@pytest.mark.parametrize("cv", [0, 1])
def test_cv_scores_is_none_when_the_internal_cv_is_skipped(cv: int) -> None:
    model = HumanFactorsClassifier(cv=cv).fit(TEXTS, CODES)
    assert model.cv_scores_ is None


def test_cv_scores_is_none_for_too_few_reports() -> None:
    assert HumanFactorsClassifier(cv=5).fit(TEXTS[:3], CODES[:3]).cv_scores_ is None


def test_cv_scores_is_set_when_the_internal_cv_runs() -> None:
    model = HumanFactorsClassifier(cv=3).fit(TEXTS, CODES)
    assert set(model.cv_scores_) >= {"micro_f1", "macro_f1"}


def test_cv_scores_out_of_core_first_batch() -> None:
    model = HumanFactorsClassifier(out_of_core=True)
    model.partial_fit(
        TEXTS[:6], CODES[:6], classes=["CF.TASK.WORKLOAD", "ERR.LAPSE", "FAM.LANGUAGE"]
    )
    assert model.cv_scores_ is None


def test_an_evaluate_json_object_reads_back_with_its_extra_keys() -> None:
    from humanfactors.evaluate import EvaluationReport, evaluate

    report = evaluate([["A"], ["B"]], [["A"], ["A"]], classes=["A", "B"])
    data = {**report.to_dict(), "source": "x.jsonl", "refused": 0}
    assert EvaluationReport.from_dict(data).to_dict() == report.to_dict()


def test_a_crosswalk_takes_one_relation_as_a_string() -> None:
    from humanfactors.taxonomy import load_crosswalk

    cw = load_crosswalk("hfacs", "safeguarding")
    one = cw.map("UA.ERR.SKILL", relations="broader")
    assert one and one == cw.map("UA.ERR.SKILL", relations=["broader"])


def test_a_blank_alias_is_refused(tmp_path: Path) -> None:
    from humanfactors.exceptions import TaxonomyError

    path = tmp_path / "blank.toml"
    path.write_text(
        '[taxonomy]\nname = "blank"\nversion = "1"\n\n'
        '[[factors]]\ncode = "A"\nname = "a"\ndefinition = "d"\naliases = ["  "]\n',
        encoding="utf-8",
    )
    with pytest.raises(TaxonomyError, match="blank alias"):
        load_taxonomy(path)


def test_taxonomy_brief_json_gives_codes_and_names_only(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["taxonomy", "asrs", "--brief", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["taxonomy"]["name"] == "asrs"
    assert len(data["factors"]) == 12
    assert all(set(f) == {"code", "name", "parent", "level"} for f in data["factors"])
