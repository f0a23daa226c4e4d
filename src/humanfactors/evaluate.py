"""How well a multi-label coder does: held-out and cross-validated reports.

:func:`evaluate` (also exported as :func:`evaluate_predictions`) scores predictions
against true codes; :func:`evaluate_model` scores a fitted model on held-out reports;
:func:`cross_validate` fits a fresh clone of an estimator on each of ``cv`` folds of the
reports and scores the pooled out-of-fold predictions; :func:`cross_val_proba` returns
those out-of-fold probabilities themselves (for an audit of likely coding errors).

Every figure comes from :mod:`sklearn.metrics` except precision-at-1, which is the
share of reports (with at least one true code) whose top-scored code is a true one.

Examples
--------
>>> from humanfactors.evaluate import evaluate
>>> report = evaluate(
...     [["ERR.LAPSE"], ["ERR.SLIP", "CF.TASK.WORKLOAD"]],
...     [["ERR.LAPSE"], ["ERR.SLIP"]],
...     classes=["CF.TASK.WORKLOAD", "ERR.LAPSE", "ERR.SLIP"],
... )
>>> round(report.micro_f1, 3), report.n, report.exact_match
(0.8, 2, 0.5)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ._args import check_texts
from .exceptions import InputError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "CrossValPredictions",
    "EvaluationReport",
    "LabelScores",
    "cross_val_proba",
    "cross_validate",
    "evaluate",
    "evaluate_model",
    "evaluate_predictions",
]

logger = logging.getLogger(__name__)

Labels = Sequence[Sequence[str]]


@dataclass(frozen=True)
class LabelScores:
    """Precision, recall, F1 and support (number of true reports) of one code."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvaluationReport:
    """Multi-label scores of a set of predictions.

    Attributes
    ----------
    micro_f1, macro_f1, samples_f1 : float
        F1 pooled over all (report, code) decisions, averaged over codes, and averaged
        over reports.
    micro_precision, micro_recall, macro_precision, macro_recall : float
    p_at_1 : float or None
        Share of reports with at least one true code whose top-scored code is true;
        None when no scores were given or no report has a true code.
    exact_match : float
        Share of reports whose predicted code set equals the true set exactly.
    hamming_loss : float
        Share of (report, code) decisions that are wrong.
    n : int
        Number of reports.
    per_label : dict of str to LabelScores
        Scores per code, in the order of ``classes``.
    method : str
        How the predictions were obtained, e.g. ``"held-out"`` or ``"5-fold CV"``.
    """

    micro_f1: float
    macro_f1: float
    samples_f1: float
    micro_precision: float
    micro_recall: float
    macro_precision: float
    macro_recall: float
    p_at_1: float | None
    exact_match: float
    hamming_loss: float
    n: int
    per_label: dict[str, LabelScores] = field(default_factory=dict)
    method: str = "held-out"

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-compatible dict; ``per_label`` maps each code to its four figures."""
        out = asdict(self)
        out["per_label"] = {code: asdict(s) for code, s in self.per_label.items()}
        return out

    def to_json(self, *, indent: int | None = None) -> str:
        """The report as one JSON object (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvaluationReport:
        """Inverse of :meth:`to_dict`. Keys it does not know (such as the ``source`` and
        ``refused`` that ``humanfactors evaluate --json`` adds) are ignored."""
        import dataclasses

        known = {f.name for f in dataclasses.fields(cls)}
        fields = {k: v for k, v in data.items() if k in known}
        fields["per_label"] = {
            code: LabelScores(**scores) for code, scores in data.get("per_label", {}).items()
        }
        return cls(**fields)

    def table(self) -> str:
        """A readable fixed-width table: the summary figures, then one row per code."""

        def fmt(x: float | None) -> str:
            return "   n/a" if x is None else f"{x:6.3f}"

        lines = [
            f"Evaluation ({self.method}), {self.n} reports, {len(self.per_label)} codes",
            "",
            f"  micro   F1 {fmt(self.micro_f1)}   precision {fmt(self.micro_precision)}"
            f"   recall {fmt(self.micro_recall)}",
            f"  macro   F1 {fmt(self.macro_f1)}   precision {fmt(self.macro_precision)}"
            f"   recall {fmt(self.macro_recall)}",
            f"  samples F1 {fmt(self.samples_f1)}",
            f"  precision-at-1 {fmt(self.p_at_1)}   exact match {fmt(self.exact_match)}"
            f"   Hamming loss {fmt(self.hamming_loss)}",
        ]
        if self.per_label:
            width = max(8, *(len(c) for c in self.per_label))
            lines += [
                "",
                f"  {'code':<{width}}  precision  recall      F1  support",
                f"  {'-' * width}  ---------  ------  ------  -------",
            ]
            for code, s in self.per_label.items():
                lines.append(
                    f"  {code:<{width}}     {s.precision:6.3f}  {s.recall:6.3f}  {s.f1:6.3f}"
                    f"  {s.support:7d}"
                )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()

    def __repr__(self) -> str:
        p1 = "None" if self.p_at_1 is None else f"{self.p_at_1:.3f}"
        return (
            f"EvaluationReport(method={self.method!r}, n={self.n}, micro_f1={self.micro_f1:.3f}, "
            f"macro_f1={self.macro_f1:.3f}, p_at_1={p1}, codes={len(self.per_label)})"
        )


# -- inputs -------------------------------------------------------------------------
def _is_code_lists(y: Any) -> bool:
    if hasattr(y, "shape") and len(getattr(y, "shape", ())) == 2:
        return False
    if hasattr(y, "toarray"):
        return False
    try:
        first = next(iter(y), None)
    except TypeError:
        return False
    if first is None:
        return True
    return not isinstance(first, str) and all(isinstance(c, str) for c in first)


def _check_items(y: Any, what: str) -> None:
    """Refuse a sequence of reports' codes with an item that is not a collection of codes.

    A list of strings (one code per report, not a list per report) is the usual slip.
    """
    if y is None or isinstance(y, str | bytes | int | float):
        raise InputError(
            f"{what}: expected a list with a collection of codes per report, or an indicator "
            f"matrix; got {type(y).__name__}"
        )
    if (hasattr(y, "shape") and len(getattr(y, "shape", ())) == 2) or hasattr(y, "toarray"):
        return
    try:
        items = iter(y)
    except TypeError:
        return  # not a sequence: the indicator-matrix check names the shape
    holds_codes = False
    for i, item in enumerate(items):
        if isinstance(item, str | bytes) or not isinstance(item, Iterable):
            raise InputError(
                f"{what}: each item must be a collection of codes (one per report, empty "
                f"for none); item {i} is of type {type(item).__name__}"
            )
        kinds = {isinstance(c, str) for c in item}
        if kinds == {False, True} or (holds_codes and kinds == {False}):
            raise InputError(f"{what}: item {i} holds something other than codes (strings)")
        holds_codes = holds_codes or kinds == {True}


def _to_matrix(y: Any, classes: list[str], what: str) -> NDArray[Any]:
    import numpy as np

    if _is_code_lists(y):
        index = {c: i for i, c in enumerate(classes)}
        out = np.zeros((len(y), len(classes)), dtype=np.int8)
        for row, codes in enumerate(y):
            if isinstance(codes, str):
                raise InputError(f"{what}: row {row} is a string; give a list of codes per report")
            for code in codes:
                out[row, index[code]] = 1
        return out
    arr = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
    if arr.ndim != 2 or arr.shape[1] != len(classes):
        raise InputError(
            f"{what}: expected an indicator matrix with {len(classes)} columns (one per class), "
            f"got shape {arr.shape}"
        )
    if not np.isin(arr, (0, 1)).all():
        raise InputError(f"{what}: an indicator matrix must hold only 0 and 1")
    return arr.astype(np.int8)


def _extend_classes(classes: Sequence[str], *ys: Any) -> list[str]:
    """``classes`` plus, at the end and sorted, any code in code-list ``ys`` it lacks.

    A true code the model cannot predict must still count as missed, so it is scored
    rather than ignored.
    """
    known = list(classes)
    seen = set(known)
    extra: set[str] = set()
    for y in ys:
        if y is not None and _is_code_lists(y):
            extra.update(c for codes in y for c in codes if c not in seen)
    return known + sorted(extra)


def evaluate(
    y_true: Any,
    y_pred: Any,
    *,
    classes: Sequence[str],
    y_score: Any = None,
    method: str = "held-out",
) -> EvaluationReport:
    """Score multi-label predictions against the true codes.

    Parameters
    ----------
    y_true, y_pred : list of lists of codes, or indicator matrix
        One entry per report. Matrices have one column per entry of ``classes``. Codes
        in code lists that ``classes`` lacks are added (scored, never ignored).
    classes : sequence of str
        The codes, in the column order of any matrix given (``model.classes_``).
    y_score : array of shape (n_reports, len(classes)), optional
        Scores or probabilities, for precision-at-1.
    method : str
        Label for how the predictions were made, shown in the report.

    Returns
    -------
    EvaluationReport
    """
    import numpy as np
    from sklearn.metrics import (
        accuracy_score,
        f1_score,
        hamming_loss,
        precision_recall_fscore_support,
    )

    check_texts(classes, "classes", "evaluate", "a sequence of codes")
    _check_items(y_true, "y_true")
    _check_items(y_pred, "y_pred")
    all_classes = _extend_classes(classes, y_true, y_pred)
    if len(set(all_classes)) != len(all_classes):
        raise InputError("classes: each code may appear only once")
    if not all_classes:
        raise InputError("classes: no codes to evaluate")
    yt = _to_matrix(y_true, all_classes if _is_code_lists(y_true) else list(classes), "y_true")
    yp = _to_matrix(y_pred, all_classes if _is_code_lists(y_pred) else list(classes), "y_pred")
    width = len(all_classes)
    yt, yp = (np.pad(m, ((0, 0), (0, width - m.shape[1]))) for m in (yt, yp))
    if yt.shape[0] != yp.shape[0]:
        raise InputError(f"y_true has {yt.shape[0]} reports but y_pred has {yp.shape[0]}")
    n = int(yt.shape[0])
    if n == 0:
        raise InputError("nothing to evaluate: no reports")

    # scikit-learn reads a one-column matrix as a binary target (scoring the negative
    # class too); an all-zero extra column keeps it multi-label and is left out of
    # every figure through ``labels``.
    yt_, yp_ = (np.pad(m, ((0, 0), (0, 1))) for m in (yt, yp)) if width == 1 else (yt, yp)
    columns = list(range(width))

    def avg(kind: str) -> tuple[float, float, float]:
        p, r, f, _ = precision_recall_fscore_support(
            yt_, yp_, average=kind, labels=columns, zero_division=0
        )
        return float(p), float(r), float(f)

    micro_p, micro_r, micro_f = avg("micro")
    macro_p, macro_r, macro_f = avg("macro")
    samples_f = float(f1_score(yt_, yp_, average="samples", labels=columns, zero_division=0))
    p, r, f, s = precision_recall_fscore_support(
        yt_, yp_, average=None, labels=columns, zero_division=0
    )
    per_label = {
        code: LabelScores(float(p[i]), float(r[i]), float(f[i]), int(s[i]))
        for i, code in enumerate(all_classes)
    }
    p_at_1 = None
    if y_score is not None:
        try:
            scores = np.asarray(y_score, dtype=float)
        except (TypeError, ValueError):
            raise InputError(
                f"y_score: expected an array of numbers of shape ({n}, {len(classes)}), "
                f"got {type(y_score).__name__}"
            ) from None
        if scores.ndim != 2 or scores.shape[0] != n or scores.shape[1] != len(classes):
            raise InputError(f"y_score: expected shape ({n}, {len(classes)}), got {scores.shape}")
        p_at_1 = _precision_at_1(yt[:, : len(classes)], scores, yt.sum(axis=1) > 0)
    return EvaluationReport(
        micro_f1=micro_f,
        macro_f1=macro_f,
        samples_f1=samples_f,
        micro_precision=micro_p,
        micro_recall=micro_r,
        macro_precision=macro_p,
        macro_recall=macro_r,
        p_at_1=p_at_1,
        exact_match=float(accuracy_score(yt_, yp_)),
        hamming_loss=float(hamming_loss(yt, yp)) if width > 1 else float((yt != yp).mean()),
        n=n,
        per_label=per_label,
        method=method,
    )


#: The same function under a name that cannot be confused with the module
#: ``humanfactors.evaluate``; the package exports it as ``humanfactors.evaluate_predictions``.
evaluate_predictions = evaluate


def _precision_at_1(
    yt: NDArray[Any], scores: NDArray[Any], has_true: NDArray[Any]
) -> float | None:
    import numpy as np

    if not has_true.any():
        return None  # undefined: no report has a code the top score could hit
    top = np.argmax(scores, axis=1)
    hits = yt[np.arange(len(top)), top] == 1
    return float(hits[has_true].mean())


def _scores(model: Any, texts: Sequence[str]) -> NDArray[Any] | None:
    if hasattr(model, "predict_proba"):
        return model.predict_proba(texts)  # type: ignore[no-any-return]
    if hasattr(model, "decision_function"):
        return model.decision_function(texts)  # type: ignore[no-any-return]
    return None


def _taxonomy_of(estimator: Any, *, fitted: bool = True) -> Any:
    """The taxonomy an estimator's codes belong to (a Taxonomy, name, path or None).

    A fitted estimator carries it as ``taxonomy_``, which does not depend on the file the
    ``taxonomy`` parameter named still being where it was at training time; the parameter
    is the answer only for an unfitted estimator (or ``fitted=False``, for the clones of
    a cross-validation, which are built from the parameters).
    """
    if fitted and hasattr(estimator, "taxonomy_"):
        return estimator.taxonomy_
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    return params.get("taxonomy")


def _canonical(estimator: Any, labels: Labels, *, fitted: bool = True) -> list[list[str]]:
    """``labels`` resolved through the estimator's taxonomy, as its ``classes_`` will be.

    Aliases in the true codes (such as the ASRS spellings) must be compared with the
    canonical codes the model predicts.
    """
    out = [list(codes) for codes in labels]
    taxonomy = _taxonomy_of(estimator, fitted=fitted)
    if taxonomy is None or (isinstance(taxonomy, str) and taxonomy.lower() == "none"):
        return out
    from .taxonomy import load_taxonomy

    tax = load_taxonomy(taxonomy)
    return [list(dict.fromkeys(tax.resolve(c) for c in codes)) for codes in out]


def _check_fitted_model(model: Any, who: str = "evaluate_model") -> None:
    """Refuse anything but a fitted model with ``classes_`` and ``predict``.

    Raises
    ------
    ModelError
        ``model`` is unfitted, or not a model at all (for example a file that held
        something else).
    """
    if not hasattr(model, "classes_"):
        raise ModelError(f"{who} needs a fitted model (it has no classes_)")
    if not callable(getattr(model, "predict", None)):
        raise ModelError(f"{who} needs a model with a predict method")


def evaluate_model(model: Any, texts: Sequence[str], labels: Labels) -> EvaluationReport:
    """Score a fitted model on held-out reports and their true codes.

    True codes given as aliases are resolved through the model's taxonomy first (the
    fitted ``taxonomy_``, kept inside the model).

    Raises
    ------
    ModelError
        ``model`` is not a fitted model.
    """
    _check_fitted_model(model)
    check_texts(texts, "texts", "evaluate_model")
    _check_items(labels, "labels")
    texts = list(texts)
    if len(texts) != len(labels):
        raise InputError(f"{len(texts)} texts but {len(labels)} label lists")
    classes = [str(c) for c in model.classes_]
    pred = model.predict(texts)
    return evaluate(_canonical(model, labels), pred, classes=classes, y_score=_scores(model, texts))


# -- cross-validation ---------------------------------------------------------------
@dataclass(frozen=True)
class CrossValPredictions:
    """Out-of-fold results: each report scored by a model that never saw it.

    Attributes
    ----------
    classes : tuple of str
        Column order of ``proba`` and ``predicted``: every true code, and any code a
        fold's model can predict.
    proba : ndarray of shape (n_reports, n_classes)
        Out-of-fold probabilities (0 for a code a fold's model did not know).
    predicted : ndarray of shape (n_reports, n_classes)
        Out-of-fold 0/1 predictions (the model's own thresholds).
    fold : ndarray of shape (n_reports,)
        The fold in which each report was held out.
    """

    classes: tuple[str, ...]
    proba: np.ndarray[Any, Any] = field(repr=False)
    predicted: np.ndarray[Any, Any] = field(repr=False)
    fold: np.ndarray[Any, Any] = field(repr=False)


def _splitter(cv: Any, n: int, random_state: int | None) -> Any:
    if isinstance(cv, int) and not isinstance(cv, bool):
        if not 2 <= cv <= n:
            raise InputError(f"cv must be between 2 and the number of reports ({n}), got {cv}")
        from sklearn.model_selection import KFold

        return KFold(n_splits=cv, shuffle=True, random_state=random_state)
    if hasattr(cv, "split") and not isinstance(cv, str):
        return cv
    raise InputError(f"cv must be a number of folds or a scikit-learn splitter, got {cv!r}")


def _fit_fold(
    estimator: Any, texts: list[str], labels: list[list[str]], train: Any, test: Any
) -> tuple[list[str], Any, Any]:
    from sklearn.base import clone

    model = clone(estimator)
    model.fit([texts[i] for i in train], [labels[i] for i in train])
    held = [texts[i] for i in test]
    scores = _scores(model, held)
    return [str(c) for c in model.classes_], model.predict(held), scores


def cross_val_proba(
    estimator: Any,
    texts: Sequence[str],
    labels: Labels,
    *,
    cv: Any = 5,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> CrossValPredictions:
    """Fit a clone of ``estimator`` per fold and collect out-of-fold predictions.

    Parameters
    ----------
    estimator : scikit-learn style multi-label estimator
        With ``fit(texts, labels)``, ``predict`` (indicator matrix over ``classes_``)
        and ``predict_proba`` (or ``decision_function``).
    texts : sequence of str
    labels : sequence of lists of codes
    cv : int or splitter
        Number of folds of a shuffled :class:`~sklearn.model_selection.KFold` over the
        reports (codes are multi-label, so folds are not stratified), or any splitter.
    random_state : int or None
        Seed of the fold shuffle.
    n_jobs : int, optional
        Folds fitted in parallel with joblib (None: one at a time).
    progress : callable, optional
        Called as ``progress(folds_done, folds_total)`` after each fold.

    Returns
    -------
    CrossValPredictions
    """
    import numpy as np

    check_texts(texts, "texts", "cross_validate")
    _check_items(labels, "labels")
    texts = list(texts)
    label_lists = _canonical(estimator, labels, fitted=False)
    n = len(texts)
    if n != len(label_lists):
        raise InputError(f"{n} texts but {len(label_lists)} label lists")
    splits = list(_splitter(cv, n, random_state).split(np.zeros((n, 1))))
    if n_jobs is None or n_jobs == 1:
        results = []
        for k, (train, test) in enumerate(splits):
            results.append(_fit_fold(estimator, texts, label_lists, train, test))
            if progress is not None:
                progress(k + 1, len(splits))
    else:
        from joblib import Parallel, delayed

        results = Parallel(n_jobs=n_jobs)(
            delayed(_fit_fold)(estimator, texts, label_lists, train, test) for train, test in splits
        )
    known = sorted({c for codes in label_lists for c in codes})
    classes = _extend_classes(known, [fold_classes for fold_classes, _, _ in results])
    index = {c: i for i, c in enumerate(classes)}
    proba = np.zeros((n, len(classes)), dtype=float)
    predicted = np.zeros((n, len(classes)), dtype=np.int8)
    fold = np.full(n, -1, dtype=int)
    for k, ((_, test), (fold_classes, pred, scores)) in enumerate(
        zip(splits, results, strict=True)
    ):
        cols = [index[c] for c in fold_classes]
        pred = pred.toarray() if hasattr(pred, "toarray") else np.asarray(pred)
        predicted[np.ix_(test, cols)] = pred
        if scores is not None:
            proba[np.ix_(test, cols)] = np.asarray(scores, dtype=float)
        fold[test] = k
    if (fold < 0).any():
        raise InputError("cv: the splitter left some reports out of every test fold")
    return CrossValPredictions(classes=tuple(classes), proba=proba, predicted=predicted, fold=fold)


def cross_validate(
    estimator: Any,
    texts: Sequence[str],
    labels: Labels,
    *,
    cv: Any = 5,
    random_state: int | None = 0,
    n_jobs: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> EvaluationReport:
    """Cross-validated report of ``estimator`` on ``texts`` and their ``labels``.

    Each fold's model is a fresh :func:`~sklearn.base.clone`; the figures come from the
    pooled out-of-fold predictions of all folds (see :func:`cross_val_proba`).
    """
    oof = cross_val_proba(
        estimator,
        texts,
        labels,
        cv=cv,
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
    )
    folds = int(oof.fold.max()) + 1
    return evaluate(
        _canonical(estimator, labels, fitted=False),
        oof.predicted,
        classes=list(oof.classes),
        y_score=oof.proba,
        method=f"{folds}-fold CV",
    )
