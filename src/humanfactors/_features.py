"""Private helpers of the classifier: labels, calibration, thresholds, term spans.

Nothing here is public API; :mod:`humanfactors.classifier` is the entry point.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .exceptions import InputError
from .taxonomy import Taxonomy

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

    from .taxonomy import Taxonomy

#: The word token pattern of the default word vectorizer; :func:`token_spans` uses it so
#: that explanation spans match the features exactly.
TOKEN_PATTERN = r"(?u)\b\w\w+\b"
_TOKEN_RE = re.compile(TOKEN_PATTERN)


def check_texts(X: Any, estimator: str) -> list[str]:
    """``X`` as a list of str, refusing a bare string and non-string items (by index)."""
    if isinstance(X, str | bytes):
        raise InputError(
            f"{estimator} expects a sequence of texts, got a single {type(X).__name__}; "
            "wrap it in a list"
        )
    if hasattr(X, "ndim") and getattr(X, "ndim", 1) != 1:
        raise InputError(
            f"{estimator} expects a 1-D sequence of texts, got an array with ndim={X.ndim}"
        )
    try:
        texts = list(X)
    except TypeError:
        raise InputError(
            f"{estimator} expects a sequence of texts, got {type(X).__name__}"
        ) from None
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise InputError(f"{estimator}: X[{i}] is {type(t).__name__}, expected str")
    return texts


def is_indicator(y: Any) -> bool:
    """True for a 2-D numeric indicator matrix (numpy or scipy sparse)."""
    if hasattr(y, "toarray") and hasattr(y, "shape"):
        return True
    if isinstance(y, np.ndarray):
        return y.ndim == 2 and y.dtype.kind in "biuf"
    return False


def label_lists(y: Any, estimator: str) -> list[list[str]]:
    """``y`` as a list of lists of str: each item must be a sequence of codes, not a string."""
    if isinstance(y, str | bytes):
        raise InputError(f"{estimator}: y must be a sequence of code lists, got a single string")
    if y is None or not isinstance(y, Iterable):
        raise InputError(
            f"{estimator}: y must be a sequence of code lists, got {type(y).__name__}"
        )
    out: list[list[str]] = []
    for i, item in enumerate(y):
        if isinstance(item, str | bytes):
            raise InputError(
                f"{estimator}: y[{i}] is a string; give each report's codes as a list, "
                "e.g. [['ERR.LAPSE'], []]"
            )
        try:
            codes = list(item)
        except TypeError:
            raise InputError(
                f"{estimator}: y[{i}] is {type(item).__name__}, expected a list of codes"
            ) from None
        for code in codes:
            if not isinstance(code, str):
                raise InputError(
                    f"{estimator}: y[{i}] holds a {type(code).__name__}, expected str codes"
                )
        out.append(codes)
    return out


def canonical_labels(lists: Sequence[Sequence[str]], taxonomy: Taxonomy | None) -> list[list[str]]:
    """Resolve aliases through the taxonomy (unknown codes raise UnknownCodeError); dedupe."""
    out: list[list[str]] = []
    cache: dict[str, str] = {}
    for codes in lists:
        seen: dict[str, None] = {}
        for code in codes:
            if taxonomy is None:
                key = code.strip()
                if not key:
                    raise InputError("an empty code was given among the labels")
            else:
                key = cache.get(code) or taxonomy.resolve(code)
                cache[code] = key
            seen[key] = None
        out.append(list(seen))
    return out


def order_classes(codes: Iterable[str], taxonomy: Taxonomy | None) -> list[str]:
    """Codes in taxonomy order (parents before children), or sorted without a taxonomy."""
    unique = set(codes)
    if taxonomy is None:
        return sorted(unique)
    rank = {c: i for i, c in enumerate(taxonomy.codes)}
    return sorted(unique, key=lambda c: (rank.get(c, len(rank)), c))


def data_fingerprint(texts: Sequence[str], labels: Sequence[Sequence[str]]) -> str:
    """SHA-256 over texts and their (sorted) codes: the training data's identity."""
    h = hashlib.sha256()
    for text, codes in zip(texts, labels, strict=True):
        blob = text.encode("utf-8", "surrogatepass")
        h.update(len(blob).to_bytes(8, "little"))
        h.update(blob)
        h.update("\x1f".join(sorted(codes)).encode("utf-8", "surrogatepass"))
        h.update(b"\x1e")
    return h.hexdigest()


