"""``humanfactors train`` and ``humanfactors evaluate``.

Most tests swap in a tiny stand-in estimator and persistence module, so that they test
the commands (options, error reporting, exit codes, output) quickly and on their own;
the end-to-end tests at the bottom use the real classifier.
"""

from __future__ import annotations

import importlib.util
import json
import pickle
import sys
import types
from pathlib import Path
from typing import Any

import pytest

from humanfactors.cli import main
from stand_ins import WordCoder

DATA = Path(__file__).parent / "data"
CODED = DATA / "eval_coded.jsonl"  # 12 good reports, a malformed line 7, an unknown code on 14
REPO = Path(__file__).resolve().parents[1]


class CliWordCoder(WordCoder):
    """The stand-in as the CLI builds it: the safeguarding taxonomy and a 0.6 threshold."""

    def __init__(
        self, *, taxonomy: Any = "safeguarding", threshold: float = 0.6, random_state: int = 0,
        n_jobs: Any = None,
    ):
        super().__init__(
            taxonomy=taxonomy, threshold=threshold, random_state=random_state, n_jobs=n_jobs
        )


@pytest.fixture
def stand_in(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Replace humanfactors.classifier and humanfactors.persistence; record what is saved."""
    saved: dict[str, Any] = {}
    classifier = types.ModuleType("humanfactors.classifier")
    classifier.HumanFactorsClassifier = CliWordCoder  # type: ignore[attr-defined]
    persistence = types.ModuleType("humanfactors.persistence")

    def save_model(
        model: Any, path: Any, *, training_data: Any = None, metrics: Any = None
    ) -> None:
        assert set(training_data) == {"sha256", "n"}  # what the real save_model accepts
        json.dumps(metrics, allow_nan=False)
        saved.update(training_data=training_data, metrics=metrics)
        Path(path).write_bytes(pickle.dumps(model))

    def load_model(path: Any, *, trusted: bool = False) -> Any:
        saved["trusted"] = trusted
        return pickle.loads(Path(path).read_bytes())

    persistence.save_model = save_model  # type: ignore[attr-defined]
    persistence.load_model = load_model  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "humanfactors.classifier", classifier)
    monkeypatch.setitem(sys.modules, "humanfactors.persistence", persistence)
    return saved


def test_train_reports_bad_rows_trains_on_the_rest_and_exits_1(
    stand_in: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path = tmp_path / "m.bin"
    assert main(["train", str(CODED), "-o", str(model_path)]) == 1
    err = capsys.readouterr().err
    assert "line 7: malformed JSON" in err
    assert "line 14: unknown code 'ERR.MISREAD'" in err and "did you mean" in err
    assert "12 reports, 4 codes, 2 refused" in err
    model = pickle.loads(model_path.read_bytes())
    assert list(model.classes_) == [
        "CF.TASK.WORKLOAD",
        "ERR.LAPSE",
        "FAM.CHILD_UNSEEN",
        "PROT.CHALLENGE",
    ]
    assert stand_in["training_data"]["n"] == 12
    assert len(stand_in["training_data"]["sha256"]) == 64
    assert 0 < stand_in["metrics"]["training_set_micro_f1"] <= 1
    assert "\x1b[K" not in err  # no progress line when stderr is not a terminal


def test_train_clean_data_exits_0(stand_in: dict[str, Any], tmp_path: Path) -> None:
    clean = tmp_path / "clean.jsonl"
    clean.write_text(
        "".join(CODED.read_text(encoding="utf-8").splitlines(True)[:6]), encoding="utf-8"
    )
    assert main(["train", str(clean), "-o", str(tmp_path / "m.bin")]) == 0


def test_train_with_nothing_usable_exits_2(
    stand_in: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "a", "narrative": "x", "codes": ["MY.OWN.CODE"]}\nnot json\n', encoding="utf-8"
    )
    assert main(["train", str(bad), "-o", str(tmp_path / "m.bin")]) == 2
    err = capsys.readouterr().err
    assert "no usable records (2 refused)" in err
    assert not (tmp_path / "m.bin").exists()


def test_train_csv_with_joined_columns_and_no_taxonomy(
    stand_in: dict[str, Any], tmp_path: Path
) -> None:
    path = tmp_path / "own.csv"
    path.write_text(
        "ref,title,body,tags\n"
        "1,Late,The form was late.,timing|forms\n"
        "2,Lost,The file was lost.,records\n"
        "3,Late again,The letter was late.,timing\n",
        encoding="utf-8",
    )
    out = tmp_path / "m.bin"
    code = main(
        [
            "train",
            str(path),
            "-o",
            str(out),
            "--text-column",
            "title",
            "--text-column",
            "body",
            "--labels-column",
            "tags",
            "--label-sep",
            "|",
            "--id-column",
            "ref",
            "--taxonomy",
            "none",
        ]
    )
    assert code == 0
    model = pickle.loads(out.read_bytes())
    assert model.taxonomy is None
    assert list(model.classes_) == ["forms", "records", "timing"]
    assert {"again", "letter"} <= model.vocab_["timing"]  # title and body joined


def test_train_asrs_export_defaults_to_the_asrs_taxonomy(
    stand_in: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "m.bin"
    assert (
        main(["train", str(DATA / "io_asrs_export.csv"), "--format", "asrs", "-o", str(out)]) == 1
    )
    model = pickle.loads(out.read_bytes())
    assert model.taxonomy == "asrs"
    assert "WORKLOAD" in model.classes_ and "SITUATIONAL_AWARENESS" in model.classes_
    assert "line 5: empty narrative" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["train", "missing.jsonl", "-o", "m.bin"], "no such file"),
        (["train", str(CODED), "-o", "no/such/dir/m.bin"], "does not exist"),
        (["train", str(CODED), "-o", "m.bin", "--taxonomy", "nosuch"], "unknown taxonomy 'nosuch'"),
        (
            ["train", str(DATA / "io_reports.csv"), "-o", "m.bin", "--text-column", "story"],
            "no text column 'story'",
        ),
    ],
)
def test_train_unusable_input_is_one_line_and_exit_2(
    stand_in: dict[str, Any],
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_train_requires_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", str(CODED)]) == 2
    assert "-o/--output" in capsys.readouterr().err


def test_progress_is_drawn_on_a_terminal_only() -> None:
    import io

    from humanfactors._cli.train import Progress

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        with Progress(stream) as p:
            p.update("training on 5 reports")
    assert "training on 5 reports" in tty.getvalue() and pipe.getvalue() == ""


# -- evaluate -------------------------------------------------------------------------
def test_evaluate_saved_model_json(
    stand_in: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model_path = tmp_path / "m.bin"
    main(["train", str(CODED), "-o", str(model_path)])
    capsys.readouterr()
    assert main(["evaluate", str(CODED), "--model", str(model_path), "--json"]) == 1
    out, err = capsys.readouterr()
    report = json.loads(out)
    assert {"micro_f1", "macro_f1", "p_at_1", "n", "per_label"} <= set(report)
    assert report["n"] == 12 and report["refused"] == 2
    assert set(report["per_label"]) == {
        "CF.TASK.WORKLOAD",
        "ERR.LAPSE",
        "FAM.CHILD_UNSEEN",
        "PROT.CHALLENGE",
    }
    assert report["per_label"]["ERR.LAPSE"]["support"] == 4
    assert "line 7" in err
    assert stand_in["trusted"] is False


def test_evaluate_cv_table(stand_in: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", str(CODED), "--cv", "3"]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Evaluation (3-fold CV), 12 reports, 4 codes")
    assert "precision-at-1" in out and "PROT.CHALLENGE" in out
    assert "2 records refused" in out


def test_evaluate_cv_json_is_deterministic(
    stand_in: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    main(["evaluate", str(CODED), "--cv", "4", "--json"])
    first = capsys.readouterr().out
    main(["evaluate", str(CODED), "--cv", "4", "--json"])
    assert capsys.readouterr().out == first


@pytest.mark.parametrize(
    "argv, message",
    [
        (["evaluate", str(CODED)], "one of the arguments --model --cv is required"),
        (["evaluate", str(CODED), "--cv", "3", "--model", "m"], "not allowed with argument"),
        (["evaluate", str(CODED), "--cv", "1"], "--cv must be at least 2"),
        (["evaluate", str(CODED), "--cv", "13"], "more folds than the 12 usable reports"),
    ],
)
def test_evaluate_usage_errors_exit_2(
    stand_in: dict[str, Any], argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


# -- end to end, with the real classifier ----------------------------------------------
_HAVE_CLASSIFIER = importlib.util.find_spec("humanfactors.classifier") is not None and (
    importlib.util.find_spec("humanfactors.persistence") is not None
)
needs_classifier = pytest.mark.skipif(
    not _HAVE_CLASSIFIER, reason="humanfactors.classifier and persistence not available"
)


def _corpus_subset(tmp_path: Path, name: str, n: int) -> Path:
    source = REPO / "data" / "safeguarding" / name
    if not source.is_file():
        pytest.skip(f"safeguarding corpus file {source} not found")
    lines = source.read_text(encoding="utf-8").splitlines(True)[:n]
    out = tmp_path / name
    out.write_text("".join(lines), encoding="utf-8")
    return out


@needs_classifier
def test_end_to_end_train_then_evaluate_held_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    train = _corpus_subset(tmp_path, "train.jsonl", 150)
    test = _corpus_subset(tmp_path, "test.jsonl", 60)
    model_path = tmp_path / "model.hfm"
    assert main(["train", str(train), "-o", str(model_path)]) == 0
    assert "saved" in capsys.readouterr().err
    assert main(["evaluate", str(test), "--model", str(model_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 60 and report["method"] == "held-out"
    assert 0.0 <= report["micro_f1"] <= 1.0 and report["p_at_1"] is not None
    # the CLI figures are those of the library on the same model and data
    from humanfactors.evaluate import evaluate_model
    from humanfactors.io import load_labelled
    from humanfactors.persistence import load_model

    data = load_labelled(test, taxonomy="safeguarding")
    direct = evaluate_model(load_model(model_path), data.texts, data.labels)
    assert report["micro_f1"] == pytest.approx(direct.micro_f1)
    assert report["per_label"] == json.loads(direct.to_json())["per_label"]


@needs_classifier
@pytest.mark.slow
@pytest.mark.realdata
def test_end_to_end_asrs_export_cross_validated(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs" / "dbonline-sample.csv"
    if not path.is_file():
        pytest.skip(f"real ASRS sample not found at {path} (it lives in ../shared/data/asrs)")
    assert main(["evaluate", str(path), "--format", "asrs", "--cv", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["n"] == 377 and len(report["per_label"]) == 12
    assert report["micro_f1"] > 0.3  # far above chance on real ASRS text
