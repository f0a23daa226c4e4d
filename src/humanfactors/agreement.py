"""Agreement between coders: is the coding of reports reliable?

Two or more coders code the same reports independently; :func:`coder_agreement` lines
their files up by report id and measures, for each code and overall, how far they agree
beyond what chance would give:

- **percentage agreement**: share of coder pairs, over reports, that agree on whether the
  code applies (for two coders, the share of reports on which they agree);
- **Cohen's kappa** (two coders): observed agreement corrected by the agreement expected
  from each coder's own rate of using the code (Cohen 1960);
- **Fleiss' kappa** (two or more coders): the same correction with one pooled rate for
  all coders (Fleiss 1971);
- **Krippendorff's alpha**, nominal (two or more coders): one minus observed over expected
  disagreement, with the small-sample correction of the coincidence matrix (Krippendorff
  2011, "Computing Krippendorff's Alpha-Reliability");
- **prevalence**: share of (report, coder) ratings that give the code, overall and per coder.

Each code is a yes/no decision per report. The overall row pools the codes: observed and
expected agreement (or disagreement) are averaged over codes before the chance
correction ("pooled kappa", De Vries et al. 2008), which weighs codes equally and stays
defined when some codes are rare. A kappa or alpha is ``nan`` (``None`` in
:meth:`AgreementReport.to_dict`) when it is undefined: nobody, or everybody, used the code.

Rare codes give low kappas even at high percentage agreement (the "kappa paradox"):
read kappa beside prevalence and agreement, not alone.

The building blocks :func:`cohen_kappa`, :func:`fleiss_kappa`, :func:`krippendorff_alpha`
and :func:`percent_agreement` work on any nominal ratings.

Examples
--------
>>> from humanfactors.agreement import coder_agreement
>>> a = {"r1": ["ERR.LAPSE"], "r2": [], "r3": ["ERR.SLIP"], "r4": ["ERR.LAPSE"]}
>>> b = {"r1": ["ERR.LAPSE"], "r2": ["ERR.LAPSE"], "r3": ["ERR.SLIP"], "r4": ["ERR.LAPSE"]}
>>> report = coder_agreement([a, b], names=["ann", "bob"])
>>> report.n_reports, round(report.codes["ERR.LAPSE"].percent_agreement, 2)
(4, 0.75)
>>> report.codes["ERR.SLIP"].cohen_kappa
1.0
"""

from __future__ import annotations

import json
import logging
import math
import numbers
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import InputError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

    from .models import RecordError
    from .taxonomy import Taxonomy

__all__ = [
    "AgreementReport",
    "CodeAgreement",
    "coder_agreement",
    "cohen_kappa",
    "fleiss_kappa",
    "krippendorff_alpha",
    "percent_agreement",
]

logger = logging.getLogger(__name__)

#: One coder's data: a coded-report file, a LabelledData, or a mapping of id to codes.
Source = Any


# -- building blocks ----------------------------------------------------------------
def _chance_corrected(observed: float, expected: float) -> float:
    if expected >= 1.0 - 1e-12:
        return math.nan
    return (observed - expected) / (1.0 - expected)


def _cohen_parts(a: Sequence[Hashable], b: Sequence[Hashable]) -> tuple[float, float]:
    """Observed and chance agreement of two coders."""
    n = len(a)
    if n != len(b):
        raise InputError(f"the two coders rated different numbers of units ({n} and {len(b)})")
    if n == 0:
        raise InputError("no units to compare")
    observed = sum(x == y for x, y in zip(a, b, strict=True)) / n
    count_a: dict[Hashable, int] = {}
    count_b: dict[Hashable, int] = {}
    for x, y in zip(a, b, strict=True):
        count_a[x] = count_a.get(x, 0) + 1
        count_b[y] = count_b.get(y, 0) + 1
    expected = sum(count_a[c] * count_b.get(c, 0) for c in count_a) / (n * n)
    return observed, expected


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float:
    """Cohen's kappa of two coders' nominal ratings of the same units.

    Parameters
    ----------
    a, b : sequence
        One rating (any hashable category) per unit, in the same unit order.

    Returns
    -------
    float
        ``(p_o - p_e) / (1 - p_e)``; ``nan`` when chance agreement is already perfect
        (both coders used one and the same category throughout).

    Examples
    --------
    >>> # 50 applications: yes/yes 20, yes/no 5, no/yes 10, no/no 15
    >>> a = ["y"] * 25 + ["n"] * 25
    >>> b = ["y"] * 20 + ["n"] * 5 + ["y"] * 10 + ["n"] * 15
    >>> round(cohen_kappa(a, b), 3)
    0.4
    """
    return _chance_corrected(*_cohen_parts(a, b))


