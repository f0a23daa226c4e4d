"""Themes across many reports: frequencies, co-occurrence, emerging themes, comparisons.

Every function takes the analyses as an :class:`~humanfactors.store.IncidentStore`, an
iterable of :class:`~humanfactors.models.Analysis` objects, or a path (a ``.sqlite`` /
``.db`` store, or a JSONL file of analyses as ``humanfactors analyse`` writes), plus the
store's filters (``since``, ``until``, ``region``, ``agency``, ``setting``,
``event_type``, ``harm``; see :class:`~humanfactors.store.IncidentStore`). Results are
frozen objects with ``to_dict()`` (JSON-ready) and ``to_frame()`` (pandas extra).

Counting rules
--------------
- A report counts once for a code however many findings of that code it has.
- Rates are per 100 reports: reports with the code / reports in the group x 100. The
  denominator is every analysed report in the group, including reports with no finding.
- A report's date is ``occurred_on``, or ``reported_on`` when that is unknown; reports
  with neither are left out of period breakdowns and emerging-theme windows (counted in
  ``undated``).
- ``level=n`` rolls codes up to their first ``n`` dotted parts (``CF.TASK.WORKLOAD`` at
  level 2 is ``CF.TASK``), the taxonomy's parent.

Intervals are Wilson score intervals for a binomial proportion (95% unless stated); they
stay inside [0, 100] and behave with small counts, where the normal approximation fails.

Examples
--------
>>> from humanfactors import Analysis, Finding, Incident
>>> def report(i, code):
...     return Analysis(incident=Incident(id=f"r{i}", narrative="I forgot the visit.",
...                                       occurred_on=f"2024-0{1 + i % 3}-01"),
...                     findings=[Finding(code=code, confidence=0.9, source="rule")],
...                     taxonomy="safeguarding", taxonomy_version="1.0.0")
>>> data = [report(i, "ERR.LAPSE" if i % 2 else "CF.TASK.WORKLOAD") for i in range(6)]
>>> freq = frequencies(data, by="month")
>>> [(r.group, r.count, r.rate) for r in freq.rows if r.code == "ERR.LAPSE"]
[('2024-01', 1, 50.0), ('2024-02', 1, 50.0), ('2024-03', 1, 50.0)]
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Unpack

from ._args import check_collection, check_number, check_texts
from .exceptions import InputError, require
from .models import Analysis, RecordError
from .store import IncidentStore, QueryFilters

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from .taxonomy import Taxonomy

__all__ = [
    "FIELDS",
    "PERIODS",
    "Comparison",
    "ComparisonRow",
    "Cooccurrence",
    "CooccurrencePair",
    "EmergingTheme",
    "EmergingThemes",
    "EvidenceQuote",
    "Frequencies",
    "FrequencyRow",
    "compare",
    "cooccurrence",
    "emerging_themes",
    "frequencies",
    "wilson_interval",
]

log = logging.getLogger(__name__)

PERIODS = ("month", "quarter", "year")
FIELDS = ("region", "agency", "setting", "event_type", "harm", "reporter_role", "taxonomy")
STORE_SUFFIXES = (".sqlite", ".sqlite3", ".db")
ThemeSource = IncidentStore | Iterable[Analysis | RecordError] | str | os.PathLike[str]
UNKNOWN = "unknown"


# -- statistics ------------------------------------------------------------------------
def wilson_interval(count: Any, n: Any, confidence: float = 0.95) -> tuple[Any, Any]:
    """Wilson score interval for ``count`` successes in ``n`` trials, as proportions.

    Works element-wise on numpy arrays; where ``n`` is 0 the interval is (0, 1).

    Examples
    --------
    >>> lo, hi = wilson_interval(0, 10)
    >>> round(float(lo), 3), round(float(hi), 3)
    (0.0, 0.278)
    """
    import numpy as np
    from scipy.stats import norm

    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence}")
    k = np.asarray(count, dtype=float)
    m = np.asarray(n, dtype=float)
    z = float(norm.ppf(0.5 + confidence / 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(m > 0, k / m, 0.0)
        denom = 1 + z * z / m
        centre = (p + z * z / (2 * m)) / denom
        half = z * np.sqrt(p * (1 - p) / m + z * z / (4 * m * m)) / denom
        lo = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), 0.0)
        hi = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), 1.0)
    return lo, hi


def benjamini_hochberg(p_values: Any) -> Any:
    """Benjamini-Hochberg adjusted p-values (q-values), in the input order."""
    import numpy as np

    p = np.asarray(p_values, dtype=float)
    m = p.size
    if m == 0:
        return p
    order = np.argsort(p)
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    q = np.empty(m)
    q[order] = np.clip(ranked, 0.0, 1.0)
    return q


# -- results ---------------------------------------------------------------------------
def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class _Result:
    """to_dict / to_frame for the frozen result dataclasses."""

    rows: tuple[Any, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole result (dates as ISO strings)."""
        return _jsonable(dataclasses.asdict(self))  # type: ignore[call-overload,no-any-return]

    def to_frame(self) -> pd.DataFrame:
        """The rows as a DataFrame (pandas extra), one column per row field."""
        pd: Any = require("pandas", extra="pandas", feature=f"{type(self).__name__}.to_frame")
        fields = {f.name: f for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        row_type = fields["rows"].metadata["row"]
        columns = [f.name for f in dataclasses.fields(row_type) if f.name != "evidence"]
        return pd.DataFrame([[getattr(r, c) for c in columns] for r in self.rows], columns=columns)

    def __len__(self) -> int:
        return len(self.rows)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)


