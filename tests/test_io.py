"""humanfactors.io: record readers, labelled-data loaders, JSONL writing."""

from __future__ import annotations

import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humanfactors.exceptions import InputError, MissingDependencyError
from humanfactors.io import (
    MAX_NARRATIVE_CHARS,
    LabelledData,
    infer_format,
    iter_records,
    load_asrs_dev,
    load_labelled,
    write_jsonl,
)
from humanfactors.models import Incident, RecordError

DATA = Path(__file__).parent / "data"
ASRS_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs"
SECRET = "Jane Doe lives at 12 Elm Road"  # report text that must never appear in errors


def _records(data: bytes | str, fmt: str, **kw: object) -> list[tuple[int, Incident | RecordError]]:
    stream = io.BytesIO(data) if isinstance(data, bytes) else io.StringIO(data)
    return list(iter_records(stream, format=fmt, **kw))


def _errors(items: list[tuple[int, Incident | RecordError]]) -> dict[int, str]:
    return {line: item.error for line, item in items if isinstance(item, RecordError)}


# -- JSONL ----------------------------------------------------------------------------
def _jl(**fields: object) -> str:
    return json.dumps(fields)


@pytest.mark.parametrize(
    "bad_line, expected",
    [
        ('{"id": "x", "narrative": ' + json.dumps(SECRET), "malformed JSON"),
        ("not json at all " + SECRET, "malformed JSON"),
        (_jl(id="x", narrative="   "), "narrative: narrative is empty"),
        (_jl(id="x"), "missing field 'narrative'"),
        (_jl(id="x", narrative=SECRET, harm="catastrophic"), "harm:"),
        (_jl(id="x", narrative=SECRET, event_type="accident"), "event_type:"),
        (_jl(id="x", narrative=SECRET, occurred_on="2020-02-30"), "occurred_on:"),
        (
            _jl(id="x", narrative=SECRET, occurred_on="2021-01-02", reported_on="2020-01-01"),
            "occurred_on",
        ),
        (_jl(id="", narrative=SECRET), "id:"),
        (_jl(id="x", narrative=SECRET, colour="red"), "colour: Extra inputs are not permitted"),
        ("[1, 2, 3]", "expected a JSON object"),
        ("\x00\x01\x02\x03garbage\x00", "binary data"),
    ],
)
def test_each_bad_jsonl_line_is_an_error_record_on_its_line(bad_line: str, expected: str) -> None:
    good = _jl(id="ok", narrative="The visit took place as planned.")
    items = _records("\n".join([good, bad_line, good]) + "\n", "jsonl")
    assert [line for line, _ in items] == [1, 2, 3]
    assert isinstance(items[0][1], Incident) and isinstance(items[2][1], Incident)
    err = items[1][1]
    assert isinstance(err, RecordError)
    assert err.line == 2
    assert err.error.startswith("line 2: ")
    assert expected in err.error
    assert "Jane" not in err.error and "Elm" not in err.error


def test_bad_utf8_spoils_only_its_own_line() -> None:
    data = (
        _jl(id="a", narrative="fine").encode()
        + b"\n"
        + '{"id": "b", "narrative": "caf\u00e9"}'.encode("latin-1")
        + b"\n"
        + _jl(id="c", narrative="also fine").encode()
        + b"\n"
    )
    items = _records(data, "jsonl")
    assert [type(i).__name__ for _, i in items] == ["Incident", "RecordError", "Incident"]
    assert "line 2: not valid utf-8" in items[1][1].error  # type: ignore[union-attr]


def test_random_binary_bytes_give_error_records_not_crashes() -> None:
    garbage = bytes(b for b in range(256) if b != 0x0A) * 3
    data = garbage + b"\n" + _jl(id="a", narrative="fine").encode() + b"\n"
    items = _records(data, "jsonl")
    assert isinstance(items[0][1], RecordError) and items[0][0] == 1
    assert isinstance(items[-1][1], Incident) and items[-1][0] == 2


def test_narrative_over_the_limit_is_an_error_record() -> None:
    big = "a" * (MAX_NARRATIVE_CHARS + 1)
    data = _jl(id="big", narrative=big) + "\n" + _jl(id="s", narrative="small") + "\n"
    items = _records(data, "jsonl")
    err = items[0][1]
    assert isinstance(err, RecordError) and err.id == "big"
    assert "over the 10,000,000-character limit" in err.error
    assert isinstance(items[1][1], Incident)


