"""Likely coding errors: reports whose codes a cross-validated model strongly disputes.

Human coders miss codes and give wrong ones. :func:`audit_labels` fits the classifier on
all reports but one fold at a time, so that every report is scored by a model that never
saw it, and flags, in the manner of confident learning (Northcutt, Jiang and Chuang
2021, "Confident Learning: Estimating Uncertainty in Dataset Labels"), treating each code
as its own yes/no question:

- a **disputed** code: the coder gave it, but its out-of-fold probability ``p`` is below
  the code's *positive threshold* ``t+`` (the mean probability the model gives the
  reports coded with it) and the model is at least as confident in "absent" as
  reports without the code typically are (``1 - p >= t-``, with ``t-`` the mean of
  ``1 - p`` over reports without the code);
- a **missing** code: the coder did not give it, yet ``p >= t+``, and ``1 - p < t-``.

Codes given to fewer than ``min_positives`` reports, and codes the model cannot tell
apart (mean probability of coded reports less than ``min_separation`` above that of the
others), are not judged. Per-code thresholds make the audit robust to a model that is
over- or under-confident for a code, which is why confident learning uses them instead
of 0.5. Each flag's
*suspicion* is ``1 - p`` for a disputed code and ``p`` for a missing one; a report's
score is its largest suspicion, and reports come ranked by it. The list is for a second
look by a person, not an automatic correction: the model is wrong too, above all on
rare codes.

Examples
--------
>>> import numpy as np
>>> from humanfactors.audit import audit_labels
>>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.05, 0.9], [0.1, 0.8], [0.2, 0.9]])
>>> labels = [["A"], ["A"], ["A", "B"], ["B"], []]
>>> ids = ["r1", "r2", "r3", "r4", "r5"]
>>> report = audit_labels(
...     ids, labels, ids=ids, proba=proba, classes=["A", "B"], min_positives=2
... )
>>> [(r.id, r.disputed, r.missing) for r in report.reports]
[('r3', (('A', 0.05),), ()), ('r5', (), (('B', 0.9),))]
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._args import check_strings, check_texts
from .exceptions import InputError

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

__all__ = ["AuditReport", "CodeAudit", "ReportAudit", "audit_labels", "label_issue_scores"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReportAudit:
    """One report whose codes the model disputes.

    Attributes
    ----------
    rank : int
        1 for the most suspicious report.
    index : int
        Position of the report in the data.
    id : str
    score : float
        The largest suspicion among its flags, in [0, 1].
    given : tuple of str
        The codes the coder gave.
    disputed : tuple of (str, float)
        Given codes the model rejects, with their out-of-fold probabilities.
    missing : tuple of (str, float)
        Codes not given that the model is confident of, with their probabilities.
    """

    rank: int
    index: int
    id: str
    score: float
    given: tuple[str, ...]
    disputed: tuple[tuple[str, float], ...]
    missing: tuple[tuple[str, float], ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict."""
        return {
            "rank": self.rank,
            "index": self.index,
            "id": self.id,
            "score": round(self.score, 4),
            "given": list(self.given),
            "disputed": [{"code": c, "probability": round(p, 4)} for c, p in self.disputed],
            "missing": [{"code": c, "probability": round(p, 4)} for c, p in self.missing],
        }


@dataclass(frozen=True)
class CodeAudit:
    """Per-code thresholds and flag counts.

    Attributes
    ----------
    positives : int
        Reports coded with it.
    threshold_present, threshold_absent : float or None
        ``t+`` (mean probability over coded reports) and ``t-`` (mean ``1 - p`` over the
        others); None when there are too few reports to set them.
    disputed, missing : int
        Flags of each kind.
    """

    positives: int
    threshold_present: float | None
    threshold_absent: float | None
    disputed: int
    missing: int


