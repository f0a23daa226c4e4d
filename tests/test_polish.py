"""Wrong argument types at the public surface are refused with an InputError (or the
matching library error) that names the argument, never an AttributeError or a TypeError
from deep inside."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import humanfactors as hf
from humanfactors import themes
from humanfactors.exceptions import HumanFactorsError, InputError, RedactionError
from humanfactors.pipeline import Analyser

TEXTS = [
    "forgot to book the interpreter",
    "no interpreter for the mother",
    "caseload too high to visit",
    "forgot the follow-up call",
    "caseload too high this week",
    "no interpreter was available",
] * 3
CODES = [["ERR.LAPSE"], ["FAM.LANGUAGE"], ["CF.TASK.WORKLOAD"]] * 6


@pytest.fixture(scope="module")
def model() -> hf.HumanFactorsClassifier:
    return hf.HumanFactorsClassifier(cv=0, min_df=1).fit(TEXTS, CODES)


@pytest.fixture(scope="module")
def analyses() -> list[hf.Analysis]:
    return [hf.analyse(t, model=False) for t in TEXTS[:3]]


TAX = hf.load_taxonomy()

# (call, the argument the message must name)
CASES: list[tuple[str, Callable[..., Any], str]] = [
    ("load_taxonomy", lambda m, a, p: hf.load_taxonomy(3), "taxonomy"),
    ("load_crosswalk", lambda m, a, p: hf.load_crosswalk({"a": 1}, "asrs"), "source"),
    (
        "fit taxonomy",
        lambda m, a, p: hf.HumanFactorsClassifier(taxonomy=3, cv=0).fit(TEXTS, CODES),
        "taxonomy",
    ),
    ("fit y", lambda m, a, p: hf.HumanFactorsClassifier(cv=0).fit(TEXTS, 3), "y"),
    (
        "fit classes",
        lambda m, a, p: hf.HumanFactorsClassifier(cv=0).fit(TEXTS, CODES, classes=3),
        "classes",
    ),
    ("explain codes", lambda m, a, p: m.explain(TEXTS[0], codes=3), "codes"),
    ("Taxonomy.resolve", lambda m, a, p: TAX.resolve({"a": 1}), "code"),
    ("Taxonomy.at_level", lambda m, a, p: TAX.at_level("ERR.LAPSE", None), "level"),
    ("Taxonomy()", lambda m, a, p: hf.Taxonomy("t", "1", 3), "factors"),
    ("Taxonomy() items", lambda m, a, p: hf.Taxonomy("t", "1", {"a": 1}), "factors"),
    (
        "Crosswalk.map",
        lambda m, a, p: hf.load_crosswalk("asrs", "safeguarding").map("Distraction", relations=3),
        "relations",
    ),
    (
        "evaluate classes",
        lambda m, a, p: hf.evaluate_predictions(CODES, CODES, classes=None),
        "classes",
    ),
    (
        "evaluate y_score",
        lambda m, a, p: hf.evaluate_predictions([["A"]], [["A"]], classes=["A"], y_score={"a": 1}),
        "y_score",
    ),
    (
        "cross_validate texts",
        lambda m, a, p: hf.cross_validate(hf.HumanFactorsClassifier(cv=0), None, CODES),
        "texts",
    ),
    (
        "cross_validate labels",
        lambda m, a, p: hf.cross_validate(hf.HumanFactorsClassifier(cv=0), TEXTS, b"x"),
        "labels",
    ),
    ("coder_agreement sources", lambda m, a, p: hf.coder_agreement(3), "sources"),
    ("coder_agreement names", lambda m, a, p: hf.coder_agreement([{}, {}], names=3), "names"),
    ("coder_agreement codes", lambda m, a, p: hf.coder_agreement([{}, {}], codes=b"x"), "codes"),
    (
        "coder_agreement taxonomy",
        lambda m, a, p: hf.coder_agreement([{}, {}], taxonomy=3),
        "taxonomy",
    ),
    ("load_labelled taxonomy", lambda m, a, p: hf.load_labelled(p, taxonomy={"a": 1}), "taxonomy"),
    ("write_jsonl stream", lambda m, a, p: hf.write_jsonl(None, []), "path_or_stream"),
    ("write_jsonl items", lambda m, a, p: hf.write_jsonl(p, 3), "items"),
    ("save_model metrics", lambda m, a, p: hf.save_model(m, p, metrics=3), "metrics"),
    ("store.add", lambda m, a, p: hf.IncidentStore(":memory:").add(None), "analyses"),
    ("store.remove", lambda m, a, p: hf.IncidentStore(":memory:").remove(3), "incident_ids"),
    (
        "store.history",
        lambda m, a, p: hf.IncidentStore(":memory:").history({"a": 1}),
        "incident_id",
    ),
    ("frequencies source", lambda m, a, p: themes.frequencies(None), "source"),
    (
        "frequencies confidence",
        lambda m, a, p: themes.frequencies(a, confidence=None),
        "confidence",
    ),
    ("cooccurrence min_count", lambda m, a, p: themes.cooccurrence(a, min_count=b"x"), "min_count"),
    (
        "emerging window_days",
        lambda m, a, p: themes.emerging_themes(a, window_days=None),
        "window_days",
    ),
    ("emerging alpha", lambda m, a, p: themes.emerging_themes(a, alpha={"a": 1}), "alpha"),
    ("compare groups", lambda m, a, p: themes.compare(a, groups=3), "groups"),
    ("compare min_reports", lambda m, a, p: themes.compare(a, min_reports=None), "min_reports"),
    (
        "LabelModel.fit texts",
        lambda m, a, p: hf.LabelModel(rules="safeguarding").fit(b"x"),
        "texts",
    ),
    ("LabelModel.fit y", lambda m, a, p: hf.LabelModel(rules="safeguarding").fit(TEXTS, y=3), "y"),
    ("suggest_next texts", lambda m, a, p: hf.suggest_next(m, None), "texts"),
    ("suggest_next ids", lambda m, a, p: hf.suggest_next(m, TEXTS, ids=3), "ids"),
    (
        "suggest_next coded_texts",
        lambda m, a, p: hf.suggest_next(m, TEXTS, coded_texts=b"x"),
        "coded_texts",
    ),
    ("audit_labels texts", lambda m, a, p: hf.audit_labels(3, CODES), "texts"),
    ("audit_labels labels", lambda m, a, p: hf.audit_labels(TEXTS, b"x"), "labels"),
    ("audit_labels ids", lambda m, a, p: hf.audit_labels(TEXTS, CODES, ids=3), "ids"),
    ("analyse_batch", lambda m, a, p: Analyser(model=False).analyse_batch(None), "records"),
]


@pytest.mark.parametrize("name, call, argument", CASES, ids=[c[0] for c in CASES])
def test_a_wrong_type_is_refused_naming_the_argument(
    name: str,
    call: Callable[..., Any],
    argument: str,
    model: hf.HumanFactorsClassifier,
    analyses: list[hf.Analysis],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(tmp_path / "config"))
    path = tmp_path / "coded.jsonl"
    hf.write_jsonl(path, [{"id": "r1", "narrative": "forgot the visit", "codes": ["ERR.LAPSE"]}])
    with pytest.raises(InputError, match=rf"\b{argument}\b"):
        call(model, analyses, path)


@pytest.mark.parametrize(
    "kwargs, argument",
    [
        ({"allow": None}, "allow"),
        ({"allow": b"x"}, "allow"),
        ({"deny": 3}, "deny"),
        ({"deny": {"Ann": 1}}, "deny"),
        ({"entities": 3}, "entities"),
        ({"recognizers": 3}, "recognizers"),
        ({"threshold": None}, "threshold"),
        ({"pseudonym_length": b"x"}, "pseudonym_length"),
    ],
)
def test_a_redactor_refuses_wrong_types_naming_the_argument(
    kwargs: dict[str, Any], argument: str
) -> None:
    with pytest.raises(RedactionError, match=rf"Redactor\({argument}="):
        hf.Redactor(**kwargs)


@pytest.mark.parametrize("incident", [None, "a text", {"id": "a", "narrative": "x"}])
def test_redact_incident_takes_an_incident(incident: Any) -> None:
    with pytest.raises(RedactionError, match="incident must be an Incident"):
        hf.Redactor().redact_incident(incident)


def test_valid_inputs_behave_as_before(tmp_path: Path) -> None:
    assert TAX.get({"a": 1}) is None and TAX.get(3) is None
    assert TAX.resolve("err.lapse") == "ERR.LAPSE"
    assert hf.load_crosswalk("asrs", "safeguarding").map("Distraction", relations="exact")
    assert hf.Redactor(allow="Ann", deny={"Bob": "PERSON"}).redact("Bob met Ann").text
    store = hf.IncidentStore(tmp_path / "s.sqlite")
    assert store.remove("nobody") == 0 and store.remove(["a", "b"]) == 0
    assert hf.write_jsonl(tmp_path / "x.jsonl", iter([{"a": 1}])) == 1


def test_wrong_types_never_escape_as_attribute_or_lookup_errors() -> None:
    for call in (
        lambda: hf.Redactor().redact_incident(3),
        lambda: hf.write_jsonl(3, []),
        lambda: hf.Taxonomy("t", "1", b"x"),
        lambda: TAX.ancestors({"a": 1}),
    ):
        with pytest.raises(HumanFactorsError):
            call()
