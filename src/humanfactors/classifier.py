"""A trainable multi-label classifier of human factors in free-text reports.

:class:`HumanFactorsClassifier` is a scikit-learn estimator: texts in, taxonomy codes
out. By default it learns word 1-2-gram TF-IDF features and one class-balanced logistic
regression per code; internal cross-validation then gives out-of-fold scores from which
it learns, for each code, a Platt calibration (so that ``predict_proba`` means
something) and the decision threshold that maximises that code's F1.

Examples
--------
>>> from humanfactors.classifier import HumanFactorsClassifier
>>> texts = ["the worker forgot to send the referral", "no interpreter was booked"] * 6
>>> codes = [["ERR.LAPSE"], ["FAM.LANGUAGE"]] * 6
>>> clf = HumanFactorsClassifier(cv=3).fit(texts, codes)
>>> list(clf.classes_)
['ERR.LAPSE', 'FAM.LANGUAGE']
>>> clf.predict_codes(["she forgot the referral"])
[['ERR.LAPSE']]
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from sklearn.base import BaseEstimator, ClassifierMixin

from . import _features as F
from ._args import check_collection
from ._version import __version__
from .exceptions import InputError, ModelError
from .models import Evidence
from .taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

__all__ = ["CodeExplanation", "HumanFactorsClassifier", "TermContribution"]

logger = logging.getLogger(__name__)

_NAME = "HumanFactorsClassifier"


class TermContribution(BaseModel):
    """One term that pushed a code's score up, with where it occurs in the text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str = Field(description="The feature, lowercased: a word or a two-word phrase.")
    weight: float = Field(description="Its contribution to the code's linear score (> 0).")
    evidence: tuple[Evidence, ...] = Field(
        default=(), description="Every occurrence in the text: text[start:end] matches."
    )

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` of every occurrence."""
        return tuple((e.start, e.end) for e in self.evidence)


class CodeExplanation(BaseModel):
    """Why a code was predicted for a text: its probability and its strongest terms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    probability: float = Field(ge=0.0, le=1.0)
    threshold: float = Field(ge=0.0, le=1.0)
    terms: tuple[TermContribution, ...] = ()


class HumanFactorsClassifier(F.TextMultiLabelMixin, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Multi-label classifier of human-factors codes in report narratives.

    Parameters
    ----------
    taxonomy : str, Path, Taxonomy or None, default "safeguarding"
        Codes are resolved through this taxonomy (aliases accepted, unknown codes
        refused with a suggestion). ``None`` takes labels as they are, for data coded in
        a scheme of its own; ``level=`` and ``use_rules=`` then do not apply.
    word_ngram_range : tuple of int, default (1, 2)
        Word n-gram sizes of the TF-IDF features.
    char_ngram_range : tuple of int or None, default None
        Add ``char_wb`` character n-gram TF-IDF features of these sizes, e.g. ``(3, 5)``.
        Off by default: on the ASRS corpus they did not raise macro-F1 under
        cross-validation, and they halve prediction speed.
    min_df : int, default 2
        Minimum number of reports a term must appear in (relaxed to 1 when a corpus is so
        small that nothing would remain).
    max_features : int or None, default None
        Keep at most this many word features (and as many character features).
    C : float, default 4.0
        Inverse regularisation strength of each code's logistic regression.
    class_weight : "balanced" or None, default "balanced"
        Reweight each code's positives and negatives to equal total weight.
    cv : int, default 5
        Folds of the internal cross-validation that calibrates probabilities and
        chooses thresholds. ``cv < 2`` (or fewer than 4 reports) skips it: thresholds are
        then ``default_threshold`` on uncalibrated probabilities.
    min_positives : int, default 3
        A code with fewer training positives keeps ``default_threshold`` instead of a
        tuned one; a threshold tuned on one or two examples is noise.
    default_threshold : float, default 0.5
        Threshold for codes that cannot be tuned.
    use_rules : bool, default False
        Append the rule engine's per-code scores (``humanfactors.rules``) as features.
    out_of_core : bool, default False
        Train with hashed features and stochastic gradient descent in batches (see
        :meth:`partial_fit` and :meth:`fit_batches`); for corpora that do not fit in memory.
    n_hash_features : int, default 2**18
        Hashed feature space of the out-of-core mode.
    batch_size : int, default 2000
        Reports per batch when :meth:`fit` runs in out-of-core mode.
    random_state : int or None, default 0
        Seed of the internal folds and solvers; equal seeds give equal models.
    n_jobs : int or None, default None
        Threads that fit codes in parallel (``-1`` for all cores).

    Attributes
    ----------
    classes_ : ndarray of str
        Codes, in taxonomy order (sorted without a taxonomy); columns of ``predict``.
    taxonomy_ : Taxonomy or None
        The taxonomy the codes belong to.
    coef_, intercept_ : ndarray
        One linear model per code over the features.
    calibration_ : ndarray of shape (n_classes, 2)
        Platt parameters ``(a, b)``: ``p = sigmoid(a * score + b)``.
    thresholds_ : ndarray of shape (n_classes,)
        Per-code probability thresholds.
    n_train_ : int
        Number of training reports.
    training_sha256_ : str
        SHA-256 over the training texts and codes (recorded by ``save_model``).
    cv_scores_ : dict or None
        Out-of-fold micro and macro F1 of the internal cross-validation; None when it
        was skipped (``cv < 2``, fewer than 4 reports, or too few held-out scores in
        out-of-core mode).

    Notes
    -----
    Empty and whitespace-only texts have nothing to code: their ``predict`` rows are
    zeros, ``predict_codes`` gives ``[]`` and ``predict_proba`` gives zeros.
    ``decision_function`` returns the raw linear score (the intercept for such a text).

    ``score`` is the micro-averaged F1 of ``predict``; it is what ``GridSearchCV`` uses
    unless given ``scoring``. Because the estimator is a classifier, scikit-learn's
    default splitter refuses lists of code lists as ``y``: pass ``cv=KFold(5)``, or give
    ``y`` as an indicator matrix with ``classes=``.
    """

    def __init__(
        self,
        *,
        taxonomy: str | Path | Taxonomy | None = "safeguarding",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = None,
        min_df: int = 2,
        max_features: int | None = None,
        C: float = 4.0,
        class_weight: str | None = "balanced",
        cv: int = 5,
        min_positives: int = 3,
        default_threshold: float = 0.5,
        use_rules: bool = False,
        out_of_core: bool = False,
        n_hash_features: int = 2**18,
        batch_size: int = 2000,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.max_features = max_features
        self.C = C
        self.class_weight = class_weight
        self.cv = cv
        self.min_positives = min_positives
        self.default_threshold = default_threshold
        self.use_rules = use_rules
        self.out_of_core = out_of_core
        self.n_hash_features = n_hash_features
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        def bad(name: str, allowed: str) -> InputError:
            return InputError(
                f"{_NAME}: parameter {name!r} must be {allowed}, got {getattr(self, name)!r}"
            )

        for name in ("word_ngram_range",) + (
            ("char_ngram_range",) if self.char_ngram_range is not None else ()
        ):
            r = getattr(self, name)
            if not (
                isinstance(r, tuple | list)
                and len(r) == 2
                and all(isinstance(v, int) for v in r)
                and 1 <= r[0] <= r[1]
            ):
                raise bad(name, "a pair (lo, hi) of ints with 1 <= lo <= hi")
        if not isinstance(self.min_df, int) or self.min_df < 1:
            raise bad("min_df", "an int >= 1")
        if self.max_features is not None and (
            not isinstance(self.max_features, int) or self.max_features < 1
        ):
            raise bad("max_features", "None or an int >= 1")
        if not isinstance(self.C, int | float) or not self.C > 0 or not math.isfinite(self.C):
            raise bad("C", "a positive finite number")
        if self.class_weight not in ("balanced", None):
            raise bad("class_weight", "'balanced' or None")
        if not isinstance(self.cv, int) or self.cv < 0:
            raise bad("cv", "an int >= 0")
        if not isinstance(self.min_positives, int) or self.min_positives < 1:
            raise bad("min_positives", "an int >= 1")
        if (
            not isinstance(self.default_threshold, int | float)
            or not 0 < self.default_threshold < 1
        ):
            raise bad("default_threshold", "a number strictly between 0 and 1")
        if not isinstance(self.n_hash_features, int) or self.n_hash_features < 16:
            raise bad("n_hash_features", "an int >= 16")
        if not isinstance(self.batch_size, int) or self.batch_size < 1:
            raise bad("batch_size", "an int >= 1")
        if self.use_rules and self.taxonomy is None:
            raise InputError(f"{_NAME}: use_rules=True needs a taxonomy; got taxonomy=None")

    def _resolve_taxonomy(self) -> Taxonomy | None:
        return None if self.taxonomy is None else load_taxonomy(self.taxonomy)

    def _labels(
        self, y: Any, n: int, taxonomy: Taxonomy | None, classes: Sequence[str] | None
    ) -> tuple[list[list[str]], list[str]]:
        """Code lists for ``y`` and the class list (given ``classes`` first, canonical)."""
        if classes is not None:
            check_collection(classes, "classes", f"{_NAME}.fit")
        if F.is_indicator(y):
            if classes is None:
                raise InputError(
                    f"{_NAME}.fit: y is an indicator matrix; pass classes= to name its columns"
                )
            arr = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
            if arr.shape[1] != len(classes):
                raise InputError(
                    f"{_NAME}.fit: y has {arr.shape[1]} columns "
                    f"but {len(classes)} classes were given"
                )
            names = list(classes)
            lists = [[names[j] for j in np.flatnonzero(row)] for row in arr]
        else:
            lists = F.label_lists(y, _NAME)
        if len(lists) != n:
            raise InputError(f"{_NAME}.fit: X has {n} texts but y has {len(lists)} label lists")
        canon = F.canonical_labels(lists, taxonomy)
        pool: list[str] = [c for codes in canon for c in codes]
        if classes is not None:
            pool.extend(F.canonical_labels([list(classes)], taxonomy)[0])
        return canon, F.order_classes(pool, taxonomy)

    def _indicator(self, lists: Sequence[Sequence[str]]) -> NDArray[np.int_]:
        index = {c: j for j, c in enumerate(self.classes_)}
        Y = np.zeros((len(lists), len(self.classes_)), dtype=np.int64)
        for i, codes in enumerate(lists):
            for c in codes:
                j = index.get(c)
                if j is not None:
                    Y[i, j] = 1
        return Y

    # -- features ----------------------------------------------------------------------
    def _make_vectorizers(self, min_df: int, max_df: float) -> list[Any]:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vecs = [
            TfidfVectorizer(
                ngram_range=tuple(self.word_ngram_range),
                token_pattern=F.TOKEN_PATTERN,
                sublinear_tf=True,
                min_df=min_df,
                max_df=max_df,
                max_features=self.max_features,
                dtype=np.float32,
            )
        ]
        if self.char_ngram_range is not None:
            vecs.append(
                TfidfVectorizer(
                    analyzer="char_wb",
                    ngram_range=tuple(self.char_ngram_range),
                    sublinear_tf=True,
                    min_df=min_df,
                    max_df=max_df,
                    max_features=self.max_features,
                    dtype=np.float32,
                )
            )
        return vecs

    def _fit_features(self, texts: list[str]) -> Any:
        import scipy.sparse as sp

        for min_df, max_df in ((self.min_df, 0.95), (1, 1.0)):
            vecs = self._make_vectorizers(min_df, max_df)
            try:
                mats = [v.fit_transform(texts) for v in vecs]
            except ValueError:
                # "After pruning, no terms remain" or "empty vocabulary": a tiny corpus.
                continue
            self.vectorizers_ = vecs
            break
        else:
            raise ModelError(f"{_NAME}.fit: the training texts contain no usable words")
        if self.use_rules:
            mats.append(self._rule_features(texts, fit=True))
        return _canonical(sp.hstack(mats, format="csr", dtype=np.float32))

    def _transform(self, texts: list[str]) -> Any:
        import scipy.sparse as sp

        if self.out_of_core:
            A = self._hasher().transform(texts)
        else:
            A = sp.hstack(
                [v.transform(texts) for v in self.vectorizers_], format="csr", dtype=np.float32
            )
        if self.use_rules:
            A = sp.hstack(
                [A, self._rule_features(texts, fit=False)], format="csr", dtype=np.float32
            )
        return _canonical(A)

    def _hasher(self) -> Any:
        from sklearn.feature_extraction.text import HashingVectorizer

        return HashingVectorizer(
            ngram_range=tuple(self.word_ngram_range),
            token_pattern=F.TOKEN_PATTERN,
            n_features=self.n_hash_features,
            alternate_sign=False,
            norm="l2",
            dtype=np.float32,
        )

    def _rule_features(self, texts: list[str], *, fit: bool) -> Any:
        import scipy.sparse as sp

        try:
            from .rules import RuleSet
        except ImportError as exc:
            raise ModelError(
                f"{_NAME}: use_rules=True needs humanfactors.rules (RuleSet), which is not "
                f"available in this installation ({exc})"
            ) from None
        taxonomy = self.taxonomy_ if not fit else self._resolve_taxonomy()
        assert taxonomy is not None  # _check_params refuses use_rules without a taxonomy
        ruleset = RuleSet.default(taxonomy.name)
        codes, scores = ruleset.code_scores(texts)
        scores = np.asarray(scores, dtype=np.float32)
        if fit:
            self.rule_codes_ = tuple(codes)
            return sp.csr_matrix(scores)
        index = {c: j for j, c in enumerate(codes)}
        out = np.zeros((len(texts), len(self.rule_codes_)), dtype=np.float32)
        for k, c in enumerate(self.rule_codes_):
            j = index.get(c)
            if j is not None:
                out[:, k] = scores[:, j]
        return sp.csr_matrix(out)

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self, X: Sequence[str], y: Any, *, classes: Sequence[str] | None = None
    ) -> HumanFactorsClassifier:
        """Learn codes from texts.

        Parameters
        ----------
        X : sequence of str
            Report texts.
        y : sequence of sequences of str, or indicator matrix
            Each report's codes (aliases allowed), or a 0/1 matrix whose columns are
            named by ``classes``.
        classes : sequence of str, optional
            Codes to learn even if absent from ``y`` (they are then never predicted);
            required when ``y`` is an indicator matrix.

        Returns
        -------
        self
        """
        self._check_params()
        texts = F.check_texts(X, _NAME)
        if not texts:
            raise InputError(f"{_NAME}.fit: X is empty")
        taxonomy = self._resolve_taxonomy()
        lists, class_list = self._labels(y, len(texts), taxonomy, classes)
        if not class_list:
            raise InputError(f"{_NAME}.fit: no codes in y; nothing to learn")
        self._reset()
        self.taxonomy_ = taxonomy
        self.classes_ = np.array(class_list, dtype=object)
        Y = self._indicator(lists)
        if self.out_of_core:
            self._fit_out_of_core(iter([(texts, Y)]), first=True)
        else:
            self._fit_in_memory(texts, Y)
        self.n_train_ = len(texts)
        self.training_sha256_ = F.data_fingerprint(texts, lists)
        self.fitted_with_ = {"humanfactors": __version__}
        return self

    def _reset(self) -> None:
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)

    def _fit_in_memory(self, texts: list[str], Y: NDArray[np.int_]) -> None:
        from joblib import Parallel, delayed
        from sklearn.model_selection import KFold

        A = self._fit_features(texts)
        n, k = Y.shape
        C, cw, rs = float(self.C), self.class_weight, self.random_state
        folds = min(self.cv, n)
        if folds >= 2 and n >= 4:
            scores = np.zeros((n, k), dtype=np.float64)
            splitter = KFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            jobs: list[tuple[Any, NDArray[np.int_], int, NDArray[np.int_]]] = []
            for tr, va in splitter.split(A):
                Atr = A[tr]
                jobs.extend((Atr, Y[tr, j], j, va) for j in range(k))
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_binary)(Atr, yj, C, cw, rs) for Atr, yj, _, _ in jobs
            )
            for (_, _, j, va), (w, b) in zip(jobs, results, strict=True):
                scores[va, j] = A[va] @ w + b
            self._calibrate(scores, Y)
        else:
            self.calibration_ = np.tile([1.0, 0.0], (k, 1))
            self.thresholds_ = np.full(k, float(self.default_threshold))
            self.cv_scores_: dict[str, float] | None = None
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_binary)(A, Y[:, j], C, cw, rs) for j in range(k)
        )
        self.coef_ = np.vstack([w for w, _ in fitted]).astype(np.float32)
        self.intercept_ = np.array([b for _, b in fitted], dtype=np.float64)

    def _calibrate(self, scores: NDArray[np.float64], Y: NDArray[np.int_]) -> None:
        k = Y.shape[1]
        cal = np.zeros((k, 2))
        thr = np.zeros(k)
        for j in range(k):
            a, b = F.fit_platt(scores[:, j], Y[:, j])
            cal[j] = (a, b)
            proba = F.sigmoid(a * scores[:, j] + b)
            thr[j] = F.best_f1_threshold(
                proba,
                Y[:, j],
                min_positives=self.min_positives,
                default=float(self.default_threshold),
            )
        self.calibration_ = cal
        self.thresholds_ = thr
        pred = (F.sigmoid(scores * cal[:, 0] + cal[:, 1]) >= thr).astype(np.int64)
        self.cv_scores_ = _f1_scores(Y, pred)

    # -- out-of-core -------------------------------------------------------------------
    def partial_fit(
        self, X: Sequence[str], y: Any, *, classes: Sequence[str] | None = None
    ) -> HumanFactorsClassifier:
        """Train on one batch in out-of-core mode (hashed features, SGD).

        The first call fixes the label set: pass ``classes`` there with every code the
        stream may hold (codes outside it are ignored later). Each batch is scored
        before it is learned from; those progressive-validation scores calibrate the
        probabilities and choose the thresholds, which are refreshed after every batch.
        """
        if not self.out_of_core:
            raise InputError(f"{_NAME}.partial_fit needs out_of_core=True")
        texts = F.check_texts(X, _NAME)
        first = not hasattr(self, "estimators_")
        if first:
            self._check_params()
            taxonomy = self._resolve_taxonomy()
            lists, class_list = self._labels(y, len(texts), taxonomy, classes)
            if not class_list:
                raise InputError(f"{_NAME}.partial_fit: no codes in y or classes")
            self.taxonomy_ = taxonomy
            self.classes_ = np.array(class_list, dtype=object)
        else:
            lists = F.canonical_labels(F.label_lists(y, _NAME), self.taxonomy_)
            if len(lists) != len(texts):
                raise InputError(
                    f"{_NAME}.partial_fit: X has {len(texts)} texts but y has {len(lists)}"
                )
        self._fit_out_of_core(iter([(texts, self._indicator(lists))]), first=first)
        self.n_train_ = getattr(self, "n_train_", 0) + len(texts)
        self.fitted_with_ = {"humanfactors": __version__}
        return self

    def fit_batches(
        self, batches: Iterable[tuple[Sequence[str], Any]], *, classes: Sequence[str]
    ) -> HumanFactorsClassifier:
        """Train out of core from an iterable of ``(texts, code_lists)`` batches.

        Only one batch is in memory at a time. ``classes`` names every code the stream
        may hold. Equivalent to calling :meth:`partial_fit` on each batch of a fresh model.

        Examples
        --------
        >>> clf = HumanFactorsClassifier(out_of_core=True)
        >>> batches = [(["forgot the visit"] * 4, [["ERR.LAPSE"]] * 4),
        ...            (["no interpreter"] * 4, [["FAM.LANGUAGE"]] * 4)] * 3
        >>> clf.fit_batches(batches, classes=["ERR.LAPSE", "FAM.LANGUAGE"]).classes_.tolist()
        ['ERR.LAPSE', 'FAM.LANGUAGE']
        """
        if not self.out_of_core:
            raise InputError(f"{_NAME}.fit_batches needs out_of_core=True")
        self._reset()
        for texts, y in batches:
            self.partial_fit(texts, y, classes=classes)
        if not hasattr(self, "estimators_"):
            raise InputError(f"{_NAME}.fit_batches: the batch iterable was empty")
        return self

    def _fit_out_of_core(
        self, batches: Iterable[tuple[list[str], NDArray[np.int_]]], *, first: bool
    ) -> None:
        from sklearn.linear_model import SGDClassifier

        k = len(self.classes_)
        if first:
            self.estimators_ = [
                SGDClassifier(
                    loss="log_loss",
                    alpha=1e-5,
                    random_state=None if self.random_state is None else self.random_state + j,
                )
                for j in range(k)
            ]
            self.label_counts_ = np.zeros(k, dtype=np.int64)
            self.seen_ = 0
            self.holdout_scores_ = np.zeros((0, k))
            self.holdout_labels_ = np.zeros((0, k), dtype=np.int64)
        hasher = self._hasher()
        for texts, Y in batches:
            big = len(texts) > self.batch_size
            chunks = range(0, len(texts), self.batch_size) if big else [0]
            for start in chunks:
                stop = start + self.batch_size if big else len(texts)
                A = hasher.transform(texts[start:stop])
                Yb = Y[start:stop]
                if self.seen_ > 0:
                    S = np.column_stack([e.decision_function(A) for e in self.estimators_])
                    keep = 20000
                    self.holdout_scores_ = np.vstack([self.holdout_scores_, S])[-keep:]
                    self.holdout_labels_ = np.vstack([self.holdout_labels_, Yb])[-keep:]
                self.label_counts_ += Yb.sum(axis=0)
                self.seen_ += len(Yb)
                for j, est in enumerate(self.estimators_):
                    yj = Yb[:, j]
                    weight = np.ones(len(yj))
                    if self.class_weight == "balanced":
                        pos = max(int(self.label_counts_[j]), 1)
                        neg = max(self.seen_ - int(self.label_counts_[j]), 1)
                        weight = np.where(
                            yj > 0, self.seen_ / (2.0 * pos), self.seen_ / (2.0 * neg)
                        )
                    est.partial_fit(A, yj, classes=np.array([0, 1]), sample_weight=weight)
        self.coef_ = np.vstack([e.coef_.ravel() for e in self.estimators_]).astype(np.float32)
        self.intercept_ = np.array([float(e.intercept_[0]) for e in self.estimators_])
        if len(self.holdout_scores_) >= 4:
            self._calibrate(self.holdout_scores_, self.holdout_labels_)
        else:
            self.calibration_ = np.tile([1.0, 0.0], (k, 1))
            self.thresholds_ = np.full(k, float(self.default_threshold))
            self.cv_scores_ = None

    # -- prediction --------------------------------------------------------------------
    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, ["coef_", "thresholds_"])

    def _scores(self, X: Any) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
        self._check_fitted()
        texts = F.check_texts(X, _NAME)
        blank = np.array([not t.strip() for t in texts], dtype=bool)
        if not texts:
            return np.zeros((0, len(self.classes_))), blank
        A = self._transform(texts)
        S = np.asarray(A @ self.coef_.T, dtype=np.float64) + self.intercept_
        return S, blank

    def decision_function(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Raw linear score of each code, shape ``(n_texts, n_classes)``."""
        return self._scores(X)[0]

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probability of each code, shape ``(n_texts, n_classes)``.

        Codes are independent (multi-label): rows do not sum to 1. Blank texts give 0.
        """
        S, blank = self._scores(X)
        P = F.sigmoid(S * self.calibration_[:, 0] + self.calibration_[:, 1])
        P[blank] = 0.0
        return P

    def predict(self, X: Sequence[str]) -> NDArray[np.int_]:
        """Indicator matrix over ``classes_``: 1 where a probability reaches its threshold."""
        P = self.predict_proba(X)
        return (self.thresholds_ <= P).astype(np.int64)

    def proba_at_level(self, X: Sequence[str], level: int) -> tuple[list[str], NDArray[np.float64]]:
        """Probabilities of the codes at taxonomy ``level``, derived from their descendants.

        A parent's probability is the noisy-OR of the probabilities of the learned codes
        at or below it: ``1 - prod(1 - p)``, the chance that at least one is present if
        they were independent. Learned codes above ``level`` are kept as they are.

        Returns
        -------
        codes : list of str
            Columns, in taxonomy order.
        proba : ndarray of shape (n_texts, len(codes))
        """
        P = self.predict_proba(X)
        codes, groups = self._level_groups(level)
        out = (
            np.column_stack([1.0 - np.prod(1.0 - P[:, g], axis=1) for g in groups])
            if codes
            else np.zeros((len(P), 0))
        )
        return codes, out

    def _level_groups(self, level: int) -> tuple[list[str], list[list[int]]]:
        tax = self.taxonomy_
        if tax is None:
            raise InputError(
                f"{_NAME}: level= needs a taxonomy; this model was trained with taxonomy=None"
            )
        if not isinstance(level, int) or isinstance(level, bool) or level < 1:
            raise InputError(f"{_NAME}: level must be an int >= 1, got {level!r}")
        groups: dict[str, list[int]] = {}
        for j, code in enumerate(self.classes_):
            groups.setdefault(tax.at_level(code, level), []).append(j)
        codes = F.order_classes(groups, tax)
        return codes, [groups[c] for c in codes]

    def predict_codes(self, X: Sequence[str], *, level: int | None = None) -> list[list[str]]:
        """Predicted codes of each text, most probable first.

        With ``level=k`` each predicted code is replaced by its ancestor at level ``k``
        (a parent is predicted when any learned code below it is), ordered by the
        parent's noisy-OR probability (see :meth:`proba_at_level`).
        """
        P = self.predict_proba(X)
        hits = self.thresholds_ <= P
        if level is None:
            out = []
            for row, hit in zip(P, hits, strict=True):
                idx = np.flatnonzero(hit)
                idx = idx[np.argsort(-row[idx], kind="stable")]
                out.append([str(self.classes_[j]) for j in idx])
            return out
        codes, groups = self._level_groups(level)
        result = []
        for row, hit in zip(P, hits, strict=True):
            chosen = []
            for code, g in zip(codes, groups, strict=True):
                if hit[g].any():
                    chosen.append((1.0 - float(np.prod(1.0 - row[g])), code))
            chosen.sort(key=lambda t: -t[0])
            result.append([c for _, c in chosen])
        return result

    def score(self, X: Sequence[str], y: Any, sample_weight: Any = None) -> float:
        """Micro-averaged F1 of :meth:`predict` against ``y`` (code lists or indicator)."""
        from sklearn.metrics import f1_score

        self._check_fitted()
        if F.is_indicator(y):
            Y = y.toarray() if hasattr(y, "toarray") else np.asarray(y)
        else:
            lists = F.canonical_labels(F.label_lists(y, _NAME), self.taxonomy_)
            Y = self._indicator(lists)
        return float(
            f1_score(
                Y, self.predict(X), average="micro", zero_division=0.0, sample_weight=sample_weight
            )
        )

    # -- explanations ------------------------------------------------------------------
    def explain(
        self, text: str, *, top: int = 5, codes: Sequence[str] | None = None
    ) -> list[CodeExplanation]:
        """Why each predicted code was predicted: the terms that pushed its score up.

        Parameters
        ----------
        text : str
            One report.
        top : int, default 5
            Terms per code, strongest first.
        codes : sequence of str, optional
            Explain these codes (aliases allowed) instead of the predicted ones.

        Returns
        -------
        list of CodeExplanation
            One per code, most probable first. Each term's ``evidence`` lists every
            occurrence with exact spans (``text[start:end] == evidence.text``).
            Word features are explained; character n-gram, hashed and rule features
            add to the score but are not listed as terms.
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise InputError(f"{_NAME}.explain: text must be str, got {type(text).__name__}")
        if not isinstance(top, int) or top < 1:
            raise InputError(f"{_NAME}.explain: top must be an int >= 1, got {top!r}")
        proba = self.predict_proba([text])[0]
        if codes is None:
            cols = [j for j in np.argsort(-proba, kind="stable") if proba[j] >= self.thresholds_[j]]
        else:
            check_collection(codes, "codes", f"{_NAME}.explain")
            index = {c: j for j, c in enumerate(self.classes_)}
            cols = []
            for code in codes:
                key = code if self.taxonomy_ is None else self.taxonomy_.resolve(code)
                if key not in index:
                    raise InputError(f"{_NAME}.explain: code {key!r} is not one this model learned")
                cols.append(index[key])
        if not cols:
            return []
        terms = self._term_occurrences(text)
        x = self._word_features(text)
        result = []
        for j in cols:
            contrib: list[tuple[float, str, list[tuple[int, int]]]] = []
            for feat, value in x.items():
                w = float(self.coef_[j, feat]) * value
                if w > 0 and feat in terms:
                    contrib.append((w, *terms[feat]))
            contrib.sort(key=lambda t: (-t[0], t[1]))
            items = []
            for w, term, spans in contrib[:top]:
                items.append(
                    TermContribution(
                        term=term,
                        weight=w,
                        evidence=tuple(Evidence.from_span(text, s, e) for s, e in spans),
                    )
                )
            result.append(
                CodeExplanation(
                    code=str(self.classes_[j]),
                    probability=float(proba[j]),
                    threshold=float(self.thresholds_[j]),
                    terms=tuple(items),
                )
            )
        return result

    def _feature_id(self, term: str) -> int:
        if self.out_of_core:
            return int(self._hasher().transform([term]).indices[0]) if term else -1
        return int(self.vectorizers_[0].vocabulary_[term])

    def _word_features(self, text: str) -> dict[int, float]:
        if self.out_of_core:
            row = self._hasher().transform([text])
        else:
            row = self.vectorizers_[0].transform([text])
        row = row.tocsr()
        return {int(i): float(v) for i, v in zip(row.indices, row.data, strict=True)}

    def _term_occurrences(self, text: str) -> dict[int, tuple[str, list[tuple[int, int]]]]:
        """Feature id -> (term, spans) for every word n-gram of ``text`` the model knows."""
        tokens = F.token_spans(text)
        lo, hi = self.word_ngram_range
        found: dict[str, list[tuple[int, int]]] = {}
        for n in range(lo, hi + 1):
            for i in range(len(tokens) - n + 1):
                gram = tokens[i : i + n]
                term = " ".join(t for t, _, _ in gram)
                found.setdefault(term, []).append((gram[0][1], gram[-1][2]))
        out: dict[int, tuple[str, list[tuple[int, int]]]] = {}
        if self.out_of_core:
            for term, spans in found.items():
                out.setdefault(self._feature_id(term), (term, spans))
            return out
        vocab = self.vectorizers_[0].vocabulary_
        for term, spans in found.items():
            fid = vocab.get(term)
            if fid is not None:
                out[int(fid)] = (term, spans)
        return out


def _fit_binary(
    A: Any, y: NDArray[np.int_], C: float, class_weight: str | None, random_state: int | None
) -> tuple[NDArray[np.float64], float]:
    """One code's logistic regression: ``(coef, intercept)``.

    A module-level function, so that parallel workers receive only the data they need.
    """
    from sklearn.linear_model import LogisticRegression

    n_pos = int(y.sum())
    if n_pos == 0 or n_pos == len(y):
        # One class only: a constant score at the smoothed log-odds of the prior.
        prior = (n_pos + 0.5) / (len(y) + 1.0)
        return np.zeros(A.shape[1]), float(np.log(prior / (1.0 - prior)))
    model = LogisticRegression(
        C=C,
        class_weight=class_weight,
        solver="liblinear",
        # The dual problem is several times faster when features outnumber reports.
        dual=True,
        max_iter=1000,
        random_state=random_state,
    )
    model.fit(A, y)
    return model.coef_.ravel().astype(np.float64), float(model.intercept_[0])


def _canonical(A: Any) -> Any:
    """CSR with sorted, summed indices: read-only afterwards, so threads may share it."""
    A = A.tocsr()
    A.sum_duplicates()
    A.sort_indices()
    return A


def _f1_scores(Y: NDArray[np.int_], pred: NDArray[np.int_]) -> dict[str, float]:
    tp = (Y & pred).sum(axis=0).astype(float)
    fp = ((1 - Y) & pred).sum(axis=0).astype(float)
    fn = (Y & (1 - pred)).sum(axis=0).astype(float)
    denom = 2 * tp + fp + fn
    per = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    micro_d = 2 * tp.sum() + fp.sum() + fn.sum()
    return {
        "micro_f1": float(2 * tp.sum() / micro_d) if micro_d else 0.0,
        "macro_f1": float(per.mean()) if len(per) else 0.0,
    }
