"""Sentence-model scoring, and a fitted model in a prediction-only form free of scikit-learn.

The functions here turn texts into sentence and report features and scores. The
:class:`~humanfactors.sentence_model.SentenceEvidenceClassifier` calls them when it
predicts; so does :class:`FrozenSentenceModel`, the same fitted model with its
scikit-learn parts replaced by the few arrays that prediction reads. Both give the same
probabilities, because the same code scores them.

The frozen form exists for the pipeline: loading it imports neither scikit-learn (about
a second in a fresh process, most of the time to a first analysis) nor any pickled code.
It is saved as a plain NumPy ``.npz`` archive of arrays and a JSON header, read with
``allow_pickle=False``, so a frozen file is data and loading one runs no code.

Examples
--------
>>> from humanfactors.sentence_model import SentenceEvidenceClassifier
>>> texts = ["I forgot to send the referral.", "We met the family at home.",
...          "I forgot to record the visit.", "The visit went to plan."]
>>> model = SentenceEvidenceClassifier(cv=0).fit(texts, [["ERR.LAPSE"], [], ["ERR.LAPSE"], []])
>>> frozen = freeze(model)
>>> bool((frozen.predict_proba(texts) == model.predict_proba(texts)).all())
True
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from . import _features as F
from ._version import __version__
from .exceptions import ModelError, ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

__all__ = ["FrozenSentenceModel", "freeze", "load_frozen", "save_frozen", "sentence_spans"]

_NAME = "FrozenSentenceModel"
_FORMAT = 1
_TERM_SEP = "\x00"


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of each sentence of ``text``, surrounding whitespace excluded.

    Sentences are those the rules read (:func:`humanfactors.rules._text.sentence_spans`):
    a sentence ends at ``.``, ``!`` or ``?`` (kept) before whitespace or the end of the
    text, or at a line break, so "4.40pm", "0.5" and "Dr. Patel" stay whole; fragments
    holding no letter or digit are dropped.

    Examples
    --------
    >>> text = "I forgot.  Then I called!\\nDone"
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['I forgot.', 'Then I called!', 'Done']
    >>> text = "Dad rang at 4.40pm. Dr. Patel saw him."
    >>> [text[s:e] for s, e in sentence_spans(text)]
    ['Dad rang at 4.40pm.', 'Dr. Patel saw him.']
    """
    from .rules._text import sentence_spans as rule_sentences

    out = []
    for start, end in zip(*rule_sentences(text), strict=True):
        while end > start and text[end - 1].isspace():
            end -= 1
        if any(ch.isalnum() for ch in text[start:end]):
            out.append((start, end))
    return out


# -- scoring, shared by the estimator and the frozen form -------------------------------
Spans = list[list[tuple[int, int]]]


def sentence_units(
    texts: Sequence[str], spans: Spans | None = None
) -> tuple[list[str], NDArray[np.int_]]:
    """The sentences of ``texts`` in order, and the index of the text each comes from.

    ``spans``, each text's :func:`sentence_spans` when the caller has them already.
    """
    units: list[str] = []
    owner: list[int] = []
    for i, text in enumerate(texts):
        for s, e in sentence_spans(text) if spans is None else spans[i]:
            units.append(text[s:e])
            owner.append(i)
    return units, np.asarray(owner, dtype=np.int64)


def sum_rows(counts: Any, owner: NDArray[np.int_], n: int) -> Any:
    """Row ``i`` of the result is the sum of the rows of ``counts`` owned by report ``i``."""
    import scipy.sparse as sp

    M = sp.csr_matrix(
        (np.ones(len(owner), dtype=np.float32), (owner, np.arange(len(owner)))),
        shape=(n, len(owner)),
    )
    return M @ counts


def to_csr(A: Any) -> Any:
    """CSR with sorted, summed indices and float32 values."""
    A = A.tocsr().astype(np.float32)
    A.sum_duplicates()
    A.sort_indices()
    return A


def features(
    parts: dict[str, Any], units: list[str], owner: NDArray[np.int_], n: int
) -> tuple[Any, Any]:
    """Sentence features of ``units`` and report features of the ``n`` reports they make.

    Sentences are tokenised once: a report's word counts are the sums of its sentences'
    counts (so the report model sees no n-gram that spans two sentences).
    """
    import scipy.sparse as sp

    counts = F.word_count_transform(parts["vectorizer_"], units)
    A = parts["sentence_tfidf_"].transform(counts)
    if parts["char_vectorizer_"] is not None:
        A = sp.hstack(
            [A, F.char_wb_transform(parts["char_vectorizer_"], units)],
            format="csr",
            dtype=np.float32,
        )
    R = None
    if parts["report_tfidf_"] is not None:
        R = parts["report_tfidf_"].transform(sum_rows(counts, owner, n))
    return to_csr(A), None if R is None else to_csr(R)


