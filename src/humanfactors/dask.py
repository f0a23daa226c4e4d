"""Analyse reports on a Dask cluster (the ``dask`` extra).

Partition-wise: every partition is analysed by one task, and the model enters the task
graph once, as a single delayed object, so a distributed scheduler sends it to each
worker once rather than with every task. Works with the local schedulers and with
``dask.distributed`` clusters alike.

Examples
--------
>>> import dask.dataframe as dd                                          # doctest: +SKIP
>>> from humanfactors.dask import analyse_dataframe
>>> ddf = dd.read_csv("reports-*.csv")                                  # doctest: +SKIP
>>> tidy = analyse_dataframe(ddf, text_column="narrative", id_column="id")  # doctest: +SKIP
>>> tidy.groupby("code").size().compute()                               # doctest: +SKIP

Spark has no Dask, but the same partition-wise shape works with ``mapInPandas``; see
``docs/pipeline.md``.
"""

from __future__ import annotations

from typing import Any

from .exceptions import require
from .frames import TIDY_COLUMNS

__all__ = ["analyse_bag", "analyse_dataframe"]

# One Analyser per (model object, options) per worker process.
_ANALYSERS: dict[tuple[Any, ...], Any] = {}


def _analyser(model: Any, options: tuple[tuple[str, Any], ...]) -> Any:
    from .pipeline import Analyser

    key = (id(model), options)
    found = _ANALYSERS.get(key)
    if found is None or found.model is not model:
        found = Analyser(model=model, **dict(options))
        if len(_ANALYSERS) > 4:
            _ANALYSERS.clear()
        _ANALYSERS[key] = found
    return found


def _resolve_model(model: Any, taxonomy: Any) -> Any:
    """The model object to ship: the default model is loaded here, once, by the client."""
    if model is None:
        from .taxonomy import load_taxonomy

        if load_taxonomy(taxonomy).name == "safeguarding":
            from ._default import default_predictor

            return default_predictor()
        return False
    if isinstance(model, str):
        from .persistence import load_model

        return load_model(model)
    return model


def _no_findings_row(analysis: Any) -> dict[str, Any]:
    """The row that keeps a report with no findings in the tidy frame."""
    inc = analysis.incident
    return {
        "incident_id": inc.id,
        "code": None,
        "source": "none",
        "event_type": inc.event_type.value if inc.event_type else None,
        "harm": inc.harm.value if inc.harm else None,
        "occurred_on": inc.occurred_on,
        "region": inc.region,
        "setting": inc.setting,
    }


def _partition_tidy(pdf: Any, model: Any, text_column: str, id_column: str | None,
                    qualify: bool, options: tuple[tuple[str, Any], ...],
                    partition_info: dict[str, Any] | None = None) -> Any:
    import pandas as pd

    from .frames import _frame_records, tidy_rows
    from .models import RecordError
    from .pipeline import _analyse_chunk

    analyser = _analyser(model, options)
    number = partition_info["number"] if partition_info else 0
    # the records analyse_frame reads; a row's line within its partition would mislead,
    # so errors name the report's id alone
    items: list[tuple[int | None, object]] = list(_frame_records(
        pdf, text_column=text_column, id_column=id_column,
        index_prefix=f"{number}:" if qualify else "", numbered=False,
    ))
    rows: list[dict[str, Any]] = []
    for res in _analyse_chunk(analyser, items):
        if isinstance(res, RecordError):
            # every column named, so a missing field is None as in the other rows
            rows.append({**dict.fromkeys(TIDY_COLUMNS), "incident_id": res.id,
                         "source": "error", "evidence": res.error})
        else:
            rows.extend(tidy_rows(res) or [_no_findings_row(res)])
    return pd.DataFrame(rows, columns=TIDY_COLUMNS).astype(
        {"confidence": "float64", "evidence_start": "float64", "evidence_end": "float64"}
    )