def _fleiss_parts(counts: Any) -> tuple[float, float]:
    import numpy as np

    table = np.asarray(counts, dtype=float)
    if table.ndim != 2 or table.shape[0] == 0:
        raise InputError(
            f"counts: expected a 2-D table (units x categories), got shape {table.shape}"
        )
    if (table < 0).any():
        raise InputError("counts: negative counts")
    raters = table.sum(axis=1)
    if not np.allclose(raters, raters[0]):
        raise InputError("counts: every unit must be rated by the same number of coders")
    m = float(raters[0])
    if m < 2:
        raise InputError(f"counts: need at least two ratings per unit, got {m:g}")
    per_unit = ((table * table).sum(axis=1) - m) / (m * (m - 1))
    shares = table.sum(axis=0) / table.sum()
    return float(per_unit.mean()), float((shares * shares).sum())


def fleiss_kappa(counts: Any) -> float:
    """Fleiss' kappa from a table of counts.

    Parameters
    ----------
    counts : array of shape (n_units, n_categories)
        How many coders put each unit in each category; every row sums to the same
        number of coders (at least two).

    Returns
    -------
    float
        ``(P - P_e) / (1 - P_e)``; ``nan`` when every rating falls in one category.

    Examples
    --------
    >>> round(fleiss_kappa([[2, 0], [0, 2], [1, 1]]), 3)
    0.333
    """
    return _chance_corrected(*_fleiss_parts(counts))


def _alpha_parts(data: Any) -> tuple[float, float]:
    """Observed and expected disagreement (nominal) of a coders x units matrix."""
    rows = [list(r) for r in data]
    if not rows:
        raise InputError("reliability data: no coders")
    n_units = len(rows[0])
    if any(len(r) != n_units for r in rows):
        raise InputError("reliability data: every coder needs one entry per unit (None if missing)")
    coincidence: dict[tuple[Hashable, Hashable], float] = {}
    for u in range(n_units):
        values = [r[u] for r in rows if not _is_missing(r[u])]
        m = len(values)
        if m < 2:
            continue  # a unit coded once cannot be paired
        for i, j in ((i, j) for i in range(m) for j in range(m) if i != j):
            key = (values[i], values[j])
            coincidence[key] = coincidence.get(key, 0.0) + 1.0 / (m - 1)
    totals: dict[Hashable, float] = {}
    for (c, _k), v in coincidence.items():
        totals[c] = totals.get(c, 0.0) + v
    n = sum(totals.values())
    if n < 2:
        raise InputError("reliability data: no unit was coded by two or more coders")
    observed = sum(v for (c, k), v in coincidence.items() if c != k) / n
    cats = list(totals)
    expected = sum(
        totals[c] * totals[k] for c in cats for k in cats if c != k
    ) / (n * (n - 1))
    return observed, expected


def _is_missing(value: Any) -> bool:
    # numbers.Real covers Python floats and every numpy floating type (float32 too)
    return value is None or (isinstance(value, numbers.Real) and math.isnan(value))


def krippendorff_alpha(reliability_data: Any) -> float:
    """Krippendorff's alpha for nominal data, allowing missing ratings.

    Parameters
    ----------
    reliability_data : 2-D array-like, coders x units
        One row per coder, one column per unit; ``None`` or ``nan`` where a coder did
        not rate a unit. Units rated by fewer than two coders are left out.

    Returns
    -------
    float
        ``1 - D_o / D_e``; ``nan`` when there is no expected disagreement (one category).

    Examples
    --------
    Example A of Krippendorff (2011): two observers, ten units, binary values.

    >>> a = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    >>> b = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    >>> round(krippendorff_alpha([a, b]), 3)
    0.095
    """
    observed, expected = _alpha_parts(reliability_data)
    if expected <= 1e-12:
        return math.nan
    return 1.0 - observed / expected


