"""Active learning: which reports to code next.

Coding reports is the expensive part of building a classifier. :func:`suggest_next`
looks at the reports nobody has coded yet and picks the ``n`` whose codes would teach the
current model most: those it is least sure about, spread over different kinds of report
so that the batch is not ``n`` near-copies of one confusing report.

How it chooses (strategy ``"diverse"``, the default):

1. **Uncertainty.** For each report and code, how close the model's probability is to
   that code's decision threshold: 1 at the threshold, 0 at certainty
   (``1 - |p - t| / max(t, 1 - t)``). A report's score is the mean over its three most
   uncertain codes, so one borderline code counts, and several count more.
2. **Diversity.** Reports are TF-IDF vectors (fitted on the candidates). Starting from the
   most uncertain report, each next pick maximises ``uncertainty x distance`` where
   distance is the cosine distance to the nearest report already picked (or already
   coded, when ``coded_texts`` is given): a weighted farthest-first traversal, the
   deterministic form of uncertainty-weighted k-means++ seeding. A near-duplicate of a
   chosen report has distance near zero and is passed over.

Strategy ``"uncertainty"`` takes the top ``n`` by uncertainty alone and ``"random"`` a
random sample; both are there for comparison (see ``benchmarks/bench_active.py``).

Examples
--------
>>> from humanfactors.classifier import HumanFactorsClassifier
>>> from humanfactors.suggest import suggest_next
>>> texts = ["she forgot to send the referral", "no interpreter was booked"] * 6
>>> model = HumanFactorsClassifier(cv=0).fit(texts, [["ERR.LAPSE"], ["FAM.LANGUAGE"]] * 6)
>>> pool = ["he forgot the interpreter", "the referral was late", "a good visit"]
>>> [s.index for s in suggest_next(model, pool, n=2)]  # doctest: +SKIP
[0, 1]
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Literal

from ._args import check_strings, check_texts
from .exceptions import InputError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

__all__ = ["STRATEGIES", "Suggestion", "code_uncertainty", "suggest_next"]

logger = logging.getLogger(__name__)

Strategy = Literal["diverse", "uncertainty", "random"]
STRATEGIES: tuple[str, ...] = ("diverse", "uncertainty", "random")
_TOP_CODES = 3


@dataclass(frozen=True)
class Suggestion:
    """One report to code next.

    Attributes
    ----------
    rank : int
        1 for the first to code.
    index : int
        Position of the report in the texts given.
    id : str
        The report's id (its index as a string when no ids were given).
    score : float
        Uncertainty in [0, 1]: 1 when the model is on the fence.
    distance : float
        Cosine distance to the nearest report picked before it, or coded already (1 for
        the first pick without coded reports; 0 for strategies without diversity).
    uncertain_codes : tuple of (str, float)
        The codes the model is least sure of, with their probabilities.
    reason : str
        The choice in words.
    """

    rank: int
    index: int
    id: str
    score: float
    distance: float
    uncertain_codes: tuple[tuple[str, float], ...]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-compatible dict (``uncertain_codes`` as a list of {code, probability})."""
        out = asdict(self)
        out["uncertain_codes"] = [
            {"code": c, "probability": round(p, 4)} for c, p in self.uncertain_codes
        ]
        return out


def _thresholds(model: Any, k: int) -> NDArray[Any]:
    import numpy as np

    thr = getattr(model, "thresholds_", None)
    if thr is None:
        return np.full(k, 0.5)
    arr = np.asarray(thr, dtype=float).ravel()
    if arr.shape != (k,):
        raise ModelError(f"model.thresholds_ has shape {arr.shape}, expected ({k},)")
    return arr


def code_uncertainty(proba: Any, thresholds: Any = 0.5) -> NDArray[Any]:
    """Per report and code, closeness of ``proba`` to the decision threshold.

    Parameters
    ----------
    proba : array of shape (n_reports, n_codes)
    thresholds : float or array of shape (n_codes,)

    Returns
    -------
    ndarray of shape (n_reports, n_codes)
        ``1 - |p - t| / max(t, 1 - t)``: 1 at the threshold, 0 at 0 or 1.

    Examples
    --------
    >>> code_uncertainty([[0.5, 0.0, 1.0, 0.75]]).round(2).tolist()
    [[1.0, 0.0, 0.0, 0.5]]
    """
    import numpy as np

    p = np.asarray(proba, dtype=float)
    if p.ndim != 2:
        raise InputError(f"proba: expected a 2-D array (reports x codes), got shape {p.shape}")
    t = np.broadcast_to(np.asarray(thresholds, dtype=float), (p.shape[1],))
    span = np.maximum(t, 1.0 - t)
    return np.clip(1.0 - np.abs(p - t) / span, 0.0, 1.0)  # type: ignore[no-any-return]


def _report_scores(u: NDArray[Any]) -> NDArray[Any]:
    import numpy as np

    if u.shape[1] == 0:
        return np.zeros(u.shape[0])
    top = min(_TOP_CODES, u.shape[1])
    return np.sort(u, axis=1)[:, -top:].mean(axis=1)  # type: ignore[no-any-return]