def test_coded_lines_become_plain_incidents() -> None:
    items = list(iter_records(DATA / "io_coded.jsonl"))
    assert [line for line, _ in items] == [1, 2, 3, 4, 5]
    assert all(type(item) is Incident for _, item in items)
    assert items[0][1].event_type is not None and items[0][1].event_type.value == "near_miss"


def test_blank_lines_are_not_records_and_numbering_counts_them() -> None:
    data = "\n" + _jl(id="a", narrative="x y") + "\n   \n\n" + _jl(id="b", narrative="z") + "\n"
    items = _records(data, "jsonl")
    assert [(line, item.id) for line, item in items] == [(2, "a"), (5, "b")]  # type: ignore[union-attr]


def test_crlf_and_utf8_bom_are_accepted() -> None:
    data = b"\xef\xbb\xbf" + _jl(id="a", narrative="x").encode() + b"\r\n"
    items = _records(data, "jsonl")
    assert isinstance(items[0][1], Incident) and items[0][1].id == "a"


_line = st.one_of(
    st.builds(
        lambda i, t: json.dumps({"id": f"r{i}", "narrative": t}),
        st.integers(0, 10**6),
        st.text(min_size=1, max_size=40).filter(lambda t: t.strip()),
    ),
    st.text(max_size=40).filter(lambda t: t.strip()),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@given(st.lists(_line, max_size=25))
def test_jsonl_yields_exactly_one_item_per_non_blank_line(lines: list[str]) -> None:
    cleaned = [ln.replace("\n", " ").replace("\r", " ") for ln in lines]
    data = "\n".join(cleaned).encode("utf-8", "surrogatepass") + b"\n"
    items = list(iter_records(io.BytesIO(data), format="jsonl"))
    expected = [n for n, ln in enumerate(cleaned, 1) if ln.strip()]
    assert [line for line, _ in items] == expected
    for line, item in items:
        assert isinstance(item, Incident | RecordError)
        if isinstance(item, RecordError):
            assert item.line == line


@given(st.lists(st.binary(max_size=60), max_size=25))
def test_txt_yields_exactly_one_item_per_non_blank_line_of_arbitrary_bytes(
    lines: list[bytes],
) -> None:
    cleaned = [ln.replace(b"\n", b" ").replace(b"\r", b" ") for ln in lines]
    data = b"\n".join(cleaned) + b"\n"
    items = list(iter_records(io.BytesIO(data), format="txt"))

    # A line is blank only if it decodes and has nothing but whitespace.
    def blank(raw: bytes) -> bool:
        try:
            return not raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            return False

    expected = [n for n, ln in enumerate(cleaned, 1) if not blank(ln)]
    assert [line for line, _ in items] == expected


_cell = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@given(st.lists(st.tuples(_cell, _cell), max_size=20))
def test_csv_yields_exactly_one_item_per_row_on_the_line_it_starts(
    rows: list[tuple[str, str]],
) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["id", "narrative"])
    starts, line = [], 2
    for row in rows:
        piece = io.StringIO()
        csv.writer(piece, lineterminator="\n").writerow(row)
        starts.append(line)
        line += piece.getvalue().count("\n")
        buf.write(piece.getvalue())
    items = list(iter_records(io.BytesIO(buf.getvalue().encode("utf-8")), format="csv"))
    assert [n for n, _ in items] == starts
    for (n, item), (rid, text) in zip(items, rows, strict=True):
        if isinstance(item, Incident):
            assert item.narrative == text.strip() and item.id == (rid.strip() or item.id)
        else:
            assert item.line == n


