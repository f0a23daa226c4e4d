"""Defects an embedding developer met: messages that quoted data, records lost or
mislabelled, metadata left unredacted, a schema that missed what the library writes."""

from __future__ import annotations

from pathlib import Path

import pytest

import humanfactors as hf
from humanfactors import io
from humanfactors._frozen import sentence_spans
from humanfactors.exceptions import InputError, RedactionError, TaxonomyError
from humanfactors.models import Incident, RecordError, json_schema
from humanfactors.redact import Redactor, redact
from humanfactors.rules.checks import check


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# -- io -------------------------------------------------------------------------------
def test_a_first_row_of_data_is_not_quoted_in_the_header_error(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "nohead.csv",
        'R1,"Kirsty Smith (DOB 03/04/2015) of 18 Coleridge Close was not seen",London\n',
    )
    with pytest.raises(InputError) as err:
        list(io.iter_records(path))
    message = str(err.value)
    assert "Kirsty" not in message and "Coleridge" not in message
    assert "does not look like a header" in message


def test_a_real_header_is_still_listed_in_the_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "h.csv", "ref,what happened,Team Name\nA1,I forgot,North\n")
    with pytest.raises(InputError, match="columns are 'ref', 'what happened', 'Team Name'"):
        list(io.iter_records(path))


def test_an_unclosed_quote_loses_no_later_row(tmp_path: Path) -> None:
    rows = [
        "id,narrative,codes",
        "1,ok one,Fatigue",
        '2,"MAYDAY" CALLED BY PILOT,Fatigue',
        "3,third row fine,Fatigue",
        '4,"WE WERE AT 5,000 FT,Fatigue',
        "5,fifth,Fatigue",
        "6,sixth,Fatigue",
        "7,seventh,Fatigue",
    ]
    path = _write(tmp_path, "q.csv", "\n".join(rows) + "\n")
    out = list(io.iter_records(path))
    ids = [r.id for _, r in out if isinstance(r, Incident)]
    errors = [r.line for _, r in out if isinstance(r, RecordError)]
    assert ids == ["1", "3", "5", "6", "7"]
    assert errors == [3, 5]
    assert len(ids) + len(errors) == len(rows) - 1


def test_an_unclosed_quote_over_several_lines_resumes_on_its_second_line(
    tmp_path: Path,
) -> None:
    text = 'id,narrative\n1,"a field\nthat runs on\n2,second\n3,"closed, fine"\n'
    out = list(io.iter_records(_write(tmp_path, "m.csv", text)))
    # row 1's quote runs on until row 3's first quote, which breaks the row: the reader
    # then starts again on line 3, so every later line comes out
    assert [line for line, _ in out] == [2, 3, 4, 5]
    assert isinstance(out[0][1], RecordError)
    assert [r.id for _, r in out if isinstance(r, Incident)] == ["2", "3"]


def test_an_empty_label_separator_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "l.csv", "id,narrative,codes\n1,I forgot,ERR.LAPSE\n")
    with pytest.raises(InputError, match="label_sep"):
        io.load_labelled(path, label_sep="")


def test_a_line_cut_off_is_reported_at_its_own_column(tmp_path: Path) -> None:
    line = '{"id": "x", "narrative": "abc", "codes": ['
    path = _write(tmp_path, "cut.jsonl", line + "\n")
    [(_, err)] = list(io.iter_records(path))
    assert isinstance(err, RecordError)
    assert f"column {len(line) + 1}" in err.error
    text = '{"id": "y", "narrative": "abc\n'
    [(_, err2)] = list(io.iter_records(_write(tmp_path, "open.jsonl", text)))
    assert isinstance(err2, RecordError)
    assert " at at " not in err2.error and "column" in err2.error


# -- pipeline ------------------------------------------------------------------------
def test_enumerate_pairs_from_zero_give_error_records_not_a_crash() -> None:
    out = list(hf.analyse_many(enumerate(["   ", "I forgot to ring back."]), model=False))
    assert len(out) == 2
    assert isinstance(out[0], RecordError) and out[0].line is None
    assert not isinstance(out[1], RecordError)