@dataclass(frozen=True)
class AuditReport:
    """Reports flagged for a second look, most suspicious first.

    Attributes
    ----------
    reports : list of ReportAudit
        Every flagged report, ranked.
    n_reports : int
        Reports audited.
    codes : dict of str to CodeAudit
    method : str
        How the probabilities were obtained, e.g. ``"5-fold CV"``.
    """

    reports: list[ReportAudit]
    n_reports: int
    codes: dict[str, CodeAudit] = field(default_factory=dict)
    method: str = "given probabilities"

    def top(self, n: int) -> list[ReportAudit]:
        """The ``n`` most suspicious reports."""
        return self.reports[:n]

    def to_dict(self, *, top: int | None = None) -> dict[str, Any]:
        """JSON-compatible dict; ``top`` limits the reports listed."""
        shown = self.reports if top is None else self.reports[:top]
        return {
            "n_reports": self.n_reports,
            "n_flagged": len(self.reports),
            "method": self.method,
            "reports": [r.to_dict() for r in shown],
            "codes": {
                code: {
                    "positives": c.positives,
                    "threshold_present": c.threshold_present,
                    "threshold_absent": c.threshold_absent,
                    "disputed": c.disputed,
                    "missing": c.missing,
                }
                for code, c in self.codes.items()
            },
        }

    def to_json(self, *, indent: int | None = None, top: int | None = None) -> str:
        """The report as one JSON object (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(top=top), indent=indent)

    def table(self, *, top: int | None = 20) -> str:
        """A readable list of the ``top`` most suspicious reports (all if None)."""
        shown = self.reports if top is None else self.reports[:top]
        lines = [
            f"Label audit ({self.method}): {len(self.reports)} of {self.n_reports} reports "
            f"flagged for a second look"
            + (f", showing the first {len(shown)}" if len(shown) < len(self.reports) else ""),
            "",
        ]
        if not shown:
            lines.append("  nothing flagged")
        width = max([4, *(len(r.id) for r in shown)])
        for r in shown:
            parts = []
            if r.disputed:
                parts.append("given but doubtful: " + _listing(r.disputed))
            if r.missing:
                parts.append("likely missing: " + _listing(r.missing))
            lines.append(f"  {r.rank:4d}  {r.id:<{width}}  {r.score:5.2f}  {'; '.join(parts)}")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        return (
            f"AuditReport(method={self.method!r}, n_reports={self.n_reports}, "
            f"flagged={len(self.reports)})"
        )


def _listing(items: tuple[tuple[str, float], ...], most: int = 3) -> str:
    text = ", ".join(f"{c} (p={p:.2f})" for c, p in items[:most])
    return text + (f" and {len(items) - most} more" if len(items) > most else "")


def label_issue_scores(
    Y: Any, proba: Any, *, min_positives: int = 5, min_separation: float = 0.1
) -> tuple[NDArray[Any], NDArray[Any], NDArray[Any]]:
    """Confident-learning flags for an indicator matrix and out-of-fold probabilities.

    Parameters
    ----------
    Y : array of shape (n_reports, n_codes)
        Given codes, 0/1.
    proba : array of the same shape
        Out-of-fold probabilities.
    min_positives : int
        Codes with fewer given reports (or fewer reports without them) are not judged.
    min_separation : float
        Codes for which the mean probability of the reports coded with them exceeds that
        of the others by less than this are not judged: a model that cannot tell a code
        apart has no grounds to dispute it.

    Returns
    -------
    flags : ndarray of int8, same shape
        +1 a missing code, -1 a disputed code, 0 no flag.
    suspicion : ndarray of float, same shape
        ``p`` for missing codes, ``1 - p`` for disputed ones, 0 elsewhere.
    thresholds : ndarray of shape (n_codes, 2)
        ``(t+, t-)`` per code; nan where the code was not judged.
    """
    import numpy as np

    Yb = np.asarray(Y).astype(bool)
    P = np.asarray(proba, dtype=float)
    if Yb.shape != P.shape or Yb.ndim != 2:
        raise InputError(f"labels have shape {Yb.shape} but probabilities {P.shape}")
    n, k = P.shape
    flags = np.zeros((n, k), dtype=np.int8)
    suspicion = np.zeros((n, k))
    thresholds = np.full((k, 2), np.nan)
    for j in range(k):
        pos, neg = Yb[:, j], ~Yb[:, j]
        if pos.sum() < min_positives or neg.sum() < min_positives:
            continue
        t_pos = float(P[pos, j].mean())
        t_neg = float((1.0 - P[neg, j]).mean())
        if t_pos - (1.0 - t_neg) < min_separation:
            continue
        thresholds[j] = (t_pos, t_neg)
        p = P[:, j]
        # a given code: the model is confident it is absent, and more so than present
        disputed = pos & (1.0 - p >= t_neg) & (p < t_pos)
        # a code not given: confident it is present, not confident it is absent
        missing = neg & (p >= t_pos) & (1.0 - p < t_neg)
        flags[disputed, j] = -1
        flags[missing, j] = 1
        suspicion[disputed, j] = 1.0 - p[disputed]
        suspicion[missing, j] = p[missing]
    return flags, suspicion, thresholds


def audit_labels(
    texts: Sequence[str],
    labels: Sequence[Sequence[str]],
    *,
    ids: Sequence[str] | None = None,
    estimator: Any = None,
    taxonomy: Any = "safeguarding",
    cv: int = 5,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    proba: Any = None,
    classes: Sequence[str] | None = None,
    min_positives: int = 5,
    min_separation: float = 0.1,
) -> AuditReport:
    """Flag reports whose codes a cross-validated model strongly disputes.

    Parameters
    ----------
    texts : sequence of str
    labels : sequence of lists of codes
        The codes the coders gave.
    ids : sequence of str, optional
        Report ids (default: positions).
    estimator : scikit-learn style multi-label estimator, optional
        Default: :class:`~humanfactors.classifier.HumanFactorsClassifier` for ``taxonomy``
        with ``cv=0`` (uncalibrated probabilities; the per-code thresholds make
        calibration unnecessary here).
    taxonomy : str, path, Taxonomy or None
        Taxonomy of the default estimator.
    cv : int
        Folds of the cross-validation that gives the out-of-fold probabilities.
    random_state : int or None
        Seed of the folds.
    n_jobs : int, optional
        Folds fitted in parallel.
    proba, classes : optional
        Out-of-fold probabilities already computed, and their column codes; skips the
        cross-validation.
    min_positives : int
        Codes given to fewer reports (or missing from fewer) are not judged.
    min_separation : float
        Codes the model barely separates are not judged (see :func:`label_issue_scores`).

    Returns
    -------
    AuditReport
    """
    import numpy as np

    texts = check_strings(texts, "texts", "audit_labels")
    label_lists = _label_lists(labels)
    if ids is not None:
        check_texts(ids, "ids", "audit_labels", "a list of report ids")
    n = len(texts)
    if n != len(label_lists):
        raise InputError(f"{n} texts but {len(label_lists)} label lists")
    if ids is not None and len(ids) != n:
        raise InputError(f"ids: {len(ids)} ids for {n} texts")
    if n == 0:
        raise InputError("nothing to audit: no reports")
    if proba is None:
        from .evaluate import _canonical, cross_val_proba

        if estimator is None:
            from .classifier import HumanFactorsClassifier

            # No internal calibration: the per-code thresholds play its part, and the
            # audit runs several times faster (and ranked injected errors better).
            estimator = HumanFactorsClassifier(
                taxonomy=taxonomy, cv=0, random_state=random_state or 0
            )
        oof = cross_val_proba(
            estimator, texts, label_lists, cv=cv, random_state=random_state, n_jobs=n_jobs
        )
        P, class_list = oof.proba, list(oof.classes)
        label_lists = _canonical(estimator, label_lists)
        method = f"{int(oof.fold.max()) + 1}-fold CV"
    else:
        if classes is None:
            raise InputError("classes: give the column codes of proba")
        P = np.asarray(proba, dtype=float)
        class_list = [str(c) for c in classes]
        if P.shape != (n, len(class_list)):
            raise InputError(f"proba: expected shape ({n}, {len(class_list)}), got {P.shape}")
        method = "given probabilities"
    index = {c: j for j, c in enumerate(class_list)}
    Y = np.zeros(P.shape, dtype=np.int8)
    for i, codes in enumerate(label_lists):
        for c in codes:
            if c in index:
                Y[i, index[c]] = 1
    flags, suspicion, thresholds = label_issue_scores(
        Y, P, min_positives=min_positives, min_separation=min_separation
    )

    rid = [str(x) for x in ids] if ids is not None else [str(i) for i in range(n)]
    score = suspicion.max(axis=1) if P.shape[1] else np.zeros(n)
    flagged = [i for i in range(n) if flags[i].any()]
    flagged.sort(key=lambda i: (-score[i], i))
    reports = []
    for rank, i in enumerate(flagged, start=1):
        disputed = sorted(
            ((class_list[j], float(P[i, j])) for j in np.flatnonzero(flags[i] < 0)),
            key=lambda cp: cp[1],
        )
        missing = sorted(
            ((class_list[j], float(P[i, j])) for j in np.flatnonzero(flags[i] > 0)),
            key=lambda cp: -cp[1],
        )
        reports.append(
            ReportAudit(
                rank=rank, index=i, id=rid[i], score=float(score[i]),
                given=tuple(label_lists[i]), disputed=tuple(disputed), missing=tuple(missing),
            )
        )
    code_stats = {
        c: CodeAudit(
            positives=int(Y[:, j].sum()),
            threshold_present=None if np.isnan(thresholds[j, 0]) else float(thresholds[j, 0]),
            threshold_absent=None if np.isnan(thresholds[j, 1]) else float(thresholds[j, 1]),
            disputed=int((flags[:, j] < 0).sum()),
            missing=int((flags[:, j] > 0).sum()),
        )
        for j, c in enumerate(class_list)
    }
    logger.info("label audit: %d of %d reports flagged", len(reports), n)
    return AuditReport(reports=reports, n_reports=n, codes=code_stats, method=method)


def _label_lists(labels: Any) -> list[list[str]]:
    """``labels`` as lists of codes, refusing anything that is not one collection per report."""
    check_texts(labels, "labels", "audit_labels", "a list with each report's codes")
    out: list[list[str]] = []
    for i, codes in enumerate(labels):
        if isinstance(codes, str | bytes) or codes is None or not hasattr(codes, "__iter__"):
            raise InputError(
                f"audit_labels: labels[{i}] is {type(codes).__name__}; each item must be a "
                "collection of codes"
            )
        out.append(list(codes))
    return out
