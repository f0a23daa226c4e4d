"""Agreement between coders: worked examples from the literature, reference implementations,
alignment of files by id, the report and the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from humanfactors.agreement import (
    AgreementReport,
    coder_agreement,
    cohen_kappa,
    fleiss_kappa,
    krippendorff_alpha,
    percent_agreement,
)
from humanfactors.cli import main
from humanfactors.exceptions import InputError

# Fleiss (1971), Table 1: 30 patients, 6 psychiatrists, 5 diagnoses (one row per patient,
# one column per rating). Fleiss reports kappa = 0.430 (0.4302445 to seven places in R irr).
FLEISS_1971 = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5],
    [2, 2, 2, 4, 4, 4], [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4],
    [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5], [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4],
    [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5], [3, 3, 3, 3, 3, 5],
    [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4],
    [1, 4, 4, 4, 4, 5], [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4],
    [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]

# The worked example of the Wikipedia article "Fleiss' kappa": 10 subjects, 14 raters,
# 5 categories, as counts. P = 0.378, P_e = 0.213, kappa = 0.210.
FLEISS_COUNTS = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability".
KRIPP_A = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]  # alpha 0.095
_ = None
KRIPP_C = [  # four observers, twelve units, missing values; nominal alpha 0.743
    [1, 2, 3, 3, 2, 1, 4, 1, 2, _, _, _],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, _, 3],
    [_, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, _],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, _],
]


def _counts(rows: list[list[int]], categories: range) -> list[list[int]]:
    return [[row.count(c) for c in categories] for row in rows]


# -- worked examples ------------------------------------------------------------------
def test_fleiss_1971_table():
    assert fleiss_kappa(_counts(FLEISS_1971, range(1, 6))) == pytest.approx(0.4302445, abs=1e-7)


def test_fleiss_wikipedia_example():
    assert fleiss_kappa(FLEISS_COUNTS) == pytest.approx(0.210, abs=5e-4)


@pytest.mark.parametrize(
    "data, expected",
    [(KRIPP_A, 0.095), (KRIPP_C, 0.743)],
    ids=["example-A-binary", "example-C-nominal-missing"],
)
def test_krippendorff_worked_examples(data, expected):
    assert krippendorff_alpha(data) == pytest.approx(expected, abs=5e-4)


def test_cohen_textbook_example():
    # 50 grant applications read by two readers: yes/yes 20, yes/no 5, no/yes 10, no/no 15;
    # p_o = 0.70, p_e = 0.50, kappa = 0.40.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert cohen_kappa(a, b) == pytest.approx(0.4)
    assert percent_agreement(list(zip(a, b, strict=True))) == pytest.approx(0.7)


# -- reference implementations --------------------------------------------------------
ratings = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=2, max_size=60)


@given(ratings)
def test_cohen_matches_sklearn(pairs):
    a, b = [p[0] for p in pairs], [p[1] for p in pairs]
    ours = cohen_kappa(a, b)
    if len(set(a) | set(b)) == 1:
        assert math.isnan(ours)
        return
    with np.errstate(all="ignore"):
        theirs = cohen_kappa_score(a, b)
    assert ours == pytest.approx(theirs, abs=1e-9)


@given(
    st.lists(
        st.lists(st.one_of(st.none(), st.integers(0, 2)), min_size=4, max_size=4),
        min_size=2,
        max_size=30,
    )
)
def test_alpha_matches_krippendorff_package(units):
    kd = pytest.importorskip("krippendorff")
    data = [list(col) for col in zip(*units, strict=True)]  # coders x units
    pairable = sum(
        1 for u in units for v in u if v is not None and sum(x is not None for x in u) >= 2
    )
    values = {v for u in units if sum(x is not None for x in u) >= 2 for v in u if v is not None}
    if pairable < 2 or len(values) < 2:
        return  # undefined: both implementations refuse or divide by zero
    arr = np.array([[np.nan if v is None else v for v in row] for row in data], dtype=float)
    expected = kd.alpha(reliability_data=arr, level_of_measurement="nominal")
    assert krippendorff_alpha(data) == pytest.approx(expected, abs=1e-9)


def test_two_coders_fleiss_and_alpha_relate_as_expected():
    # With two coders and complete data, alpha = Fleiss/Scott's pi corrected by (n-1)/n.
    a = [0, 1, 1, 0, 1, 0, 0, 1, 1, 1]
    b = [0, 1, 0, 0, 1, 1, 0, 1, 1, 0]
    n = 2 * len(a)
    pi = fleiss_kappa([[2 - x - y, x + y] for x, y in zip(a, b, strict=True)])
    alpha = krippendorff_alpha([a, b])
    assert 1 - alpha == pytest.approx((1 - pi) * (n - 1) / n)


@pytest.mark.parametrize(
    "func, args",
    [
        (cohen_kappa, (["a", "a"], ["a", "a"])),
        (fleiss_kappa, ([[3, 0], [3, 0]],)),
        (krippendorff_alpha, ([[1, 1, 1], [1, 1, 1]],)),
    ],
)
def test_undefined_statistics_are_nan(func, args):
    assert math.isnan(func(*args))


@pytest.mark.parametrize(
    "func, args, message",
    [
        (cohen_kappa, ([1, 2], [1]), "different numbers"),
        (fleiss_kappa, ([[2, 0], [1, 0]],), "same number of coders"),
        (fleiss_kappa, ([[1, 0], [0, 1]],), "at least two ratings"),
        (krippendorff_alpha, ([[1, None], [None, 2]],), "two or more coders"),
        (percent_agreement, ([[1]],), "at least two coders"),
    ],
)
def test_bad_inputs_raise_input_error(func, args, message):
    with pytest.raises(InputError, match=message):
        func(*args)


# -- coder_agreement --------------------------------------------------------------------
def _write(path, records):
    path.write_text(
        "".join(
            json.dumps({"id": rid, "narrative": f"Report {rid}.", "codes": codes}) + "\n"
            for rid, codes in records
        ),
        encoding="utf-8",
    )
    return path


ANN = [("r1", ["ERR.LAPSE"]), ("r2", []), ("r3", ["ERR.SLIP", "ERR.LAPSE"]), ("r4", ["ERR.SLIP"])]
BOB = [("r1", ["ERR.LAPSE"]), ("r2", ["ERR.LAPSE"]), ("r3", ["ERR.SLIP"]), ("r4", ["ERR.SLIP"])]


def test_per_code_values_match_building_blocks():
    a, b = dict(ANN), dict(BOB)
    report = coder_agreement([a, b], names=["ann", "bob"])
    assert report.coders == ("ann", "bob") and report.n_reports == 4
    assert list(report.codes) == ["ERR.LAPSE", "ERR.SLIP"]
    for code, stats in report.codes.items():
        x = [int(code in a[r]) for r in a]
        y = [int(code in b[r]) for r in a]
        assert stats.cohen_kappa == pytest.approx(cohen_kappa(x, y), nan_ok=True)
        assert stats.krippendorff_alpha == pytest.approx(krippendorff_alpha([x, y]), nan_ok=True)
        assert stats.prevalence == pytest.approx((sum(x) + sum(y)) / 8)
        assert stats.prevalence_by_coder == pytest.approx((sum(x) / 4, sum(y) / 4))
    lapse = report.codes["ERR.LAPSE"]
    assert lapse.percent_agreement == pytest.approx(0.5)
    assert report.codes["ERR.SLIP"].cohen_kappa == pytest.approx(1.0)
    assert report.exact_match == pytest.approx(0.5)  # r1 and r4


def test_overall_is_pooled_kappa():
    # Pooled kappa (De Vries et al. 2008): mean p_o and mean p_e over codes, then correct.
    a, b = dict(ANN), dict(BOB)
    report = coder_agreement([a, b])
    po, pe = [], []
    for code in report.codes:
        x = [int(code in a[r]) for r in a]
        y = [int(code in b[r]) for r in a]
        po.append(np.mean(np.array(x) == np.array(y)))
        pe.append(np.mean(x) * np.mean(y) + (1 - np.mean(x)) * (1 - np.mean(y)))
    expected = (np.mean(po) - np.mean(pe)) / (1 - np.mean(pe))
    assert report.overall.cohen_kappa == pytest.approx(expected)
    assert report.overall.percent_agreement == pytest.approx(np.mean(po))


def test_fleiss_1971_through_coder_agreement():
    # The six psychiatrists as six coders, each diagnosis a code: per-code Fleiss kappas
    # are Fleiss's category kappas (his Table 2 / R irr: 0.245, 0.245, 0.520, 0.471, 0.566).
    coders = [
        {f"p{i}": [f"D{row[j]}"] for i, row in enumerate(FLEISS_1971)} for j in range(6)
    ]
    report = coder_agreement(coders)
    got = [report.codes[f"D{k}"].fleiss_kappa for k in range(1, 6)]
    assert got == pytest.approx([0.245, 0.245, 0.520, 0.471, 0.566], abs=1e-3)
    assert report.overall.cohen_kappa is None  # six coders
    assert len(report.pairwise_kappa) == 15


def test_missing_ids_are_reported_not_dropped_silently(tmp_path):
    a = _write(tmp_path / "ann.jsonl", [*ANN, ("r5", ["ERR.SLIP"])])
    b = _write(tmp_path / "bob.jsonl", [*BOB, ("r6", [])])
    c = _write(tmp_path / "cat.jsonl", [*BOB, ("r5", ["ERR.SLIP"])])
    report = coder_agreement([a, b, c])
    assert report.coders == ("ann", "bob", "cat")
    assert report.n_reports == 4
    assert report.missing == {"r5": ("bob",), "r6": ("ann", "cat")}
    assert "2 report(s) not coded by every coder" in report.table()


def test_aliases_resolved_through_taxonomy():
    a = {"1": ["Fatigue"], "2": ["Workload"]}
    b = {"1": ["FATIGUE"], "2": ["Workload"]}
    report = coder_agreement([a, b], taxonomy="asrs")
    assert list(report.codes) == ["FATIGUE", "WORKLOAD"]
    assert report.overall.percent_agreement == 1.0
    unresolved = coder_agreement([a, b])
    assert unresolved.codes["Fatigue"].percent_agreement == 0.5


def test_explicit_code_never_used_is_undefined_not_an_error():
    report = coder_agreement([dict(ANN), dict(BOB)], codes=["ERR.SLIP", "VIOL.ROUTINE"])
    assert list(report.codes) == ["ERR.SLIP", "VIOL.ROUTINE"]
    unused = report.codes["VIOL.ROUTINE"]
    assert unused.prevalence == 0 and unused.percent_agreement == 1.0
    assert math.isnan(unused.fleiss_kappa) and unused.to_dict()["fleiss_kappa"] is None


@pytest.mark.parametrize(
    "sources, message",
    [
        ([{"a": []}], "at least two coders"),
        ([{"a": []}, {"b": []}], "no report was coded by every coder"),
        ([{"a": "ERR.SLIP"}, {"a": []}], "not a string"),
        ([{"a": []}, 42], "expected a path"),
    ],
)
def test_coder_agreement_input_errors(sources, message):
    with pytest.raises(InputError, match=message):
        coder_agreement(sources)


def test_duplicate_id_in_one_file_is_refused(tmp_path):
    a = _write(tmp_path / "a.jsonl", [("r1", []), ("r1", ["ERR.SLIP"])])
    b = _write(tmp_path / "b.jsonl", [("r1", [])])
    with pytest.raises(InputError, match="'r1' appears more than once"):
        coder_agreement([a, b])


def test_report_dict_is_json_and_table_is_readable():
    report = coder_agreement([dict(ANN), dict(BOB)], names=["ann", "bob"])
    data = json.loads(report.to_json())
    assert data["coders"] == ["ann", "bob"] and data["n_reports"] == 4
    assert set(data["codes"]) == {"ERR.LAPSE", "ERR.SLIP"}
    assert data["pairwise_kappa"][0]["coders"] == ["ann", "bob"]
    table = report.table()
    assert "Cohen k" in table and "overall (pooled)" in table and "ERR.SLIP" in table
    assert isinstance(report, AgreementReport) and "n_reports=4" in repr(report)


# -- CLI --------------------------------------------------------------------------------
def test_cli_table_and_json(tmp_path, capsys):
    a = _write(tmp_path / "ann.jsonl", ANN)
    b = _write(tmp_path / "bob.jsonl", [*BOB, ("r9", [])])
    assert main(["agreement", str(a), str(b)]) == 0
    captured = capsys.readouterr()
    assert "Agreement of 2 coders (ann, bob) on 4 reports" in captured.out
    assert "r9" in captured.err
    assert main(["agreement", str(a), str(b), "--json", "--names", "x,y"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["coders"] == ["x", "y"] and data["missing"] == {"r9": ["x"]}


def test_cli_unreadable_record_exits_1(tmp_path, capsys):
    a = _write(tmp_path / "ann.jsonl", ANN)
    b = _write(tmp_path / "bob.jsonl", BOB)
    with b.open("a", encoding="utf-8") as fh:
        fh.write("not json\n")
    assert main(["agreement", str(a), str(b)]) == 1
    assert "bob: line 5" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, message",
    [
        (["agreement", "one.jsonl"], "at least two"),
        (["agreement", "nope1.jsonl", "nope2.jsonl"], "no such file"),
    ],
)
def test_cli_usage_errors_exit_2(tmp_path, capsys, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_explicit_code_never_used_is_logged(caplog):
    with caplog.at_level("WARNING", logger="humanfactors.agreement"):
        coder_agreement([dict(ANN), dict(BOB)], codes=["ERR.SLIP", "ERR.SLPI"])
    assert "ERR.SLPI" in caplog.text and "check the spelling" in caplog.text
    assert "ERR.SLIP," not in caplog.text