def test_an_error_across_fields_names_no_field_and_no_pydantic_prefix() -> None:
    record = {
        "id": "a",
        "narrative": "I forgot.",
        "occurred_on": "2024-05-02",
        "reported_on": "2024-01-01",
    }
    [err] = list(hf.analyse_many([record], model=False))
    assert isinstance(err, RecordError)
    assert "Value error" not in err.error and "field 'record'" not in err.error
    assert "occurred_on" in err.error


def test_metadata_is_redacted_with_the_narrative() -> None:
    record = {
        "id": "M1",
        "narrative": "Mum Kirsty Smith rang; I forgot to call back.",
        "metadata": {
            "summary": "Kirsty Smith rang 07700 900123 about Tomasz Nowak",
            "people": ["Tomasz Nowak", 3],
            "nested": {"note": "call 07700 900123"},
            "count": 2,
        },
    }
    result = hf.analyse(record, model=False)
    meta = result.incident.metadata
    dumped = str(meta)
    for secret in ("Kirsty", "Tomasz", "07700"):
        assert secret not in dumped
    assert meta["count"] == 2 and meta["people"][1] == 3
    kept = hf.analyse(record, model=False, redact=False).incident.metadata
    assert kept["summary"] == record["metadata"]["summary"]  # type: ignore[index]


# -- redaction -------------------------------------------------------------------------
def test_an_entity_no_recogniser_finds_is_refused() -> None:
    with pytest.raises(RedactionError, match="PHONES"):
        Redactor(entities=["PHONES"])
    assert "[PHONE_1]" in Redactor(entities=["PHONE"]).redact("ring 07700 900123").text


def test_a_street_someone_lives_on_is_an_address() -> None:
    assert redact("she lives on Kestrel Road").text == "she lives on [ADDRESS_1]"


# -- checks and schema ------------------------------------------------------------------
def test_check_refuses_an_unknown_taxonomy() -> None:
    with pytest.raises(TaxonomyError, match="nosuch"):
        check("I forgot to ring the school back.", taxonomy="nosuch")


def test_the_schema_describes_what_is_read_and_written() -> None:
    defs = json_schema()["$defs"]
    assert {"RecordError", "CodedIncident", "Incident", "Analysis"} <= set(defs)
    kinds = {alt.get("type") for alt in defs["Incident"]["properties"]["id"]["anyOf"]}
    assert kinds == {"string", "integer"}
    assert Incident(id=1234, narrative="x").id == "1234"


# -- sentences of the default model ------------------------------------------------------
def test_model_sentences_do_not_break_inside_times_numbers_or_titles() -> None:
    text = "Dad rang at 4.40pm. Dr. Patel gave 0.5 ml! Then?\nDone"
    assert [text[a:b] for a, b in sentence_spans(text)] == [
        "Dad rang at 4.40pm.",
        "Dr. Patel gave 0.5 ml!",
        "Then?",
        "Done",
    ]


def test_a_number_too_long_to_read_is_one_error_record(tmp_path: Path) -> None:
    big = '{"id": "big", "narrative": "x", "n": ' + "1" * 5000 + "}"
    good = '{"id": "ok", "narrative": "I forgot to ring back."}'
    out = list(io.iter_records(_write(tmp_path, "big.jsonl", big + "\n" + good + "\n")))
    assert isinstance(out[0][1], RecordError) and "too long" in out[0][1].error
    assert isinstance(out[1][1], Incident) and out[1][1].id == "ok"


# -- feedback ---------------------------------------------------------------------------
def _analysis(text: str, findings: list[tuple[str, int, int]], issues: bool = False) -> object:
    from humanfactors.models import Analysis, Evidence, Finding, Source

    return Analysis(
        incident=Incident(id="1", narrative=text),
        findings=tuple(
            Finding(
                code=code,
                confidence=0.9,
                source=Source.RULE,
                evidence=(Evidence(start=a, end=b, text=text[a:b]),),
            )
            for code, a, b in findings
        ),
        quality_issues=tuple(check(text)) if issues else (),
        taxonomy="safeguarding",
        taxonomy_version="1.0.0",
    )


def test_feedback_with_only_protective_findings_says_so() -> None:
    from humanfactors.feedback import compose_feedback
    from humanfactors.taxonomy import load_taxonomy

    text = "The nursery manager noticed a bruise and made a referral the same day."
    note = compose_feedback(_analysis(text, [("PROT.DETECTION", 20, 37)]), load_taxonomy())
    assert "did not recognise a human factor that contributed to harm" in note
    assert "suggestions below" not in note and "Detection" in note
    empty = compose_feedback(_analysis(text, []), load_taxonomy())
    assert "suggestions below" not in empty


