"""DataFrames for notebook users (the ``pandas`` extra).

:func:`analyse_frame` analyses a text column and returns two frames: a tidy one, one row
per finding, and a wide one, one column per code. :func:`analyses_to_frames` turns
analyses you already have into the same two frames.

Examples
--------
>>> import pandas as pd                                              # doctest: +SKIP
>>> df = pd.DataFrame({"id": ["a"], "text": ["I forgot to ring the school."]})  # doctest: +SKIP
>>> tidy, wide = analyse_frame(df, text_column="text", id_column="id")          # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from .exceptions import InputError, require
from .models import Analysis, RecordError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

__all__ = ["TIDY_COLUMNS", "FrameAnalysis", "analyse_frame", "analyses_to_frames"]

TIDY_COLUMNS = [
    "incident_id", "code", "confidence", "source", "evidence", "evidence_start", "evidence_end",
    "event_type", "harm", "occurred_on", "region", "setting",
]


class FrameAnalysis(NamedTuple):
    """The two frames of :func:`analyse_frame`, plus the error records."""

    tidy: pd.DataFrame
    wide: pd.DataFrame
    errors: pd.DataFrame


def _pandas() -> Any:
    return require("pandas", extra="pandas", feature="DataFrame output")


def tidy_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """One dict per finding, with the incident fields themes need."""
    inc = analysis.incident
    base = {
        "incident_id": inc.id,
        "event_type": inc.event_type.value if inc.event_type else None,
        "harm": inc.harm.value if inc.harm else None,
        "occurred_on": inc.occurred_on,
        "region": inc.region,
        "setting": inc.setting,
    }
    rows = []
    for f in analysis.findings:
        ev = f.evidence[0] if f.evidence else None
        rows.append({
            **base,
            "code": f.code,
            "confidence": f.confidence,
            "source": f.source.value,
            "evidence": ev.text if ev else None,
            "evidence_start": ev.start if ev else None,
            "evidence_end": ev.end if ev else None,
        })
    return rows


def analyses_to_frames(
    results: Iterable[Analysis | RecordError], *, codes: Iterable[str] | None = None
) -> FrameAnalysis:
    """Tidy, wide and error frames from analyses (and error records)."""
    pd = _pandas()
    rows: list[dict[str, Any]] = []
    ids: list[str] = []
    errors: list[dict[str, Any]] = []
    for res in results:
        if isinstance(res, RecordError):
            errors.append(res.model_dump())
            continue
        ids.append(res.incident.id)
        rows.extend(tidy_rows(res))
    tidy = pd.DataFrame(rows, columns=TIDY_COLUMNS)
    all_codes = list(codes) if codes is not None else sorted(set(tidy["code"]))
    if rows:
        wide = tidy.pivot_table(
            index="incident_id", columns="code", values="confidence", aggfunc="max"
        )
    else:
        wide = pd.DataFrame(index=pd.Index([], name="incident_id"))
    wide = wide.reindex(index=pd.Index(ids, name="incident_id"), columns=all_codes).fillna(0.0)
    wide.columns.name = None
    return FrameAnalysis(
        tidy, wide.astype(float), pd.DataFrame(errors, columns=["id", "line", "error", "source"])
    )


_MISSING = object()


def _cell(value: Any) -> Any:
    """A frame cell as a record value: ``_MISSING`` for None, NaN, NA and NaT; a list for
    any non-string sequence (a numpy array, as parquet gives, a tuple, a Series)."""
    if value is None:
        return _MISSING
    if isinstance(value, (str, bytes, Mapping)):
        return value
    if isinstance(value, Iterable) and hasattr(value, "__len__"):
        return list(value)
    pd = _pandas()
    if pd.api.types.is_scalar(value) and bool(pd.isna(value)):
        return _MISSING
    return value


def _frame_records(
    df: pd.DataFrame,
    *,
    text_column: str,
    id_column: str | None = None,
    index_prefix: str = "",
    numbered: bool = True,
) -> Iterator[tuple[int | None, dict[str, Any] | RecordError]]:
    """A frame's rows as ``(line, record)`` pairs, the records :func:`analyse_frame` reads.

    A record holds the id, the narrative and every column named like an
    :class:`~humanfactors.models.Incident` field (a missing cell is left out). A row
    whose cell cannot be read is a :class:`~humanfactors.models.RecordError` naming
    the column, never an exception. Without ``id_column`` the id is ``index_prefix``
    followed by the row's index value. ``line`` counts rows from 1, or is None
    (and errors name no line) when ``numbered`` is false.
    """
    from .models import Incident

    fields = set(Incident.model_fields) - {"id", "narrative", "metadata"}
    present = sorted(fields & set(df.columns))
    for number, (idx, row) in enumerate(df.iterrows(), start=1):
        line = number if numbered else None
        where = f"line {line}: " if line is not None else ""
        rid: str | None = None
        name = id_column or "index"
        try:
            rid = str(row[id_column]) if id_column else index_prefix + str(idx)
            name = text_column
            rec: dict[str, Any] = {"id": rid, "narrative": row[text_column]}
            for name in present:
                value = _cell(row[name])
                if value is not _MISSING:
                    rec[name] = value
        except Exception as exc:  # one row's odd cell must not stop the batch
            # name the column and the type only: the value could be personal data
            yield line, RecordError(
                id=rid[:256] if rid is not None else None, line=line,
                error=f"{where}field {name!r}: could not be read ({type(exc).__name__})",
            )
            continue
        yield line, rec


def analyse_frame(
    df: pd.DataFrame,
    *,
    text_column: str,
    id_column: str | None = None,
    n_jobs: int = 1,
    **options: Any,
) -> FrameAnalysis:
    """Analyse a DataFrame's text column.

    Parameters
    ----------
    df : pandas.DataFrame
        One report per row. Columns named like :class:`~humanfactors.models.Incident`
        fields (``event_type``, ``harm``, ``occurred_on``, ``region`` …) are used as such.
    text_column : str
        The narrative column.
    id_column : str, optional
        The id column; the row index is used when omitted.
    n_jobs, **options
        Passed to :func:`humanfactors.analyse_many` (``model``, ``rules``, ``taxonomy``,
        ``redact``, ``checks``, ``batch_size``).

    Returns
    -------
    FrameAnalysis
        ``tidy`` (one row per finding), ``wide`` (one row per report, one column per code,
        the confidence or 0) and ``errors`` (one row per record that failed).
    """
    _pandas()
    from .pipeline import analyse_many

    if text_column not in df.columns:
        raise InputError(
            f"text column {text_column!r} not in the frame; columns are {list(df.columns)}"
        )
    if id_column is not None and id_column not in df.columns:
        raise InputError(f"id column {id_column!r} not in the frame")
    records = _frame_records(df, text_column=text_column, id_column=id_column)

    tax = options.get("taxonomy")
    from .taxonomy import load_taxonomy

    codes = load_taxonomy(tax).leaves()
    return analyses_to_frames(analyse_many(records, n_jobs=n_jobs, **options), codes=codes)
