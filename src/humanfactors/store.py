"""An incident store: analyses kept in SQLite (standard library), queried for themes.

:class:`IncidentStore` keeps each report as analysed (the redacted narrative and its
fields), the analysis (taxonomy and model versions, quality issues), its findings with
their codes and evidence spans, and a history of every analysis of every report.

Design
------
- One file, WAL mode, foreign keys on, ``synchronous=FULL``: many readers and one writer
  can use a store at once (readers never block the writer nor each other), and every
  committed ``add`` survives a crash of the process; a write interrupted half-way is
  rolled back when the store is next opened.
- Opening a store reads its schema version without taking the write lock (only an
  upgrade takes it), and a file that is not a store is refused before anything in it
  is changed. A lock held by another writer past ``timeout`` is reported as busy.
- :meth:`IncidentStore.add` is an upsert by incident id inside one transaction: adding a
  report again replaces its fields and findings, and appends to its history.
- The schema is versioned. ``MIGRATIONS`` is the list of SQL steps, applied in order,
  each in the same transaction as the ``schema_version`` row that records it; a store
  written by an older release is upgraded when opened.

Examples
--------
>>> from humanfactors import Analysis, Finding, Incident
>>> a = Analysis(incident=Incident(id="r1", narrative="I forgot to ring the school.",
...                                region="North West", occurred_on="2025-01-03"),
...              findings=[Finding(code="ERR.LAPSE", confidence=0.9, source="rule")],
...              taxonomy="safeguarding", taxonomy_version="1.0.0")
>>> with IncidentStore(":memory:") as store:
...     store.add(a)
...     [f.code for f in store.findings(code_prefix="ERR")]
1
['ERR.LAPSE']
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from .exceptions import InputError, StoreError, require
from .models import (
    Analysis,
    EventType,
    Evidence,
    Harm,
    Incident,
    QualityIssue,
    RecordError,
    RedactionSpan,
)

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "HistoryEntry",
    "IncidentStore",
    "QueryFilters",
    "StoredFinding",
]

log = logging.getLogger(__name__)

# Each entry upgrades the schema by one version: MIGRATIONS[0] creates v1, [1] turns v1
# into v2, ... Released entries are never edited; a change of schema is a new entry.
MIGRATIONS: tuple[str, ...] = (
    # v1: incidents, analyses, findings and codes
    """
    CREATE TABLE incidents (
        key           INTEGER PRIMARY KEY,
        id            TEXT NOT NULL UNIQUE,
        narrative     TEXT NOT NULL,
        event_type    TEXT,
        harm          TEXT,
        occurred_on   TEXT,
        reported_on   TEXT,
        setting       TEXT,
        reporter_role TEXT,
        region        TEXT,
        metadata      TEXT NOT NULL DEFAULT '{}'
    );
    CREATE TABLE incident_agencies (
        incident_key INTEGER NOT NULL REFERENCES incidents(key) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        agency       TEXT NOT NULL,
        PRIMARY KEY (incident_key, position)
    ) WITHOUT ROWID;
    CREATE TABLE codes (
        id   INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE
    );
    CREATE TABLE analyses (
        incident_key     INTEGER PRIMARY KEY REFERENCES incidents(key) ON DELETE CASCADE,
        taxonomy         TEXT NOT NULL,
        taxonomy_version TEXT NOT NULL,
        model_version    TEXT,
        redacted         INTEGER NOT NULL,
        analysed_at      TEXT NOT NULL,
        quality_issues   TEXT NOT NULL DEFAULT '[]',
        redactions       TEXT NOT NULL DEFAULT '[]',
        feedback         TEXT NOT NULL DEFAULT '',
        schema_version   INTEGER NOT NULL
    );
    CREATE TABLE findings (
        incident_key INTEGER NOT NULL REFERENCES analyses(incident_key) ON DELETE CASCADE,
        position     INTEGER NOT NULL,
        code_id      INTEGER NOT NULL REFERENCES codes(id),
        confidence   REAL NOT NULL,
        source       TEXT NOT NULL,
        evidence     TEXT NOT NULL DEFAULT '[]',
        explanation  TEXT NOT NULL DEFAULT '',
        rule_ids     TEXT NOT NULL DEFAULT '[]',
        PRIMARY KEY (incident_key, position)
    ) WITHOUT ROWID;
    """,
    # v2: the date themes use, query indexes, and the history of analyses
    """
    ALTER TABLE incidents ADD COLUMN event_date TEXT
        GENERATED ALWAYS AS (coalesce(occurred_on, reported_on)) VIRTUAL;
    CREATE INDEX incidents_event_date ON incidents(event_date);
    CREATE INDEX incidents_region ON incidents(region);
    CREATE INDEX findings_code ON findings(code_id, incident_key);
    CREATE INDEX incident_agencies_agency ON incident_agencies(agency, incident_key);
    CREATE TABLE analysis_history (
        id               INTEGER PRIMARY KEY,
        incident_id      TEXT NOT NULL,
        taxonomy         TEXT NOT NULL,
        taxonomy_version TEXT NOT NULL,
        model_version    TEXT,
        analysed_at      TEXT NOT NULL
    );
    CREATE INDEX analysis_history_incident ON analysis_history(incident_id);
    INSERT INTO analysis_history
        (incident_id, taxonomy, taxonomy_version, model_version, analysed_at)
        SELECT i.id, a.taxonomy, a.taxonomy_version, a.model_version, a.analysed_at
        FROM analyses a JOIN incidents i ON i.key = a.incident_key;
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_CHUNK = 2_000  # analyses per executemany round
_IN_CHUNK = 500  # bound parameters per IN (...) list
_PAGE = 500  # analyses per read transaction when iterating


