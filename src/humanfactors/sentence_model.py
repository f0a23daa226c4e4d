"""A classifier that learns from evidence spans: which sentence shows which code.

:class:`SentenceEvidenceClassifier` learns one logistic regression per code over the
*sentences* of the training reports: a sentence is a positive example of a code when it
overlaps an evidence span coded with it, a negative one otherwise. A report's score for
a code is the strongest of its sentences (or the mean of the strongest two), optionally
blended with a whole-report TF-IDF model and the rule engine's scores. Internal
cross-validation gives out-of-fold report scores, from which it learns a Platt
calibration and the F1-maximising threshold of each code.

Because a finding comes from one sentence, :meth:`SentenceEvidenceClassifier.explain`
can show that sentence, with its exact offsets, as the evidence.

Examples
--------
>>> from humanfactors.sentence_model import SentenceEvidenceClassifier
>>> texts = ["The visit went well. I forgot to send the referral.",
...          "We met the family. No interpreter was booked for the meeting."] * 6
>>> codes = [["ERR.LAPSE"], ["FAM.LANGUAGE"]] * 6
>>> evidence = [[("ERR.LAPSE", 21, 51)], [("FAM.LANGUAGE", 19, 61)]] * 6
>>> clf = SentenceEvidenceClassifier(cv=3).fit(texts, codes, evidence=evidence)
>>> clf.predict_codes(["All fine today. She forgot the referral."])
[['ERR.LAPSE']]
>>> clf.explain("All fine today. She forgot the referral.")[0].terms[0].spans
((16, 40),)
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
from ._frozen import (
    best_sentences,
    calibrate,
    features,
    rule_scores,
    scores_and_sentences,
    sentence_spans,
    sentence_units,
    sum_rows,
    to_csr,
)
from ._version import __version__
from .exceptions import InputError, ModelError, UnknownCodeError
from .models import Evidence
from .taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

__all__ = [
    "SentenceContribution",
    "SentenceEvidenceClassifier",
    "SentenceExplanation",
    "redacted_evidence",
    "sentence_spans",
]

logger = logging.getLogger(__name__)

_NAME = "SentenceEvidenceClassifier"

EvidenceSpan = tuple[str, int, int]


def redacted_evidence(
    evidence: Iterable[Any], edits: Iterable[Any]
) -> list[EvidenceSpan]:
    """Move evidence offsets from an original text to its redacted version.

    Parameters
    ----------
    evidence : iterable
        ``(code, start, end)`` triples, or objects with ``.code``, ``.start``, ``.end``,
        on the original text.
    edits : iterable
        The redaction's replacements: objects with ``.start``, ``.end`` (on the original
        text) and ``.replacement``, e.g. ``Redactor().redact(text).spans``.

    Returns
    -------
    list of (code, start, end)
        The same spans on the redacted text. A boundary inside a replaced stretch moves
        to that replacement's edge, so the span keeps covering it.
    """
    moves = sorted((int(e.start), int(e.end), len(e.replacement)) for e in edits)

    def shift(pos: int, *, is_end: bool) -> int:
        delta = 0
        for s, e, n in moves:
            if e <= pos:
                delta += n - (e - s)
            elif s < pos < e:
                return s + delta + (n if is_end else 0)
            elif s >= pos:
                break
        return pos + delta

    out = []
    for k, item in enumerate(evidence):
        code, start, end = _evidence_triple(item, f"evidence item {k}")
        new_start, new_end = shift(start, is_end=False), shift(end, is_end=True)
        if new_end > new_start:
            out.append((code, new_start, new_end))
    return out


def _evidence_triple(item: Any, where: str) -> EvidenceSpan:
    """``(code, start, end)`` of one evidence item; ``where`` names it in errors."""
    import operator

    if isinstance(item, tuple | list) and len(item) == 3:
        code, start, end = item
    elif hasattr(item, "code") and hasattr(item, "start") and hasattr(item, "end"):
        code, start, end = item.code, item.start, item.end
    else:
        raise InputError(
            f"{_NAME}.fit: {where} must be (code, start, end) or have .code/.start/.end; "
            f"got {type(item).__name__}"
            + (f" of length {len(item)}" if isinstance(item, tuple | list) else "")
        )
    try:  # numpy and pandas integers are integers too
        if isinstance(start, bool) or isinstance(end, bool):
            raise TypeError
        start, end = operator.index(start), operator.index(end)
    except TypeError:
        raise InputError(
            f"{_NAME}.fit: {where}: start and end must be integers, got "
            f"{type(start).__name__} and {type(end).__name__}"
        ) from None
    if not isinstance(code, str):
        raise InputError(f"{_NAME}.fit: {where}: the code must be a string")
    return code, start, end


class SentenceContribution(BaseModel):
    """One sentence that raised a code's score, with its exact place in the text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    term: str = Field(description="The sentence, as it stands in the text.")
    weight: float = Field(description="The sentence model's probability for the code.")
    evidence: tuple[Evidence, ...] = Field(
        default=(), description="Where the sentence is: text[start:end] == term."
    )

    @property
    def spans(self) -> tuple[tuple[int, int], ...]:
        """``(start, end)`` of the sentence."""
        return tuple((e.start, e.end) for e in self.evidence)