def scores_and_sentences(
    parts: dict[str, Any],
    texts: list[str],
    rules: NDArray[np.float64],
    *,
    pooling: str,
    blend: float,
    rule_weight: float,
    spans: Spans | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Report scores, and each sentence's probability (sentences in text order).

    ``parts`` may hold ``sentence_coef_T`` and ``report_coef_T``, the coefficient
    matrices transposed into C order, which saves a copy on every call.
    """
    units, owner = sentence_units(texts, spans)
    n, k = len(texts), len(parts["sentence_intercept_"])
    S = np.zeros((n, k))
    Q = np.zeros((n, k))
    P = np.zeros((0, k))
    if units:
        A, R = features(parts, units, owner, n)
        P = F.sigmoid(
            np.asarray(A @ _transposed(parts, "sentence_coef_"), dtype=np.float64)
            + parts["sentence_intercept_"]
        )
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        rows = owner[starts]
        S[rows] = np.maximum.reduceat(P, starts, axis=0)
        if pooling == "top2":
            bounds = np.r_[starts, len(owner)]
            for r, lo, hi in zip(rows, bounds[:-1], bounds[1:], strict=True):
                if hi - lo >= 2:
                    S[r] = np.partition(P[lo:hi], hi - lo - 2, axis=0)[-2:].mean(axis=0)
        if R is not None:
            Q = np.asarray(R @ _transposed(parts, "report_coef_"), dtype=np.float64)
    if parts["report_coef_"] is not None:
        Q = F.sigmoid(Q + parts["report_intercept_"])
        S = (1.0 - blend) * S + blend * Q
    if rule_weight:
        S = S + rule_weight * rules
    return S, P


def _transposed(parts: dict[str, Any], name: str) -> Any:
    W = parts.get(name[:-1] + "_T")
    return parts[name].T if W is None else W


def rule_scores(
    classes: Sequence[str], texts: list[str], taxonomy_name: str | None, rule_weight: float
) -> NDArray[np.float64]:
    """Per text and class, the rule engine's score (zeros when rules are not used)."""
    out = np.zeros((len(texts), len(classes)))
    if not rule_weight or taxonomy_name is None:
        return out
    from .rules import RuleSet

    codes, scores = RuleSet.default(taxonomy_name).code_scores(texts)
    col = {c: j for j, c in enumerate(codes)}
    for k, c in enumerate(classes):
        j = col.get(c)
        if j is not None:
            out[:, k] = scores[:, j]
    return out


def calibrate(
    S: NDArray[np.float64], texts: list[str], calibration: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Probabilities from blended scores (Platt parameters, or clipping when None)."""
    if calibration is None:
        P = np.clip(S, 0.0, 1.0)
    else:
        P = F.sigmoid(S * calibration[:, 0] + calibration[:, 1])
    blank = np.array([not t.strip() for t in texts], dtype=bool)
    P[blank] = 0.0
    return P


def best_sentences(
    texts: list[str], P: NDArray[np.float64], spans_of: Spans | None = None
) -> list[list[tuple[int, int, float]] | None]:
    """Per text and class, ``(start, end, probability)`` of its strongest sentence."""
    best: list[list[tuple[int, int, float]] | None] = []
    offset = 0
    for i, text in enumerate(texts):
        spans = sentence_spans(text) if spans_of is None else spans_of[i]
        if not spans:
            best.append(None)
            continue
        block = P[offset : offset + len(spans)]
        top = block.argmax(axis=0)
        best.append([(spans[t][0], spans[t][1], float(block[t, j])) for j, t in enumerate(top)])
        offset += len(spans)
    return best


# -- the prediction-only parts ----------------------------------------------------------
class _Counts:
    """What prediction reads of a fitted word-n-gram ``CountVectorizer``."""

    analyzer = "word"
    preprocessor = None
    tokenizer = None
    stop_words = None
    binary = False
    input = "content"

    def __init__(
        self,
        vocabulary: dict[str, int],
        token_pattern: str,
        ngram_range: tuple[int, int],
        lowercase: bool,
    ) -> None:
        self.vocabulary_ = vocabulary
        self.token_pattern = token_pattern
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.dtype = np.float32

    def build_preprocessor(self) -> Callable[[str], str]:
        return str.lower if self.lowercase else str


class _Tfidf:
    """What prediction reads of a fitted ``TfidfTransformer`` (l2 norm or none)."""

    def __init__(
        self, idf: NDArray[np.floating[Any]] | None, sublinear_tf: bool, norm: str | None
    ) -> None:
        self.idf_ = idf
        self.sublinear_tf = sublinear_tf
        self.norm = norm

    def transform(self, X: Any, copy: bool = True) -> Any:
        X = X.tocsr()
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        elif copy:
            X = X.copy()
        if self.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1.0
        if self.idf_ is not None:
            X.data *= self.idf_[X.indices]
        if self.norm == "l2":
            # as scikit-learn's in-place row normalisation: float64 sums of squares
            sq = (X.data * X.data).astype(np.float64)
            sums = np.zeros(X.shape[0])
            lengths = np.diff(X.indptr)
            nonempty = lengths > 0
            if sq.size:
                sums[nonempty] = np.add.reduceat(sq, X.indptr[:-1][nonempty])
            norms = np.sqrt(sums)
            norms[norms == 0.0] = 1.0
            X.data[:] = X.data / np.repeat(norms, lengths)
        return X


class _CharTfidf:
    """What prediction reads of a fitted ``char_wb`` ``TfidfVectorizer``."""

    analyzer = "char_wb"
    preprocessor = None
    binary = False
    input = "content"

    def __init__(
        self,
        vocabulary: dict[str, int],
        ngram_range: tuple[int, int],
        lowercase: bool,
        tfidf: _Tfidf,
    ) -> None:
        self.vocabulary_ = vocabulary
        self.ngram_range = ngram_range
        self.lowercase = lowercase
        self.dtype = np.float32
        self._tfidf = tfidf

    def build_preprocessor(self) -> Callable[[str], str]:
        return str.lower if self.lowercase else str


# -- the frozen model ---------------------------------------------------------------------
class FrozenSentenceModel:
    """A fitted :class:`~humanfactors.sentence_model.SentenceEvidenceClassifier`, prediction only.

    Made by :func:`freeze`; saved and loaded by :func:`save_frozen` and
    :func:`load_frozen`. It has the estimator's ``classes_``, ``thresholds_``,
    ``predict_proba``, ``predict_proba_with_evidence``, ``predict`` and
    ``predict_codes`` (same results), and nothing for training or explaining.
    """

    def __init__(self, meta: dict[str, Any], parts: dict[str, Any], arrays: dict[str, Any]) -> None:
        self._meta = meta
        self._parts = parts
        for name in ("sentence_coef_", "report_coef_"):  # C order: no copy per product
            if parts.get(name) is not None:
                W = np.ascontiguousarray(parts[name].T)
                parts[name[:-1] + "_T"] = W
                parts[name] = W.T  # a view: one copy of the weights in memory
        self.classes_ = np.array(meta["classes"], dtype=object)
        self.thresholds_ = np.asarray(arrays["thresholds"], dtype=np.float64)
        self.calibration_ = arrays.get("calibration")
        self.pooling: str = meta["pooling"]
        self.blend = float(meta["blend"])
        self.rule_weight = float(meta["rule_weight"])
        self.taxonomy_name: str | None = meta["taxonomy"]
        self.model_version_: str = meta["model_version"]

    def __repr__(self) -> str:
        return (
            f"{_NAME}(classes={len(self.classes_)}, taxonomy={self.taxonomy_name!r}, "
            f"model_version={self.model_version_!r})"
        )

    def _scores(self, X: Sequence[str]) -> tuple[list[str], Any, Any, Spans]:
        texts = F.check_texts(X, _NAME)
        rules = rule_scores(list(self.classes_), texts, self.taxonomy_name, self.rule_weight)
        spans = [sentence_spans(t) for t in texts]
        S, P = scores_and_sentences(
            self._parts,
            texts,
            rules,
            pooling=self.pooling,
            blend=self.blend,
            rule_weight=self.rule_weight,
            spans=spans,
        )
        return texts, S, P, spans

    def predict_proba(self, X: Sequence[str]) -> NDArray[np.float64]:
        """Calibrated probability of each code (blank texts give 0)."""
        texts, S, _, _ = self._scores(X)
        return calibrate(S, texts, self.calibration_)

    def predict_proba_with_evidence(
        self, X: Sequence[str]
    ) -> tuple[NDArray[np.float64], list[list[tuple[int, int, float]] | None]]:
        """Probabilities and each text's strongest sentence per code (see the estimator)."""
        texts, S, P, spans = self._scores(X)
        return calibrate(S, texts, self.calibration_), best_sentences(texts, P, spans)

    def predict(self, X: Sequence[str]) -> NDArray[np.int_]:
        """Indicator matrix over ``classes_``."""
        return (self.thresholds_ <= self.predict_proba(X)).astype(np.int64)

    def predict_codes(self, X: Sequence[str]) -> list[list[str]]:
        """Predicted codes of each text, most probable first."""
        P = self.predict_proba(X)
        out = []
        for row, hit in zip(P, self.thresholds_ <= P, strict=True):
            idx = np.flatnonzero(hit)
            idx = idx[np.argsort(-row[idx], kind="stable")]
            out.append([str(self.classes_[j]) for j in idx])
        return out


def _terms(vocabulary: dict[str, int], what: str) -> list[str]:
    terms = [""] * len(vocabulary)
    for term, j in vocabulary.items():
        if _TERM_SEP in term:
            raise ModelError(f"{_NAME}: a {what} term holds a NUL character; cannot save")
        terms[j] = term
    return terms


def _tfidf_of(t: Any) -> tuple[_Tfidf, dict[str, Any]]:
    norm = t.norm
    if norm not in ("l2", None):
        raise ModelError(f"{_NAME}: TF-IDF norm {norm!r} is not supported; use 'l2' or None")
    idf = np.asarray(t.idf_) if getattr(t, "use_idf", True) else None
    return _Tfidf(idf, bool(t.sublinear_tf), norm), {
        "sublinear_tf": bool(t.sublinear_tf),
        "norm": norm,
    }


def freeze(model: Any) -> FrozenSentenceModel:
    """The prediction-only form of a fitted ``SentenceEvidenceClassifier``.

    Raises
    ------
    ModelError
        The model is not fitted, or uses a feature setting the frozen form does not
        reproduce (a custom tokenizer, preprocessor, stop words or binary counts).
    """
    if not hasattr(model, "sentence_coef_") or not hasattr(model, "thresholds_"):
        raise ModelError(f"{_NAME}: freeze needs a fitted SentenceEvidenceClassifier")
    v = model.vectorizer_
    if (
        v.analyzer != "word"
        or v.preprocessor is not None
        or v.tokenizer is not None
        or v.stop_words is not None
        or v.binary
        or v.strip_accents is not None
    ):
        raise ModelError(f"{_NAME}: the word vectorizer's settings cannot be frozen")
    meta: dict[str, Any] = {
        "format": _FORMAT,
        "humanfactors": __version__,
        "classes": [str(c) for c in model.classes_],
        "pooling": str(model.pooling),
        "blend": float(model.blend),
        "rule_weight": float(model.rule_weight),
        "taxonomy": None if model.taxonomy_ is None else model.taxonomy_.name,
        "model_version": str(getattr(model, "model_version_", None) or type(model).__name__),
        "words": {
            "token_pattern": v.token_pattern,
            "ngram_range": list(v.ngram_range),
            "lowercase": bool(v.lowercase),
        },
    }
    arrays: dict[str, Any] = {"thresholds": np.asarray(model.thresholds_, dtype=np.float64)}
    if model.calibrated_:
        arrays["calibration"] = np.asarray(model.calibration_, dtype=np.float64)
    parts: dict[str, Any] = {
        "vectorizer_": _Counts(
            dict(v.vocabulary_), v.token_pattern, tuple(v.ngram_range), bool(v.lowercase)
        )
    }
    parts["sentence_tfidf_"], meta["sentence_tfidf"] = _tfidf_of(model.sentence_tfidf_)
    c = model.char_vectorizer_
    parts["char_vectorizer_"] = None
    if c is not None:
        if (
            c.analyzer != "char_wb"
            or c.preprocessor is not None
            or c.binary
            or c.strip_accents is not None
        ):
            raise ModelError(f"{_NAME}: the character vectorizer's settings cannot be frozen")
        tf, meta["char_tfidf"] = _tfidf_of(c._tfidf)
        parts["char_vectorizer_"] = _CharTfidf(
            dict(c.vocabulary_), tuple(c.ngram_range), bool(c.lowercase), tf
        )
        meta["chars"] = {"ngram_range": list(c.ngram_range), "lowercase": bool(c.lowercase)}
    parts["report_tfidf_"] = None
    if model.report_tfidf_ is not None:
        parts["report_tfidf_"], meta["report_tfidf"] = _tfidf_of(model.report_tfidf_)
    for name in ("sentence_coef_", "sentence_intercept_", "report_coef_", "report_intercept_"):
        parts[name] = getattr(model, name)
    return FrozenSentenceModel(meta, parts, arrays)


def save_frozen(frozen: FrozenSentenceModel, path: str | os.PathLike[str]) -> Path:
    """Write ``frozen`` to ``path`` as an ``.npz`` archive of arrays (no pickles)."""
    path = Path(path)
    parts = frozen._parts
    arrays: dict[str, Any] = {
        "meta": np.frombuffer(json.dumps(frozen._meta).encode("utf-8"), dtype=np.uint8),
        "thresholds": frozen.thresholds_,
    }
    if frozen.calibration_ is not None:
        arrays["calibration"] = frozen.calibration_
    vocabularies = {"word_terms": (parts["vectorizer_"], "word")}
    if parts["char_vectorizer_"] is not None:
        vocabularies["char_terms"] = (parts["char_vectorizer_"], "character")
    for key, (vectorizer, what) in vocabularies.items():
        terms = _terms(vectorizer.vocabulary_, what)
        arrays[key] = np.frombuffer(_TERM_SEP.join(terms).encode("utf-8"), dtype=np.uint8)
    for name, tf in (
        ("sentence_idf", parts["sentence_tfidf_"]),
        ("report_idf", parts["report_tfidf_"]),
    ):
        if tf is not None and tf.idf_ is not None:
            arrays[name] = tf.idf_
    if parts["char_vectorizer_"] is not None and parts["char_vectorizer_"]._tfidf.idf_ is not None:
        arrays["char_idf"] = parts["char_vectorizer_"]._tfidf.idf_
    for name in ("sentence_coef_", "sentence_intercept_", "report_coef_", "report_intercept_"):
        if parts[name] is not None:
            arrays[name] = parts[name]
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path


def load_frozen(path: str | os.PathLike[str]) -> FrozenSentenceModel:
    """Read a file written by :func:`save_frozen` (arrays only: no code runs).

    Raises
    ------
    ModelLoadError
        The file is missing, damaged, of another format version, or incomplete.
    """
    where = str(path)
    try:
        with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, KeyError) as exc:
        raise ModelLoadError(
            f"{where}: not a readable frozen model ({type(exc).__name__})"
        ) from None
    try:
        meta = json.loads(arrays.pop("meta").tobytes().decode("utf-8"))
        if meta.get("format") != _FORMAT:
            raise ModelLoadError(
                f"{where}: frozen model format {meta.get('format')!r}, expected {_FORMAT}"
            )

        def vocabulary(key: str) -> dict[str, int]:
            blob: bytes = arrays.pop(key).tobytes()
            terms = blob.decode("utf-8").split(_TERM_SEP)
            return dict(zip(terms, range(len(terms)), strict=True))

        def tfidf(idf_key: str, info: dict[str, Any]) -> _Tfidf:
            return _Tfidf(arrays.get(idf_key), bool(info["sublinear_tf"]), info["norm"])

        words = meta["words"]
        parts: dict[str, Any] = {
            "vectorizer_": _Counts(
                vocabulary("word_terms"),
                words["token_pattern"],
                tuple(words["ngram_range"]),
                words["lowercase"],
            ),
            "sentence_tfidf_": tfidf("sentence_idf", meta["sentence_tfidf"]),
            "char_vectorizer_": None,
            "report_tfidf_": None,
        }
        if "chars" in meta:
            parts["char_vectorizer_"] = _CharTfidf(
                vocabulary("char_terms"),
                tuple(meta["chars"]["ngram_range"]),
                meta["chars"]["lowercase"],
                tfidf("char_idf", meta["char_tfidf"]),
            )
        if "report_tfidf" in meta:
            parts["report_tfidf_"] = tfidf("report_idf", meta["report_tfidf"])
        for name in ("sentence_coef_", "sentence_intercept_", "report_coef_", "report_intercept_"):
            parts[name] = arrays.get(name)
        n_classes = len(meta["classes"])
        if (
            parts["sentence_coef_"] is None
            or parts["sentence_coef_"].shape[0] != n_classes
            or len(arrays["thresholds"]) != n_classes
        ):
            raise ModelLoadError(
                f"{where}: frozen model arrays do not match its {n_classes} classes"
            )
    except ModelLoadError:
        raise
    except (KeyError, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise ModelLoadError(
            f"{where}: incomplete frozen model ({type(exc).__name__}: {exc})"
        ) from None
    return FrozenSentenceModel(meta, parts, arrays)