class QueryFilters(TypedDict, total=False):
    """The filters every query takes (see :class:`IncidentStore`)."""

    code_prefix: str | None
    since: date | str | None
    until: date | str | None
    region: str | None
    agency: str | None
    setting: str | None
    event_type: EventType | str | None
    harm: Harm | str | None


@dataclass(frozen=True, slots=True)
class StoredFinding:
    """One finding as stored, with the incident fields it is filtered by."""

    incident_id: str
    code: str
    confidence: float
    source: str
    evidence: tuple[Evidence, ...]
    event_date: date | None
    region: str | None
    setting: str | None
    event_type: str | None
    harm: str | None

    def __repr__(self) -> str:  # evidence text stays out of reprs
        return (
            f"StoredFinding(incident_id={self.incident_id!r}, code={self.code!r}, "
            f"confidence={self.confidence!r}, evidence=<{len(self.evidence)} spans>)"
        )


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One analysis of one report: which taxonomy and model, and when it was stored."""

    incident_id: str
    taxonomy: str
    taxonomy_version: str
    model_version: str | None
    analysed_at: datetime


def _value(x: Any) -> Any:
    return x.value if isinstance(x, Enum) else x


def _date_param(value: date | str | None, name: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        raise InputError(
            f"{name} must be a date or an ISO date (YYYY-MM-DD), got {value!r}"
        ) from None


def _enum_param(value: Any, enum: type[Enum], name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(enum(_value(value)).value)
    except ValueError:
        allowed = ", ".join(repr(e.value) for e in enum)
        raise InputError(f"{name} must be one of {allowed}; got {value!r}") from None


def _chunks(seq: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


_QI_LIST: Any = None
_RS_LIST: Any = None


def _adapters() -> tuple[Any, Any]:
    global _QI_LIST, _RS_LIST
    if _QI_LIST is None:
        from pydantic import TypeAdapter

        _QI_LIST = TypeAdapter(tuple[QualityIssue, ...])
        _RS_LIST = TypeAdapter(tuple[RedactionSpan, ...])
    return _QI_LIST, _RS_LIST


class IncidentStore:
    """Analyses of incident reports in one SQLite file, ready for theme analysis.

    Parameters
    ----------
    path : str or os.PathLike
        The database file (created when missing), or ``":memory:"`` for a store that
        lives as long as the object.
    timeout : float, default 30.0
        Seconds to wait for another process's write lock before giving up.

    Notes
    -----
    One process writes at a time; any number read at once. An object may be shared by
    threads (calls are serialised), but each process should open its own. Use it as a
    context manager, or call :meth:`close`.

    Filters taken by the queries (all optional, combined with AND):

    - ``code_prefix``: a code and everything below it (``"CF.TASK"`` matches
      ``CF.TASK`` and ``CF.TASK.WORKLOAD``, not ``CF.TASKS``);
    - ``since`` / ``until``: inclusive dates compared with the incident's date, which is
      ``occurred_on``, or ``reported_on`` when that is unknown;
    - ``region``, ``agency`` (any of the incident's agencies), ``setting``,
      ``event_type``, ``harm``: equality.
    """

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        if not isinstance(path, str | os.PathLike) or not str(path):
            # str(None) would quietly make a store file called "None"
            raise InputError(
                f"IncidentStore: path must be a file path or ':memory:', got "
                f"{type(path).__name__}"
            )
        self.path = str(path)
        self._lock = threading.RLock()
        self._code_ids: dict[str, int] = {}
        self._cache: dict[
            str, Any
        ] = {}  # derived data (humanfactors.themes), valid for one _version()
        self._writes = 0
        self._closed = False
        self._timeout = timeout
        self._reader: sqlite3.Connection | None = None  # for analyses() during a write
        self._read_lock = threading.Lock()
        memory = self.path == ":memory:"
        if not memory and Path(self.path).is_dir():
            raise StoreError(f"the store path is a directory: {self.path}")
        try:
            self._con = sqlite3.connect(
                self.path, timeout=timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self.path}: {exc}") from None
        try:
            self._con.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
            # Is this a store (or a new, empty file)? Asked before anything is changed, so
            # that another application's database is refused exactly as it was found.
            current = self._stored_version()
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this humanfactors "
                    f"supports ({SCHEMA_VERSION}): upgrade humanfactors"
                )
            if not memory:
                mode = str(self._con.execute("PRAGMA journal_mode").fetchone()[0]).lower()
                if mode != "wal":  # a new file: switching needs the lock, a store is WAL already
                    mode = str(self._con.execute("PRAGMA journal_mode = WAL").fetchone()[0])
                    if mode.lower() != "wal":
                        raise StoreError(
                            f"cannot switch the store {self.path} to WAL mode (got {mode})"
                        )
            self._con.execute("PRAGMA foreign_keys = ON")
            self._con.execute("PRAGMA synchronous = FULL")
            self._con.execute("PRAGMA cache_size = -65536")  # 64 MiB: index upkeep in large batches
            if current < SCHEMA_VERSION:
                self._migrate()
        except sqlite3.DatabaseError as exc:
            self._con.close()
            if _is_busy(exc):
                raise StoreError(self._busy_message("open", exc)) from None
            raise StoreError(f"{self.path} is not a usable humanfactors store: {exc}") from None
        except BaseException:
            self._con.close()
            raise

    def _begin_write(self, action: str) -> None:
        try:
            self._con.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if _is_busy(exc):
                raise StoreError(self._busy_message(action, exc)) from None
            raise StoreError(f"could not {action} the store {self.path}: {exc}") from None

    def _busy_message(self, action: str, exc: sqlite3.Error) -> str:
        return (
            f"could not {action} the store {self.path}: it is busy, locked by another"
            f" connection for longer than the timeout ({self._timeout:g} s): {exc}"
        )

    # -- lifecycle ----------------------------------------------------------------
    def __enter__(self) -> IncidentStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._con.close()
                with self._read_lock:
                    if self._reader is not None:
                        self._reader.close()
                        self._reader = None

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self.count()} incidents"
        return f"IncidentStore({self.path!r}, {state})"

    def __len__(self) -> int:
        return self.count()

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError("the store is closed")

    # -- schema -------------------------------------------------------------------
    @property
    def schema_version(self) -> int:
        """The schema version of the open store."""
        with self._lock:
            self._check_open()
            return int(self._con.execute("SELECT max(version) FROM schema_version").fetchone()[0])

    def _stored_version(self) -> int:
        """The schema version recorded in the file: 0 for a new, empty database.

        A read: it takes no write lock, so opening a current store never waits for a
        writer. A database that holds anything but a store is refused.
        """
        con = self._con
        names = {name: kind for kind, name in con.execute("SELECT type, name FROM sqlite_master")}
        if not names:
            return 0
        if names.get("schema_version") != "table":
            raise StoreError(f"{self.path} is a SQLite database but not a humanfactors store")
        return int(
            con.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()[0]
        )

    def _migrate(self) -> None:
        """Create or upgrade the schema, under the write lock (only when it is needed)."""
        con = self._con
        con.execute("BEGIN IMMEDIATE")
        try:
            current = self._stored_version()  # again: another process may have done it
            if (
                current == 0
                and not con.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'schema_version'"
                ).fetchone()
            ):
                con.execute(
                    "CREATE TABLE schema_version"
                    " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
                )
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this humanfactors "
                    f"supports ({SCHEMA_VERSION}): upgrade humanfactors"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                for statement in _statements(MIGRATIONS[version - 1]):
                    con.execute(statement)
                con.execute("INSERT INTO schema_version VALUES (?, ?)", (version, _now()))
                log.info("store schema upgraded to version %d", version)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    # -- writing ------------------------------------------------------------------
    def add(self, analyses: Analysis | Iterable[Analysis | RecordError]) -> int:
        """Add or replace analyses, all in one transaction; returns how many were stored.

        A report already in the store (same incident id) is replaced: its fields and
        findings become those of the new analysis, and its history gains an entry.
        :class:`~humanfactors.models.RecordError` items (failed records from
        :func:`~humanfactors.analyse_many`) are skipped and counted in the log.
        Either every analysis is stored or, on error, none is.
        """
        if not isinstance(analyses, Analysis):
            from ._args import check_texts

            check_texts(
                analyses, "analyses", "IncidentStore.add", "an Analysis or an iterable of them"
            )
        items: Iterable[Any] = [analyses] if isinstance(analyses, Analysis) else analyses
        with self._lock:
            self._check_open()
            con = self._con
            stored = skipped = 0
            self._begin_write("write to")
            try:
                batch: list[Analysis] = []
                for position, item in enumerate(items):
                    if isinstance(item, Analysis):
                        batch.append(item)
                    elif isinstance(item, RecordError):
                        skipped += 1
                        continue
                    else:
                        raise InputError(
                            "IncidentStore.add takes Analysis objects;"
                            f" item {position} is a {type(item).__name__}"
                        )
                    if len(batch) >= _CHUNK:
                        stored += self._write(batch)
                        batch = []
                if batch:
                    stored += self._write(batch)
                con.execute("COMMIT")
                self._writes += 1
            except BaseException as exc:
                con.execute("ROLLBACK")
                self._code_ids.clear()  # ids of codes inserted in this transaction are gone
                if isinstance(exc, sqlite3.Error):
                    if _is_busy(exc):
                        raise StoreError(self._busy_message("write to", exc)) from None
                    raise StoreError(f"could not write to the store {self.path}: {exc}") from None
                raise
        if skipped:
            log.warning(
                "skipped %d failed records (RecordError) while adding to the store", skipped
            )
        return stored

    def remove(self, incident_ids: str | Iterable[str]) -> int:
        """Delete reports with their analyses, findings and history; returns how many existed.

        For retention limits and erasure requests: nothing of the report stays in the
        tables (SQLite reuses the freed pages; run ``VACUUM`` to shrink the file too).
        """
        from ._args import check_collection

        who = "IncidentStore.remove"
        check_collection(incident_ids, "incident_ids", who, "an id or list of ids", allow_str=True)
        ids = [incident_ids] if isinstance(incident_ids, str) else list(incident_ids)
        with self._lock:
            self._check_open()
            con = self._con
            self._begin_write("delete from")
            try:
                keys = self._keys(ids)
                # findings reference analyses, which reference incidents: cascades remove them
                con.executemany(
                    "DELETE FROM incidents WHERE key = ?", [(k,) for k in keys.values()]
                )
                con.executemany(
                    "DELETE FROM analysis_history WHERE incident_id = ?", [(i,) for i in ids]
                )
                con.execute("COMMIT")
                self._writes += 1
            except BaseException as exc:
                con.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    if _is_busy(exc):
                        raise StoreError(self._busy_message("delete from", exc)) from None
                    raise StoreError(
                        f"could not delete from the store {self.path}: {exc}"
                    ) from None
                raise
        return len(keys)

    def _code_id_map(self, codes: set[str]) -> dict[str, int]:
        missing = [c for c in codes if c not in self._code_ids]
        if missing:
            self._con.executemany(
                "INSERT OR IGNORE INTO codes (code) VALUES (?)", [(c,) for c in missing]
            )
            for part in _chunks(missing, _IN_CHUNK):
                marks = ",".join("?" * len(part))
                for code, cid in self._con.execute(
                    f"SELECT code, id FROM codes WHERE code IN ({marks})", part
                ):
                    self._code_ids[code] = cid
        return self._code_ids

    def _keys(self, ids: Sequence[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for part in _chunks(ids, _IN_CHUNK):
            marks = ",".join("?" * len(part))
            found.update(
                self._con.execute(f"SELECT id, key FROM incidents WHERE id IN ({marks})", part)
            )
        return found

    def _write(self, batch: list[Analysis]) -> int:
        con = self._con
        latest = {a.incident.id: a for a in batch}  # a repeated id: the last one wins
        ids = list(latest)
        existing = self._keys(ids)
        if existing:
            old = [(k,) for k in existing.values()]
            con.executemany("DELETE FROM findings WHERE incident_key = ?", old)
            con.executemany("DELETE FROM incident_agencies WHERE incident_key = ?", old)
        now = _now()
        qi_list, rs_list = _adapters()
        incident_rows = []
        for a in latest.values():
            inc = a.incident
            incident_rows.append(
                (
                    inc.id,
                    inc.narrative,
                    getattr(inc.event_type, "value", inc.event_type),
                    getattr(inc.harm, "value", inc.harm),
                    inc.occurred_on.isoformat() if inc.occurred_on else None,
                    inc.reported_on.isoformat() if inc.reported_on else None,
                    inc.setting,
                    inc.reporter_role,
                    inc.region,
                    json.dumps(inc.metadata, ensure_ascii=False) if inc.metadata else "{}",
                )
            )
        con.executemany(
            "INSERT INTO incidents (id, narrative, event_type, harm, occurred_on, reported_on,"
            " setting, reporter_role, region, metadata) VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (id) DO UPDATE SET narrative = excluded.narrative,"
            " event_type = excluded.event_type, harm = excluded.harm,"
            " occurred_on = excluded.occurred_on, reported_on = excluded.reported_on,"
            " setting = excluded.setting, reporter_role = excluded.reporter_role,"
            " region = excluded.region, metadata = excluded.metadata",
            incident_rows,
        )
        keys = existing if len(existing) == len(ids) else self._keys(ids)
        code_ids = self._code_id_map({f.code for a in latest.values() for f in a.findings})
        analysis_rows, finding_rows, agency_rows, history_rows = [], [], [], []
        for iid, a in latest.items():
            key = keys[iid]
            analysis_rows.append(
                (
                    key,
                    a.taxonomy,
                    a.taxonomy_version,
                    a.model_version,
                    int(a.redacted),
                    now,
                    qi_list.dump_json(a.quality_issues).decode() if a.quality_issues else "[]",
                    rs_list.dump_json(a.redactions).decode() if a.redactions else "[]",
                    a.feedback,
                    a.schema_version,
                )
            )
            history_rows.append((iid, a.taxonomy, a.taxonomy_version, a.model_version, now))
            for pos, agency in enumerate(a.incident.agencies):
                agency_rows.append((key, pos, agency))
            for pos, f in enumerate(a.findings):
                finding_rows.append(
                    (
                        key,
                        pos,
                        code_ids[f.code],
                        f.confidence,
                        getattr(f.source, "value", f.source),
                        "[" + ",".join([f"[{e.start},{e.end}]" for e in f.evidence]) + "]",
                        f.explanation,
                        json.dumps(list(f.rule_ids), ensure_ascii=False) if f.rule_ids else "[]",
                    )
                )
        con.executemany(
            "INSERT INTO analyses (incident_key, taxonomy, taxonomy_version, model_version,"
            " redacted, analysed_at, quality_issues, redactions, feedback, schema_version)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (incident_key) DO UPDATE SET taxonomy = excluded.taxonomy,"
            " taxonomy_version = excluded.taxonomy_version, model_version = excluded.model_version,"
            " redacted = excluded.redacted, analysed_at = excluded.analysed_at,"
            " quality_issues = excluded.quality_issues, redactions = excluded.redactions,"
            " feedback = excluded.feedback, schema_version = excluded.schema_version",
            analysis_rows,
        )
        con.executemany("INSERT INTO incident_agencies VALUES (?,?,?)", agency_rows)
        con.executemany(
            "INSERT INTO findings (incident_key, position, code_id, confidence, source, evidence,"
            " explanation, rule_ids) VALUES (?,?,?,?,?,?,?,?)",
            finding_rows,
        )
        con.executemany(
            "INSERT INTO analysis_history (incident_id, taxonomy, taxonomy_version, model_version,"
            " analysed_at) VALUES (?,?,?,?,?)",
            history_rows,
        )
        return len(latest)

    # -- filters ------------------------------------------------------------------
    def _codes_matching(self, prefix: str, con: sqlite3.Connection | None = None) -> list[int]:
        rows = (con or self._con).execute("SELECT code, id FROM codes").fetchall()
        stem = prefix.rstrip(".")
        return [cid for code, cid in rows if code == stem or code.startswith(stem + ".")]

    def _where(
        self,
        *,
        code_prefix: str | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        region: str | None = None,
        agency: str | None = None,
        setting: str | None = None,
        event_type: EventType | str | None = None,
        harm: Harm | str | None = None,
        finding_alias: str | None = None,
        con: sqlite3.Connection | None = None,
    ) -> tuple[str, list[Any]]:
        """A WHERE clause over ``incidents i`` (and ``findings <finding_alias>``)."""
        clauses: list[str] = ["1"]
        params: list[Any] = []
        lo, hi = _date_param(since, "since"), _date_param(until, "until")
        if lo is not None:
            clauses.append("i.event_date >= ?")
            params.append(lo)
        if hi is not None:
            clauses.append("i.event_date <= ?")
            params.append(hi)
        for column, value in (("region", region), ("setting", setting)):
            if value is not None:
                clauses.append(f"i.{column} = ?")
                params.append(str(value))
        et = _enum_param(event_type, EventType, "event_type")
        if et is not None:
            clauses.append("i.event_type = ?")
            params.append(et)
        hm = _enum_param(harm, Harm, "harm")
        if hm is not None:
            clauses.append("i.harm = ?")
            params.append(hm)
        if agency is not None:
            clauses.append(
                "EXISTS (SELECT 1 FROM incident_agencies g"
                " WHERE g.incident_key = i.key AND g.agency = ?)"
            )
            params.append(str(agency))
        if code_prefix is not None:
            if not isinstance(code_prefix, str) or not code_prefix.strip():
                raise InputError(f"code_prefix must be a non-empty string, got {code_prefix!r}")
            ids = ",".join(str(c) for c in self._codes_matching(code_prefix.strip(), con))
            if finding_alias:
                clauses.append(f"{finding_alias}.code_id IN ({ids})")
            else:
                clauses.append(
                    "EXISTS (SELECT 1 FROM findings f"
                    f" WHERE f.incident_key = i.key AND f.code_id IN ({ids}))"
                )
        return " AND ".join(clauses), params

    # -- queries ------------------------------------------------------------------
    def count(self, **filters: Unpack[QueryFilters]) -> int:
        """How many analysed reports match the filters (see the class notes)."""
        with self._lock:
            self._check_open()
            where, params = self._where(**filters)
            sql = (
                "SELECT count(*) FROM incidents i JOIN analyses a ON a.incident_key = i.key"
                f" WHERE {where}"
            )
            return int(self._con.execute(sql, params).fetchone()[0])

    def findings(self, **filters: Unpack[QueryFilters]) -> list[StoredFinding]:
        """The findings that match the filters, ordered by incident date then id.

        ``code_prefix`` here selects the findings themselves; the other filters select
        the reports they belong to.
        """
        return [f for f, _ in self._findings(**filters)]

    def _findings(self, **filters: Unpack[QueryFilters]) -> list[tuple[StoredFinding, Any]]:
        """:meth:`findings`, each with its report's ``occurred_on`` (a date or None)."""
        with self._lock:
            self._check_open()
            where, params = self._where(finding_alias="f", **filters)
            sql = (
                "SELECT i.id, c.code, f.confidence, f.source, f.evidence, i.narrative,"
                " i.event_date, i.region, i.setting, i.event_type, i.harm, i.occurred_on"
                " FROM findings f JOIN incidents i ON i.key = f.incident_key"
                " JOIN codes c ON c.id = f.code_id"
                f" WHERE {where} ORDER BY i.event_date, i.id, f.position"
            )
            rows = self._con.execute(sql, params).fetchall()
        out = []
        for iid, code, conf, source, ev, narrative, day, region, setting, et, harm, occ in rows:
            spans = json.loads(ev)
            evidence = tuple(Evidence(start=s, end=e, text=narrative[s:e]) for s, e in spans)
            found = StoredFinding(
                iid,
                code,
                conf,
                source,
                evidence,
                date.fromisoformat(day) if day else None,
                region,
                setting,
                et,
                harm,
            )
            out.append((found, date.fromisoformat(occ) if occ else None))
        return out

    def incidents(self, **filters: Unpack[QueryFilters]) -> Iterator[Incident]:
        """The reports (as analysed: redacted narrative) that match the filters, by id."""
        for analysis in self.analyses(**filters):
            yield analysis.incident

    def analyses(self, **filters: Unpack[QueryFilters]) -> Iterator[Analysis]:
        """The analyses of the reports that match the filters, ordered by incident id.

        They equal the :class:`~humanfactors.models.Analysis` objects that were added.
        Results are read a page at a time, each page in its own read transaction, so a
        long iteration never holds back the writer.

        The pages of a store file are read through a second, read-only connection, so
        the iteration may feed :meth:`add` on this same store (re-analysing a store into
        itself: ``store.add(analyse_many(store.incidents()))``). It then reads the store
        as last committed: the reports that ``add`` is writing are not read back.
        """
        after = ""
        while True:
            with self._page_reader() as con:
                where, params = self._where(con=con, **filters)
                page = con.execute(
                    "SELECT i.key, i.id, i.narrative, i.event_type, i.harm, i.occurred_on,"
                    " i.reported_on, i.setting, i.reporter_role, i.region, i.metadata,"
                    " a.taxonomy, a.taxonomy_version, a.model_version, a.redacted,"
                    " a.quality_issues, a.redactions, a.feedback, a.schema_version"
                    " FROM incidents i JOIN analyses a ON a.incident_key = i.key"
                    f" WHERE {where} AND i.id > ?"
                    f" ORDER BY i.id LIMIT {_PAGE}",
                    [*params, after],
                ).fetchall()
                keys = [r[0] for r in page]
                findings: dict[int, list[tuple[Any, ...]]] = {k: [] for k in keys}
                agencies: dict[int, list[str]] = {k: [] for k in keys}
                for part in _chunks(keys, _IN_CHUNK):
                    marks = ",".join("?" * len(part))
                    for row in con.execute(
                        "SELECT f.incident_key, c.code, f.confidence, f.source, f.evidence,"
                        " f.explanation, f.rule_ids"
                        " FROM findings f JOIN codes c ON c.id = f.code_id"
                        f" WHERE f.incident_key IN ({marks})"
                        " ORDER BY f.incident_key, f.position",
                        part,
                    ):
                        findings[row[0]].append(row[1:])
                    for key, agency in con.execute(
                        "SELECT incident_key, agency FROM incident_agencies"
                        f" WHERE incident_key IN ({marks})"
                        " ORDER BY incident_key, position",
                        part,
                    ):
                        agencies[key].append(agency)
            if not page:
                return
            for row in page:
                yield _analysis_from_row(row, findings[row[0]], agencies[row[0]])
            after = page[-1][1]

    @contextlib.contextmanager
    def _page_reader(self) -> Iterator[sqlite3.Connection]:
        """A connection inside a read transaction, for one page of :meth:`analyses`."""
        if self.path == ":memory:":  # one connection only: read inside a write if one is open
            with self._lock:
                self._check_open()
                nested = self._con.in_transaction
                if not nested:
                    self._con.execute("BEGIN")
                try:
                    yield self._con
                finally:
                    if not nested:
                        self._con.execute("COMMIT")
            return
        with self._read_lock:
            self._check_open()
            if self._reader is None:
                try:
                    reader = sqlite3.connect(
                        self.path,
                        timeout=self._timeout,
                        isolation_level=None,
                        check_same_thread=False,
                    )
                except sqlite3.Error as exc:
                    raise StoreError(f"cannot open the store {self.path}: {exc}") from None
                reader.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
                reader.execute("PRAGMA query_only = ON")
                self._reader = reader
            con = self._reader
            try:
                con.execute("BEGIN")
            except sqlite3.Error as exc:
                if _is_busy(exc):
                    raise StoreError(self._busy_message("read", exc)) from None
                raise
            try:
                yield con
            finally:
                con.execute("COMMIT")

    def history(self, incident_id: str | None = None) -> list[HistoryEntry]:
        """Every analysis stored, oldest first (of one report when ``incident_id`` is given)."""
        if incident_id is not None and not isinstance(incident_id, str):
            raise InputError(
                "IncidentStore.history: incident_id must be a str or None, "
                f"got {type(incident_id).__name__}"
            )
        with self._lock:
            self._check_open()
            sql = (
                "SELECT incident_id, taxonomy, taxonomy_version, model_version, analysed_at"
                " FROM analysis_history"
            )
            params: list[Any] = []
            if incident_id is not None:
                sql += " WHERE incident_id = ?"
                params.append(incident_id)
            rows = self._con.execute(sql + " ORDER BY id", params).fetchall()
        return [HistoryEntry(r[0], r[1], r[2], r[3], datetime.fromisoformat(r[4])) for r in rows]

    def codes(self, **filters: Unpack[QueryFilters]) -> dict[str, int]:
        """Code -> number of matching reports that have it, most frequent first."""
        with self._lock:
            self._check_open()
            where, params = self._where(finding_alias="f", **filters)
            rows = self._con.execute(
                "SELECT c.code, count(DISTINCT f.incident_key) AS n FROM findings f"
                " JOIN incidents i ON i.key = f.incident_key JOIN codes c ON c.id = f.code_id"
                f" WHERE {where} GROUP BY c.code ORDER BY n DESC, c.code",
                params,
            ).fetchall()
        return dict(rows)

    # -- export -------------------------------------------------------------------
    def export_jsonl(self, path: str | os.PathLike[str], **filters: Unpack[QueryFilters]) -> int:
        """Write the matching analyses, one JSON object per line; returns how many.

        The file has the format ``humanfactors analyse`` writes, and is replaced
        atomically (readers see the old file or the new one, never half).
        """
        from ._cli._common import atomic_write_text

        lines = [a.model_dump_json() for a in self.analyses(**filters)]
        atomic_write_text(path, "".join(line + "\n" for line in lines))
        return len(lines)

    def to_frame(self, **filters: Unpack[QueryFilters]) -> pd.DataFrame:
        """The matching findings as a tidy DataFrame (pandas extra), one row per finding.

        The columns are those of :func:`humanfactors.frames.analyses_to_frames`' ``tidy``
        frame (``evidence`` is the first evidence span's text; ``occurred_on`` is the
        report's own date of occurrence, None when unknown, never ``reported_on``).
        """
        pd: Any = require("pandas", extra="pandas", feature="IncidentStore.to_frame")
        from .frames import TIDY_COLUMNS

        rows = []
        for f, occurred_on in self._findings(**filters):
            ev = f.evidence[0] if f.evidence else None
            rows.append(
                (
                    f.incident_id,
                    f.code,
                    f.confidence,
                    f.source,
                    ev.text if ev else None,
                    ev.start if ev else None,
                    ev.end if ev else None,
                    f.event_type,
                    f.harm,
                    occurred_on,
                    f.region,
                    f.setting,
                )
            )
        return pd.DataFrame(rows, columns=TIDY_COLUMNS)

    # -- for humanfactors.themes ----------------------------------------------------
    def _version(self) -> tuple[int, int]:
        """Changes whenever the data may have: a commit here or by another connection."""
        with self._lock:
            self._check_open()
            return int(self._con.execute("PRAGMA data_version").fetchone()[0]), self._writes

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            self._check_open()
            return self._con.execute(sql, params).fetchall()

    def _query_flat_ints(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Every integer of every row, in order, as one int64 numpy array (no row tuples kept)."""
        import itertools

        import numpy as np

        with self._lock:
            self._check_open()
            cursor = self._con.execute(sql, params)
            return np.fromiter(itertools.chain.from_iterable(cursor), dtype=np.int64)


def _is_busy(exc: sqlite3.Error) -> bool:
    """Whether ``exc`` says the database is locked by another connection (not broken)."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _statements(script: str) -> list[str]:
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return [s for s in out if s]


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _analysis_from_row(
    row: tuple[Any, ...], findings: list[tuple[Any, ...]], agencies: list[str]
) -> Analysis:
    (
        _,
        iid,
        narrative,
        et,
        harm,
        occ,
        rep,
        setting,
        role,
        region,
        meta,
        tax,
        tax_v,
        model_v,
        redacted,
        qis,
        rss,
        feedback,
        schema_v,
    ) = row
    qi_list, rs_list = _adapters()
    incident = {
        "id": iid,
        "narrative": narrative,
        "event_type": et,
        "harm": harm,
        "occurred_on": occ,
        "reported_on": rep,
        "setting": setting,
        "reporter_role": role,
        "agencies": agencies,
        "region": region,
        "metadata": json.loads(meta),
    }
    found = [
        {
            "code": code,
            "confidence": conf,
            "source": source,
            "evidence": [{"start": s, "end": e, "text": narrative[s:e]} for s, e in json.loads(ev)],
            "explanation": expl,
            "rule_ids": json.loads(rids),
        }
        for code, conf, source, ev, expl, rids in findings
    ]
    return Analysis.model_validate(
        {
            "incident": incident,
            "findings": found,
            "quality_issues": qi_list.validate_json(qis),
            "redactions": rs_list.validate_json(rss),
            "redacted": bool(redacted),
            "taxonomy": tax,
            "taxonomy_version": tax_v,
            "model_version": model_v,
            "feedback": feedback,
            "schema_version": schema_v,
        }
    )
