"""Ideas measured for the ASRS classifier and not adopted (docs/benchmarks/classifier.md).

Each idea is scored against a plain re-implementation of the library's default (word
1-2-gram TF-IDF, one logistic regression per code with C = 4 and balanced classes, Platt
scaling and F1 thresholds from 5-fold internal cross-validation) on the same five folds as
``bench_classifier.py`` (shuffled GroupKFold by ACN, seed 0)::

    python benchmarks/bench_classifier_ideas.py base synopsis fields lsa
    python benchmarks/bench_classifier_ideas.py lsa --weight 0.5      # or 2
    python benchmarks/bench_classifier_ideas.py choose-lsa choose-c
    python benchmarks/bench_classifier_ideas.py network --folds 2

- ``synopsis``: the analysts' synopses as extra training documents with the report's codes;
- ``fields``: out-of-fold scores for the other coded fields (anomaly, contributing
  factors, primary problem, flight phase; values with 30 or more reports) as features;
- ``lsa``: 200 TruncatedSVD dimensions of the word features appended, times ``--weight``;
- ``choose-lsa`` / ``choose-c``: per code, words or words + LSA, or C of 1, 4 or 16,
  whichever has the best internal F1;
- ``network``: one hidden layer of 256 units on 30,000 features (scikit-learn's MLP).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_classifier import DEFAULT_DATA, metrics, read_dev

IDEAS = ("base", "synopsis", "fields", "lsa", "choose-lsa", "choose-c", "network")


def coded_fields(rows: list[dict[str, str]], min_reports: int = 30) -> np.ndarray:
    blocks = []
    for col in ("anomaly", "contributing_factors", "primary_problem", "flight_phase"):
        values = [{v for v in r[col].split("; ") if v} for r in rows]
        counts = Counter(v for s in values for v in s)
        keep = [v for v, n in counts.items() if n >= min_reports]
        blocks.append(np.array([[int(v in s) for v in keep] for s in values]))
    return np.hstack(blocks)


def vectorizer(max_features: int | None = None) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from humanfactors import _features as F

    return TfidfVectorizer(ngram_range=(1, 2), token_pattern=F.TOKEN_PATTERN,
                           sublinear_tf=True, min_df=2, max_df=0.95,
                           max_features=max_features, dtype=np.float32)


def fit_linear(A: Any, Y: np.ndarray, C: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
    from joblib import Parallel, delayed

    from humanfactors.classifier import _fit_binary

    fitted = Parallel(n_jobs=2)(
        delayed(_fit_binary)(A, Y[:, j], C, "balanced", 0) for j in range(Y.shape[1])
    )
    return np.vstack([w for w, _ in fitted]), np.array([b for _, b in fitted])


def out_of_fold(A: Any, Y: np.ndarray, C: float = 4.0, extra: Any = None) -> np.ndarray:
    """Internal 5-fold scores; ``extra`` = (A, Y) rows added to every training fold."""
    import scipy.sparse as sp
    from sklearn.model_selection import KFold

    S = np.zeros(Y.shape)
    for tr, va in KFold(5, shuffle=True, random_state=0).split(A):
        Af, Yf = A[tr], Y[tr]
        if extra is not None:
            Af, Yf = sp.vstack([Af, extra[0][tr]], format="csr"), np.vstack([Yf, extra[1][tr]])
        W, b = fit_linear(Af, Yf, C)
        S[va] = A[va] @ W.T + b
    return S


def calibrated(S: np.ndarray, Y: np.ndarray, S_test: np.ndarray) -> tuple[Any, Any, Any]:
    """Platt-scaled test probabilities, per-code thresholds, internal F1 per code."""
    from humanfactors import _features as F

    P, thr, f1 = np.zeros(S_test.shape), np.zeros(Y.shape[1]), np.zeros(Y.shape[1])
    for j in range(Y.shape[1]):
        a, b = F.fit_platt(S[:, j], Y[:, j])
        p = F.sigmoid(a * S[:, j] + b)
        thr[j] = F.best_f1_threshold(p, Y[:, j], min_positives=3, default=0.5)
        hit = p >= thr[j]
        f1[j] = 2 * (hit & (Y[:, j] == 1)).sum() / max(hit.sum() + Y[:, j].sum(), 1)
        P[:, j] = F.sigmoid(a * S_test[:, j] + b)
    return P, thr, f1


def with_lsa(Atr: Any, Ate: Any, weight: float) -> tuple[Any, Any]:
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(200, random_state=0).fit(Atr)
    Ztr, Zte = svd.transform(Atr), svd.transform(Ate)
    scale = weight / np.linalg.norm(Ztr, axis=1).mean()
    return (sp.hstack([Atr, sp.csr_matrix(scale * Ztr)], format="csr"),
            sp.hstack([Ate, sp.csr_matrix(scale * Zte)], format="csr"))


def run(idea: str, tr: np.ndarray, te: np.ndarray, data: dict[str, Any],
        weight: float) -> tuple[np.ndarray, np.ndarray]:
    """Test probabilities and per-code thresholds of one idea on one fold."""
    import scipy.sparse as sp

    T, Y, syn = data["texts"], data["Y"], data["synopsis"]
    ttr, tte, Ytr = [T[i] for i in tr], [T[i] for i in te], Y[tr]
    if idea == "network":
        from sklearn.model_selection import KFold
        from sklearn.neural_network import MLPClassifier

        from humanfactors import _features as F

        v = vectorizer(30_000)
        Atr, Ate = v.fit_transform(ttr), v.transform(tte)

        def net(A: Any, Yn: np.ndarray, B: Any) -> np.ndarray:
            m = MLPClassifier(hidden_layer_sizes=(256,), alpha=1e-3, max_iter=30,
                              early_stopping=True, validation_fraction=0.15,
                              n_iter_no_change=4, random_state=0)
            return np.asarray(m.fit(A, Yn).predict_proba(B))

        S = np.zeros(Ytr.shape)
        for itr, iva in KFold(3, shuffle=True, random_state=0).split(Atr):
            S[iva] = net(Atr[itr], Ytr[itr], Atr[iva])
        thr = np.array([F.best_f1_threshold(S[:, j], Ytr[:, j], min_positives=3, default=0.5)
                        for j in range(Y.shape[1])])
        return net(Atr, Ytr, Ate), thr
    v = vectorizer()
    v.fit(ttr + ([syn[i] for i in tr] if idea == "synopsis" else []))
    Atr, Ate = v.transform(ttr), v.transform(tte)
    extra = None
    if idea == "synopsis":
        extra = (v.transform([syn[i] for i in tr]), Ytr)
    elif idea == "fields":
        from humanfactors import _features as F

        Xf = data["fields"]
        inner = out_of_fold(Atr, Xf[tr])
        W, b = fit_linear(Atr, Xf[tr])
        Atr = sp.hstack([Atr, sp.csr_matrix(F.sigmoid(inner))], format="csr")
        Ate = sp.hstack([Ate, sp.csr_matrix(F.sigmoid(Ate @ W.T + b))], format="csr")
    elif idea == "lsa":
        Atr, Ate = with_lsa(Atr, Ate, weight)
    if idea.startswith("choose"):
        options = ({"words": (Atr, Ate), "lsa": with_lsa(Atr, Ate, weight)}
                   if idea == "choose-lsa" else {"C": (Atr, Ate)})
        Cs = (4.0,) if idea == "choose-lsa" else (1.0, 4.0, 16.0)
        best: list[Any] = [None] * Y.shape[1]
        for A_tr, A_te in options.values():
            for C in Cs:
                W, b = fit_linear(A_tr, Ytr, C)
                P, thr, f1 = calibrated(out_of_fold(A_tr, Ytr, C), Ytr, A_te @ W.T + b)
                for j in range(Y.shape[1]):
                    if best[j] is None or f1[j] > best[j][0]:
                        best[j] = (f1[j], P[:, j], thr[j])
        return np.column_stack([x[1] for x in best]), np.array([x[2] for x in best])
    Afit, Yfit = Atr, Ytr
    if extra is not None:
        Afit, Yfit = sp.vstack([Atr, extra[0]], format="csr"), np.vstack([Ytr, Ytr])
    W, b = fit_linear(Afit, Yfit)
    P, thr, _ = calibrated(out_of_fold(Atr, Ytr, extra=extra), Ytr, Ate @ W.T + b)
    return P, thr


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("ideas", nargs="+", choices=IDEAS)
    ap.add_argument("--weight", type=float, default=1.0, help="lsa and choose-lsa")
    ap.add_argument("--folds", type=int, default=5, help="score only the first N of 5 folds")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = ap.parse_args()
    if not (args.data / "dev.csv").is_file():
        print(f"ASRS data not found at {args.data}; nothing to measure", file=sys.stderr)
        return 2
    from sklearn.model_selection import GroupKFold

    from humanfactors.taxonomy import load_taxonomy

    with (args.data / "dev.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    acns, texts, labels = read_dev(args.data)
    tax = load_taxonomy("asrs")
    canon = [[tax.resolve(c) for c in codes] for codes in labels]
    classes = [c for c in tax.codes if any(c in codes for codes in canon)]
    Y = np.array([[int(c in codes) for c in classes] for codes in canon])
    data = {"texts": texts, "Y": Y, "synopsis": [r["synopsis"] for r in rows],
            "fields": coded_fields(rows)}
    folds = GroupKFold(n_splits=5, shuffle=True, random_state=0).split(texts, Y, groups=acns)
    scores: dict[str, list[dict[str, float]]] = {i: [] for i in args.ideas}
    for k, (tr, te) in enumerate(folds):
        if k >= args.folds:
            break
        for idea in args.ideas:
            P, thr = run(idea, tr, te, data, args.weight)
            scores[idea].append(metrics(Y[te], (thr <= P).astype(int), P))
            m = scores[idea][-1]
            print(f"fold {k + 1} {idea:<11} micro {m['micro_f1']:.3f} "
                  f"macro {m['macro_f1']:.3f}", flush=True)
    for idea, ms in scores.items():
        print(f"{idea:<11} mean over {len(ms)} folds: micro-F1 "
              f"{np.mean([m['micro_f1'] for m in ms]):.3f}, macro-F1 "
              f"{np.mean([m['macro_f1'] for m in ms]):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