class SentenceExplanation(BaseModel):
    """Why a code was predicted: its probability and the sentences that showed it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    probability: float = Field(ge=0.0, le=1.0)
    threshold: float = Field(ge=0.0, le=1.0)
    terms: tuple[SentenceContribution, ...] = ()


class SentenceEvidenceClassifier(F.TextMultiLabelMixin, ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """Multi-label classifier of codes trained on the sentences that evidence them.

    Parameters
    ----------
    taxonomy : str, Path, Taxonomy or None, default "safeguarding"
        Codes are resolved through this taxonomy; ``None`` takes labels as they are
        (``level=`` and ``use_rules=`` then do not apply).
    word_ngram_range : tuple of int, default (1, 2)
        Word n-gram sizes of the sentence and report TF-IDF features.
    char_ngram_range : tuple of int or None, default (3, 4)
        Add ``char_wb`` character n-grams of these sizes to the sentence features
        (``None``: words only; faster, and about 0.02 lower macro-F1 on the bundled
        corpus).
    min_df : int, default 1
        Minimum number of sentences (reports, for the report model) a term must occur in.
    C : float, default 4.0
        Inverse regularisation of each code's sentence logistic regression.
    report_C : float, default 4.0
        The same for the whole-report model (used when ``blend > 0``).
    pooling : {"max", "top2"}, default "max"
        How sentence probabilities make a report score: the strongest sentence, or the
        mean of the strongest two (one sentence counts twice in a one-sentence report).
    blend : float in [0, 1], default 0.5
        Weight of the whole-report model: ``(1 - blend) * sentences + blend * report``.
    rule_weight : float >= 0, default 0.0
        Add ``rule_weight`` times the rule engine's per-code score
        (``humanfactors.rules``) to each code's score.
    cv : int, default 5
        Folds of the internal cross-validation that calibrates and chooses thresholds
        (``cv < 2`` skips it: thresholds are then ``default_threshold``).
    min_positives : int, default 3
        Codes with fewer positive reports keep ``default_threshold``.
    default_threshold : float, default 0.5
    random_state : int or None, default 0
        Seed of the internal folds and solvers.
    n_jobs : int or None, default None
        Threads that fit codes in parallel.

    Attributes
    ----------
    classes_ : ndarray of str
        Codes, in taxonomy order; columns of ``predict``.
    taxonomy_ : Taxonomy or None
    vectorizer_ : CountVectorizer
        Word n-gram counts of sentences; a report's counts are its sentences' sums.
    sentence_tfidf_, report_tfidf_ : TfidfTransformer
        TF-IDF weighting of sentence and report counts (``report_tfidf_`` is ``None``
        when ``blend == 0``).
    char_vectorizer_ : TfidfVectorizer or None
        Character n-gram features of sentences (``char_ngram_range``).
    sentence_coef_, sentence_intercept_ : ndarray
        One linear model per code over sentence features.
    report_coef_, report_intercept_ : ndarray or None
        The whole-report model (``None`` when ``blend == 0``).
    calibration_ : ndarray of shape (n_classes, 2)
        Platt parameters over the blended score.
    thresholds_ : ndarray of shape (n_classes,)
    n_train_, n_sentences_ : int
    training_sha256_ : str
    cv_scores_ : dict
        Out-of-fold micro and macro F1 of the internal cross-validation.

    Notes
    -----
    A report given without evidence is one training unit labelled with all its codes.
    Blank texts predict nothing and have probability 0.
    """

    def __init__(
        self,
        *,
        taxonomy: str | Path | Taxonomy | None = "safeguarding",
        word_ngram_range: tuple[int, int] = (1, 2),
        char_ngram_range: tuple[int, int] | None = (3, 4),
        min_df: int = 1,
        C: float = 4.0,
        report_C: float = 4.0,
        pooling: str = "max",
        blend: float = 0.5,
        rule_weight: float = 0.0,
        cv: int = 5,
        min_positives: int = 3,
        default_threshold: float = 0.5,
        random_state: int | None = 0,
        n_jobs: int | None = None,
    ) -> None:
        self.taxonomy = taxonomy
        self.word_ngram_range = word_ngram_range
        self.char_ngram_range = char_ngram_range
        self.min_df = min_df
        self.C = C
        self.report_C = report_C
        self.pooling = pooling
        self.blend = blend
        self.rule_weight = rule_weight
        self.cv = cv
        self.min_positives = min_positives
        self.default_threshold = default_threshold
        self.random_state = random_state
        self.n_jobs = n_jobs

    # -- validation --------------------------------------------------------------------
    def _check_params(self) -> None:
        def bad(name: str, allowed: str) -> InputError:
            return InputError(
                f"{_NAME}: parameter {name!r} must be {allowed}, got {getattr(self, name)!r}"
            )

        names = ["word_ngram_range"] + (["char_ngram_range"] if self.char_ngram_range else [])
        for name in names:
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
        for name in ("C", "report_C"):
            v = getattr(self, name)
            if not isinstance(v, int | float) or not v > 0 or not math.isfinite(v):
                raise bad(name, "a positive finite number")
        if self.pooling not in ("max", "top2"):
            raise bad("pooling", "'max' or 'top2'")
        if not isinstance(self.blend, int | float) or not 0 <= self.blend <= 1:
            raise bad("blend", "a number in [0, 1]")
        if (
            not isinstance(self.rule_weight, int | float)
            or not self.rule_weight >= 0
            or not math.isfinite(self.rule_weight)
        ):
            raise bad("rule_weight", "a finite number >= 0")
        if not isinstance(self.cv, int) or self.cv < 0:
            raise bad("cv", "an int >= 0")
        if not isinstance(self.min_positives, int) or self.min_positives < 1:
            raise bad("min_positives", "an int >= 1")
        if (
            not isinstance(self.default_threshold, int | float)
            or not 0 < self.default_threshold < 1
        ):
            raise bad("default_threshold", "a number strictly between 0 and 1")
        if self.rule_weight and self.taxonomy is None:
            raise InputError(f"{_NAME}: rule_weight > 0 needs a taxonomy; got taxonomy=None")

    # -- data --------------------------------------------------------------------------
    def _evidence_lists(
        self, evidence: Any, texts: list[str], taxonomy: Taxonomy | None
    ) -> list[list[EvidenceSpan] | None]:
        if evidence is None:
            return [None] * len(texts)
        if isinstance(evidence, str | bytes):
            raise InputError(f"{_NAME}.fit: evidence must be a sequence per report, not a string")
        items = list(evidence)
        if len(items) != len(texts):
            raise InputError(
                f"{_NAME}.fit: X has {len(texts)} texts but evidence has {len(items)} entries"
            )
        out: list[list[EvidenceSpan] | None] = []
        for i, (text, spans) in enumerate(zip(texts, items, strict=True)):
            if spans is None:
                out.append(None)
                continue
            triples = []
            for k, item in enumerate(spans):
                code, start, end = _evidence_triple(item, f"evidence item {k} of report {i}")
                if not 0 <= start < end <= len(text):
                    raise InputError(
                        f"{_NAME}.fit: evidence span ({start}, {end}) of report {i} lies "
                        f"outside its text of {len(text)} characters"
                    )
                if taxonomy is not None:
                    try:
                        code = taxonomy.resolve(code)
                    except UnknownCodeError as exc:
                        raise InputError(
                            f"{_NAME}.fit: evidence item {k} of report {i}: {exc}"
                        ) from None
                triples.append((code, start, end))
            out.append(triples)
        return out

    def _units(
        self,
        texts: Sequence[str],
        Y: NDArray[np.int_] | None = None,
        evidence: Sequence[list[EvidenceSpan] | None] | None = None,
    ) -> tuple[list[str], NDArray[np.int_], NDArray[np.int_]]:
        """Sentence texts, their report index and (when training) their labels."""
        index = {c: j for j, c in enumerate(getattr(self, "classes_", []))}
        units: list[str] = []
        owner: list[int] = []
        rows: list[NDArray[np.int_]] = []
        k = len(index)
        for i, text in enumerate(texts):
            ev = None if evidence is None else evidence[i]
            spans = sentence_spans(text) if (evidence is None or ev is not None) else []
            if evidence is not None and ev is None:
                spans = [(0, len(text))] if text.strip() else []
            for s, e in spans:
                units.append(text[s:e])
                owner.append(i)
                if Y is None:
                    continue
                if ev is None:
                    rows.append(Y[i])
                    continue
                lab = np.zeros(k, dtype=np.int64)
                for code, a, b in ev:
                    j = index.get(code)
                    if j is not None and a < e and b > s:
                        lab[j] = 1
                rows.append(lab)
        labels = np.vstack(rows) if rows else np.zeros((0, k), dtype=np.int64)
        return units, np.asarray(owner, dtype=np.int64), labels

    # -- features ----------------------------------------------------------------------
    # Sentences are tokenised once: the report model's counts are the sums of its
    # sentences' counts (so it sees no n-gram that spans two sentences).
    _PART_NAMES = (
        "vectorizer_",
        "char_vectorizer_",
        "sentence_tfidf_",
        "report_tfidf_",
        "sentence_coef_",
        "sentence_intercept_",
        "report_coef_",
        "report_intercept_",
    )

    def _fit_features(
        self, units: list[str], owner: NDArray[np.int_], n: int
    ) -> tuple[dict[str, Any], Any, Any]:
        import scipy.sparse as sp
        from sklearn.feature_extraction.text import (
            CountVectorizer,
            TfidfTransformer,
            TfidfVectorizer,
        )

        for min_df in dict.fromkeys((self.min_df, 1)):
            counter = CountVectorizer(
                ngram_range=tuple(self.word_ngram_range),
                token_pattern=F.TOKEN_PATTERN,
                min_df=min_df,
                dtype=np.float32,
            )
            try:
                counts = counter.fit_transform(units)
            except ValueError:  # no terms left after pruning: a tiny corpus
                continue
            break
        else:
            raise ModelError(f"{_NAME}.fit: the training texts contain no usable words")
        parts: dict[str, Any] = dict.fromkeys(self._PART_NAMES)
        parts["vectorizer_"] = counter
        parts["sentence_tfidf_"] = TfidfTransformer(sublinear_tf=True)
        A = parts["sentence_tfidf_"].fit_transform(counts)
        if self.char_ngram_range is not None:
            parts["char_vectorizer_"] = TfidfVectorizer(
                analyzer="char_wb",
                ngram_range=tuple(self.char_ngram_range),
                sublinear_tf=True,
                dtype=np.float32,
            )
            chars = parts["char_vectorizer_"].fit_transform(units)
            A = sp.hstack([A, chars], format="csr", dtype=np.float32)
        R = None
        if self.blend > 0:
            parts["report_tfidf_"] = TfidfTransformer(sublinear_tf=True)
            R = parts["report_tfidf_"].fit_transform(sum_rows(counts, owner, n))
        return parts, to_csr(A), None if R is None else to_csr(R)

    _features = staticmethod(features)

    def _rule_scores(self, texts: list[str], taxonomy: Taxonomy | None) -> NDArray[np.float64]:
        name = None if taxonomy is None else taxonomy.name
        return rule_scores(list(self.classes_), texts, name, self.rule_weight)

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        X: Sequence[str],
        y: Sequence[Sequence[str]],
        *,
        evidence: Sequence[Iterable[Any] | None] | None = None,
    ) -> SentenceEvidenceClassifier:
        """Learn codes from texts and, where given, the spans that evidence them.

        Parameters
        ----------
        X : sequence of str
            Report texts.
        y : sequence of sequences of str
            Each report's codes (aliases allowed).
        evidence : sequence, optional
            Per report, a sequence of ``(code, start, end)`` (or objects with ``.code``,
            ``.start``, ``.end``, such as ``CodedIncident.evidence``) with offsets into
            that report's text; ``None`` for a report (or for all) makes the whole
            report one training unit.

        Returns
        -------
        self
        """
        self._check_params()
        texts = F.check_texts(X, _NAME)
        if not texts:
            raise InputError(f"{_NAME}.fit: X is empty")
        taxonomy = None if self.taxonomy is None else load_taxonomy(self.taxonomy)
        lists = F.label_lists(y, _NAME)
        if len(lists) != len(texts):
            raise InputError(
                f"{_NAME}.fit: X has {len(texts)} texts but y has {len(lists)} label lists"
            )
        lists = F.canonical_labels(lists, taxonomy)
        classes = F.order_classes([c for codes in lists for c in codes], taxonomy)
        if not classes:
            raise InputError(f"{_NAME}.fit: no codes in y; nothing to learn")
        ev = self._evidence_lists(evidence, texts, taxonomy)
        for name in [k for k in vars(self) if k.endswith("_") and not k.startswith("__")]:
            delattr(self, name)
        self.taxonomy_ = taxonomy
        self.classes_ = np.array(classes, dtype=object)
        index = {c: j for j, c in enumerate(classes)}
        Y = np.zeros((len(texts), len(classes)), dtype=np.int64)
        for i, codes in enumerate(lists):
            for c in codes:
                Y[i, index[c]] = 1
        rules = self._rule_scores(texts, taxonomy)

        n, k = Y.shape
        folds = min(self.cv, n)
        if folds >= 2 and n >= 4:
            from sklearn.model_selection import KFold

            oof = np.zeros((n, k))
            splitter = KFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            for tr, va in splitter.split(np.arange(n)):
                parts = self._fit_parts([texts[i] for i in tr], Y[tr], [ev[i] for i in tr])
                oof[va] = self._raw_scores(parts, [texts[i] for i in va], rules[va])
            cal = np.zeros((k, 2))
            thr = np.zeros(k)
            for j in range(k):
                a, b = F.fit_platt(oof[:, j], Y[:, j])
                cal[j] = (a, b)
                thr[j] = F.best_f1_threshold(
                    F.sigmoid(a * oof[:, j] + b),
                    Y[:, j],
                    min_positives=self.min_positives,
                    default=float(self.default_threshold),
                )
            self.calibration_ = cal
            self.thresholds_ = thr
            pred = (F.sigmoid(oof * cal[:, 0] + cal[:, 1]) >= thr).astype(np.int64)
            from .classifier import _f1_scores

            self.cv_scores_ = _f1_scores(Y, pred)
            self.calibrated_ = True
        else:
            # Uncalibrated: the blended score is already a probability-like value in [0, 1].
            self.calibration_ = np.tile([1.0, 0.0], (k, 1))
            self.thresholds_ = np.full(k, float(self.default_threshold))
            self.calibrated_ = False
        parts = self._fit_parts(texts, Y, ev)
        for name in self._PART_NAMES:
            setattr(self, name, parts[name])
        self.n_sentences_ = len(sentence_units(texts)[0])
        self.n_train_ = n
        self.training_sha256_ = F.data_fingerprint(texts, lists)
        self.fitted_with_ = {"humanfactors": __version__}
        return self

    def _fit_parts(
        self, texts: list[str], Y: NDArray[np.int_], ev: Sequence[list[EvidenceSpan] | None]
    ) -> dict[str, Any]:
        from joblib import Parallel, delayed

        from .classifier import _fit_binary

        units, owner, U = self._units(texts, Y, ev)
        if not units:
            raise ModelError(f"{_NAME}.fit: the training texts contain no sentences")
        parts, A, R = self._fit_features(units, owner, len(texts))
        rs = self.random_state
        fitted = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_binary)(A, U[:, j], float(self.C), "balanced", rs)
            for j in range(U.shape[1])
        )
        parts["sentence_coef_"] = np.vstack([w for w, _ in fitted]).astype(np.float32)
        parts["sentence_intercept_"] = np.array([b for _, b in fitted])
        if R is not None:
            fitted = Parallel(n_jobs=self.n_jobs)(
                delayed(_fit_binary)(R, Y[:, j], float(self.report_C), "balanced", rs)
                for j in range(Y.shape[1])
            )
            parts["report_coef_"] = np.vstack([w for w, _ in fitted]).astype(np.float32)
            parts["report_intercept_"] = np.array([b for _, b in fitted])
        return parts

    # -- scoring -----------------------------------------------------------------------
    def _sentence_proba(self, parts: dict[str, Any], units: list[str]) -> NDArray[np.float64]:
        """Each sentence's probability of each code (for explanations)."""
        if not units:
            return np.zeros((0, len(parts["sentence_intercept_"])))
        A, _ = self._features(parts, units, np.zeros(len(units), dtype=np.int64), 1)
        return F.sigmoid(
            np.asarray(A @ parts["sentence_coef_"].T, dtype=np.float64)
            + parts["sentence_intercept_"]
        )

    def _raw_scores(
        self, parts: dict[str, Any], texts: list[str], rules: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        return self._raw_scores_and_sentences(parts, texts, rules)[0]

    def _raw_scores_and_sentences(
        self, parts: dict[str, Any], texts: list[str], rules: NDArray[np.float64]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Report scores, and each sentence's probability (sentences in text order)."""
        return scores_and_sentences(
            parts,
            texts,
            rules,
            pooling=self.pooling,
            blend=self.blend,
            rule_weight=self.rule_weight,
        )

    def _parts(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self._PART_NAMES}

    def _check_fitted(self) -> None:
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, ["sentence_coef_", "thresholds_"])

    def decision_function(self, X: Sequence[str]) -> NDArray[np.float64]:
        """The blended score of each code before calibration, ``(n_texts, n_classes)``."""
        self._check_fitted()
        texts = F.check_texts(X, _NAME)
        return self._raw_scores(self._parts(), texts, self._rule_scores(texts, self.taxonomy_))

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probability of each code (multi-label; blank texts give 0)."""
        self._check_fitted()
        texts = F.check_texts(X, _NAME)
        S = self._raw_scores(self._parts(), texts, self._rule_scores(texts, self.taxonomy_))
        return self._calibrated(S, texts)

    def _calibrated(self, S: NDArray[np.float64], texts: list[str]) -> NDArray[np.float64]:
        return calibrate(S, texts, self.calibration_ if self.calibrated_ else None)

    def predict_proba_with_evidence(
        self, X: Sequence[str]
    ) -> tuple[NDArray[np.float64], list[list[tuple[int, int, float]] | None]]:
        """Probabilities and, for every text and code, its highest-scoring sentence.

        One pass over the texts (what :meth:`explain` gives one text at a time), for
        batch pipelines. Returns ``(proba, best)`` where ``best[i][j]`` is
        ``(start, end, sentence_probability)`` of text ``i``'s strongest sentence for
        ``classes_[j]``, or ``best[i]`` is None for a text with no sentences.
        """
        self._check_fitted()
        texts = F.check_texts(X, _NAME)
        rules = self._rule_scores(texts, self.taxonomy_)
        S, P = self._raw_scores_and_sentences(self._parts(), texts, rules)
        return self._calibrated(S, texts), best_sentences(texts, P)

    def predict(self, X: Sequence[str]) -> NDArray[np.int_]:
        """Indicator matrix over ``classes_``: 1 where a probability reaches its threshold."""
        P = self.predict_proba(X)
        return (self.thresholds_ <= P).astype(np.int64)

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

    def proba_at_level(self, X: Sequence[str], level: int) -> tuple[list[str], NDArray[np.float64]]:
        """Probabilities of the codes at taxonomy ``level`` (noisy-OR of their descendants)."""
        P = self.predict_proba(X)
        codes, groups = self._level_groups(level)
        out = (
            np.column_stack([1.0 - np.prod(1.0 - P[:, g], axis=1) for g in groups])
            if codes
            else np.zeros((len(P), 0))
        )
        return codes, out

    def predict_codes(self, X: Sequence[str], *, level: int | None = None) -> list[list[str]]:
        """Predicted codes of each text, most probable first (ancestors at ``level=k``)."""
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
            chosen = [
                (1.0 - float(np.prod(1.0 - row[g])), code)
                for code, g in zip(codes, groups, strict=True)
                if hit[g].any()
            ]
            chosen.sort(key=lambda t: -t[0])
            result.append([c for _, c in chosen])
        return result

    def score(self, X: Sequence[str], y: Any, sample_weight: Any = None) -> float:
        """Micro-averaged F1 of :meth:`predict` against code lists ``y``."""
        from sklearn.metrics import f1_score

        self._check_fitted()
        lists = F.canonical_labels(F.label_lists(y, _NAME), self.taxonomy_)
        index = {c: j for j, c in enumerate(self.classes_)}
        Y = np.zeros((len(lists), len(index)), dtype=np.int64)
        for i, codes in enumerate(lists):
            for c in codes:
                if c in index:
                    Y[i, index[c]] = 1
        return float(
            f1_score(
                Y, self.predict(X), average="micro", zero_division=0.0, sample_weight=sample_weight
            )
        )

    # -- explanations ------------------------------------------------------------------
    def explain(
        self, text: str, *, top: int = 3, codes: Sequence[str] | None = None
    ) -> list[SentenceExplanation]:
        """The sentences behind each predicted code, strongest first.

        Parameters
        ----------
        text : str
            One report.
        top : int, default 3
            Sentences per code.
        codes : sequence of str, optional
            Explain these codes (aliases allowed) instead of the predicted ones.

        Returns
        -------
        list of SentenceExplanation
            One per code, most probable first. Each term is a sentence with its exact
            span (``text[start:end] == term.term``) and the sentence model's probability.
        """
        self._check_fitted()
        if not isinstance(text, str):
            raise InputError(f"{_NAME}.explain: text must be str, got {type(text).__name__}")
        if not isinstance(top, int) or isinstance(top, bool) or top < 1:
            raise InputError(f"{_NAME}.explain: top must be an int >= 1, got {top!r}")
        proba = self.predict_proba([text])[0]
        if codes is None:
            order = np.argsort(-proba, kind="stable")
            cols = [int(j) for j in order if proba[j] >= self.thresholds_[j]]
        else:
            index = {c: j for j, c in enumerate(self.classes_)}
            cols = []
            for code in codes:
                key = code if self.taxonomy_ is None else self.taxonomy_.resolve(code)
                if key not in index:
                    raise InputError(f"{_NAME}.explain: code {key!r} is not one this model learned")
                cols.append(index[key])
        if not cols:
            return []
        spans = sentence_spans(text)
        P = self._sentence_proba(self._parts(), [text[s:e] for s, e in spans])
        result = []
        for j in cols:
            best: list[int] = [int(i) for i in np.argsort(-P[:, j], kind="stable")[:top]]
            terms = tuple(
                SentenceContribution(
                    term=text[spans[i][0] : spans[i][1]],
                    weight=float(P[i, j]),
                    evidence=(Evidence.from_span(text, *spans[i]),),
                )
                for i in best
            )
            result.append(
                SentenceExplanation(
                    code=str(self.classes_[j]),
                    probability=float(proba[j]),
                    threshold=float(self.thresholds_[j]),
                    terms=terms,
                )
            )
        return result