def test_feedback_counts_protective_findings_beyond_the_first_four() -> None:
    from humanfactors.feedback import compose_feedback
    from humanfactors.taxonomy import load_taxonomy

    text = "x" * 200
    codes = [c for c in load_taxonomy().leaves() if c.startswith("PROT.")][:5]
    note = compose_feedback(
        _analysis(text, [(c, 10 * i, 10 * i + 5) for i, c in enumerate(codes)]), load_taxonomy()
    )
    assert "- and 1 more in the full analysis." in note


def test_feedback_never_quotes_personal_data_left_in_the_text() -> None:
    text = (
        "The nursery manager Jane Smith noticed a bruise on Tom Brown (07700 900123) and "
        "recorded it with a body map."
    )
    note = hf.analyse(text, redact=False).feedback
    for secret in ("Jane", "Smith", "Tom Brown", "07700"):
        assert secret not in note


# -- API misuse ---------------------------------------------------------------------------
TEXT_AS_PATH = "Tomasz Nowak lives at 14 Elm Road, tel 07700 900123, born 03/04/2011"


@pytest.mark.parametrize("fmt", [None, "jsonl"])
def test_a_report_text_given_as_a_path_is_not_quoted(fmt: str | None) -> None:
    with pytest.raises(InputError) as err:
        list(io.iter_records(TEXT_AS_PATH, format=fmt))
    assert "Tomasz" not in str(err.value) and "68 characters" in str(err.value)
    with pytest.raises(InputError, match=r"missing file\.csv: no such file"):
        list(io.iter_records("missing file.csv"))


@pytest.mark.parametrize("records", ["I forgot to ring.", {"id": "r1", "narrative": "x"}, None])
def test_analyse_many_refuses_one_report_at_the_call(records: object) -> None:
    with pytest.raises(InputError, match="records must be an iterable"):
        hf.analyse_many(records, model=False)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="n_jobs"):
        hf.analyse_many(["x"], n_jobs=0)


def test_redactor_takes_one_term_or_entity_as_a_string() -> None:
    assert Redactor(deny="Ann").redact("a nap, Ann said").text == "a nap, [CUSTOM_1] said"
    assert Redactor(entities="PHONE").redact("ring 07700 900123").text == "ring [PHONE_1]"


def test_a_model_that_is_not_fitted_is_refused_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from humanfactors import persistence
    from humanfactors.exceptions import ModelError

    with pytest.raises(ModelError, match="not fitted"):
        hf.analyse("I forgot to ring.", model=hf.HumanFactorsClassifier())
    path = tmp_path / "none.hfmodel"
    # save_model refuses None; a file written without that check must still be refused
    monkeypatch.setattr(persistence, "_check_model", lambda model: None)
    hf.save_model(None, path)
    with pytest.raises(InputError, match="NoneType"):
        hf.analyse("I forgot to ring.", model=path)


@pytest.mark.parametrize("path", [None, 5, ""])
def test_a_store_needs_a_path(
    path: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError, match="path must be"):
        hf.IncidentStore(path)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("n_jobs, batch_size", [(1, 64), (2, 8)])
def test_an_input_that_fails_midway_keeps_every_result_read_before(
    n_jobs: int, batch_size: int
) -> None:
    class Boom(Exception):
        pass

    texts = [f"I forgot to ring the school back, report {i}." for i in range(40)]

    def records():  # type: ignore[no-untyped-def]
        yield from texts
        raise Boom

    out = []
    with pytest.raises(Boom):
        for result in hf.analyse_many(records(), model=False, n_jobs=n_jobs, batch_size=batch_size):
            out.append(result)
    assert len(out) == len(texts)
    assert [a.narrative for a in out] == texts  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "record, field",
    [({"id": "x"}, "narrative"), ({"id": "x", "narrative": "ok", "harm": "deadly"}, "harm")],
)
def test_analyse_of_an_invalid_record_raises_the_librarys_error(
    record: dict[str, str], field: str
) -> None:
    from humanfactors.exceptions import RecordValidationError

    with pytest.raises(RecordValidationError, match=f"field '{field}'") as err:
        hf.analyse(record, model=False)
    assert err.value.record_id == "x"