def _vectors(texts: list[str], coded: list[str]) -> tuple[Any, Any]:
    """L2-normalised TF-IDF rows for the candidates and the coded reports."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer

    vec = TfidfVectorizer(sublinear_tf=True, min_df=1, max_features=50_000, dtype=np.float64)
    try:
        X = vec.fit_transform(texts + coded)
    except ValueError:  # every text empty or stop words only: no vocabulary
        import scipy.sparse as sp

        X = sp.csr_matrix((len(texts) + len(coded), 1))
    return X[: len(texts)], X[len(texts) :]


def _diverse(
    scores: NDArray[Any], X: Any, C: Any, n: int
) -> tuple[list[int], list[float]]:
    """Uncertainty-weighted farthest-first selection of ``n`` rows of ``X``."""
    import numpy as np

    m = X.shape[0]
    nearest = np.ones(m)  # cosine distance to the closest chosen or coded report
    if C.shape[0]:
        sims = (X @ C.T).toarray() if hasattr(X @ C.T, "toarray") else np.asarray(X @ C.T)
        nearest = np.clip(1.0 - sims.max(axis=1), 0.0, 1.0)
    chosen: list[int] = []
    dists: list[float] = []
    available = np.ones(m, dtype=bool)
    # A small floor keeps certain-but-novel reports behind uncertain ones, not at zero.
    weight = scores + 1e-6
    for _ in range(min(n, m)):
        gain = np.where(available, weight * nearest, -1.0)
        i = int(np.argmax(gain))
        chosen.append(i)
        dists.append(float(nearest[i]))
        available[i] = False
        sim = np.asarray((X @ X[i].T).todense()).ravel()
        nearest = np.minimum(nearest, np.clip(1.0 - sim, 0.0, 1.0))
    return chosen, dists


def suggest_next(
    model: Any,
    texts: Sequence[str],
    *,
    n: int = 10,
    ids: Sequence[str] | None = None,
    strategy: Strategy = "diverse",
    coded_texts: Sequence[str] = (),
    pool_size: int | None = None,
    proba: Any = None,
    random_state: int | None = 0,
) -> list[Suggestion]:
    """Pick the next ``n`` reports to code.

    Parameters
    ----------
    model : fitted multi-label estimator
        With ``predict_proba`` and ``classes_`` (and ``thresholds_``, used when present;
        0.5 otherwise), e.g. a :class:`~humanfactors.classifier.HumanFactorsClassifier`.
    texts : sequence of str
        Reports not coded yet.
    n : int
        How many to pick.
    ids : sequence of str, optional
        Report ids, for the suggestions (default: the positions).
    strategy : {"diverse", "uncertainty", "random"}
        See the module description.
    coded_texts : sequence of str
        Reports coded already: the diverse strategy steers away from them too.
    pool_size : int, optional
        The diverse strategy considers only the most uncertain ``pool_size`` reports
        (default ``max(20 * n, 500)``), which keeps it fast on large collections.
    proba : array of shape (n_reports, n_classes), optional
        The model's probabilities on ``texts``, when already computed.
    random_state : int or None
        Seed of the random strategy.

    Returns
    -------
    list of Suggestion
        In the order to code them.
    """
    import numpy as np

    texts = check_strings(texts, "texts", "suggest_next")
    if ids is not None:
        check_texts(ids, "ids", "suggest_next", "a list of report ids")
    coded_texts = check_strings(coded_texts, "coded_texts", "suggest_next")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InputError(f"n must be a positive int, got {n!r}")
    if strategy not in STRATEGIES:
        raise InputError(f"strategy must be one of {', '.join(STRATEGIES)}, got {strategy!r}")
    if ids is not None and len(ids) != len(texts):
        raise InputError(f"ids: {len(ids)} ids for {len(texts)} texts")
    if not texts:
        return []
    if not hasattr(model, "classes_"):
        raise ModelError("suggest_next needs a fitted model (it has no classes_)")
    classes = [str(c) for c in model.classes_]
    p = model.predict_proba(texts) if proba is None else proba
    p = np.asarray(p.toarray() if hasattr(p, "toarray") else p, dtype=float)
    if p.shape != (len(texts), len(classes)):
        raise InputError(f"proba: expected shape ({len(texts)}, {len(classes)}), got {p.shape}")
    u = code_uncertainty(p, _thresholds(model, len(classes)))
    scores = _report_scores(u)
    rid = [str(i) for i in ids] if ids is not None else [str(i) for i in range(len(texts))]

    if strategy == "random":
        rng = np.random.default_rng(random_state)
        order = [int(i) for i in rng.permutation(len(texts))[:n]]
        dists = [0.0] * len(order)
    elif strategy == "uncertainty":
        order = [int(i) for i in np.argsort(-scores, kind="stable")[:n]]
        dists = [0.0] * len(order)
    else:
        size = pool_size if pool_size is not None else max(20 * n, 500)
        if size < n:
            raise InputError(f"pool_size ({size}) must be at least n ({n})")
        pool = np.argsort(-scores, kind="stable")[:size]
        X, C = _vectors([texts[i] for i in pool], list(coded_texts))
        picked, dists = _diverse(scores[pool], X, C, n)
        order = [int(pool[i]) for i in picked]

    out = []
    for rank, (i, dist) in enumerate(zip(order, dists, strict=True), start=1):
        top = np.argsort(-u[i], kind="stable")[: min(_TOP_CODES, len(classes))]
        codes = tuple((classes[j], float(p[i, j])) for j in top)
        out.append(
            Suggestion(
                rank=rank,
                index=i,
                id=rid[i],
                score=float(scores[i]),
                distance=dist,
                uncertain_codes=codes,
                reason=_reason(strategy, codes, dist, rank, bool(len(coded_texts))),
            )
        )
    return out


def _reason(strategy: str, codes: tuple[tuple[str, float], ...], dist: float, rank: int,
            coded: bool) -> str:
    if strategy == "random":
        return "random choice (baseline)"
    unsure = ", ".join(f"{c} (p={p:.2f})" for c, p in codes[:2])
    text = f"model unsure of {unsure}" if unsure else "model has no codes"
    if strategy == "diverse" and (rank > 1 or coded):
        text += f"; unlike the reports {'coded or ' if coded else ''}chosen before it " \
                f"(distance {dist:.2f})"
    return text
