"""Benchmark the incident store and theme queries.

    python benchmarks/bench_store.py                 # 250,000 reports, 1,000,000 findings
    python benchmarks/bench_store.py --reports 20000 # a quick run

Synthesises analyses (fictional text, 4 findings per report on average, dates over six
years, nine regions), measures ingest rate into a fresh store file, then times each
theme query over the whole store. Targets: ingest >= 5,000 analyses/s; each theme
query over 1,000,000 findings < 2 s.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from humanfactors import Analysis, Finding, Incident, IncidentStore
from humanfactors.models import Evidence, Source
from humanfactors.taxonomy import load_taxonomy
from humanfactors.themes import compare, cooccurrence, emerging_themes, frequencies

REGIONS = [
    "North West",
    "North East",
    "Yorkshire and the Humber",
    "East Midlands",
    "West Midlands",
    "East of England",
    "London",
    "South East",
    "South West",
]
AGENCIES = ["children's social care", "police", "health visiting", "education", "GP"]
SENTENCES = [
    "I meant to ring the school back but it slipped my mind.",
    "We had three workers off sick and 30 cases each.",
    "Nobody challenged the consultant's view at the meeting.",
    "The duty manager noticed the open contact the next morning.",
    "The case records did not show the earlier referrals.",
    "Mum said all was well and we took that at face value.",
]


def synthesise(n: int, findings_per: float, seed: int = 0) -> list[Analysis]:
    rng = random.Random(seed)
    codes = list(load_taxonomy().leaves())
    weights = [1.0 / (i + 1) for i in range(len(codes))]  # a few common codes, a long tail
    start = date(2020, 1, 1)
    out = []
    for i in range(n):
        text = " ".join(rng.sample(SENTENCES, 3))
        k = min(len(codes), max(0, round(rng.gauss(findings_per, 1.2))))
        chosen = set()
        while len(chosen) < k:
            chosen.add(rng.choices(codes, weights)[0])
        findings = []
        for code in sorted(chosen):
            s = rng.randrange(0, len(text) - 20)
            e = s + rng.randrange(5, 20)
            findings.append(
                Finding.model_construct(
                    code=code,
                    confidence=round(rng.random(), 3),
                    source=rng.choice([Source.RULE, Source.MODEL]),
                    evidence=(Evidence.model_construct(start=s, end=e, text=text[s:e]),),
                    explanation="",
                    rule_ids=(),
                )
            )
        inc = Incident.model_construct(
            id=f"B{i:08d}",
            narrative=text,
            event_type=None,
            harm=None,
            occurred_on=start + timedelta(days=rng.randrange(2190)),
            reported_on=None,
            setting="office",
            reporter_role="social worker",
            agencies=tuple(rng.sample(AGENCIES, rng.randint(1, 2))),
            region=rng.choice(REGIONS),
            metadata={},
        )
        out.append(
            Analysis.model_construct(
                incident=inc,
                findings=tuple(findings),
                quality_issues=(),
                redactions=(),
                redacted=True,
                taxonomy="safeguarding",
                taxonomy_version="1.0.0",
                model_version="bench",
                feedback="",
                schema_version=1,
            )
        )
    return out


def timed(label: str, fn, results: list[tuple[str, float]]) -> object:
    t0, c0 = time.perf_counter(), time.process_time()
    value = fn()
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    results.append((label, dt))
    print(f"  {label:<56} {dt:6.2f} s wall {cpu:6.2f} s CPU")
    return value


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reports", type=int, default=250_000)
    ap.add_argument("--findings-per", type=float, default=4.0)
    ap.add_argument("--dir", help="where to put the store (default: a temporary directory)")
    args = ap.parse_args()

    print(f"synthesising {args.reports:,} analyses ...")
    items = synthesise(args.reports, args.findings_per)
    n_findings = sum(len(a.findings) for a in items)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = Path(tmp) / "bench.sqlite"
        with IncidentStore(path) as store:
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(
                0, len(items), 50_000
            ):  # one transaction per 50,000, as a nightly load would
                store.add(items[i : i + 50_000])
            ingest = time.perf_counter() - t0
            ingest_cpu = time.process_time() - c0
            print(
                f"ingest: {len(items):,} analyses, {n_findings:,} findings in {ingest:.2f} s "
                f"= {len(items) / ingest:,.0f} analyses/s ({n_findings / ingest:,.0f} findings/s); "
                f"CPU {ingest_cpu:.2f} s = {len(items) / ingest_cpu:,.0f} analyses per CPU-second"
            )
            t0 = time.perf_counter()
            store.add(items[:20_000])
            re_add = time.perf_counter() - t0
            print(
                f"re-analysis upsert: 20,000 analyses in {re_add:.2f} s"
                f" = {20_000 / re_add:,.0f} analyses/s"
            )
            size = path.stat().st_size + Path(str(path) + "-wal").stat().st_size
            print(f"store size: {size / 1e6:,.0f} MB")
            import scipy.sparse
            import scipy.stats  # noqa: F401

            load_taxonomy()
            print(
                f"theme queries over {store.count():,} reports / {n_findings:,} findings "
                f"(the first reads the findings; later ones reuse them until the store changes):"
            )
            results: list[tuple[str, float]] = []
            timed(
                "store.count(code_prefix='CF', region='London')  [SQL]",
                lambda: store.count(code_prefix="CF", region="London"),
                results,
            )
            timed(
                "store.codes(since='2024-01-01')  [SQL]",
                lambda: store.codes(since="2024-01-01"),
                results,
            )
            timed(
                "frequencies(by='quarter')  [first: reads 1M findings]",
                lambda: frequencies(store, by="quarter"),
                results,
            )
            timed(
                "frequencies(by='region', since='2023-01-01')",
                lambda: frequencies(store, by="region", since="2023-01-01"),
                results,
            )
            timed("frequencies(by='agency')", lambda: frequencies(store, by="agency"), results)
            timed("cooccurrence()", lambda: cooccurrence(store), results)
            timed("emerging_themes()", lambda: emerging_themes(store), results)
            timed(
                "emerging_themes(protective=True)",
                lambda: emerging_themes(store, protective=True),
                results,
            )
            timed("compare(by='region')", lambda: compare(store, by="region"), results)
            store.add(items[-1])  # any change: the next query reads the findings again
            timed(
                "frequencies(by='year') after a change  [reads again]",
                lambda: frequencies(store, by="year"),
                results,
            )
            slowest = max(dt for _, dt in results)
            print(
                f"slowest theme query: {slowest:.2f} s (target < 2 s):"
                f" {'OK' if slowest < 2 else 'MISSED'}"
            )
            print(
                "ingest target >= 5,000 analyses/s:"
                f" {'OK' if len(items) / ingest >= 5000 else 'MISSED'}"
            )


if __name__ == "__main__":
    main()
