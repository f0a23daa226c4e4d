"""The incident store and the Dask integration under contention and odd inputs."""

from __future__ import annotations

import sqlite3
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import humanfactors as hf
from humanfactors import Analysis, Finding, Incident, IncidentStore
from humanfactors.exceptions import StoreError
from humanfactors.store import MIGRATIONS, SCHEMA_VERSION, _statements

NARRATIVE = "I forgot to ring the school back; two colleagues were off sick."


def make(id: str, *, occurred_on: date | None = date(2025, 1, 3), **fields: object) -> Analysis:
    start = NARRATIVE.index("forgot")
    return Analysis(
        incident=Incident(id=id, narrative=NARRATIVE, occurred_on=occurred_on, **fields),  # type: ignore[arg-type]
        findings=(
            Finding(
                code="ERR.LAPSE",
                confidence=0.9,
                source="rule",
                evidence=({"start": start, "end": start + 6, "text": "forgot"},),  # type: ignore[arg-type]
            ),
        ),
        taxonomy="safeguarding",
        taxonomy_version="1.0.0",
    )


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another connection in the middle of a write (it holds the write lock)."""
    con = sqlite3.connect(path, isolation_level=None, timeout=0)
    con.execute("BEGIN IMMEDIATE")
    return con


# -- opening a store ------------------------------------------------------------------
def test_opening_a_current_store_does_not_wait_for_a_writer(tmp_path: Path):
    path = tmp_path / "s.sqlite"
    with IncidentStore(path) as s:
        s.add([make("a"), make("b")])
    writer = _hold_write_lock(path)
    try:
        started = time.monotonic()
        with IncidentStore(path, timeout=2) as s:
            assert s.count() == 2
            assert [a.incident.id for a in s.analyses()] == ["a", "b"]
        assert time.monotonic() - started < 1.5  # did not wait for the writer's lock
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def _version_1_store(path: Path) -> None:
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for statement in _statements(MIGRATIONS[0]):
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, '2024-01-01T00:00:00+00:00')")
    con.commit()
    con.execute("PRAGMA journal_mode = WAL")
    con.close()


def test_a_locked_store_is_busy_not_unusable(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    _version_1_store(path)  # opening it needs the write lock, to migrate
    writer = _hold_write_lock(path)
    try:
        with pytest.raises(StoreError, match="busy") as info:
            IncidentStore(path, timeout=0.1)
        assert "not a usable" not in str(info.value)
        assert str(path) in str(info.value)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    with IncidentStore(path) as s:  # and once the lock is free, it is upgraded
        assert s.schema_version == SCHEMA_VERSION


def test_a_write_to_a_locked_store_says_busy(tmp_path: Path):
    path = tmp_path / "s.sqlite"
    IncidentStore(path).close()
    with IncidentStore(path, timeout=0.1) as s:
        writer = _hold_write_lock(path)
        try:
            with pytest.raises(StoreError, match="busy"):
                s.add(make("a"))
            with pytest.raises(StoreError, match="busy"):
                s.remove(["a"])
        finally:
            writer.execute("ROLLBACK")
            writer.close()
        assert s.add(make("a")) == 1


@pytest.mark.parametrize("mode", ["delete", "wal"])
def test_a_foreign_database_is_refused_unchanged(tmp_path: Path, mode: str):
    path = tmp_path / "app.db"
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA journal_mode = {mode}")
    con.execute("CREATE TABLE users (x)")
    con.execute("INSERT INTO users VALUES (1)")
    con.commit()
    con.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a humanfactors store"):
        IncidentStore(path)
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == mode
    assert con.execute("SELECT x FROM users").fetchall() == [(1,)]
    con.close()
    if mode != "wal":
        assert path.read_bytes() == before
        assert not Path(f"{path}-wal").exists()


def test_a_database_with_only_a_view_is_foreign(tmp_path: Path):
    path = tmp_path / "view.db"
    con = sqlite3.connect(path)
    con.execute("CREATE VIEW v AS SELECT 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a humanfactors store"):
        IncidentStore(path)


def test_a_new_or_empty_file_becomes_a_wal_store(tmp_path: Path):
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    for path in (empty, tmp_path / "new.sqlite"):
        with IncidentStore(path) as s:
            assert s._query("PRAGMA journal_mode")[0][0] == "wal"
            assert s.schema_version == SCHEMA_VERSION


# -- re-analysing a store into itself ---------------------------------------------------
@pytest.fixture(params=["file", "memory"])
def store(request: pytest.FixtureRequest, tmp_path: Path):
    path = tmp_path / "s.sqlite" if request.param == "file" else ":memory:"
    with IncidentStore(path) as s:
        yield s


def test_add_streams_the_stores_own_analyses(store: IncidentStore, monkeypatch: pytest.MonkeyPatch):
    import humanfactors.store as store_module

    monkeypatch.setattr(store_module, "_PAGE", 7)  # many pages, written in between
    monkeypatch.setattr(store_module, "_CHUNK", 5)
    ids = [f"r{i:02d}" for i in range(40)]
    store.add(make(i) for i in ids)
    assert store.add(a for a in store.analyses()) == 40
    assert [a.incident.id for a in store.analyses()] == ids
    assert len(store.history()) == 80
    assert store.count() == 40


def test_add_streams_a_reanalysis_of_the_stores_incidents(store: IncidentStore):
    store.add([make("a"), make("b"), make("c")])
    assert store.add(hf.analyse_many(store.incidents(), model=False)) == 3
    assert {h.incident_id for h in store.history()} == {"a", "b", "c"}
    assert len(store.history()) == 6
    assert store.codes()["ERR.LAPSE"] == 3


def test_streaming_into_itself_stays_one_transaction(store: IncidentStore):
    store.add([make("a"), make("b"), make("c")])

    def failing():
        for n, a in enumerate(store.analyses()):
            if n == 2:
                raise RuntimeError("stop")
            yield a.model_copy(update={"feedback": "changed"})

    with pytest.raises(RuntimeError, match="stop"):
        store.add(failing())
    assert len(store.history()) == 3  # nothing of the failed call was kept
    assert {a.feedback for a in store.analyses()} == {""}


def test_a_file_store_streams_from_itself_through_worker_processes(tmp_path: Path):
    # analyse_many(n_jobs=2) pulls its input from a joblib thread, not the caller's
    with IncidentStore(tmp_path / "s.sqlite") as s:
        s.add(make(f"r{i}") for i in range(6))
        assert s.add(hf.analyse_many(s.incidents(), model=False, n_jobs=2, batch_size=2)) == 6
        assert len(s.history()) == 12


# -- Dask -------------------------------------------------------------------------------
def _dask():
    pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
    pytest.importorskip("pandas", reason="the pandas extra is not installed")
    import dask

    return dask


DASK_TEXTS = [
    "I forgot to ring the school back; two colleagues were off sick.",
    "Plain sentence with nothing in it.",
    "",
    "The child was not seen at the visit and we accepted mum's account.",
    "Another plain sentence.",
    "x" * 10,
]


def test_dask_keeps_every_row_including_those_with_no_findings():
    dask = _dask()
    import dask.dataframe as dd
    import pandas as pd

    from humanfactors.dask import analyse_dataframe
    from humanfactors.frames import analyse_frame

    df = pd.DataFrame({"id": [f"r{i}" for i in range(6)], "narrative": DASK_TEXTS})
    with dask.config.set(scheduler="synchronous"):
        tidy = analyse_dataframe(
            dd.from_pandas(df, npartitions=2),
            text_column="narrative",
            id_column="id",
            model=False,
        ).compute()
    assert set(tidy.incident_id) == set(df.id)
    local = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    empty = set(local.wide.index[local.wide.sum(axis=1) == 0])  # analysed, nothing found
    assert empty  # the case under test is there
    none = tidy[tidy.source == "none"]
    assert set(none.incident_id) == empty
    assert none.code.isna().all() and none.confidence.isna().all()
    assert set(tidy[tidy.source == "error"].incident_id) == set(local.errors.id)
    found = tidy[tidy.code.notna()].sort_values(["incident_id", "code"])
    want = local.tidy.sort_values(["incident_id", "code"])
    assert (
        found[["incident_id", "code"]].values.tolist()
        == want[["incident_id", "code"]].values.tolist()
    )


def test_dask_default_ids_are_unique_across_partitions():
    dask = _dask()
    import dask.dataframe as dd
    import pandas as pd

    from humanfactors.dask import analyse_dataframe

    texts = ["I forgot to ring the school.", "Nothing here."] * 4
    restarted = dd.from_pandas(pd.DataFrame({"narrative": texts}), npartitions=4)
    restarted = restarted.reset_index(drop=True)  # each partition's index starts at 0
    sorted_index = dd.from_pandas(pd.DataFrame({"narrative": texts}), npartitions=4)
    with dask.config.set(scheduler="synchronous"):
        a = analyse_dataframe(restarted, text_column="narrative", model=False).compute()
        b = analyse_dataframe(sorted_index, text_column="narrative", model=False).compute()
    assert a.incident_id.nunique() == len(texts)
    assert set(a.incident_id) == {f"{p}:{i}" for p in range(4) for i in range(2)}
    assert set(b.incident_id) == {str(i) for i in range(len(texts))}  # as analyse_frame


@pytest.mark.parametrize(
    "columns, message",
    [
        ({"text_column": "narrative", "id_column": "nope"}, "id column 'nope'"),
        ({"text_column": "nope"}, "text column 'nope'"),
    ],
)
def test_dask_checks_columns_before_computing(columns: dict[str, str], message: str):
    _dask()
    import dask.dataframe as dd
    import pandas as pd

    from humanfactors.dask import analyse_dataframe
    from humanfactors.exceptions import InputError

    ddf = dd.from_pandas(pd.DataFrame({"id": ["a"], "narrative": ["x"]}), npartitions=1)
    with pytest.raises(InputError, match=message):
        analyse_dataframe(ddf, model=False, **columns)


def test_dask_bag_dicts_are_strict_json():
    import json

    dask = _dask()
    import dask.bag as db

    from humanfactors.dask import analyse_bag

    record = {
        "id": "n1",
        "narrative": "I forgot to ring the school back.",
        "metadata": {"score": float("nan"), "big": float("inf"), "nested": {"a": [1.5, None]}},
    }
    with dask.config.set(scheduler="synchronous"):
        (out,) = analyse_bag(db.from_sequence([record], npartitions=1), model=False).compute()
    assert out["incident"]["metadata"] == {"score": None, "big": None, "nested": {"a": [1.5, None]}}
    json.dumps(out, allow_nan=False)


# -- to_frame ---------------------------------------------------------------------------
def test_to_frame_occurred_on_is_the_reports_own(tmp_path: Path):
    pytest.importorskip("pandas", reason="the pandas extra is not installed")
    from humanfactors.frames import analyses_to_frames

    known = make("known")
    reported_only = make("reported", occurred_on=None, reported_on=date(2025, 2, 1))
    with IncidentStore(tmp_path / "s.sqlite") as s:
        s.add([known, reported_only])
        frame = s.to_frame().set_index("incident_id")
        assert s.findings()[0].event_date == date(2025, 1, 3)  # the date filters use
    tidy = analyses_to_frames([known, reported_only]).tidy.set_index("incident_id")
    assert frame.loc["known", "occurred_on"] == tidy.loc["known", "occurred_on"]
    assert frame.loc["known", "occurred_on"] == date(2025, 1, 3)
    assert frame.loc["reported", "occurred_on"] is None
    assert tidy.loc["reported", "occurred_on"] is None


# -- dask reads the incident columns as analyse_frame does ------------------------------
def _incident_frame():
    import pandas as pd

    return pd.DataFrame({
        "id": [f"r{i}" for i in range(6)],
        "narrative": [
            "I forgot to send the referral to the school.",
            "The HV did not feel able to challenge the consultant at the meeting.",
            "The duty manager spotted the missed visit the next morning.",
            "Nobody saw the child at the home visit; the mother said he was asleep.",
            "The social worker assumed the GP had made the referral.",
            "The interpreter was not booked, so the father's account was not heard.",
        ],
        "event_type": ["incident", "near_miss", "good_practice", None, "incident", "near_miss"],
        "harm": ["low", "none", None, "moderate", "severe", "none"],
        "occurred_on": [date(2025, 1, 3), date(2025, 2, 1), None, date(2025, 3, 9),
                        date(2024, 12, 30), date(2025, 4, 2)],
        "region": ["North West", "London", "London", None, "South East", "North West"],
        "agencies": [["police", "school"], [], ["health"], None, ("police",), ["school"]],
    })


def _dask_tidy(df: Any, convert_string: bool = False, **kwargs: Any) -> Any:
    dask = _dask()
    import dask.dataframe as dd

    from humanfactors.dask import analyse_dataframe

    # by default dask turns object columns into text, a list of agencies included
    with dask.config.set({"scheduler": "synchronous",
                          "dataframe.convert-string": convert_string}):
        ddf = dd.from_pandas(df, npartitions=2)
        assert ddf.npartitions == 2
        return analyse_dataframe(ddf, text_column="narrative", model=False, **kwargs).compute()


@pytest.mark.parametrize(
    "id_column, convert_string", [("id", False), (None, False), ("id", True)]
)
def test_dask_reads_incident_columns_as_analyse_frame(
    id_column: str | None, convert_string: bool
):
    _dask()
    from humanfactors.frames import TIDY_COLUMNS, analyse_frame

    df = _incident_frame()
    if convert_string:  # dates as ISO text are still dates; agencies would be text
        df = df.drop(columns="agencies")
    tidy = _dask_tidy(df, convert_string, id_column=id_column)
    local = analyse_frame(df, text_column="narrative", id_column=id_column, model=False)
    assert local.errors.empty
    assert not (tidy.source == "error").any()
    found = tidy[tidy.source != "none"].reset_index(drop=True)
    assert len(found) == len(local.tidy) > 0
    fields = ["event_type", "harm", "occurred_on", "region"]
    # the incident columns are read, not dropped: the values reach the rows
    assert found[fields].notna().any().all()
    for col in TIDY_COLUMNS:
        assert found[col].tolist() == local.tidy[col].tolist(), col
    # a report with no findings keeps its fields too
    for _, row in tidy[tidy.source == "none"].iterrows():
        i = int(row.incident_id.removeprefix("r"))
        assert row.region == df.region[i] and row.event_type == df.event_type[i]


def test_dask_bad_cell_is_its_rows_error_row():
    _dask()
    from humanfactors.frames import TIDY_COLUMNS, analyse_frame

    df = _incident_frame()
    df.loc[1, "event_type"] = "nonsense"  # refused by Incident
    df.loc[4, "agencies"] = 42  # a cell no record can hold
    tidy = _dask_tidy(df, id_column="id")
    local = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    errors = tidy[tidy.source == "error"]
    assert sorted(errors.incident_id) == sorted(local.errors.id) == ["r1", "r4"]
    reason = errors.set_index("incident_id").evidence
    assert reason["r1"].startswith("field 'event_type'")
    assert "agencies" in reason["r4"]
    assert not reason.str.startswith("line").any()  # a partition's line would mislead
    # every other row is intact, with its fields
    assert set(tidy.incident_id) == set(df.id)
    found = tidy[~tidy.source.isin(["none", "error"])].reset_index(drop=True)
    for col in TIDY_COLUMNS:
        assert found[col].tolist() == local.tidy[col].tolist(), col