@dataclass(frozen=True, slots=True)
class FrequencyRow:
    """How many reports in one group have one code, and the rate per 100 reports."""

    group: str
    code: str
    name: str
    count: int
    reports: int
    rate: float
    rate_low: float
    rate_high: float


@dataclass(frozen=True)
class Frequencies(_Result):
    """Code frequencies by group (period or incident field); see :func:`frequencies`."""

    by: str
    groups: tuple[str, ...]
    codes: tuple[str, ...]
    reports: dict[str, int]
    rows: tuple[FrequencyRow, ...] = field(metadata={"row": FrequencyRow})
    undated: int = 0

    def table(self, value: Literal["count", "rate"] = "rate") -> list[list[float]]:
        """A groups x codes table (in the order of ``groups`` and ``codes``)."""
        index = {(r.group, r.code): getattr(r, value) for r in self.rows}
        return [[float(index.get((g, c), 0.0)) for c in self.codes] for g in self.groups]

    def top(self, n: int = 10) -> tuple[str, ...]:
        """The ``n`` codes found in the most reports overall."""
        return self.codes[:n]


@dataclass(frozen=True, slots=True)
class CooccurrencePair:
    """Two codes found in the same reports, and how much more often than chance."""

    a: str
    b: str
    count: int
    expected: float
    lift: float
    p_value: float
    q_value: float


@dataclass(frozen=True)
class Cooccurrence(_Result):
    """Which codes travel together; see :func:`cooccurrence`."""

    reports: int
    codes: tuple[str, ...]
    code_counts: dict[str, int]
    rows: tuple[CooccurrencePair, ...] = field(metadata={"row": CooccurrencePair})
    counts: tuple[tuple[int, ...], ...] = ()

    def matrix(self, value: Literal["count", "lift"] = "count") -> list[list[float]]:
        """A codes x codes table of co-occurrence counts or lift.

        The diagonal holds the code's count, or 1 for lift.
        """
        n = len(self.codes)
        out = [[float(self.counts[i][j]) for j in range(n)] for i in range(n)]
        if value == "lift":
            for i, a in enumerate(self.codes):
                for j, b in enumerate(self.codes):
                    na, nb = self.code_counts[a], self.code_counts[b]
                    out[i][j] = out[i][j] * self.reports / (na * nb) if na and nb else 0.0
        return out


@dataclass(frozen=True, slots=True)
class EvidenceQuote:
    """A sentence of a report (redacted as stored) that shows a finding."""

    incident_id: str
    date: date | None
    text: str
    confidence: float

    def __repr__(self) -> str:
        return (
            f"EvidenceQuote(incident_id={self.incident_id!r}, date={self.date!r},"
            f" text=<{len(self.text)} chars>)"
        )


@dataclass(frozen=True, slots=True)
class EmergingTheme:
    """One code's recent rate against its baseline, with the test result."""

    code: str
    name: str
    protective: bool
    recent_count: int
    recent_reports: int
    baseline_count: int
    baseline_reports: int
    recent_rate: float
    baseline_rate: float
    rate_ratio: float | None
    recent_low: float
    recent_high: float
    p_value: float
    q_value: float
    emerging: bool
    evidence: tuple[EvidenceQuote, ...] = ()


@dataclass(frozen=True)
class EmergingThemes(_Result):
    """Codes whose rate rose in the recent window; see :func:`emerging_themes`."""

    recent_start: date | None
    recent_end: date | None
    baseline_start: date | None
    baseline_end: date | None
    recent_reports: int
    baseline_reports: int
    alpha: float
    min_count: int
    test: str
    rows: tuple[EmergingTheme, ...] = field(metadata={"row": EmergingTheme})

    @property
    def emerging(self) -> tuple[EmergingTheme, ...]:
        """The codes that passed the test (q <= alpha) and the minimum count, strongest first."""
        return tuple(r for r in self.rows if r.emerging)