def analyse_dataframe(ddf: Any, *, text_column: str, id_column: str | None = None,
                      model: Any = None, **options: Any) -> Any:
    """Analyse a Dask DataFrame partition-wise into a tidy Dask DataFrame of findings.

    Each row is read as :func:`~humanfactors.frames.analyse_frame` reads it: columns
    named like :class:`~humanfactors.models.Incident` fields (``event_type``, ``harm``,
    ``occurred_on``, ``reported_on``, ``setting``, ``reporter_role``, ``agencies``,
    ``region``) are used as such, so the tidy rows carry them and themes by region or
    date work on the result. Returns one row per finding (columns as
    :data:`humanfactors.frames.TIDY_COLUMNS`), and every input row is there at least
    once:

    - a report with no findings is one row with ``code`` None and ``source == "none"``
      (the pandas API keeps such a report as a row of zeros in ``wide``);
    - a record that fails, a cell that cannot be read or a value an ``Incident`` refuses
      (an unknown ``event_type``, say) included, is one row with ``code`` None,
      ``source == "error"`` and the reason in ``evidence``; the partition's other rows
      are analysed as usual.

    Count reports with ``nunique`` on ``incident_id``; ``groupby("code")`` leaves the
    rows without a code out. Without ``id_column`` a report's id is its index value
    when the frame's divisions are known (partitions then hold disjoint index ranges,
    as after ``dd.from_pandas``: the ids :func:`~humanfactors.frames.analyse_frame`
    gives), and ``"PARTITION:INDEX"`` otherwise (``dd.read_csv`` starts every
    partition's index at 0), so that ids from different partitions never collide.
    ``options`` go to :class:`~humanfactors.pipeline.Analyser` (``taxonomy``,
    ``rules``, ``redact``, ``checks``).

    Raises
    ------
    InputError
        ``text_column`` or ``id_column`` is not a column of ``ddf`` (before anything
        is computed).
    """
    dask = require("dask", extra="dask", feature="Dask integration")
    import pandas as pd

    from .exceptions import InputError

    if text_column not in ddf.columns:
        raise InputError(
            f"text column {text_column!r} not in the frame; columns are {list(ddf.columns)}"
        )
    if id_column is not None and id_column not in ddf.columns:
        raise InputError(
            f"id column {id_column!r} not in the frame; columns are {list(ddf.columns)}"
        )
    qualify = id_column is None and not ddf.known_divisions
    shipped = dask.delayed(_resolve_model(model, options.get("taxonomy")), pure=True)  # type: ignore[attr-defined]
    frozen = tuple(sorted(options.items()))
    numeric = ("confidence", "evidence_start", "evidence_end")
    meta = pd.DataFrame({c: pd.Series(dtype="float64" if c in numeric else "object")
                         for c in TIDY_COLUMNS})
    return ddf.map_partitions(
        _partition_tidy, shipped, text_column, id_column, qualify, frozen, meta=meta
    )


def _partition_bag(
    records: Any, model: Any, options: tuple[tuple[str, Any], ...]
) -> list[dict[str, Any]]:
    from ._cli._common import _finite
    from .pipeline import _analyse_chunk

    analyser = _analyser(model, options)
    results = _analyse_chunk(analyser, [(None, r) for r in records])
    return [_finite(r.model_dump(mode="json")) for r in results]


def analyse_bag(bag: Any, *, model: Any = None, **options: Any) -> Any:
    """Analyse a Dask Bag of texts, mappings or Incidents; a Bag of JSON-ready dicts.

    Each item becomes an ``Analysis`` dict or a ``RecordError`` dict (which has an
    ``error`` key), in partition order. The dicts hold strict JSON values: an infinite
    or NaN number (in ``metadata``, say) becomes None, as in the files ``humanfactors
    analyse`` and :meth:`~humanfactors.store.IncidentStore.export_jsonl` write.
    """
    dask = require("dask", extra="dask", feature="Dask integration")
    shipped = dask.delayed(_resolve_model(model, options.get("taxonomy")), pure=True)  # type: ignore[attr-defined]
    return bag.map_partitions(_partition_bag, shipped, tuple(sorted(options.items())))
