"""Label audit: confident-learning flags, injected label noise, the audit-labels CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from humanfactors.audit import AuditReport, audit_labels, label_issue_scores
from humanfactors.cli import main
from humanfactors.exceptions import InputError

# -- flags on given probabilities ------------------------------------------------------


def test_thresholds_are_mean_self_confidence():
    Y = np.array([[1], [1], [1], [0], [0], [0]])
    P = np.array([[0.9], [0.7], [0.2], [0.1], [0.3], [0.8]])
    flags, suspicion, thr = label_issue_scores(Y, P, min_positives=2)
    t_pos, t_neg = (0.9 + 0.7 + 0.2) / 3, (0.9 + 0.7 + 0.2) / 3
    assert thr[0] == pytest.approx([t_pos, t_neg])
    # p=0.2 given: 1-p = 0.8 >= t- = 0.6 and p < t+ -> disputed
    # p=0.8 not given: p >= t+ = 0.6 and 1-p = 0.2 < t- -> missing
    assert flags[:, 0].tolist() == [0, 0, -1, 0, 0, 1]
    assert suspicion[:, 0] == pytest.approx([0, 0, 0.8, 0, 0, 0.8])


def test_per_code_thresholds_adapt_to_an_underconfident_model():
    # The model never goes above 0.4 for this code, yet separates it well.
    Y = np.array([[1]] * 5 + [[0]] * 5)
    P = np.array([[0.35], [0.38], [0.4], [0.36], [0.05], [0.02], [0.03], [0.01], [0.04], [0.37]])
    flags, _, _ = label_issue_scores(Y, P, min_positives=2)
    assert flags[4, 0] == -1 and flags[9, 0] == 1
    assert np.count_nonzero(flags) == 2


def test_codes_the_model_cannot_separate_are_not_judged():
    Y = np.array([[1]] * 5 + [[0]] * 5)
    P = np.array([[0.3], [0.1], [0.2], [0.25], [0.15], [0.2], [0.1], [0.3], [0.25], [0.15]])
    flags, _, thr = label_issue_scores(Y, P, min_positives=2)
    assert not flags.any() and np.isnan(thr).all()
    flags, _, _ = label_issue_scores(Y, P, min_positives=2, min_separation=0.0)
    assert flags.any()


def test_long_flag_lists_are_shortened_in_the_table():
    P = np.array([[0.9] * 5] * 5 + [[0.1] * 5] * 5 + [[0.9] * 5])
    labels = [list("ABCDE")] * 5 + [[]] * 6  # the last report lacks five codes it looks to have
    rep = audit_labels([str(i) for i in range(11)], labels, proba=P, classes=list("ABCDE"),
                       min_positives=2)
    assert [r.index for r in rep.reports] == [10] and len(rep.reports[0].missing) == 5
    assert "and 2 more" in rep.table()


def test_rare_codes_are_not_judged():
    Y = np.array([[1], [0], [0], [0]])
    P = np.array([[0.0], [0.9], [0.9], [0.1]])
    flags, _, thr = label_issue_scores(Y, P, min_positives=2)
    assert not flags.any() and np.isnan(thr).all()


def test_audit_report_ranks_by_suspicion():
    P = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.9], [0.1, 0.8], [0.2, 0.9], [0.6, 0.3]])
    labels = [["A"], ["A"], ["A", "B"], ["B"], [], ["A"]]
    ids = [f"r{i}" for i in range(1, 7)]
    report = audit_labels(ids, labels, ids=ids, proba=P, classes=["A", "B"], min_positives=2)
    assert [r.id for r in report.reports] == ["r3", "r5"]
    assert [r.rank for r in report.reports] == [1, 2]
    first = report.reports[0]
    assert first.disputed == (("A", 0.05),) and first.given == ("A", "B")
    assert first.score == pytest.approx(0.95)
    assert report.codes["A"].disputed == 1 and report.codes["B"].missing == 1
    assert report.codes["A"].positives == 4
    data = json.loads(report.to_json(top=1))
    assert data["n_flagged"] == 2 and len(data["reports"]) == 1
    assert data["reports"][0]["disputed"] == [{"code": "A", "probability": 0.05}]
    table = report.table()
    assert "given but doubtful: A (p=0.05)" in table and "likely missing: B (p=0.90)" in table
    assert isinstance(report, AuditReport) and "flagged=2" in repr(report)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"labels": [["A"]]}, "2 texts but 1"),
        ({"ids": ["x"]}, "1 ids for 2"),
        ({"proba": np.zeros((2, 1))}, "give the column codes"),
        ({"proba": np.zeros((2, 1)), "classes": ["A", "B"]}, "expected shape"),
    ],
)
def test_bad_arguments(kwargs, message):
    args = {"labels": [["A"], []], **kwargs}
    labels = args.pop("labels")
    with pytest.raises(InputError, match=message):
        audit_labels(["a", "b"], labels, **args)


# -- injected noise, end to end -----------------------------------------------------------
_VOCAB = {
    "FATIGUE": ["tired", "fatigued", "exhausted", "long duty", "little sleep"],
    "WORKLOAD": ["busy", "many tasks", "heavy traffic", "overloaded", "saturated"],
    "DISTRACTION": ["distracted", "interrupted", "chatting", "phone call", "looked away"],
    "CONFUSION": ["confused", "unclear", "misunderstood", "puzzled", "ambiguous"],
}
_FILLER = [
    "the", "aircraft", "the", "crew", "the", "flight", "a", "runway", "approach", "taxi",
    "clearance", "we", "then",
]


def _synthetic_reports(n: int = 240, seed: int = 0) -> tuple[list[str], list[list[str]]]:
    rng = np.random.default_rng(seed)
    codes = list(_VOCAB)
    texts, labels = [], []
    for _ in range(n):
        given = [c for c in codes if rng.random() < 0.3] or [codes[int(rng.integers(4))]]
        words = list(rng.choice(_FILLER, size=12))
        for c in given:
            words += list(rng.choice(_VOCAB[c], size=2))
        rng.shuffle(words)
        texts.append(" ".join(words))
        labels.append(given)
    return texts, labels


def _inject(labels, n_flips, seed):
    rng = np.random.default_rng(seed)
    codes = list(_VOCAB)
    noisy = [list(x) for x in labels]
    flipped = {}
    for k, i in enumerate(rng.choice(len(labels), n_flips, replace=False)):
        i = int(i)
        if k % 2 == 0 and len(noisy[i]) > 1:
            code = noisy[i].pop(int(rng.integers(len(noisy[i]))))
            flipped[i] = ("missing", code)
        else:
            code = str(rng.choice([c for c in codes if c not in noisy[i]]))
            noisy[i].append(code)
            flipped[i] = ("disputed", code)
    return noisy, flipped


def test_injected_flips_rank_at_the_top_synthetic():
    from humanfactors.classifier import HumanFactorsClassifier

    texts, labels = _synthetic_reports()
    noisy, flipped = _inject(labels, 12, seed=1)
    report = audit_labels(
        texts, noisy, estimator=HumanFactorsClassifier(taxonomy="asrs", cv=0), cv=5
    )
    assert report.method == "5-fold CV"
    top = report.top(len(flipped) + 3)
    found = 0
    for r in top:
        if r.index in flipped:
            kind, code = flipped[r.index]
            found += code in dict(r.disputed if kind == "disputed" else r.missing)
    assert found >= 0.75 * len(flipped)


def test_injected_flips_rank_high_on_the_bundled_corpus():
    from humanfactors.corpus import load_corpus

    reports = load_corpus("all")
    texts = [r.narrative for r in reports]
    labels = [list(r.codes) for r in reports]
    codes = sorted({c for x in labels for c in x})
    rng = np.random.default_rng(0)
    noisy = [list(x) for x in labels]
    flipped = {}
    for i in rng.choice(len(texts), 20, replace=False):
        i = int(i)
        code = str(rng.choice([c for c in codes if c not in noisy[i]]))
        noisy[i].append(code)  # a code the coder should not have given
        flipped[i] = code
    report = audit_labels(texts, noisy, cv=5)  # default estimator
    rank = {r.index: r.rank for r in report.reports if flipped.get(r.index) in dict(r.disputed)}
    # Most injected codes are disputed, and they sit far above the middle of the list.
    assert len(rank) >= 0.5 * len(flipped)
    assert np.median(list(rank.values())) < 0.15 * len(texts)


# -- CLI ------------------------------------------------------------------------------------
def _write(path, texts, labels):
    path.write_text(
        "".join(
            json.dumps({"id": f"s{i}", "narrative": t, "codes": c}) + "\n"
            for i, (t, c) in enumerate(zip(texts, labels, strict=True))
        ),
        encoding="utf-8",
    )
    return path


def test_cli_table_and_json(tmp_path, capsys):
    texts, labels = _synthetic_reports(n=120, seed=3)
    noisy, flipped = _inject(labels, 6, seed=4)
    data = _write(tmp_path / "coded.jsonl", texts, noisy)
    argv = ["audit-labels", str(data), "--taxonomy", "asrs", "--cv", "3", "--top", "5"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert out.startswith("Label audit (3-fold CV):") and "s" in out
    assert main([*argv, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n_reports"] == 120 and len(result["reports"]) <= 5
    assert {r["id"] for r in result["reports"]} & {f"s{i}" for i in flipped}


@pytest.mark.parametrize(
    "extra, message", [(["--cv", "1"], "--cv must be between"), (["--top", "0"], "--top")]
)
def test_cli_usage_errors(tmp_path, capsys, extra, message):
    texts, labels = _synthetic_reports(n=10)
    data = _write(tmp_path / "coded.jsonl", texts, labels)
    assert main(["audit-labels", str(data), "--taxonomy", "asrs", *extra]) == 2
    assert message in capsys.readouterr().err