@dataclass(frozen=True, slots=True)
class ComparisonRow:
    """One code's rate in one group, with its interval, beside the overall rate."""

    group: str
    code: str
    name: str
    count: int
    reports: int
    rate: float
    rate_low: float
    rate_high: float
    overall_rate: float
    p_value: float | None


@dataclass(frozen=True)
class Comparison(_Result):
    """Rates of codes compared between groups; see :func:`compare`."""

    by: str
    groups: tuple[str, ...]
    codes: tuple[str, ...]
    reports: dict[str, int]
    confidence: float
    rows: tuple[ComparisonRow, ...] = field(metadata={"row": ComparisonRow})


# -- loading ---------------------------------------------------------------------------
@contextmanager
def _opened(source: ThemeSource) -> Iterator[IncidentStore]:
    if isinstance(source, IncidentStore):
        yield source
        return
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"no such store or analyses file: {path}")
        if path.suffix.lower() in STORE_SUFFIXES:
            with IncidentStore(path) as store:
                yield store
            return
        with IncidentStore(":memory:") as store:
            store.add(_read_jsonl(path))
            yield store
        return
    if isinstance(source, Analysis):
        source = [source]
    what = "an IncidentStore, a path, or an iterable of Analysis"
    check_texts(source, "source", "themes", what)
    with IncidentStore(":memory:") as store:
        store.add(source)
        yield store


def _read_jsonl(path: Path) -> Iterator[Analysis]:
    with open(path, encoding="utf-8") as fh:
        yield from _read_analyses(fh, path.name)


def _read_analyses(lines: Iterable[str], name: str) -> Iterator[Analysis]:
    """Analyses from JSONL lines (a file or ``sys.stdin``) as ``humanfactors analyse`` writes.

    ``name`` names the input in errors; a line that is not an analysis is an
    :class:`InputError` naming its line number.
    """
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield Analysis.model_validate_json(line)
        except ValueError:
            raise InputError(
                f"{name} line {line_no}: not an analysis as 'humanfactors analyse' writes it"
            ) from None


@dataclass
class _Data:
    """Reports and their codes as arrays: the shape every theme function works on."""

    keys: Any  # int64 incident keys, sorted
    dates: Any  # date per report as an int64 YYYYMMDD (0 when undated)
    codes: list[str]  # code per column
    inc: Any  # int64 report index per (report, code) finding
    col: Any  # int64 code index per finding

    @property
    def n(self) -> int:
        return int(self.keys.size)

    def matrix(self) -> Any:
        """Reports x codes 0/1 sparse matrix (a report counts once per code)."""
        import numpy as np
        from scipy.sparse import csr_matrix

        x = csr_matrix(
            (np.ones(self.inc.size, dtype=np.int64), (self.inc, self.col)),
            shape=(self.n, len(self.codes)),
        )
        x.sum_duplicates()
        x.data[:] = 1
        return x


