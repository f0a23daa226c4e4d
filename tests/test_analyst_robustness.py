"""Robustness of the analyst tools: frames, suggest, themes, taxonomy, rules and plots."""

from __future__ import annotations

import json

import pytest

from humanfactors.exceptions import InputError

# -- frames -----------------------------------------------------------------------------


class _Unreadable:
    """A cell that claims to be a sequence and fails when read."""

    def __len__(self) -> int:
        return 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("Jane Smith, 12 Acacia Road")


def _frame_with_agencies(agencies: list[object]):  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    n = len(agencies)
    texts = ["I forgot to ring the school.", "Mum did not attend.", "The visit went ahead."]
    return pd.DataFrame(
        {"id": list("abc")[:n], "narrative": texts[:n], "agencies": agencies}
    )


def test_frame_accepts_array_list_cells():
    np = pytest.importorskip("numpy")
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies(
        [np.array(["police", "GP"]), np.array(["school"]), np.array([], dtype=object)]
    )
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert res.errors.empty
    assert list(res.wide.index) == ["a", "b", "c"]


def test_frame_accepts_tuple_cells_and_missing_values():
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies([("police",), None, float("nan")])
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert res.errors.empty and list(res.wide.index) == ["a", "b", "c"]


def test_frame_row_failure_is_that_rows_error_record():
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies([["police"], _Unreadable(), ["school"]])
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert list(res.wide.index) == ["a", "c"]
    (err,) = res.errors.to_dict("records")
    assert err["id"] == "b" and err["line"] == 2
    assert "agencies" in err["error"] and "Acacia" not in err["error"]


# -- suggest ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_model(tmp_path_factory):  # type: ignore[no-untyped-def]
    pytest.importorskip("humanfactors.persistence")
    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.corpus import load_corpus
    from humanfactors.persistence import save_model

    reports = load_corpus("train")[:60]
    model = HumanFactorsClassifier(cv=0).fit(
        [r.narrative for r in reports], [list(r.codes) for r in reports]
    )
    path = tmp_path_factory.mktemp("model") / "model.hfm"
    save_model(model, path)
    return path


def test_suggest_reports_bad_coded_lines_once_each(tmp_path, capsys, saved_model):
    from humanfactors.cli import main
    from humanfactors.corpus import load_corpus

    reports = load_corpus("test")[:6]
    pool = tmp_path / "pool.jsonl"
    pool.write_text(
        "".join(json.dumps({"id": r.id, "narrative": r.narrative}) + "\n" for r in reports)
        + "{broken\n",
        encoding="utf-8",
    )
    coded = tmp_path / "coded.jsonl"
    coded.write_text(
        json.dumps({"id": reports[0].id, "narrative": reports[0].narrative}) + "\n"
        + "{not json\n"
        + json.dumps({"id": reports[1].id}) + "\n",
        encoding="utf-8",
    )
    argv = ["suggest", str(pool), "--model", str(saved_model), "-n", "10", "--coded", str(coded)]
    assert main(argv) == 1
    captured = capsys.readouterr()
    ids = {json.loads(line)["id"] for line in captured.out.splitlines()}
    assert reports[0].id not in ids and reports[2].id in ids
    err = captured.err.splitlines()
    assert len(err) == 3
    assert any(line.startswith(f"humanfactors suggest: {coded}: line 2: ") for line in err)
    assert any(line.startswith(f"humanfactors suggest: {coded}: line 3: ") for line in err)
    assert any(line.startswith(f"humanfactors suggest: {pool}: line 7: ") for line in err)
    assert not any("line 7: line 7" in line or "line 2: line 2" in line for line in err)


# -- themes -----------------------------------------------------------------------------