def percent_agreement(ratings: Any) -> float:
    """Mean pairwise agreement: share of coder pairs agreeing, averaged over units.

    Parameters
    ----------
    ratings : 2-D array-like, units x coders
        Every unit rated by every coder (at least two).

    Returns
    -------
    float
        For two coders, the share of units on which they agree.

    Examples
    --------
    >>> percent_agreement([["a", "a"], ["a", "b"], ["b", "b"], ["b", "b"]])
    0.75
    """
    rows = [list(r) for r in ratings]
    if not rows:
        raise InputError("ratings: no units")
    total = 0.0
    for r in rows:
        m = len(r)
        if m < 2:
            raise InputError("ratings: need at least two coders per unit")
        pairs = m * (m - 1) / 2
        total += sum(x == y for x, y in combinations(r, 2)) / pairs
    return total / len(rows)


# -- results ------------------------------------------------------------------------
def _none_if_nan(x: float | None) -> float | None:
    return None if x is None or math.isnan(x) else x


@dataclass(frozen=True)
class CodeAgreement:
    """Agreement on one code (or, for :attr:`AgreementReport.overall`, pooled over codes).

    Attributes
    ----------
    n : int
        Reports compared.
    prevalence : float
        Share of (report, coder) ratings that give the code.
    prevalence_by_coder : tuple of float
        The same per coder, in :attr:`AgreementReport.coders` order.
    percent_agreement : float
        Mean pairwise agreement on whether the code applies.
    cohen_kappa : float or None
        Two coders only; None for more.
    fleiss_kappa, krippendorff_alpha : float
        ``nan`` when undefined (nobody, or everybody, gave the code).
    """

    n: int
    prevalence: float
    prevalence_by_coder: tuple[float, ...]
    percent_agreement: float
    cohen_kappa: float | None
    fleiss_kappa: float
    krippendorff_alpha: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict; undefined statistics are None."""
        return {
            "n": self.n,
            "prevalence": self.prevalence,
            "prevalence_by_coder": list(self.prevalence_by_coder),
            "percent_agreement": self.percent_agreement,
            "cohen_kappa": _none_if_nan(self.cohen_kappa),
            "fleiss_kappa": _none_if_nan(self.fleiss_kappa),
            "krippendorff_alpha": _none_if_nan(self.krippendorff_alpha),
        }


@dataclass(frozen=True)
class AgreementReport:
    """Agreement of several coders on the same reports, per code and overall.

    Attributes
    ----------
    coders : tuple of str
        Coder names (by default the file names), in input order.
    n_reports : int
        Reports coded by every coder; every statistic is computed on these.
    codes : dict of str to CodeAgreement
        One entry per code, sorted by code.
    overall : CodeAgreement
        Pooled over codes (observed and expected agreement averaged before the chance
        correction); prevalence is the mean over codes.
    exact_match : float
        Share of reports on which every coder gave exactly the same set of codes.
    pairwise_kappa : dict of (str, str) to float
        Pooled Cohen's kappa of each pair of coders: a coder who differs from all the
        others stands out.
    missing : dict of str to tuple of str
        Report ids that some coders lack, with the coders who lack them. These reports
        are left out of every statistic, and listed here rather than dropped silently.
    errors : tuple of (str, RecordError)
        Records that could not be read or used (with a taxonomy, a record holding a
        code the taxonomy does not know), with the coder whose data held them; such a
        record is left out, so its report counts as missing for that coder.
    """

    coders: tuple[str, ...]
    n_reports: int
    codes: dict[str, CodeAgreement]
    overall: CodeAgreement
    exact_match: float
    pairwise_kappa: dict[tuple[str, str], float] = field(default_factory=dict)
    missing: dict[str, tuple[str, ...]] = field(default_factory=dict)
    errors: tuple[tuple[str, RecordError], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict; undefined statistics are None."""
        return {
            "coders": list(self.coders),
            "n_reports": self.n_reports,
            "overall": self.overall.to_dict(),
            "exact_match": self.exact_match,
            "codes": {code: s.to_dict() for code, s in self.codes.items()},
            "pairwise_kappa": [
                {"coders": [a, b], "cohen_kappa": _none_if_nan(k)}
                for (a, b), k in self.pairwise_kappa.items()
            ],
            "missing": {rid: list(who) for rid, who in self.missing.items()},
            "errors": [
                {"coder": coder, **err.model_dump(mode="json")} for coder, err in self.errors
            ],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as one JSON object (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent)

    def table(self) -> str:
        """A readable fixed-width table: one row per code, then the pooled row."""

        def fmt(x: float | None) -> str:
            return "     n/a" if x is None or math.isnan(x) else f"{x:8.3f}"

        two = len(self.coders) == 2
        width = max(16, *(len(c) for c in self.codes)) if self.codes else 16
        head = f"  {'code':<{width}}  prevalence  agreement"
        head += "   Cohen k" if two else ""
        head += "  Fleiss k  Krippendorff a"
        lines = [
            f"Agreement of {len(self.coders)} coders ({', '.join(self.coders)}) "
            f"on {self.n_reports} reports",
        ]
        if self.missing:
            lines.append(
                f"{len(self.missing)} report(s) not coded by every coder were left out "
                "(see missing)"
            )
        if self.errors:
            lines.append(f"{len(self.errors)} record(s) could not be read (see errors)")
        lines += ["", head, "  " + "-" * (len(head) - 2)]

        def row(name: str, s: CodeAgreement) -> str:
            text = f"  {name:<{width}}  {s.prevalence:10.3f}  {s.percent_agreement:9.3f}"
            text += f"  {fmt(s.cohen_kappa)}" if two else ""
            return text + f"  {fmt(s.fleiss_kappa)}  {fmt(s.krippendorff_alpha):>14}"

        for code, s in self.codes.items():
            lines.append(row(code, s))
        lines.append("  " + "-" * (len(head) - 2))
        lines.append(row("overall (pooled)", self.overall))
        lines += ["", f"  identical code sets on {self.exact_match:.1%} of reports"]
        if len(self.coders) > 2 and self.pairwise_kappa:
            lines += ["", "  pooled Cohen's kappa by pair of coders:"]
            for (a, b), k in self.pairwise_kappa.items():
                lines.append(f"    {a} / {b}: {fmt(k).strip()}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        alpha = self.overall.krippendorff_alpha
        return (
            f"AgreementReport(coders={list(self.coders)!r}, n_reports={self.n_reports}, "
            f"codes={len(self.codes)}, alpha={alpha:.3f}, missing={len(self.missing)})"
        )


# -- reading coders' files ------------------------------------------------------------
def _read_source(
    source: Source, taxonomy: Taxonomy | None, position: int
) -> tuple[str, list[str], list[list[str]], list[RecordError]]:
    """Default name, ids, codes and unusable records of one coder's data.

    With a taxonomy, a record holding a code the taxonomy does not know is unusable:
    it is left out and reported (by line for a file, by id otherwise), as an
    unreadable record is.
    """
    from .io import LabelledData, load_labelled

    if isinstance(source, LabelledData):
        ids, errors = list(source.ids), list(source.errors)
        labels = [list(c) for c in source.labels]
        name = Path(source.source).stem if source.source != "<data>" else f"coder{position + 1}"
    elif isinstance(source, Mapping):
        ids = [str(k) for k in source]
        labels = []
        for k in source:
            codes = source[k]
            if isinstance(codes, str):
                raise InputError(
                    f"coder {position + 1}, report {k!r}: give a list of codes, not a string"
                )
            labels.append([str(c) for c in codes])
        errors, name = [], f"coder{position + 1}"
    elif isinstance(source, str | os.PathLike):
        # the loader resolves the codes record by record: an unknown code refuses its
        # record with the line and id, like any other unusable record
        data = load_labelled(source, format="jsonl", taxonomy=taxonomy)
        ids, labels, errors = data.ids, data.labels, list(data.errors)
        name = Path(source).stem
        taxonomy = None
    else:
        raise InputError(
            f"coder {position + 1}: expected a path, a LabelledData or a mapping of id to codes, "
            f"got {type(source).__name__}"
        )
    if taxonomy is not None:
        where = source.source if isinstance(source, LabelledData) else None
        ids, labels, errors = _resolve_codes(ids, labels, errors, taxonomy, where)
    seen: set[str] = set()
    for rid in ids:
        if rid in seen:
            raise InputError(f"coder {name!r}: report id {rid!r} appears more than once")
        seen.add(rid)
    return name, ids, labels, errors


def _resolve_codes(
    ids: list[str],
    labels: list[list[str]],
    errors: list[RecordError],
    taxonomy: Taxonomy,
    where: str | None,
) -> tuple[list[str], list[list[str]], list[RecordError]]:
    """Codes resolved to canonical ones; a record with an unknown code becomes an error."""
    from .exceptions import UnknownCodeError
    from .models import RecordError

    kept_ids: list[str] = []
    kept_labels: list[list[str]] = []
    errors = list(errors)
    for rid, codes in zip(ids, labels, strict=True):
        try:
            resolved = list(dict.fromkeys(taxonomy.resolve(c) for c in codes))
        except UnknownCodeError as exc:
            errors.append(RecordError(id=rid, error=f"report {rid!r}: {exc}", source=where))
            continue
        kept_ids.append(rid)
        kept_labels.append(resolved)
    return kept_ids, kept_labels, errors


def _unique_names(names: list[str]) -> list[str]:
    out: list[str] = []
    for i, name in enumerate(names):
        candidate = name
        while candidate in out:
            candidate = f"{name}#{i + 1}"
        out.append(candidate)
    return out


def _pooled(parts: list[tuple[float, float]]) -> float:
    if not parts:
        return math.nan
    return _chance_corrected(
        sum(p for p, _ in parts) / len(parts), sum(e for _, e in parts) / len(parts)
    )


def _code_agreement(matrix: np.ndarray[Any, Any]) -> tuple[CodeAgreement, dict[str, Any]]:
    """Statistics of one code from a reports x coders 0/1 matrix, and their parts."""
    import numpy as np

    n, m = matrix.shape
    yes = matrix.sum(axis=1)
    counts = np.stack([m - yes, yes], axis=1)
    fleiss = _fleiss_parts(counts)
    alpha = _alpha_parts(matrix.T.tolist())
    cohen = _cohen_parts(matrix[:, 0].tolist(), matrix[:, 1].tolist()) if m == 2 else None
    stats = CodeAgreement(
        n=int(n),
        prevalence=float(matrix.mean()),
        prevalence_by_coder=tuple(float(x) for x in matrix.mean(axis=0)),
        percent_agreement=fleiss[0],
        cohen_kappa=None if cohen is None else _chance_corrected(*cohen),
        fleiss_kappa=_chance_corrected(*fleiss),
        krippendorff_alpha=math.nan if alpha[1] <= 1e-12 else 1.0 - alpha[0] / alpha[1],
    )
    return stats, {"fleiss": fleiss, "alpha": alpha, "cohen": cohen}


def coder_agreement(
    sources: Sequence[Source],
    *,
    names: Sequence[str] | None = None,
    taxonomy: str | os.PathLike[str] | Taxonomy | None = None,
    codes: Sequence[str] | None = None,
) -> AgreementReport:
    """Agreement of two or more coders who coded the same reports.

    Parameters
    ----------
    sources : sequence of path, LabelledData or mapping
        One per coder: a coded-report JSONL file (``id``, ``narrative``, ``codes`` per
        line), a :class:`~humanfactors.io.LabelledData`, or a mapping of report id to codes.
        Reports are aligned by id.
    names : sequence of str, optional
        Coder names; by default the file names without suffix.
    taxonomy : str, path or Taxonomy, optional
        Resolve aliases to canonical codes before comparing (e.g. ``"asrs"``). A record
        with a code the taxonomy does not know is left out and listed in
        :attr:`AgreementReport.errors` (with its line in a file, or its id).
    codes : sequence of str, optional
        The codes to report on; by default every code any coder gave to a compared report.
        A code nobody used has prevalence 0 and undefined kappas, and a warning is
        logged (a misspelt code would otherwise read as perfect agreement).

    Returns
    -------
    AgreementReport

    Raises
    ------
    InputError
        Fewer than two coders, a duplicated id within one coder's file, or no report
        that every coder coded.
    """
    import numpy as np

    from ._args import check_collection, check_texts
    from .taxonomy import Taxonomy, load_taxonomy

    who = "coder_agreement"
    check_texts(sources, "sources", who, "a list of paths, LabelledData or mappings, one per coder")
    if isinstance(sources, str | os.PathLike | Mapping):
        raise InputError(
            f"{who}: sources must be a list with one source per coder, got one "
            f"{type(sources).__name__}"
        )
    if names is not None:
        check_collection(names, "names", who, "a list of coder names")
    if codes is not None:
        check_collection(codes, "codes", who)
    sources = list(sources)
    if len(sources) < 2:
        raise InputError(f"agreement needs at least two coders, got {len(sources)}")
    if names is not None and len(names) != len(sources):
        raise InputError(f"names: {len(names)} names for {len(sources)} coders")
    tax: Taxonomy | None = None
    if isinstance(taxonomy, Taxonomy):
        tax = taxonomy
    elif isinstance(taxonomy, str):
        tax = None if taxonomy.lower() == "none" else load_taxonomy(taxonomy)
    elif isinstance(taxonomy, os.PathLike):
        tax = load_taxonomy(Path(taxonomy))
    elif taxonomy is not None:
        load_taxonomy(taxonomy)  # refuses the type, naming what a taxonomy can be

    read = [_read_source(s, tax, i) for i, s in enumerate(sources)]
    coders = tuple(_unique_names(list(names) if names is not None else [r[0] for r in read]))
    by_coder = [dict(zip(ids, labels, strict=True)) for _, ids, labels, _ in read]
    errors = tuple((coders[i], err) for i, r in enumerate(read) for err in r[3])
    for coder, err in errors:
        logger.warning("coder %s: a record was not used: %s", coder, err.error)

    order: dict[str, None] = {}
    for _, ids, _, _ in read:
        order.update(dict.fromkeys(ids))
    common = [rid for rid in order if all(rid in d for d in by_coder)]
    missing = {
        rid: tuple(c for c, d in zip(coders, by_coder, strict=True) if rid not in d)
        for rid in order
        if not all(rid in d for d in by_coder)
    }
    if missing:
        logger.warning("%d report(s) not coded by every coder were left out", len(missing))
    if not common:
        raise InputError("no report was coded by every coder: check that the files share ids")

    if codes is None:
        code_list = sorted({c for d in by_coder for rid in common for c in d[rid]})
    else:
        code_list = list(dict.fromkeys(tax.resolve(c) if tax else c for c in codes))
        given = {c for d in by_coder for rid in common for c in d[rid]}
        unused = [c for c in code_list if c not in given]
        if unused:
            # kept (undefined kappas), but a misspelt code would read as perfect agreement
            logger.warning(
                "no coder gave %s to a compared report: its agreement is trivially perfect "
                "and its kappas undefined (check the spelling)",
                ", ".join(unused),
            )
    sets = [[set(d[rid]) for d in by_coder] for rid in common]
    exact = sum(all(s == row[0] for s in row) for row in sets) / len(common)

    per_code: dict[str, CodeAgreement] = {}
    matrices: dict[str, np.ndarray[Any, Any]] = {}
    parts: list[dict[str, Any]] = []
    for code in code_list:
        mat = np.array([[int(code in s) for s in row] for row in sets], dtype=np.int8)
        matrices[code] = mat
        stats, p = _code_agreement(mat)
        per_code[code] = stats
        parts.append(p)

    m = len(coders)
    if code_list:
        alpha_do = sum(p["alpha"][0] for p in parts)
        alpha_de = sum(p["alpha"][1] for p in parts)
        overall = CodeAgreement(
            n=len(common),
            prevalence=float(np.mean([s.prevalence for s in per_code.values()])),
            prevalence_by_coder=tuple(
                float(np.mean([s.prevalence_by_coder[i] for s in per_code.values()]))
                for i in range(m)
            ),
            percent_agreement=float(np.mean([s.percent_agreement for s in per_code.values()])),
            cohen_kappa=_pooled([p["cohen"] for p in parts]) if m == 2 else None,
            fleiss_kappa=_pooled([p["fleiss"] for p in parts]),
            krippendorff_alpha=math.nan if alpha_de <= 1e-12 else 1.0 - alpha_do / alpha_de,
        )
    else:  # nobody gave any code: perfect but uninformative agreement
        overall = CodeAgreement(
            n=len(common), prevalence=0.0, prevalence_by_coder=(0.0,) * m,
            percent_agreement=1.0, cohen_kappa=math.nan if m == 2 else None,
            fleiss_kappa=math.nan, krippendorff_alpha=math.nan,
        )
    pairwise = {
        (coders[i], coders[j]): _pooled(
            [_cohen_parts(mat[:, i].tolist(), mat[:, j].tolist()) for mat in matrices.values()]
        )
        for i, j in combinations(range(m), 2)
    }
    return AgreementReport(
        coders=coders,
        n_reports=len(common),
        codes=per_code,
        overall=overall,
        exact_match=exact,
        pairwise_kappa=pairwise,
        missing=missing,
        errors=errors,
    )