# -- calibration and thresholds ------------------------------------------------------------
def fit_platt(scores: NDArray[np.float64], y: NDArray[np.int_]) -> tuple[float, float]:
    """Platt scaling ``p = 1 / (1 + exp(-(a*s + b)))`` with Platt's smoothed targets.

    The smoothed targets keep the fit finite when a label has one positive, or none,
    which plain logistic regression on the scores does not.
    """
    s = np.asarray(scores, dtype=np.float64)
    n_pos = float(y.sum())
    n_neg = float(len(y) - n_pos)
    t = np.where(y > 0, (n_pos + 1.0) / (n_pos + 2.0), 1.0 / (n_neg + 2.0))
    a, b = 0.0, float(np.log((n_pos + 1.0) / (n_neg + 1.0)))

    def loss(a: float, b: float) -> float:
        z = a * s + b
        # log(1 + exp(z)) - t*z, computed stably
        return float(np.sum(np.logaddexp(0.0, z) - t * z))

    current = loss(a, b)
    ridge = 1e-9
    for _ in range(100):
        p = sigmoid(a * s + b)
        g = p - t
        w = p * (1.0 - p)
        ga, gb = float(np.dot(g, s)), float(g.sum())
        h11 = float(np.dot(w, s * s)) + ridge
        h12 = float(np.dot(w, s))
        h22 = float(w.sum()) + ridge
        det = h11 * h22 - h12 * h12
        if det <= 0:
            break
        da = (h22 * ga - h12 * gb) / det
        db = (h11 * gb - h12 * ga) / det
        # Newton with backtracking (as in Platt's and Lin et al.'s algorithm): a full
        # step can overshoot when the classes are (nearly) separable.
        step = 1.0
        while step > 1e-10:
            na, nb = a - step * da, b - step * db
            new = loss(na, nb)
            if new < current + 1e-4 * step * (ga * -da + gb * -db):
                break
            step /= 2.0
        else:
            break
        a, b, improved = na, nb, current - new
        current = new
        if improved < 1e-10 * max(1.0, abs(current)):
            break
    if not (np.isfinite(a) and np.isfinite(b)) or a <= 0:
        # A score that does not rank positives above negatives carries no signal.
        a, b = 0.0, float(np.log((n_pos + 1.0) / (n_neg + 1.0)))
    return float(a), float(b)


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    """The logistic function, without overflow warnings."""
    out: NDArray[np.float64] = 1.0 / (1.0 + np.exp(-np.clip(z, -35.0, 35.0)))
    return out


def best_f1_threshold(
    proba: NDArray[np.float64], y: NDArray[np.int_], *, min_positives: int, default: float = 0.5
) -> float:
    """The probability threshold that maximises F1 on ``(proba, y)``.

    The threshold sits halfway between the last accepted and the first rejected
    probability, so that it is not tied to one training example. With fewer than
    ``min_positives`` positives the estimate is noise, and ``default`` is used.
    """
    n_pos = int(y.sum())
    if n_pos < max(1, min_positives):
        return default
    order = np.argsort(-proba, kind="stable")
    p = proba[order]
    tp = np.cumsum(y[order])
    k = np.arange(1, len(p) + 1)
    f1 = 2.0 * tp / (k + n_pos)
    # Only cut between distinct probabilities: ties are accepted or rejected together.
    distinct = np.r_[p[:-1] > p[1:], True]
    f1 = np.where(distinct, f1, -1.0)
    i = int(np.argmax(f1))
    thr = (p[i] + p[i + 1]) / 2.0 if i + 1 < len(p) else p[i] * 0.5
    return float(np.clip(thr, 0.001, 0.999))


# -- spans for explanations ----------------------------------------------------------------
def token_spans(text: str) -> list[tuple[str, int, int]]:
    """``(lowercased token, start, end)`` for each word token of ``text``.

    Matching on the original text (and lowercasing each token) keeps ``start`` and ``end``
    exact even where lowercasing would change the text's length.
    """
    return [(m.group().lower(), m.start(), m.end()) for m in _TOKEN_RE.finditer(text)]


class TextMultiLabelMixin:
    """scikit-learn plumbing shared by the library's text estimators.

    Declares string input and multi-label output, and pickles ``taxonomy`` /
    ``taxonomy_`` as plain data, so that allow-list loaders (skops) need not trust a
    custom class of this library for them. Put it first among the bases.
    """

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()  # type: ignore[misc]
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        tags.input_tags.one_d_array = True
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        if tags.classifier_tags is not None:
            tags.classifier_tags.multi_label = True
        return tags

    def __getstate__(self) -> dict[str, Any]:
        state: dict[str, Any] = dict(super().__getstate__())  # type: ignore[call-overload]
        for key in ("taxonomy", "taxonomy_"):
            value = state.get(key)
            if isinstance(value, Taxonomy):
                state[key] = {"__taxonomy__": value.to_dict(), "source": value.source}
            elif isinstance(value, Path):
                state[key] = {"__path__": str(value)}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        from .taxonomy import _from_mapping

        state = dict(state)
        for key in ("taxonomy", "taxonomy_"):
            value = state.get(key)
            if isinstance(value, dict) and "__taxonomy__" in value:
                state[key] = _from_mapping(
                    value["__taxonomy__"], str(value.get("source", "<model>"))
                )
            elif isinstance(value, dict) and "__path__" in value:
                state[key] = Path(value["__path__"])
        super().__setstate__(state)  # type: ignore[misc]


# -- fast character n-grams --------------------------------------------------------------
# A ``char_wb`` vectorizer counts the n-grams of each whitespace-separated word padded with
# spaces, so a document's counts are the sums of its words' counts. Words repeat across
# sentences and reports: their vocabulary columns are computed once and cached per fitted
# vectorizer, which makes transform several times faster than scikit-learn's per-n-gram
# loop while giving the same matrix.
_CHAR_CACHE_MAX = 50_000  # words; a stream of new words refills it (memory stays flat)
_char_caches: dict[int, tuple[Any, dict[str, NDArray[np.int32]]]] = {}