# -- txt ------------------------------------------------------------------------------
def test_txt_ids_are_stem_and_line(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("First report.\n\nSecond report.\n", encoding="utf-8")
    items = list(iter_records(path))
    assert [(line, item.id) for line, item in items] == [(1, "notes:1"), (3, "notes:3")]  # type: ignore[union-attr]


# -- CSV ------------------------------------------------------------------------------
def test_csv_columns_fields_and_metadata() -> None:
    items = list(
        iter_records(
            DATA / "io_reports.csv", text_columns=["summary", "details"], id_column="report_id"
        )
    )
    assert [line for line, _ in items] == [2, 3, 4, 5, 6]
    first = items[0][1]
    assert isinstance(first, Incident)
    assert first.id == "A-1"
    assert first.narrative.startswith("Visit missed\n\nThe visit was missed")
    assert first.harm is not None and first.harm.value == "low"
    assert first.region == "North"
    assert first.metadata == {"team": "Duty", "codes": "CF.ENV.STAFFING"}
    errs = _errors(items)
    assert set(errs) == {4, 5}
    assert "empty text column 'summary', 'details'" in errs[4]
    assert "harm:" in errs[5]


def test_csv_without_id_column_uses_stem_and_line(tmp_path: Path) -> None:
    path = tmp_path / "log.csv"
    path.write_text("narrative,setting\nOne.,home\nTwo.,school\n", encoding="utf-8")
    items = list(iter_records(path))
    assert [item.id for _, item in items] == ["log:2", "log:3"]  # type: ignore[union-attr]
    assert items[1][1].setting == "school"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "body, line, expected",
    [
        ("2,\n", 3, "empty text column"),
        ("2,Too,many,fields\n", 3, "row has 4 fields but the header has 2"),
        ('2,"never closed\n', 3, "a quoted field is never closed"),
        ('2,"quoted"then text\n', 3, "unreadable CSV row"),
        ("2,text\x00with nul\n", 3, "binary data"),
    ],
)
def test_bad_csv_rows_are_error_records(body: str, line: int, expected: str) -> None:
    data = "id,narrative\n1,A fine report.\n" + body + "9,Last one.\n"
    items = _records(data, "csv")
    errs = _errors(items)
    assert line in errs and expected in errs[line]
    assert any(isinstance(i, Incident) and i.id == "1" for _, i in items)


def test_csv_bad_utf8_row_is_an_error_on_its_line() -> None:
    data = b"id,narrative\n1,fine\n2,caf\xe9\n3,fine too\n"
    items = _records(data, "csv")
    assert _errors(items).keys() == {3}
    assert [line for line, _ in items] == [2, 3, 4]


def test_csv_multiline_cell_reports_the_line_it_starts_on() -> None:
    data = 'id,narrative\n1,"two\nlines"\n2,\n'
    items = _records(data, "csv")
    assert [line for line, _ in items] == [2, 4]
    assert items[0][1].narrative == "two\nlines"  # type: ignore[union-attr]


def test_csv_long_field_over_the_csv_default_limit_is_read() -> None:
    text = "word " * 40_000  # 200 kB, over csv's default 128 kB field limit
    items = _records(f"id,narrative\n1,{text}\n", "csv")
    assert isinstance(items[0][1], Incident)


@pytest.mark.parametrize(
    "header, kwargs, message",
    [
        ("id,comment\n", {}, "no text column in the header"),
        ("id,narrative\n", {"text_columns": ["story"]}, "no text column 'story'"),
        ("id,narrative\n", {"id_column": "ref"}, "no id column 'ref'"),
        ("", {}, "empty"),
    ],
)
def test_unusable_csv_header_is_refused_up_front(
    tmp_path: Path, header: str, kwargs: dict[str, object], message: str
) -> None:
    path = tmp_path / "data.csv"
    path.write_text(header + "1,x\n" if header else "", encoding="utf-8")
    with pytest.raises(InputError, match=message):
        iter_records(path, **kwargs)  # type: ignore[arg-type]


