"""Active learning on real ASRS reports: coded reports saved by suggest_next.

    python benchmarks/bench_active.py [--asrs ../shared/data/asrs] [--repeats 3]
        [--start 50] [--batch 50] [--budget 800] [--candidates 1000]
        [--plot docs/images/active_learning.png]

Simulates a coding project on ``dev.csv``: a held-out quarter (split by ACN, as in
``bench_weak.py``) scores the model; the rest is the pool of "uncoded" reports whose
analysts' labels are revealed only when a strategy picks them. Each run starts from the
same ``--start`` random reports, then repeatedly trains the model, lets the strategy pick
the next ``--batch`` reports and "codes" them, until ``--budget`` reports are coded.
Strategies: ``random`` (the baseline), ``uncertainty`` (most uncertain first) and
``diverse`` (uncertainty with diversity, the default of ``humanfactors suggest``).

To keep the simulation affordable on two cores the model is
``HumanFactorsClassifier(cv=0)``: no internal cross-validation, so no calibration and
the default threshold of 0.5 on class-balanced probabilities; and each round scores a
random subsample of ``--candidates`` uncoded reports rather than the whole pool. Prints
the macro-F1
learning curves, and for several target macro-F1 values how many coded reports each
strategy needed (linear interpolation between rounds); plots the curves.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from humanfactors.classifier import HumanFactorsClassifier
from humanfactors.evaluate import evaluate
from humanfactors.io import load_asrs_dev
from humanfactors.suggest import suggest_next

DEFAULT_ASRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs"
STRATEGIES = ("random", "uncertainty", "diverse")


def split_by_acn(ids: list[str], test_share: float, seed: int) -> tuple[list[int], list[int]]:
    acns = sorted(set(ids))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(acns, size=round(test_share * len(acns)), replace=False).tolist())
    train = [i for i, a in enumerate(ids) if a not in held]
    return train, [i for i, a in enumerate(ids) if a in held]


def run_strategy(
    strategy: str,
    texts: list[str],
    labels: list[list[str]],
    pool: list[int],
    test: list[int],
    *,
    start: int,
    batch: int,
    budget: int,
    seed: int,
    candidates: int,
) -> list[tuple[int, float]]:
    rng = np.random.default_rng(seed)
    coded = [int(i) for i in rng.choice(pool, size=start, replace=False)]
    remaining = [i for i in pool if i not in set(coded)]
    te_texts = [texts[i] for i in test]
    te_labels = [labels[i] for i in test]
    curve = []
    while True:
        model = HumanFactorsClassifier(taxonomy="asrs", cv=0, random_state=seed)
        model.fit([texts[i] for i in coded], [labels[i] for i in coded])
        report = evaluate(te_labels, model.predict(te_texts), classes=list(model.classes_))
        curve.append((len(coded), report.macro_f1))
        if len(coded) >= budget:
            return curve
        # Score a random subsample of the pool each round (a common economy in active
        # learning): predicting thousands of long reports every round dominates the cost.
        cands = [int(i) for i in rng.choice(remaining, size=min(candidates, len(remaining)),
                                            replace=False)]
        cand_texts = [texts[i] for i in cands]
        picks = suggest_next(
            model,
            cand_texts,
            n=min(batch, budget - len(coded)),
            strategy=strategy,  # type: ignore[arg-type]
            coded_texts=[texts[i] for i in coded] if strategy == "diverse" else (),
            # the random baseline needs no predictions
            proba=np.zeros((len(cands), len(model.classes_))) if strategy == "random" else None,
            random_state=seed * 1000 + len(coded),
        )
        chosen = {cands[s.index] for s in picks}
        coded += [cands[s.index] for s in picks]
        remaining = [i for i in remaining if i not in chosen]


def reports_needed(curve: list[tuple[int, float]], target: float) -> float | None:
    """Coded reports at which a curve first reaches ``target`` (interpolated)."""
    prev_n, prev_f = curve[0]
    if prev_f >= target:
        return float(prev_n)
    for n, f in curve[1:]:
        if f >= target:
            return prev_n + (n - prev_n) * (target - prev_f) / (f - prev_f)
        prev_n, prev_f = n, f
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asrs", type=Path, default=DEFAULT_ASRS)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--start", type=int, default=50)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--budget", type=int, default=800)
    ap.add_argument("--candidates", type=int, default=1000,
                    help="uncoded reports scored per round (a random subsample of the pool)")
    ap.add_argument("--plot", type=Path, default=None)
    args = ap.parse_args()

    data = load_asrs_dev(args.asrs / "dev.csv")
    pool, test = split_by_acn(data.ids, 0.25, 0)
    print(f"ASRS dev.csv: pool of {len(pool)} uncoded reports, {len(test)} held out; "
          f"start {args.start}, batches of {args.batch}, budget {args.budget}, "
          f"{args.repeats} repeats, {args.candidates} candidates scored per round; "
          "model HumanFactorsClassifier(cv=0)")
    curves: dict[str, list[list[tuple[int, float]]]] = {s: [] for s in STRATEGIES}
    t0 = time.perf_counter()
    for rep in range(args.repeats):
        for strategy in STRATEGIES:
            t = time.perf_counter()
            curve = run_strategy(
                strategy, data.texts, data.labels, pool, test,
                start=args.start, batch=args.batch, budget=args.budget, seed=rep,
                candidates=args.candidates,
            )
            curves[strategy].append(curve)
            print(f"  repeat {rep} {strategy:<11} final macro-F1 {curve[-1][1]:.3f} "
                  f"({time.perf_counter() - t:.0f} s)", flush=True)
    print(f"total {time.perf_counter() - t0:.0f} s")

    sizes = [n for n, _ in curves["random"][0]]
    mean = {s: np.mean([[f for _, f in c] for c in curves[s]], axis=0) for s in STRATEGIES}
    sd = {s: np.std([[f for _, f in c] for c in curves[s]], axis=0) for s in STRATEGIES}
    print()
    print("| coded reports | " + " | ".join(STRATEGIES) + " |")
    print("|---:|" + "---:|" * len(STRATEGIES))
    for k, n in enumerate(sizes):
        cells = " | ".join(f"{mean[s][k]:.3f} ± {sd[s][k]:.3f}" for s in STRATEGIES)
        print(f"| {n} | {cells} |")

    print()
    final_random = float(mean["random"][-1])
    targets = sorted({round(final_random * q, 3) for q in (0.9, 0.95, 1.0)})
    mean_curves = {s: list(zip(sizes, mean[s].tolist(), strict=True)) for s in STRATEGIES}
    print("| target macro-F1 | " + " | ".join(f"{s} needs" for s in STRATEGIES)
          + " | saved by diverse vs random |")
    print("|---:|" + "---:|" * (len(STRATEGIES) + 1))
    for target in targets:
        need = {s: reports_needed(mean_curves[s], target) for s in STRATEGIES}
        cells = " | ".join("not reached" if need[s] is None else f"{need[s]:.0f}"
                           for s in STRATEGIES)
        saved = (
            f"{need['random'] - need['diverse']:.0f} "
            f"({(need['random'] - need['diverse']) / need['random']:.0%})"
            if need["random"] and need["diverse"] else "n/a"
        )
        print(f"| {target:.3f} | {cells} | {saved} |")

    if args.plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
        for s, style in zip(STRATEGIES, ("-o", "-s", "-^"), strict=True):
            ax.plot(sizes, mean[s], style, markersize=3, label=s)
            ax.fill_between(sizes, mean[s] - sd[s], mean[s] + sd[s], alpha=0.15)
        ax.set_xlabel("coded reports")
        ax.set_ylabel("macro-F1 on held-out ASRS reports")
        ax.set_title(f"Active learning on ASRS dev.csv ({args.repeats} runs, mean ± sd)")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        args.plot.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(args.plot)
        print(f"plot written to {args.plot}")


if __name__ == "__main__":
    main()