def _word_columns(word: str, vocab: dict[str, int], min_n: int, max_n: int) -> NDArray[np.int32]:
    w = " " + word + " "
    w_len = len(w)
    cols: list[int] = []
    for n in range(min_n, max_n + 1):
        if w_len <= n:  # a short word is counted once, as itself
            j = vocab.get(w)
            if j is not None:
                cols.append(j)
            break
        for i in range(w_len - n + 1):
            j = vocab.get(w[i : i + n])
            if j is not None:
                cols.append(j)
    return np.asarray(cols, dtype=np.int32)


def char_wb_transform(vectorizer: Any, docs: Sequence[str]) -> Any:
    """``vectorizer.transform(docs)`` for a fitted ``char_wb`` TfidfVectorizer, faster.

    Falls back to the vectorizer's own transform for any setting this shortcut does not
    reproduce exactly (a custom preprocessor or analyzer, binary counts, non-str input).
    """
    import scipy.sparse as sp

    v = vectorizer
    if (
        v.analyzer != "char_wb"
        or v.preprocessor is not None
        or v.binary
        or v.input != "content"
        or not hasattr(v, "vocabulary_")
        or any(not isinstance(d, str) for d in docs)
    ):
        return v.transform(docs)
    entry = _char_caches.get(id(v))
    if entry is None or entry[0] is not v:
        if len(_char_caches) >= 8:
            _char_caches.clear()
        entry = _char_caches[id(v)] = (v, {})
    cache = entry[1]
    if len(cache) > _CHAR_CACHE_MAX:
        cache.clear()
    vocab = v.vocabulary_
    min_n, max_n = v.ngram_range
    preprocess = v.build_preprocessor()
    pieces: list[NDArray[np.int32]] = []
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    total = 0
    for row, doc in enumerate(docs):
        for word in preprocess(doc).split():
            cols = cache.get(word)
            if cols is None:
                cols = cache[word] = _word_columns(word, vocab, min_n, max_n)
            if cols.size:
                pieces.append(cols)
                total += cols.size
        indptr[row + 1] = total
    indices = np.concatenate(pieces) if pieces else np.zeros(0, dtype=np.int32)
    counts = sp.csr_matrix(
        (np.ones(total, dtype=v.dtype), indices, indptr),
        shape=(len(docs), len(vocab)),
        dtype=v.dtype,
    )
    counts.sum_duplicates()  # also sorts the indices, as scikit-learn's counts are
    return v._tfidf.transform(counts, copy=False)


# -- fast word n-grams -------------------------------------------------------------------
# The documents of a batch are tokenised one regex call each and their tokens joined into
# one list; the n-grams are looked up with ``map`` over the whole batch (no Python
# statement per n-gram), and an n-gram counts only where its first and last tokens come
# from the same document.


def word_count_transform(counter: Any, docs: Sequence[str]) -> Any:
    """``counter.transform(docs)`` for a fitted word-n-gram CountVectorizer, faster.

    Gives the same matrix; falls back to the vectorizer's own transform for settings this
    shortcut does not reproduce (custom analyzer, tokenizer or preprocessor, stop words,
    binary counts, non-str input).
    """
    import itertools

    import scipy.sparse as sp

    v = counter
    if (
        v.analyzer != "word"
        or v.preprocessor is not None
        or v.tokenizer is not None
        or v.stop_words is not None
        or v.binary
        or v.input != "content"
        or not hasattr(v, "vocabulary_")
        or any(not isinstance(d, str) for d in docs)
    ):
        return v.transform(docs)
    preprocess = v.build_preprocessor()
    findall = re.compile(v.token_pattern).findall
    per_doc = [findall(preprocess(d)) for d in docs]
    toks = list(itertools.chain.from_iterable(per_doc))
    doc_of = np.repeat(np.arange(len(docs), dtype=np.int64), [len(t) for t in per_doc])
    get = v.vocabulary_.get
    min_n, max_n = v.ngram_range
    cols: list[NDArray[np.int64]] = []
    rows: list[NDArray[np.int64]] = []
    for n in range(min_n, max_n + 1):
        if len(toks) < n:
            break
        # the shifted slices are shorter by design: zip stops at the last whole n-gram
        grams = toks if n == 1 else map(" ".join, zip(*(toks[k:] for k in range(n)), strict=False))
        col = np.fromiter(map(get, grams, itertools.repeat(-1)), dtype=np.int64)
        starts = doc_of[: len(col)]
        hit = np.flatnonzero((col >= 0) & (starts == doc_of[n - 1 :]))
        cols.append(col[hit])
        rows.append(starts[hit])
    col_all = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    row_all = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    counts = sp.csr_matrix(
        (np.ones(len(col_all), dtype=v.dtype), (row_all, col_all)),
        shape=(len(docs), len(v.vocabulary_)),
        dtype=v.dtype,
    )
    counts.sum_duplicates()
    return counts
