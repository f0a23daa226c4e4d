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


def _partition_tidy(pdf: Any, model: Any, text_column: str, id_column: str | None,
                    options: tuple[tuple[str, Any], ...]) -> Any:
    import pandas as pd

    from .frames import tidy_rows
    from .models import RecordError
    from .pipeline import _analyse_chunk

    analyser = _analyser(model, options)
    items: list[tuple[int | None, object]] = []
    for idx, row in pdf.iterrows():
        rid = str(row[id_column]) if id_column else str(idx)
        items.append((None, {"id": rid, "narrative": row[text_column]}))
    rows: list[dict[str, Any]] = []
    for res in _analyse_chunk(analyser, items):
        if isinstance(res, RecordError):
            rows.append(
                {"incident_id": res.id, "code": None, "source": "error", "evidence": res.error}
            )
        else:
            rows.extend(tidy_rows(res))
    return pd.DataFrame(rows, columns=TIDY_COLUMNS).astype(
        {"confidence": "float64", "evidence_start": "float64", "evidence_end": "float64"}
    )


def analyse_dataframe(ddf: Any, *, text_column: str, id_column: str | None = None,
                      model: Any = None, **options: Any) -> Any:
    """Analyse a Dask DataFrame partition-wise into a tidy Dask DataFrame of findings.

    Returns one row per finding (columns as :data:`humanfactors.frames.TIDY_COLUMNS`);
    a record that fails becomes a row with ``source == "error"`` and the reason in
    ``evidence``, so nothing is lost. ``options`` go to
    :class:`~humanfactors.pipeline.Analyser` (``taxonomy``, ``rules``, ``redact``, ``checks``).
    """
    dask = require("dask", extra="dask", feature="Dask integration")
    import pandas as pd

    if text_column not in ddf.columns:
        from .exceptions import InputError

        raise InputError(
            f"text column {text_column!r} not in the frame; columns are {list(ddf.columns)}"
        )
    shipped = dask.delayed(_resolve_model(model, options.get("taxonomy")), pure=True)  # type: ignore[attr-defined]
    frozen = tuple(sorted(options.items()))
    numeric = ("confidence", "evidence_start", "evidence_end")
    meta = pd.DataFrame({c: pd.Series(dtype="float64" if c in numeric else "object")
                         for c in TIDY_COLUMNS})
    return ddf.map_partitions(_partition_tidy, shipped, text_column, id_column, frozen, meta=meta)


def _partition_bag(
    records: Any, model: Any, options: tuple[tuple[str, Any], ...]
) -> list[dict[str, Any]]:
    from .pipeline import _analyse_chunk

    analyser = _analyser(model, options)
    results = _analyse_chunk(analyser, [(None, r) for r in records])
    return [r.model_dump(mode="json") for r in results]


def analyse_bag(bag: Any, *, model: Any = None, **options: Any) -> Any:
    """Analyse a Dask Bag of texts, mappings or Incidents; a Bag of JSON-ready dicts.

    Each item becomes an ``Analysis`` dict or a ``RecordError`` dict (which has an
    ``error`` key), in partition order.
    """
    dask = require("dask", extra="dask", feature="Dask integration")
    shipped = dask.delayed(_resolve_model(model, options.get("taxonomy")), pure=True)  # type: ignore[attr-defined]
    return bag.map_partitions(_partition_bag, shipped, tuple(sorted(options.items())))