def _dated_analyses(n_months: int = 9):  # type: ignore[no-untyped-def]
    from humanfactors import Analysis, Finding, Incident

    out = []
    for i in range(n_months * 2):
        month = 1 + (i // 2) % 12
        year = 2023 + (i // 2) // 12
        out.append(
            Analysis(
                incident=Incident(
                    id=f"r{i}", narrative="I forgot the visit.",
                    occurred_on=f"{year}-{month:02d}-05",
                ),
                findings=[Finding(code="ERR.LAPSE" if i % 2 else "CF.TASK.WORKLOAD",
                                  confidence=0.9, source="rule")],
                taxonomy="safeguarding", taxonomy_version="1.0.0",
            )
        )
    return out


@pytest.fixture
def analyses_jsonl(tmp_path):  # type: ignore[no-untyped-def]
    path = tmp_path / "analyses.jsonl"
    path.write_text(
        "".join(a.model_dump_json() + "\n" for a in _dated_analyses()), encoding="utf-8"
    )
    return path


def test_themes_text_shows_trends_by_the_chosen_period(analyses_jsonl, capsys):
    from humanfactors.cli import main

    assert main(["themes", str(analyses_jsonl), "--by", "month"]) == 0
    out = capsys.readouterr().out
    section = out.split("Trends by month")[1].split("\n\n")[0].splitlines()
    assert "the latest 6 of 9 months" in section[0]
    assert section[1].split() == ["2023-04", "2023-05", "2023-06", "2023-07", "2023-08",
                                  "2023-09"]
    assert section[2].split() == ["reports", "2", "2", "2", "2", "2", "2"]
    assert {row.split()[0] for row in section[3:]} == {"ERR.LAPSE", "CF.TASK.WORKLOAD"}
    assert all(row.split()[1:] == ["50.0"] * 6 for row in section[3:])
    assert main(["themes", str(analyses_jsonl), "--by", "year"]) == 0
    year = capsys.readouterr().out.split("Trends by year")[1].split("\n\n")[0].splitlines()
    assert year[0] == " (per 100 reports):" and year[1].split() == ["2023"]


def test_themes_reads_analyses_from_stdin(analyses_jsonl, capsys, monkeypatch):
    import io

    from humanfactors.cli import main

    assert main(["themes", str(analyses_jsonl), "--json"]) == 0
    from_file = json.loads(capsys.readouterr().out)
    monkeypatch.setattr("sys.stdin", io.StringIO(analyses_jsonl.read_text(encoding="utf-8")))
    assert main(["themes", "-", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == from_file
    monkeypatch.setattr("sys.stdin", io.StringIO("{not an analysis}\n"))
    assert main(["themes", "-"]) == 2
    assert "<stdin> line 1: not an analysis" in capsys.readouterr().err


@pytest.mark.parametrize("end", ["2024-13-01", "soon", 3.5])
def test_emerging_themes_bad_end_names_the_argument(end):
    from humanfactors.themes import emerging_themes

    with pytest.raises(InputError, match=r"^end must be a date"):
        emerging_themes(_dated_analyses(), end=end)


def test_emerging_themes_accepts_date_and_datetime_end():
    from datetime import date, datetime

    from humanfactors.themes import emerging_themes

    a = emerging_themes(_dated_analyses(), end=date(2023, 9, 30), window_days=30)
    b = emerging_themes(_dated_analyses(), end=datetime(2023, 9, 30, 12), window_days=30)
    assert a.recent_end == b.recent_end == date(2023, 9, 30)


# -- taxonomy and rules listings --------------------------------------------------------


def test_taxonomy_list_json_is_a_json_array(capsys):
    from humanfactors.cli import main
    from humanfactors.taxonomy import list_taxonomies, load_taxonomy

    assert main(["taxonomy", "--list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(list_taxonomies())
    safeguarding = next(r for r in rows if r["name"] == "safeguarding")
    tax = load_taxonomy("safeguarding")
    assert safeguarding == {"name": "safeguarding", "version": tax.version,
                            "leaf_codes": len(tax.leaves()), "title": tax.title}


def test_taxonomy_list_refuses_a_name(capsys):
    from humanfactors.cli import main

    assert main(["taxonomy", "hfacs", "--list"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert len(captured.err.strip().splitlines()) == 1 and "--list" in captured.err


def test_rules_listing_columns_line_up(capsys):
    from humanfactors.cli import main
    from humanfactors.rules import RuleSet

    rules = list(RuleSet.default())
    assert max(len(r.id) for r in rules) > 34  # the case that pushed the columns out
    assert main(["rules"]) == 0
    lines = capsys.readouterr().out.splitlines()[:-1]
    assert len(lines) == len(rules)
    starts = {line.index(" " + rule.code + " ") for line, rule in zip(lines, rules, strict=True)}
    assert len(starts) == 1


# -- rule files: every error names the file, the line and the rule ----------------------

_RULE_FILE = """\
[ruleset]
taxonomy = "safeguarding"
unless = ["was not a factor"]

[[rules]]
id = "org.first"
code = "ERR.LAPSE"
patterns = ["forgot"]

[[rules]]
id = "org.lapse.diary"
code = "ERR.LAPSE"
description = "A diary task that was missed."
confidence = 0.75
patterns = [
  "(forgot|forgotten) ~3 (diary|calendar|reminder)",
  "not (diarised|diarized|put in the diary)",
]
requires = ["visit", "review"]
unless = ["reminder worked"]
boost = ["again"]
dampen = ["perhaps"]
negatable = true
regex = []
"""


@pytest.mark.parametrize(
    "old, new, line, message",
    [
        ('"(forgot|forgotten) ~3', '"(forgot', 16, "pattern '(forgot"),
        ('  "not (diarised', '  "not ((diarised', 17, "pattern 'not ((diarised"),
        ("regex = []", 'regex = [\n  "ok",\n  "(unclosed",\n]', 26, "regex '(unclosed'"),
        ("confidence = 0.75", "confidence = 1.5", 14, "confidence must"),
        ('requires = ["visit", "review"]', 'requires = ["visit", "(review"]', 19, "requires:"),
        ('unless = ["reminder worked"]', 'unless = "reminder worked"', 20, "'unless' must"),
        ("negatable = true", 'negatable = "yes"', 23, "'negatable' must"),
        ("boost = [", "boosts = [", 21, "unknown keys ['boosts']"),
        ('id = "org.lapse.diary"', 'id = "bad id!"', 11, "rule id 'bad id!'"),
        ('id = "org.lapse.diary"', 'id = "org.first"', 11, "duplicate rule id"),
        ("patterns = [\n  \"(forgot|forgotten) ~3 (diary|calendar|reminder)\",\n"
         "  \"not (diarised|diarized|put in the diary)\",\n]\n", "", 10, "at least one"),
    ],
)
def test_rule_file_errors_name_the_line_of_the_key(tmp_path, old, new, line, message):
    from humanfactors.exceptions import RuleError
    from humanfactors.rules import RuleSet

    assert old in _RULE_FILE
    path = tmp_path / "org.toml"
    path.write_text(_RULE_FILE.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RuleError) as info:
        RuleSet.from_toml(path)
    text = str(info.value)
    assert text.startswith(f"{path}:{line}: "), text
    assert any(rule in text for rule in ("rule 'org.lapse.diary'", "rule id 'bad id!'",
                                         "rule 'org.first'"))
    assert message in text


def test_unknown_code_in_a_rule_file_names_file_line_and_rule(tmp_path, capsys):
    from humanfactors.cli import main
    from humanfactors.exceptions import UnknownCodeError
    from humanfactors.rules import RuleSet

    path = tmp_path / "org.toml"
    path.write_text(_RULE_FILE.replace('code = "ERR.LAPSE"\ndesc', 'code = "ERR.LAPS"\ndesc'),
                    encoding="utf-8")
    with pytest.raises(UnknownCodeError) as info:
        RuleSet.from_toml(path)
    assert str(info.value).startswith(f"{path}:12: rule 'org.lapse.diary': unknown code 'ERR.LAPS'")
    assert "ERR.LAPSE" in info.value.suggestions and info.value.code == "ERR.LAPS"
    assert main(["rules", "--file", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:12: rule 'org.lapse.diary': unknown code 'ERR.LAPS'" in err


def test_rule_lines_places_keys_and_values():
    from humanfactors.rules.engine import _rule_lines

    (first, second) = _rule_lines(_RULE_FILE.encode())
    assert first["[[rules]]"] == 5 and first["patterns"] == 8 and first[("patterns", "forgot")] == 8
    assert second["[[rules]]"] == 10 and second["id"] == 11
    assert second[("patterns", "not (diarised|diarized|put in the diary)")] == 17
    assert "was not a factor" not in {k[1] for k in second if isinstance(k, tuple)}


# -- plots ------------------------------------------------------------------------------


def _long_frequencies():  # type: ignore[no-untyped-def]
    from humanfactors.themes import Frequencies, FrequencyRow

    codes = [f"ORG.FACTOR_{i}_WITH_A_RATHER_LONG_CODE_NAME" for i in range(8)]
    groups = [f"2024-Q{q}" for q in range(1, 5)]
    name = ("A very long factor name that goes on and on about organisational culture and"
            " supervision quality {}")
    rows = tuple(
        FrequencyRow(g, c, name.format(i), 5 + i + j, 50, 10.0 + i + j, 5.0, 15.0)
        for j, g in enumerate(groups)
        for i, c in enumerate(codes)
    )
    return Frequencies(by="quarter", groups=tuple(groups), codes=tuple(codes),
                       reports=dict.fromkeys(groups, 50), rows=rows)


def test_plot_trends_refuses_unknown_codes():
    pytest.importorskip("matplotlib")
    from humanfactors.plots import plot_trends

    freq = _long_frequencies()
    with pytest.raises(InputError, match=r"\['NOPE'\] not in these frequencies"):
        plot_trends(freq, codes=[freq.codes[0], "NOPE"])
    plot_trends(freq, codes=[freq.codes[0]])  # a known code still draws


def test_plot_top_factors_refuses_an_unknown_group():
    pytest.importorskip("matplotlib")
    from humanfactors.plots import plot_top_factors

    freq = _long_frequencies()
    with pytest.raises(InputError, match="group 'Narnia' is not in these frequencies"):
        plot_top_factors(freq, group="Narnia")
    plot_top_factors(freq, group="2024-Q1")


@pytest.mark.parametrize("top", [1, 6, 8])
def test_plot_trends_saved_figure_holds_the_whole_legend(top):
    import io

    pytest.importorskip("matplotlib")
    from humanfactors.plots import plot_trends

    fig = plot_trends(_long_frequencies(), top=top)
    fig.savefig(io.BytesIO(), format="png")
    box = fig.axes[0].get_legend().get_window_extent()
    assert len(fig.axes[0].get_legend().get_texts()) == top
    assert box.x0 >= 0 and box.y0 >= 0
    assert box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


# -- docs/rules.md shows what the code prints -------------------------------------------


def _rules_doc() -> str:
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "docs" / "rules.md"
    if not path.is_file():
        pytest.skip("docs/rules.md is absent (not a source checkout)")
    return path.read_text(encoding="utf-8")


def test_rules_doc_first_example_output_is_what_it_prints():
    from humanfactors import RuleSet

    doc = _rules_doc()
    text = "I forgot to send the CP plan to the school because duty was extremely busy."
    assert f'rules.apply("{text}")' in doc
    findings = RuleSet.default().apply(text)
    for f in findings:
        assert f"# {f.code} {f.confidence} {[e.text for e in f.evidence]}\n" in doc
    assert f"print(f.explanation)       # {findings[-1].explanation}\n" in doc


def test_rules_doc_counts_the_built_in_rules():
    from humanfactors import RuleSet

    rules = list(RuleSet.default())
    phrases = sum(len(r.patterns) for r in rules)
    regexes = sum(len(r.regex) for r in rules)
    expected = f"{len(rules)} rules ({phrases:,} phrases, {regexes} regular expressions)"
    assert expected in _rules_doc()