def _split_filters(filters: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    unknown = set(filters) - set(QueryFilters.__annotations__)
    if unknown:
        raise InputError(
            f"unknown filter(s) {sorted(unknown)}; allowed: {sorted(QueryFilters.__annotations__)}"
        )
    rest = {k: v for k, v in filters.items() if v is not None}
    return rest.pop("code_prefix", None), rest


def _base(store: IncidentStore) -> tuple[Any, Any, Any, Any]:
    """Every report's key and date, and every finding's (key, code id), cached per store version.

    Reading a million findings out of SQLite is most of a theme query's time; a report
    computes several results from the same data, so the arrays are kept until the store
    changes (``PRAGMA data_version`` moves when another connection commits).
    """

    token = store._version()
    cached = store._cache.get("themes")
    if cached is not None and cached[0] == token:
        return cached[1]  # type: ignore[no-any-return]
    reports = store._query_flat_ints(
        "SELECT key, coalesce(CAST(replace(event_date, '-', '') AS INTEGER), 0)"
        " FROM incidents ORDER BY key"
    ).reshape(-1, 2)
    keys, dates = reports[:, 0].copy(), reports[:, 1].copy()
    max_code = store._query("SELECT coalesce(max(id), 0) FROM codes")[0][0]
    if max_code < 1 << 20:  # one packed integer per finding reads faster than two columns
        packed = store._query_flat_ints("SELECT (incident_key << 20) | code_id FROM findings")
        pairs = (packed >> 20, packed & ((1 << 20) - 1))
    else:
        raw = store._query_flat_ints("SELECT incident_key, code_id FROM findings").reshape(-1, 2)
        pairs = (raw[:, 0].copy(), raw[:, 1].copy())
    value = (keys, dates, *pairs)
    store._cache["themes"] = (token, value)
    return value


def _load(
    store: IncidentStore,
    filters: dict[str, Any],
    *,
    code_prefix: str | None,
    level: int | None,
    protective: bool | None = None,
    tax: Taxonomy | None = None,
) -> _Data:
    import numpy as np

    if level is not None and (not isinstance(level, int) or level < 1):
        raise InputError(f"level must be a positive whole number, got {level!r}")
    where, params = store._where(**filters)  # validates the filters first
    all_keys, all_dates, pk, pc = _base(store)
    if filters:
        chosen = np.array(
            [r[0] for r in store._query(f"SELECT i.key FROM incidents i WHERE {where}", params)],
            dtype=np.int64,
        )
        keep = np.isin(all_keys, chosen)
        keys, dates = all_keys[keep], all_dates[keep]
    else:
        keys, dates = all_keys, all_dates
    code_rows = store._query("SELECT id, code FROM codes")
    # codes kept after the prefix and protective filters, rolled up to `level`
    stem = code_prefix.strip().rstrip(".") if code_prefix else None
    target: dict[int, str] = {}
    for cid, code in code_rows:
        if stem and not (code == stem or code.startswith(stem + ".")):
            continue
        if protective is not None and _is_protective(code, tax) != protective:
            continue
        target[cid] = ".".join(code.split(".")[:level]) if level else code
    names = sorted(set(target.values()))
    col_of = {c: i for i, c in enumerate(names)}
    lut = np.full(max((cid for cid, _ in code_rows), default=0) + 1, -1, dtype=np.int64)
    for cid, code in target.items():
        lut[cid] = col_of[code]
    col = lut[pc] if pc.size else np.zeros(0, dtype=np.int64)
    inc = np.searchsorted(keys, pk)
    ok = (col >= 0) & (inc < keys.size)
    ok[ok] &= keys[inc[ok]] == pk[ok]
    return _Data(keys, dates, names, inc[ok], col[ok])


def _taxonomy(store: IncidentStore) -> Taxonomy | None:
    from .taxonomy import load_taxonomy

    rows = store._query(
        "SELECT taxonomy FROM analyses GROUP BY taxonomy ORDER BY count(*) DESC LIMIT 1"
    )
    if not rows:
        return None
    try:
        return load_taxonomy(rows[0][0])
    except Exception:  # a custom taxonomy file not at hand: codes go unnamed
        log.debug("taxonomy %r not loadable; codes shown without names", rows[0][0])
        return None


def _name(code: str, tax: Taxonomy | None) -> str:
    if tax is not None:
        factor = tax.get(code)
        if factor is not None:
            return factor.name
    return code


def _is_protective(code: str, tax: Taxonomy | None) -> bool:
    if tax is not None and code in tax:
        return tax.is_protective(code)
    return code == "PROT" or code.startswith("PROT.")


def _periods(dates: Any, by: str) -> tuple[Any, list[str]]:
    """Period index per date (YYYYMMDD ints) and the period labels.

    Labels read "2024", "2024-03" or "2024-Q1".
    """
    import numpy as np

    year, month = dates // 10000, dates // 100 % 100
    if by == "year":
        code = year
    elif by == "month":
        code = year * 100 + month
    else:
        code = year * 10 + (month - 1) // 3 + 1
    uniq, inverse = np.unique(code, return_inverse=True)  # sorted, so periods come in time order
    if by == "year":
        labels = [str(u) for u in uniq.tolist()]
    elif by == "month":
        labels = [f"{u // 100}-{u % 100:02d}" for u in uniq.tolist()]
    else:
        labels = [f"{u // 10}-Q{u % 10}" for u in uniq.tolist()]
    return inverse, labels


def _memberships(
    store: IncidentStore, data: _Data, by: str, filters: dict[str, Any]
) -> tuple[Any, list[str]]:
    """Reports x groups 0/1 sparse matrix and the group labels, for ``by``."""
    import numpy as np
    from scipy.sparse import csr_matrix

    if by in PERIODS:
        rows = np.flatnonzero(data.dates > 0)
        cols, groups = _periods(data.dates[rows], by)
        m = csr_matrix(
            (np.ones(rows.size, dtype=np.int64), (rows, cols)), shape=(data.n, len(groups))
        )
        return m, groups
    if by == "all":
        ones = np.ones(data.n, dtype=np.int64)
        m = csr_matrix(
            (ones, (np.arange(data.n), np.zeros(data.n, dtype=np.int64))), shape=(data.n, 1)
        )
        return (m, ["all"]) if data.n else (m[:, :0], [])
    if by in FIELDS:
        # one row per value with its reports' keys: a few strings parsed in C, not a row per report
        sql = {
            "agency": (
                "SELECT agency, group_concat(incident_key) FROM incident_agencies GROUP BY agency"
            ),
            "taxonomy": (
                "SELECT taxonomy, group_concat(incident_key) FROM analyses GROUP BY taxonomy"
            ),
        }.get(by, f"SELECT {by}, group_concat(key) FROM incidents GROUP BY {by}")
        parts: dict[str, Any] = {}
        none = np.ones(data.n, dtype=bool)
        for value, joined in store._query(sql):
            group_keys = np.fromstring(joined, dtype=np.int64, sep=",")
            idx = np.minimum(np.searchsorted(data.keys, group_keys), max(data.n - 1, 0))
            idx = idx[data.keys[idx] == group_keys] if data.n else idx[:0]
            if value is not None and idx.size:  # reports with a NULL value stay "unknown"
                none[idx] = False
                parts[str(value)] = idx
        if none.any():
            parts[UNKNOWN] = np.flatnonzero(none)
        groups = sorted(parts, key=lambda g: (g == UNKNOWN, g))
        rows = np.concatenate([parts[g] for g in groups]) if groups else np.zeros(0, dtype=np.int64)
        cols = (
            np.concatenate([np.full(parts[g].size, i) for i, g in enumerate(groups)])
            if groups
            else rows
        )
        m = csr_matrix(
            (np.ones(rows.size, dtype=np.int64), (rows, cols)), shape=(data.n, len(groups))
        )
        m.sum_duplicates()
        m.data[:] = 1  # an agency named twice on one report still counts the report once
        return m, groups
    raise InputError(f"by must be one of {', '.join((*PERIODS, *FIELDS, 'all'))}; got {by!r}")


def _as_date(value: date | str, name: str) -> date:
    """A date argument as a date; anything else an :class:`InputError` naming ``name``."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(
            f"{name} must be a date or an ISO date (YYYY-MM-DD), got {value!r}"
        ) from None


# -- public functions ------------------------------------------------------------------
def frequencies(
    source: ThemeSource,
    *,
    by: str = "quarter",
    level: int | None = None,
    confidence: float = 0.95,
    **filters: Unpack[QueryFilters],
) -> Frequencies:
    """How many reports have each code, by period or by an incident field.

    Parameters
    ----------
    source : IncidentStore, iterable of Analysis, or path
        The analyses (see the module notes).
    by : str, default "quarter"
        ``"month"``, ``"quarter"``, ``"year"`` (by the report's date), an incident field
        (``"region"``, ``"agency"``, ``"setting"``, ``"event_type"``, ``"harm"``,
        ``"reporter_role"``, ``"taxonomy"``) or ``"all"`` for one overall group.
        A report with several agencies counts in each; a missing value is ``"unknown"``.
    level : int, optional
        Roll codes up to this many dotted parts.
    confidence : float, default 0.95
        Coverage of the Wilson interval around each rate.
    **filters
        ``code_prefix`` limits the codes counted (not the reports in the denominator);
        the others limit the reports.

    Returns
    -------
    Frequencies
        ``rows`` of (group, code, count, reports, rate per 100, interval), only where the
        count is above 0; ``codes`` ordered by how many reports have them overall.
    """
    import numpy as np

    check_number(confidence, "confidence", "frequencies")
    code_prefix, rest = _split_filters(dict(filters))
    with _opened(source) as store:
        tax = _taxonomy(store)
        data = _load(store, rest, code_prefix=code_prefix, level=level)
        groups_m, groups = _memberships(store, data, by, rest)
        x = data.matrix()
    counts = (groups_m.T @ x).toarray()
    reports = np.asarray(groups_m.sum(axis=0)).ravel()
    totals = np.asarray(x.sum(axis=0)).ravel()
    order = sorted(range(len(data.codes)), key=lambda j: (-totals[j], data.codes[j]))
    lo, hi = wilson_interval(counts, reports[:, None], confidence)
    rows = []
    for gi, g in enumerate(groups):
        for j in order:
            k = int(counts[gi, j])
            if k:
                rows.append(
                    FrequencyRow(
                        g,
                        data.codes[j],
                        _name(data.codes[j], tax),
                        k,
                        int(reports[gi]),
                        float(100.0 * k / reports[gi]),
                        100.0 * float(lo[gi, j]),
                        100.0 * float(hi[gi, j]),
                    )
                )
    undated = int((data.dates == 0).sum()) if by in PERIODS else 0
    return Frequencies(
        by=by,
        groups=tuple(groups),
        codes=tuple(data.codes[j] for j in order if totals[j]),
        reports={g: int(reports[i]) for i, g in enumerate(groups)},
        rows=tuple(rows),
        undated=undated,
    )


def cooccurrence(
    source: ThemeSource,
    *,
    min_count: int = 3,
    level: int | None = None,
    **filters: Unpack[QueryFilters],
) -> Cooccurrence:
    """Which codes are found in the same reports, with counts and lift.

    Lift is ``count x N / (n_a x n_b)``: how many times more often two codes share a
    report than they would if they were independent (1 is chance, 2 is twice as often).
    ``p_value`` is the one-sided hypergeometric (Fisher's exact) probability of at least
    that many shared reports under independence, and ``q_value`` its Benjamini-Hochberg
    adjustment over all pairs tested. Pairs shared by fewer than ``min_count`` reports
    are left out of ``rows`` (and of the correction); ``counts`` holds every pair.
    """
    import numpy as np
    from scipy.stats import hypergeom

    check_number(min_count, "min_count", "cooccurrence", integer=True)
    code_prefix, rest = _split_filters(dict(filters))
    with _opened(source) as store:
        data = _load(store, rest, code_prefix=code_prefix, level=level)
    x = data.matrix()
    co = (x.T @ x).toarray()
    n_codes = np.diag(co).copy()
    order = sorted(range(len(data.codes)), key=lambda j: (-n_codes[j], data.codes[j]))
    order = [j for j in order if n_codes[j]]
    codes = [data.codes[j] for j in order]
    co = co[np.ix_(order, order)]
    n_codes = n_codes[order]
    n = data.n
    ia, ib = np.triu_indices(len(codes), k=1)
    shared = co[ia, ib]
    keep = shared >= max(min_count, 1)
    ia, ib, shared = ia[keep], ib[keep], shared[keep]
    expected = n_codes[ia] * n_codes[ib] / max(n, 1)
    lift = np.where(expected > 0, shared / np.where(expected > 0, expected, 1), 0.0)
    p = hypergeom.sf(shared - 1, n, n_codes[ia], n_codes[ib]) if shared.size else np.zeros(0)
    q = benjamini_hochberg(p)
    pairs = [
        CooccurrencePair(codes[a], codes[b], int(s), float(e), float(li), float(pv), float(qv))
        for a, b, s, e, li, pv, qv in zip(ia, ib, shared, expected, lift, p, q, strict=True)
    ]
    pairs.sort(key=lambda r: (-r.count, -r.lift, r.a, r.b))
    return Cooccurrence(
        reports=n,
        codes=tuple(codes),
        code_counts={c: int(k) for c, k in zip(codes, n_codes, strict=True)},
        rows=tuple(pairs),
        counts=tuple(tuple(int(v) for v in row) for row in co),
    )


_SENTENCE_END = re.compile(r"[.!?](?=\s)|\n")


def _sentence(text: str, start: int, end: int, limit: int = 320) -> str:
    """The sentence(s) around ``text[start:end]``, trimmed to about ``limit`` characters."""
    left = max((m.end() for m in _SENTENCE_END.finditer(text, 0, start)), default=0)
    right_m = _SENTENCE_END.search(text, end)
    right = right_m.end() if right_m else len(text)
    s, e = left, right
    if e - s > limit:
        pad = max((limit - (end - start)) // 2, 20)
        s, e = max(left, start - pad), min(right, end + pad)
    quote = " ".join(text[s:e].split())
    return ("…" if s > left else "") + quote + ("…" if e < right else "")


def _quotes(
    store: IncidentStore,
    code: str,
    filters: dict[str, Any],
    since: str,
    until: str,
    level: int | None,
    limit: int,
) -> tuple[EvidenceQuote, ...]:
    if limit <= 0:
        return ()
    where, params = store._where(
        **{**filters, "since": since, "until": until}, code_prefix=code, finding_alias="f"
    )
    rows = store._query(
        "SELECT i.id, i.event_date, i.narrative, c.code, f.confidence, f.evidence FROM findings f"
        " JOIN incidents i ON i.key = f.incident_key JOIN codes c ON c.id = f.code_id"
        f" WHERE {where} ORDER BY f.confidence DESC, i.event_date DESC, i.id",
        params,
    )
    out: list[EvidenceQuote] = []
    seen: set[str] = set()
    for iid, day, narrative, found, conf, spans in rows:
        rolled = ".".join(found.split(".")[:level]) if level else found
        if rolled != code or iid in seen:
            continue
        spans = json.loads(spans)
        if not spans:
            continue
        s, e = spans[0]
        seen.add(iid)
        out.append(
            EvidenceQuote(
                iid, date.fromisoformat(day) if day else None, _sentence(narrative, s, e), conf
            )
        )
        if len(out) >= limit:
            break
    return tuple(out)


TEST_DESCRIPTION = (
    "one-sided Fisher's exact test (hypergeometric) of reports with the code in the recent "
    "window against the baseline window; Benjamini-Hochberg correction across the codes tested "
    "(codes with at least min_count reports in the two windows together)"
)


def emerging_themes(
    source: ThemeSource,
    *,
    window_days: int = 90,
    baseline_days: int | None = 730,
    end: date | str | None = None,
    alpha: float = 0.05,
    min_count: int = 5,
    protective: bool = False,
    level: int | None = None,
    max_examples: int = 3,
    **filters: Unpack[QueryFilters],
) -> EmergingThemes:
    """Codes whose recent rate rose beyond what the baseline explains.

    The recent window is the ``window_days`` ending on ``end`` (default: the latest
    report date); the baseline is the ``baseline_days`` before it (``None``: all earlier
    reports). For each code, the reports with the code in each window are compared by a
    one-sided Fisher's exact test: is the share of recent reports with the code larger
    than the baseline share, given the total? The p-values are adjusted across codes
    by Benjamini-Hochberg; a code is *emerging* when its q-value is at most ``alpha``
    and at least ``min_count`` recent reports have it. Only codes with ``min_count``
    reports in the two windows together are tested, a filter that does not depend on
    which window they fall in and so keeps the correction valid.

    Parameters
    ----------
    protective : bool, default False
        ``False`` tests risk and contributory factors; ``True`` tests protective
        factors only (what is going right more often).
    max_examples : int, default 3
        Evidence sentences quoted for each emerging code, from the recent reports with
        the most confident findings.

    Returns
    -------
    EmergingThemes
        ``rows`` for every code tested, most significant first; ``emerging`` the ones
        that passed. Rates are per 100 reports; ``rate_ratio`` is recent / baseline
        (``None`` when the baseline rate is 0).
    """
    import numpy as np
    from scipy.stats import hypergeom

    who = "emerging_themes"
    check_number(window_days, "window_days", who, integer=True)
    if baseline_days is not None:
        check_number(baseline_days, "baseline_days", who, integer=True)
    check_number(alpha, "alpha", who)
    check_number(min_count, "min_count", who, integer=True)
    if window_days < 1:
        raise InputError(f"window_days must be at least 1, got {window_days}")
    if baseline_days is not None and baseline_days < 1:
        raise InputError(f"baseline_days must be at least 1 or None, got {baseline_days}")
    if not 0 < alpha < 1:
        raise InputError(f"alpha must be between 0 and 1, got {alpha}")
    code_prefix, rest = _split_filters(dict(filters))
    with _opened(source) as store:
        tax = _taxonomy(store)
        data = _load(
            store, rest, code_prefix=code_prefix, level=level, protective=protective, tax=tax
        )
        if end is None:
            last = int(data.dates.max()) if data.n else 0
            end_day = date(last // 10000, last // 100 % 100, last % 100) if last else None
        else:
            end_day = _as_date(end, "end")
        if end_day is None:
            return EmergingThemes(
                None, None, None, None, 0, 0, alpha, min_count, TEST_DESCRIPTION, rows=()
            )
        recent_start = end_day - timedelta(days=window_days - 1)
        base_end = recent_start - timedelta(days=1)
        base_start = base_end - timedelta(days=baseline_days - 1) if baseline_days else None
        r_lo, r_hi = recent_start.isoformat(), end_day.isoformat()

        def ymd(day: date | None) -> int:
            return day.year * 10000 + day.month * 100 + day.day if day else 1

        recent = (data.dates >= ymd(recent_start)) & (data.dates <= ymd(end_day))
        base = (data.dates >= ymd(base_start)) & (data.dates <= ymd(base_end))
        x = data.matrix()
        k = np.asarray(x[recent].sum(axis=0)).ravel()
        b = np.asarray(x[base].sum(axis=0)).ravel()
        n1, n0 = int(recent.sum()), int(base.sum())
        tested = np.flatnonzero((k + b) >= max(min_count, 1))
        # P(X >= k) for X ~ Hypergeom(N = n0 + n1, K = k + b, n = n1): Fisher's exact, one-sided
        p = (
            hypergeom.sf(k[tested] - 1, n0 + n1, k[tested] + b[tested], n1)
            if tested.size
            else np.zeros(0)
        )
        q = benjamini_hochberg(p)
        lo, hi = wilson_interval(k[tested], n1)
        rows = []
        for pos, j in enumerate(tested):
            code = data.codes[j]
            r_rate = float(100.0 * k[j] / n1) if n1 else 0.0
            b_rate = float(100.0 * b[j] / n0) if n0 else 0.0
            flag = bool(q[pos] <= alpha and k[j] >= min_count and r_rate > b_rate)
            quotes = _quotes(store, code, rest, r_lo, r_hi, level, max_examples) if flag else ()
            rows.append(
                EmergingTheme(
                    code=code,
                    name=_name(code, tax),
                    protective=_is_protective(code, tax),
                    recent_count=int(k[j]),
                    recent_reports=n1,
                    baseline_count=int(b[j]),
                    baseline_reports=n0,
                    recent_rate=r_rate,
                    baseline_rate=b_rate,
                    rate_ratio=(r_rate / b_rate) if b_rate else None,
                    recent_low=100.0 * float(lo[pos]),
                    recent_high=100.0 * float(hi[pos]),
                    p_value=float(p[pos]),
                    q_value=float(q[pos]),
                    emerging=flag,
                    evidence=quotes,
                )
            )
    rows.sort(key=lambda r: (not r.emerging, r.p_value, -r.recent_count, r.code))
    return EmergingThemes(
        recent_start,
        end_day,
        base_start,
        base_end,
        n1,
        n0,
        alpha,
        min_count,
        TEST_DESCRIPTION,
        rows=tuple(rows),
    )


def compare(
    source: ThemeSource,
    *,
    by: str = "region",
    groups: Sequence[str] | None = None,
    level: int | None = None,
    confidence: float = 0.95,
    min_reports: int = 1,
    **filters: Unpack[QueryFilters],
) -> Comparison:
    """Rates of each code compared between regions, agencies or any incident field.

    Each row gives a group's rate per 100 reports with its Wilson interval, beside the
    overall rate. ``p_value`` tests whether the code's rate differs between the groups
    at all (a chi-squared test of the groups x (with, without) table; ``None`` where it
    cannot be computed). Groups with fewer than ``min_reports`` reports are left out;
    ``groups`` keeps only the named ones.
    """
    import numpy as np
    from scipy.stats import chi2_contingency

    check_number(confidence, "confidence", "compare")
    check_number(min_reports, "min_reports", "compare", integer=True)
    if groups is not None:
        check_collection(groups, "groups", "compare", "a list of group names")
    if by in PERIODS:
        raise InputError(
            f"compare groups by an incident field, not a period; use frequencies(by={by!r})"
        )
    code_prefix, rest = _split_filters(dict(filters))
    with _opened(source) as store:
        tax = _taxonomy(store)
        data = _load(store, rest, code_prefix=code_prefix, level=level)
        gm, names = _memberships(store, data, by, rest)
    x = data.matrix()
    counts = (gm.T @ x).toarray()
    reports = np.asarray(gm.sum(axis=0)).ravel()
    keep = [
        i
        for i, g in enumerate(names)
        if reports[i] >= min_reports and (groups is None or g in groups)
    ]
    counts, reports = counts[keep], reports[keep]
    names = [names[i] for i in keep]
    totals = counts.sum(axis=0)
    order = sorted(range(len(data.codes)), key=lambda j: (-totals[j], data.codes[j]))
    order = [j for j in order if totals[j]]
    lo, hi = wilson_interval(counts, reports[:, None], confidence)
    overall = np.asarray(x.sum(axis=0)).ravel() / max(data.n, 1) * 100.0  # every report once
    p_values: dict[int, float | None] = {}
    for j in order:
        table = np.stack([counts[:, j], reports - counts[:, j]], axis=1)
        table = table[table.sum(axis=1) > 0]
        if table.shape[0] < 2 or (table.sum(axis=0) == 0).any():
            p_values[j] = None
        else:
            p_values[j] = float(chi2_contingency(table, correction=False).pvalue)
    rows = [
        ComparisonRow(
            g,
            data.codes[j],
            _name(data.codes[j], tax),
            int(counts[gi, j]),
            int(reports[gi]),
            float(100.0 * counts[gi, j] / reports[gi]) if reports[gi] else 0.0,
            100.0 * float(lo[gi, j]),
            100.0 * float(hi[gi, j]),
            float(overall[j]),
            p_values[j],
        )
        for j in order
        for gi, g in enumerate(names)
    ]
    return Comparison(
        by=by,
        groups=tuple(names),
        codes=tuple(data.codes[j] for j in order),
        reports={g: int(r) for g, r in zip(names, reports, strict=True)},
        confidence=confidence,
        rows=tuple(rows),
    )