# -- whole-file refusals ----------------------------------------------------------------
def test_missing_file_and_directory_are_refused(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        iter_records(tmp_path / "nope.jsonl")
    with pytest.raises(InputError, match="is a directory"):
        iter_records(tmp_path, format="jsonl")


def test_utf16_file_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(_jl(id="a", narrative="x") + "\n", encoding="utf-16")
    with pytest.raises(InputError, match="UTF-16"):
        iter_records(path)


@pytest.mark.parametrize(
    "name, fmt",
    [("a.jsonl", "jsonl"), ("a.NDJSON", "jsonl"), ("a.csv", "csv"), ("a.txt", "txt")],
)
def test_format_is_inferred_from_the_suffix(name: str, fmt: str) -> None:
    assert infer_format(name) == fmt


def test_unknown_suffix_and_format_are_refused() -> None:
    with pytest.raises(InputError, match="cannot tell the format"):
        infer_format("reports.dat")
    with pytest.raises(InputError, match="unknown format 'xml'"):
        infer_format("reports.csv", "xml")


def test_stdin_dash_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (_jl(id="a", narrative="x") + "\nbad\n").encode()
    fake = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    monkeypatch.setattr(sys, "stdin", fake)
    items = list(iter_records("-", format="jsonl"))
    assert [type(i).__name__ for _, i in items] == ["Incident", "RecordError"]
    assert items[1][1].source == "<stdin>"  # type: ignore[union-attr]


def test_file_is_closed_after_iteration(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(_jl(id="a", narrative="x") + "\n", encoding="utf-8")
    gen = iter_records(path)
    assert len(list(gen)) == 1
    path.unlink()  # would fail on some systems if still open; mainly: no ResourceWarning


# -- ASRS -----------------------------------------------------------------------------
def test_asrs_fixture_records() -> None:
    items = list(iter_records(DATA / "io_asrs_export.csv", format="asrs"))
    assert [line for line, _ in items] == [3, 4, 5, 6, 7]
    first = items[0][1]
    assert isinstance(first, Incident)
    assert first.id == "1000001"
    assert first.occurred_on == date(2023, 1, 1)
    assert first.narrative == (
        "WE WERE BUSY WITH A CHECKLIST AND MISSED THE LEVEL OFF.\n\n"
        "THE CAPTAIN WAS TIRED AFTER A LONG DAY."
    )
    assert first.metadata["synopsis"] == "Crew overshot assigned altitude."
    assert first.metadata["asrs"]["Place"] == {"Locale Reference": "ZZZ.Airport"}  # type: ignore[index]
    errs = _errors(items)
    assert set(errs) == {5, 6}
    assert "empty narrative" in errs[5]
    assert "column 'Date'" in errs[6]
    assert items[4][1].narrative.startswith("WE CROSSED")  # type: ignore[union-attr]


def test_asrs_labelled_fixture_unites_both_persons() -> None:
    ld = load_labelled(DATA / "io_asrs_export.csv", format="asrs")
    assert ld.ids == ["1000001", "1000002", "1000005"]
    assert ld.labels == [
        ["Distraction", "Workload", "Fatigue"],
        ["Communication Breakdown"],
        ["Situational Awareness", "Confusion"],
    ]
    assert [e.line for e in ld.errors] == [5, 6]
    resolved = load_labelled(DATA / "io_asrs_export.csv", format="asrs", taxonomy="asrs")
    assert resolved.labels[0] == ["DISTRACTION", "WORKLOAD", "FATIGUE"]


def test_a_flat_csv_given_as_asrs_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "flat.csv"
    path.write_text("ACN,Narrative\n1,x\n", encoding="utf-8")
    with pytest.raises(InputError, match="not a raw ASRS DBOnline export"):
        iter_records(path, format="asrs")


def _asrs_expected(path: Path) -> tuple[int, dict[str, int], list[str]]:
    """Rows and label counts of a DBOnline export, computed with the csv module alone."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    groups, columns, body = rows[0], rows[1], rows[2:]
    hf = [
        i
        for i, (g, c) in enumerate(zip(groups, columns, strict=True))
        if c == "Human Factors" and g in ("Person 1", "Person 2")
    ]
    assert len(hf) == 2
    counts: dict[str, int] = {}
    for row in body:
        union = {v.strip() for i in hf for v in row[i].split(";") if v.strip()}
        for label in union:
            counts[label] = counts.get(label, 0) + 1
    return len(body), counts, [row[0] for row in body]


@pytest.mark.realdata
def test_real_asrs_sample_rows_and_labels_exactly() -> None:
    path = ASRS_DIR / "dbonline-sample.csv"
    if not path.is_file():
        pytest.skip(f"real ASRS sample not found at {path} (it lives in ../shared/data/asrs)")
    n_rows, counts, acns = _asrs_expected(path)
    ld = load_labelled(path, format="asrs")
    assert ld.errors == []
    assert len(ld) == n_rows == 377
    assert ld.ids == acns
    assert dict(ld.label_counts()) == counts
    assert len(ld.classes) == 12
    resolved = load_labelled(path, format="asrs", taxonomy="asrs")
    assert sum(resolved.label_counts().values()) == sum(counts.values())
    incidents = [item for _, item in iter_records(path, format="asrs")]
    assert all(isinstance(i, Incident) for i in incidents)
    assert all(i.occurred_on is not None and i.occurred_on.day == 1 for i in incidents)  # type: ignore[union-attr]


@pytest.mark.realdata
def test_real_asrs_dev_csv_loads_with_resolved_codes() -> None:
    path = ASRS_DIR / "dev.csv"
    if not path.is_file():
        pytest.skip(f"real ASRS dev set not found at {path} (it lives in ../shared/data/asrs)")
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    ld = load_asrs_dev(path)
    assert len(ld) == len(rows) and ld.errors == []
    assert ld.taxonomy == "asrs" and len(ld.classes) == 12
    both = next(i for i, r in enumerate(rows) if r["narrative_2"].strip())
    assert (
        ld.texts[both]
        == rows[both]["narrative"].strip() + "\n\n" + rows[both]["narrative_2"].strip()
    )


# -- labelled data --------------------------------------------------------------------
def test_load_labelled_jsonl_resolves_codes_and_reports_unknown_ones() -> None:
    ld = load_labelled(DATA / "io_coded.jsonl", taxonomy="safeguarding")
    assert ld.ids == ["c1", "c2", "c4", "c5"]
    assert ld.labels == [
        ["ERR.LAPSE"],
        ["FAM.CHILD_UNSEEN", "CF.TASK.WORKLOAD"],
        [],
        ["PROT.CHALLENGE"],
    ]
    (err,) = ld.errors
    assert err.line == 3 and err.id == "c3"
    assert "unknown code 'GRP.GROUPTHNK'" in err.error and "GRP.GROUPTHINK" in err.error


def test_load_labelled_without_taxonomy_keeps_codes_as_given() -> None:
    ld = load_labelled(DATA / "io_coded.jsonl")
    assert ld.errors == [] and ld.labels[1] == ["fam.child_unseen", "CF.TASK.WORKLOAD"]
    assert ld.taxonomy is None


def test_load_labelled_jsonl_needs_codes_and_valid_evidence() -> None:
    lines = [
        _jl(id="a", narrative="no codes here"),
        _jl(
            id="b",
            narrative="abc",
            codes=["X"],
            evidence=[{"code": "X", "start": 0, "end": 2, "text": "zz"}],
        ),
        _jl(id="c", narrative="fine", codes=["X"]),
    ]
    ld = load_labelled(io.StringIO("\n".join(lines) + "\n"), format="jsonl")
    assert ld.ids == ["c"]
    assert [(e.line, e.id) for e in ld.errors] == [(1, "a"), (2, "b")]
    assert "missing field 'codes'" in ld.errors[0].error
    assert "does not match the narrative" in ld.errors[1].error


def test_load_labelled_csv_with_chosen_columns() -> None:
    ld = load_labelled(
        DATA / "io_reports.csv",
        text_columns=["summary", "details"],
        labels_column="codes",
        id_column="report_id",
        taxonomy="safeguarding",
    )
    assert ld.ids == ["A-1", "A-2", "A-5"]
    assert ld.labels[1] == ["CF.TEAM.INFO_SHARING", "CF.ENV.RECORDING_IT"]
    assert [e.line for e in ld.errors] == [4, 5]


def test_load_labelled_csv_guesses_the_labels_column_and_custom_separator(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("id,text,labels\n1,Some text.,A| B |A\n", encoding="utf-8")
    ld = load_labelled(path, label_sep="|")
    assert ld.labels == [["A", "B"]]
    path.write_text("id,text,tags\n1,Some text.,A\n", encoding="utf-8")
    with pytest.raises(InputError, match="no labels column"):
        load_labelled(path)


def test_load_labelled_refuses_txt() -> None:
    with pytest.raises(InputError, match="carry no codes"):
        load_labelled("reports.txt")


def test_labelled_data_helpers() -> None:
    ld = LabelledData(ids=["1", "2"], texts=["a", "b"], labels=[["X", "Y"], ["Y"]])
    assert len(ld) == 2 and ld.classes == ("X", "Y")
    assert ld.label_counts() == {"X": 1, "Y": 2}
    assert (
        ld.fingerprint()
        != LabelledData(ids=["1", "2"], texts=["a", "b"], labels=[["X"], ["Y"]]).fingerprint()
    )
    assert "a" not in repr(ld).replace("LabelledData", "").replace("classes", "").replace(
        "data", ""
    )
    frame = ld.to_frame()
    assert list(frame.columns) == ["id", "text", "labels"] and frame.shape == (2, 3)


def test_to_frame_without_pandas_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    ld = LabelledData(ids=["1"], texts=["a"], labels=[["X"]])
    with pytest.raises(MissingDependencyError, match=r"pip install 'humanfactors\[pandas\]'"):
        ld.to_frame()


# -- writing --------------------------------------------------------------------------
def test_write_jsonl_round_trips_models_and_dicts(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    items = [
        Incident(id="a", narrative="x", occurred_on=date(2024, 1, 2)),
        {"id": "b", "narrative": "y", "occurred_on": date(2024, 3, 4)},
    ]
    assert write_jsonl(target, items) == 2
    back = [item for _, item in iter_records(target)]
    assert [i.id for i in back] == ["a", "b"]  # type: ignore[union-attr]
    assert back[1].occurred_on == date(2024, 3, 4)  # type: ignore[union-attr]
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_write_jsonl_is_atomic_when_an_item_fails(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    target.write_text("old\n", encoding="utf-8")

    def items():  # type: ignore[no-untyped-def]
        yield {"id": "a"}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_jsonl(target, items())
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_write_jsonl_to_a_stream() -> None:
    buf = io.StringIO()
    assert write_jsonl(buf, [RecordError(id="a", line=3, error="line 3: bad")]) == 1
    assert json.loads(buf.getvalue()) == {
        "id": "a",
        "line": 3,
        "error": "line 3: bad",
        "source": None,
    }


@pytest.mark.parametrize("fmt", ["jsonl", "txt", "csv"])
def test_overlong_physical_line_is_skipped_not_held(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import humanfactors.io as hio

    monkeypatch.setattr(hio, "MAX_LINE_BYTES", 100)
    head = "id,narrative\n" if fmt == "csv" else ""
    long_line = {
        "jsonl": _jl(id="a", narrative="x" * 500),
        "txt": "x" * 500,
        "csv": "a," + "x" * 500,
    }
    short = {"jsonl": _jl(id="b", narrative="short"), "txt": "short", "csv": "b,short"}
    data = (head + long_line[fmt] + "\n" + short[fmt] + "\n").encode()
    items = _records(data, fmt)
    offset = 1 if fmt == "csv" else 0
    assert [line for line, _ in items] == [1 + offset, 2 + offset]
    err = items[0][1]
    assert isinstance(err, RecordError) and "over the 100-byte limit" in err.error
    assert isinstance(items[1][1], Incident)


def test_a_jsonl_record_without_an_id_gets_its_line_as_a_csv_row_does(tmp_path: Path) -> None:
    jsonl = tmp_path / "reports.jsonl"
    jsonl.write_text('\n{"narrative": "The referral was not sent."}\n', encoding="utf-8")
    table = tmp_path / "reports.csv"
    table.write_text("narrative\nThe referral was not sent.\n", encoding="utf-8")
    [(line, item)] = list(iter_records(jsonl))
    assert line == 2 and isinstance(item, Incident) and item.id == "reports:2"
    [(_, row)] = list(iter_records(table))
    assert isinstance(row, Incident) and row.id == "reports:2"
    coded = tmp_path / "coded.jsonl"
    coded.write_text('{"narrative": "forgot the visit", "codes": ["ERR.LAPSE"]}\n', "utf-8")
    assert load_labelled(coded).ids == ["coded:1"]


def test_a_jsonl_id_that_is_present_but_null_is_still_an_error() -> None:
    source = io.StringIO('{"id": null, "narrative": "x y"}\n')
    [(_, item)] = list(iter_records(source, format="jsonl"))
    assert isinstance(item, RecordError) and item.error.startswith("line 1: id:")
