"""Benchmark HumanFactorsClassifier on the real ASRS human-factors reports.

Quality: K-fold cross-validation by ACN on ``../shared/data/asrs/dev.csv`` (no report is
scored by a model that saw it), the library's default estimator and the bare scikit-learn
pipeline of that folder's README side by side, from the same folds, with their ratio.
Speed: fit on all dev reports (``n_jobs=2``), prediction on one core for 1,500-character
reports. Persistence: file size and load time of the model trained on all dev reports.

Run from the repository root::

    python benchmarks/bench_classifier.py [--folds 5] [--data ../shared/data/asrs]
    python benchmarks/bench_classifier.py --folds 5 --max-folds 2 --candidate sentence

``--candidate sentence`` scores, in the library's place, a candidate that was tried and
not adopted: the sentence model (``SentenceEvidenceClassifier``, words only) with every
sentence of a report labelled with all of the report's codes (multiple-instance
learning), ``--blend`` and ``--pooling`` as given. ``--max-folds`` stops after that many
folds of the K (for quick comparisons).
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "asrs"


def read_dev(folder: Path) -> tuple[list[str], list[str], list[list[str]]]:
    with (folder / "dev.csv").open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    acns = [r["acn"] for r in rows]
    texts = [r["narrative"] + " " + r["narrative_2"] for r in rows]
    labels = [r["human_factors"].split("; ") for r in rows]
    return acns, texts, labels


def metrics(Y: np.ndarray, pred: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    from sklearn.metrics import f1_score

    top = proba.argmax(axis=1)
    return {
        "micro_f1": float(f1_score(Y, pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(Y, pred, average="macro", zero_division=0)),
        "samples_f1": float(f1_score(Y, pred, average="samples", zero_division=0)),
        "p_at_1": float(Y[np.arange(len(Y)), top].mean()),
    }


def bare_pipeline() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2)),
        OneVsRestClassifier(LogisticRegression(class_weight="balanced", max_iter=1000)),
    )


def sentence_candidate(
    train: list[str], codes: list[list[str]], test: list[str], classes: list[str], args: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and predictions of the multiple-instance sentence model (see above)."""
    from humanfactors.sentence_model import SentenceEvidenceClassifier, sentence_spans

    evidence = [
        [(c, s, e) for s, e in sentence_spans(text) for c in cs]
        for text, cs in zip(train, codes, strict=True)
    ]
    clf = SentenceEvidenceClassifier(
        taxonomy="asrs", char_ngram_range=None, blend=args.blend, pooling=args.pooling, n_jobs=2
    )
    clf.fit(train, codes, evidence=evidence)
    idx = [list(clf.classes_).index(c) for c in classes]
    P = clf.predict_proba(test)[:, idx]
    return P, (clf.thresholds_[idx] <= P).astype(int)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--skip-cv", action="store_true", help="only the speed and size figures")
    parser.add_argument("--max-folds", type=int, default=None, help="stop after this many folds")
    parser.add_argument("--candidate", choices=["library", "sentence"], default="library")
    parser.add_argument("--blend", type=float, default=0.5, help="sentence candidate only")
    parser.add_argument("--pooling", default="max", help="sentence candidate only")
    args = parser.parse_args(argv)
    if not (args.data / "dev.csv").is_file():
        print(f"ASRS data not found at {args.data}; nothing to benchmark", file=sys.stderr)
        return 2

    from sklearn.model_selection import GroupKFold

    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.persistence import load_model, save_model
    from humanfactors.taxonomy import load_taxonomy

    acns, texts, labels = read_dev(args.data)
    tax = load_taxonomy("asrs")
    canon = [[tax.resolve(c) for c in codes] for codes in labels]
    classes = [c for c in tax.codes if any(c in codes for codes in canon)]
    Y = np.array([[int(c in codes) for c in classes] for codes in canon])
    T = np.array(texts, dtype=object)
    print(
        f"ASRS dev: {len(texts):,} reports, {len(classes)} labels, "
        f"{np.mean([len(t) for t in texts]):.0f} characters on average"
    )

    if not args.skip_cv:
        # GroupKFold by ACN, shuffled: one report never sits on both sides of a split.
        folds = GroupKFold(n_splits=args.folds, shuffle=True, random_state=0)
        lib_scores, bare_scores = [], []
        for k, (train, test) in enumerate(folds.split(T, Y, groups=acns), start=1):
            if args.max_folds is not None and k > args.max_folds:
                break
            if args.candidate == "sentence":
                P, pred = sentence_candidate(
                    T[train].tolist(), [canon[i] for i in train], T[test].tolist(), classes, args
                )
                lib_scores.append(metrics(Y[test], pred, P))
            else:
                clf = HumanFactorsClassifier(taxonomy="asrs", n_jobs=2)
                clf.fit(T[train].tolist(), [canon[i] for i in train], classes=classes)
                assert list(clf.classes_) == classes
                test_texts = T[test].tolist()
                lib_scores.append(
                    metrics(Y[test], clf.predict(test_texts), clf.predict_proba(test_texts))
                )
            bare = bare_pipeline().fit(T[train], Y[train])
            proba = bare.predict_proba(T[test])
            bare_scores.append(metrics(Y[test], (proba >= 0.5).astype(int), proba))
            print(
                f"  fold {k}: {args.candidate} micro {lib_scores[-1]['micro_f1']:.3f} macro "
                f"{lib_scores[-1]['macro_f1']:.3f} | bare micro {bare_scores[-1]['micro_f1']:.3f} "
                f"macro {bare_scores[-1]['macro_f1']:.3f}",
                flush=True,
            )
        print(f"\n{args.folds}-fold cross-validation by ACN on dev.csv (mean ± sd over folds)")
        print(f"{'metric':<12}{args.candidate:>16}{'bare sklearn':>16}{'ratio':>8}")
        for name in ("micro_f1", "macro_f1", "samples_f1", "p_at_1"):
            a = np.array([s[name] for s in lib_scores])
            b = np.array([s[name] for s in bare_scores])
            print(
                f"{name:<12}{a.mean():>10.3f} ± {a.std():.3f}{b.mean():>10.3f} ± {b.std():.3f}"
                f"{a.mean() / b.mean():>8.2f}"
            )

    # -- speed: fit on all dev reports with 2 workers ------------------------------------
    start = time.perf_counter()
    model = HumanFactorsClassifier(taxonomy="asrs", n_jobs=2).fit(texts, labels)
    fit_s = time.perf_counter() - start
    print(f"\nfit on {len(texts):,} reports (n_jobs=2): {fit_s:.1f} s  (target < 60 s)")

    # -- speed: predict 1,500-character reports on one core ------------------------------
    long_texts = [t[:1500] for t in texts if len(t) >= 1500][:1000]
    model.predict_proba(long_texts[:50])  # warm up
    start = time.perf_counter()
    for _ in range(3):
        model.predict(long_texts)
    rate = 3 * len(long_texts) / (time.perf_counter() - start)
    print(
        f"predict, one core, {len(long_texts)} reports of 1,500 characters: "
        f"{rate:,.0f} reports/s  (target >= 1,000)"
    )

    # -- persistence ---------------------------------------------------------------------
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("HUMANFACTORS_CONFIG_DIR", str(Path(tmp) / "config"))
        path = Path(tmp) / "asrs.hfm"
        save_model(model, path)
        size_mb = path.stat().st_size / 1e6
        start = time.perf_counter()
        loaded = load_model(path)
        load_s = time.perf_counter() - start
        same = np.array_equal(
            loaded.predict_proba(long_texts[:100]), model.predict_proba(long_texts[:100])
        )
        print(
            f"model file: {size_mb:.1f} MB (target <= 50 MB); load: {load_s:.2f} s (target < 1 s); "
            f"identical probabilities after load: {same}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
