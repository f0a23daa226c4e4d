"""Speed and memory of the record readers (humanfactors.io).

Writes synthetic JSONL, CSV and text files of N reports of about 1,500 characters to a
temporary folder, then times :func:`humanfactors.io.iter_records` over each and records
the peak traced memory, for two sizes, so that growth with file size shows. Also times
loading the real ASRS DBOnline sample and dev set when ../shared/data/asrs is present.

Usage: python benchmarks/bench_loaders.py [--sizes 10000 100000]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import tempfile
import time
import tracemalloc
from pathlib import Path

from humanfactors.io import iter_records, load_asrs_dev, load_labelled

ASRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs"
WORDS = [
    "the",
    "worker",
    "visit",
    "child",
    "referral",
    "plan",
    "school",
    "manager",
    "caseload",
    "time",
    "forgot",
    "team",
    "meeting",
    "police",
    "health",
    "record",
    "system",
    "duty",
    "family",
    "mother",
    "father",
    "concern",
]


def _narrative(rng: random.Random) -> str:
    out, n = [], 0
    while n < 1500:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)


def _write(folder: Path, n: int) -> dict[str, Path]:
    rng = random.Random(0)
    paths = {fmt: folder / f"r{n}.{fmt}" for fmt in ("jsonl", "csv", "txt")}
    with (
        paths["jsonl"].open("w", encoding="utf-8") as j,
        paths["csv"].open("w", encoding="utf-8", newline="") as c,
        paths["txt"].open("w", encoding="utf-8") as t,
    ):
        w = csv.writer(c)
        w.writerow(["id", "narrative", "harm", "team"])
        for i in range(n):
            text = _narrative(rng)
            j.write(json.dumps({"id": f"r{i}", "narrative": text, "harm": "low"}) + "\n")
            w.writerow([f"r{i}", text, "low", "duty"])
            t.write(text + "\n")
    return paths


def _measure(path: Path) -> tuple[float, float, int]:
    tracemalloc.start()
    start = time.perf_counter()
    count = sum(1 for _ in iter_records(path))
    seconds = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 1e6, count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    args = parser.parse_args()
    print(f"{'format':<6} {'reports':>8} {'MB':>7} {'reports/s':>10} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            for fmt, path in _write(Path(tmp), n).items():
                # time without tracing, memory with tracing (tracing slows the loop)
                start = time.perf_counter()
                count = sum(1 for _ in iter_records(path))
                rate = count / (time.perf_counter() - start)
                _, peak, _ = _measure(path)
                size = path.stat().st_size / 1e6
                print(f"{fmt:<6} {count:>8,} {size:>7.0f} {rate:>10,.0f} {peak:>8.2f}")
                path.unlink()
    if (ASRS / "dbonline-sample.csv").is_file():
        start = time.perf_counter()
        ld = load_labelled(ASRS / "dbonline-sample.csv", format="asrs", taxonomy="asrs")
        print(f"ASRS DBOnline sample: {len(ld)} reports in {time.perf_counter() - start:.3f} s")
        start = time.perf_counter()
        dev = load_asrs_dev(ASRS / "dev.csv")
        print(f"ASRS dev.csv: {len(dev)} reports in {time.perf_counter() - start:.3f} s")


if __name__ == "__main__":
    main()
