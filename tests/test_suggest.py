"""Active learning: uncertainty, diversity, the strategies and the suggest CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from humanfactors.cli import main
from humanfactors.exceptions import InputError, ModelError
from humanfactors.suggest import Suggestion, code_uncertainty, suggest_next


class _FixedModel:
    """A fitted-looking model whose probabilities are given per text."""

    def __init__(self, table: dict[str, list[float]], classes=("A", "B"), thresholds=None):
        self.table = table
        self.classes_ = np.array(classes, dtype=object)
        if thresholds is not None:
            self.thresholds_ = np.asarray(thresholds)

    def predict_proba(self, texts):
        return np.array([self.table[t] for t in texts], dtype=float)


@pytest.mark.parametrize(
    "p, t, expected",
    [
        (0.5, 0.5, 1.0),
        (0.0, 0.5, 0.0),
        (1.0, 0.5, 0.0),
        (0.2, 0.2, 1.0),
        (0.6, 0.2, 0.5),  # halfway from the threshold 0.2 to certainty at 1.0
        (0.1, 0.2, 0.875),
    ],
)
def test_code_uncertainty_is_relative_to_the_threshold(p, t, expected):
    assert code_uncertainty([[p]], [t])[0, 0] == pytest.approx(expected)


def test_uncertainty_strategy_ranks_by_closeness_to_threshold():
    model = _FixedModel(
        {"sure": [0.99, 0.01], "fence": [0.5, 0.02], "half": [0.75, 0.0], "two": [0.5, 0.5]}
    )
    picks = suggest_next(model, ["sure", "fence", "half", "two"], n=3, strategy="uncertainty")
    assert [s.id for s in picks] == ["3", "1", "2"]
    assert picks[0].uncertain_codes[0][0] in {"A", "B"}
    assert "model unsure of" in picks[0].reason


def test_model_thresholds_are_used():
    model = _FixedModel({"x": [0.2, 0.9], "y": [0.6, 0.9]}, thresholds=[0.2, 0.9])
    picks = suggest_next(model, ["x", "y"], n=1, strategy="uncertainty")
    assert picks[0].id == "0"  # on both thresholds exactly


def _near_duplicates() -> tuple[list[str], dict[str, list[float]]]:
    # Five copies of one confusing report, and three different, slightly less uncertain ones.
    base = "the pilot misread the altimeter setting during the descent into the airport"
    texts = [f"{base} {'again ' * i}" for i in range(5)]
    texts += [
        "fatigue after a long duty day with little rest before the flight",
        "the controller issued a clearance on the wrong frequency to another aircraft",
        "maintenance manual had no procedure for the hydraulic pump replacement",
    ]
    table = {t: [0.5, 0.5] for t in texts[:5]}
    table.update({t: [0.45, 0.55] for t in texts[5:]})
    return texts, table


def test_diverse_strategy_avoids_near_duplicates():
    texts, table = _near_duplicates()
    model = _FixedModel(table)
    plain = suggest_next(model, texts, n=4, strategy="uncertainty")
    assert sorted(s.index for s in plain) == [0, 1, 2, 3]  # all copies
    diverse = suggest_next(model, texts, n=4)
    chosen = [s.index for s in diverse]
    assert sum(i < 5 for i in chosen) == 1  # one copy only
    assert set(chosen) >= {5, 6, 7}
    assert diverse[0].index < 5  # the most uncertain comes first
    assert all(s.distance > 0.5 for s in diverse[1:])
    assert "unlike the reports chosen before it" in diverse[1].reason


def test_diverse_strategy_steers_away_from_coded_reports():
    texts, table = _near_duplicates()
    model = _FixedModel(table)
    picks = suggest_next(model, texts, n=3, coded_texts=[texts[0]])
    assert all(s.index >= 5 for s in picks)
    assert "coded or chosen" in picks[0].reason


def test_random_strategy_is_seeded():
    model = _FixedModel({str(i): [i / 20, 0.1] for i in range(20)})
    texts = [str(i) for i in range(20)]
    a = suggest_next(model, texts, n=5, strategy="random", random_state=3)
    b = suggest_next(model, texts, n=5, strategy="random", random_state=3)
    assert [s.index for s in a] == [s.index for s in b]
    assert len({s.index for s in a}) == 5 and a[0].reason.startswith("random")


def test_ids_ranks_and_to_dict():
    model = _FixedModel({"x": [0.5, 0.1], "y": [0.9, 0.1]})
    picks = suggest_next(model, ["x", "y"], n=5, ids=["r-x", "r-y"])
    assert [s.rank for s in picks] == [1, 2]  # n larger than the pool
    assert picks[0].id == "r-x" and isinstance(picks[0], Suggestion)
    d = picks[0].to_dict()
    assert json.loads(json.dumps(d))["uncertain_codes"][0]["code"] == "A"
    assert suggest_next(model, [], n=3) == []


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n": 0}, InputError, "positive int"),
        ({"strategy": "best"}, InputError, "strategy must be"),
        ({"ids": ["only-one"]}, InputError, "1 ids for 2 texts"),
        ({"proba": np.zeros((2, 3))}, InputError, "expected shape"),
        ({"pool_size": 1, "n": 2}, InputError, "pool_size"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    model = _FixedModel({"x": [0.5, 0.1], "y": [0.9, 0.1]})
    with pytest.raises(error, match=message):
        suggest_next(model, ["x", "y"], **kwargs)


def test_unfitted_model_is_refused():
    with pytest.raises(ModelError, match="fitted"):
        suggest_next(object(), ["x"], n=1)


def test_with_the_classifier_on_the_bundled_corpus():
    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.corpus import load_corpus

    reports = load_corpus("train")
    texts = [r.narrative for r in reports]
    model = HumanFactorsClassifier(cv=0).fit(texts[:80], [list(r.codes) for r in reports[:80]])
    pool = texts[80:300]
    picks = suggest_next(model, pool, n=10, coded_texts=texts[:80])
    assert len({s.index for s in picks}) == 10
    scores = [s.score for s in suggest_next(model, pool, n=len(pool), strategy="uncertainty")]
    assert scores == sorted(scores, reverse=True)
    assert np.mean([s.score for s in picks]) >= np.median(scores)


# -- CLI --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):
    pytest.importorskip("humanfactors.persistence")
    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.corpus import load_corpus
    from humanfactors.persistence import save_model

    reports = load_corpus("train")[:80]
    model = HumanFactorsClassifier(cv=0).fit(
        [r.narrative for r in reports], [list(r.codes) for r in reports]
    )
    path = tmp_path_factory.mktemp("model") / "model.hfm"
    save_model(model, path)
    return path


def _pool(tmp_path, n=30):
    from humanfactors.corpus import load_corpus

    reports = load_corpus("test")[:n]
    path = tmp_path / "pool.jsonl"
    path.write_text(
        "".join(json.dumps({"id": r.id, "narrative": r.narrative}) + "\n" for r in reports),
        encoding="utf-8",
    )
    return path, reports


def test_cli_jsonl_and_table(tmp_path, capsys, saved_model):
    pool, reports = _pool(tmp_path)
    assert main(["suggest", str(pool), "--model", str(saved_model), "-n", "5"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert {r["id"] for r in rows} <= {r.id for r in reports}
    assert main(["suggest", str(pool), "--model", str(saved_model), "-n", "3", "--table"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["rank", "id", "score"] and len(out) == 4


def test_cli_skips_coded_reports_and_reports_bad_lines(tmp_path, capsys, saved_model):
    pool, reports = _pool(tmp_path, n=6)
    coded = tmp_path / "coded.jsonl"
    coded.write_text(
        "".join(
            json.dumps({"id": r.id, "narrative": r.narrative, "codes": list(r.codes)}) + "\n"
            for r in reports[:4]
        ),
        encoding="utf-8",
    )
    with pool.open("a", encoding="utf-8") as fh:
        fh.write("{broken\n")
    argv = ["suggest", str(pool), "--model", str(saved_model), "-n", "10", "--coded", str(coded)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    ids = [json.loads(line)["id"] for line in captured.out.splitlines()]
    assert sorted(ids) == sorted(r.id for r in reports[4:])
    assert "line 7" in captured.err


def test_cli_usage_errors(tmp_path, capsys, saved_model):
    pool, _ = _pool(tmp_path, n=3)
    assert main(["suggest", str(pool), "--model", str(saved_model), "-n", "0"]) == 2
    assert "-n must be at least 1" in capsys.readouterr().err
    assert main(["suggest", str(pool), "--model", str(tmp_path / "none.hfm")]) == 2
