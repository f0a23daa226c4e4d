"""Benchmark the rules engine: speed, linear time on adversarial input, and quality.

Run from the repository root::

    python benchmarks/bench_rules.py            # everything
    python benchmarks/bench_rules.py --quick    # speed only
    python benchmarks/bench_rules.py --stages   # time per report of each stage of apply

Figures printed:

- throughput (reports/s, one core) on 1,500-character safeguarding and ASRS reports, with
  the same texts through a fitted scikit-learn ``TfidfVectorizer.transform`` for scale;
- time for 1 MB adversarial strings (runs of one letter, nested brackets, repeated
  matches, repeated negations, punctuation);
- precision and recall per family on the labelled sentences in tests/data/ (the tuning
  set, six sets studied once each, and a held-out set never used to change a rule);
- report-level precision and recall per family on the fictional corpus in
  data/safeguarding/source (codes from each report's ``codes:`` header);
- per-code precision and recall of the ASRS rules on ../shared/data/asrs/dev.csv.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ASRS = ROOT.parent / "shared" / "data" / "asrs" / "dev.csv"
FAMILIES = ("ERR", "VIOL", "GRP", "BIAS", "ANL", "FAM", "CF", "PROT")


def corpus_reports() -> list[tuple[str, set[str]]]:
    out = []
    for path in sorted((ROOT / "data" / "safeguarding" / "source").glob("*.txt")):
        for block in path.read_text(encoding="utf-8").split("===")[1:]:
            if "---" not in block:
                continue
            head, body = block.split("---", 1)
            codes: set[str] = set()
            for line in head.splitlines():
                if line.startswith("codes:"):
                    codes = {c.strip() for c in line[6:].split(";") if c.strip()}
            out.append((body.strip(), codes))
    return out


def asrs_rows() -> list[dict[str, str]]:
    if not ASRS.exists():
        return []
    with ASRS.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def chunks(texts: list[str], size: int, n: int) -> list[str]:
    big = " ".join(texts)
    return [big[i * size : (i + 1) * size] for i in range(min(n, len(big) // size))]


def rate(fn, items: list[str], repeat: int = 5) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Best items/s over ``repeat`` runs: (by CPU time of this process, by wall time)."""
    best_cpu = best_wall = float("inf")
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        for x in items:
            fn(x)
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return len(items) / best_cpu, len(items) / best_wall


_COLD = """
import time
c, w = time.process_time(), time.perf_counter()
from humanfactors.rules import RuleSet
RuleSet.default({taxonomy!r}).apply("warm up")
print(time.process_time() - c, time.perf_counter() - w)
"""
_FIRST_ANALYSE = """
import time
c, w = time.process_time(), time.perf_counter()
import humanfactors
humanfactors.analyse("I forgot to send the referral to the school because I was very busy.")
print(time.process_time() - c, time.perf_counter() - w)
"""


def cold(code: str) -> tuple[float, float]:
    """(CPU s, wall s) of ``code`` in a fresh interpreter: the best of three."""
    import subprocess
    import sys

    runs = []
    for _ in range(3):
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout.split()
        runs.append((float(out[-2]), float(out[-1])))
    return min(runs)


def speed() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from humanfactors.rules import RuleSet, check

    for name in ("safeguarding", "asrs"):
        cpu, wall = cold(_COLD.format(taxonomy=name))
        print(
            f"fresh process: import + RuleSet.default({name!r}) + first apply: "
            f"{cpu:.2f} s CPU ({wall:.2f} s wall)"
        )
    cpu, wall = cold(_FIRST_ANALYSE)
    print(
        f"fresh process: import humanfactors + first analyse (classifier and rules): "
        f"{cpu:.2f} s CPU ({wall:.2f} s wall)"
    )
    sg = RuleSet.default("safeguarding")
    asrs = RuleSet.default("asrs")
    start = time.perf_counter()
    RuleSet.default("safeguarding")
    print(f"RuleSet.default() again (cached): {1000 * (time.perf_counter() - start):.2f} ms")

    sg_texts = chunks([t for t, _ in corpus_reports()], 1500, 400)
    rows = asrs_rows()
    asrs_texts = chunks([r["narrative"] for r in rows], 1500, 400) if rows else []
    for name, rules, texts in (("safeguarding", sg, sg_texts), ("asrs", asrs, asrs_texts)):
        if not texts:
            continue
        for t in texts:  # compile what these texts need before timing
            rules.apply(t)
        tfidf = TfidfVectorizer(ngram_range=(1, 2)).fit(texts)
        r_rules, w_rules = rate(rules.apply, texts)
        r_tfidf, _ = rate(lambda x, v=tfidf: v.transform([x]), texts)
        r_words, _ = rate(lambda x: re.findall(r"\w+", x), texts)
        print(
            f"{name}: {len(texts)} reports of 1,500 chars: rules {r_rules:,.0f}/s CPU "
            f"({w_rules:,.0f}/s wall); TfidfVectorizer.transform (1-2 grams, one report per "
            f"call) {r_tfidf:,.0f}/s CPU (ratio rules/tfidf {r_rules / r_tfidf:.2f}); "
            f"re.findall(r'\\w+') {r_words:,.0f}/s CPU"
        )
        batch = time.process_time()
        rules.code_scores(texts)
        print(
            f"{name}: code_scores on {len(texts)} reports: "
            f"{len(texts) / (time.process_time() - batch):,.0f}/s CPU"
        )
    # check(): the near-miss case also runs the protective rules (CHK.NO_RECOVERY)
    plain = [t.replace("nearly", "").replace("almost", "") for t in sg_texts]
    near = ["This was a near miss. " + t for t in plain]
    r_plain, _ = rate(lambda x: check(x, identifiable=False), plain)
    r_near, _ = rate(lambda x: check(x, identifiable=False), near)
    r_full, _ = rate(check, near)
    print(
        f"check (identifiable=False): {r_plain:,.0f}/s CPU; with a near miss (runs the "
        f"protective rules too) {r_near:,.0f}/s CPU; with the identifier scan {r_full:,.0f}/s CPU"
    )


def stages() -> None:
    """Where a safeguarding report's time goes, stage by stage (ms per report, CPU).

    Each figure is its own loop over the same 400 reports (best of five): segmenting
    into sentences and tokens; finding the raw phrase and regex matches (the candidates);
    the whole ``apply``; ``apply`` with each report's candidates handed over ready-made
    (what it would cost if finding them cost nothing: an upper bound for any faster
    matcher that keeps the rest); and ``apply`` with its matches handed over (turning
    matches into findings). Judging the candidates (sentence bounds, context words,
    negation, hedging) is what is left. Stages timed alone run a little slower than
    inside ``apply``, where the report is already in the processor's caches, so they do
    not add up exactly.
    """
    from humanfactors.rules import RuleSet
    from humanfactors.rules._text import segment

    rules = RuleSet.default("safeguarding")
    texts = chunks([t for t, _ in corpus_reports()], 1500, 400)
    for t in texts:
        rules.apply(t)
    matcher = rules._get_matcher()
    faults: Counter[str] = Counter()
    segs = [segment(t) for t in texts]
    cands = {id(s.text): list(matcher.candidates(s)) for s in segs}
    found = {id(s.text): matcher.matches(s.text, faults, s) for s in segs}

    def ms(fn, items) -> float:  # type: ignore[no-untyped-def]
        return 1000 / rate(fn, items)[0]  # best of five, CPU

    t_seg = ms(segment, texts)
    t_cand = ms(lambda s: list(matcher.candidates(s)), segs)
    t_apply = ms(rules.apply, texts)
    # the same matcher with its candidates, then its matches, looked up instead of found
    matcher.candidates = lambda seg, allowed=None: iter(cands[id(seg.text)])  # type: ignore[method-assign]
    t_given = ms(rules.apply, texts)
    del matcher.candidates
    matcher.matches = lambda text, *a, **k: list(found[id(text)])  # type: ignore[method-assign]
    t_find = ms(rules.apply, texts)
    del matcher.matches
    n_cand = sum(len(v) for v in cands.values()) / len(texts)
    n_match = sum(len(v) for v in found.values()) / len(texts)
    n_find = sum(len(rules.apply(t)) for t in texts) / len(texts)
    t_judge = t_given - t_seg - t_find
    print(f"stages, safeguarding, {len(texts)} reports of 1,500 chars (ms per report, CPU):")
    print(f"  segment (sentences, tokens)          {t_seg:.3f}")
    print(f"  candidates (raw matches)             {t_cand:.3f}  ({n_cand:.1f} a report)")
    print(
        f"  judge (context, negation, hedging)   {t_judge:.3f}  ({n_match:.1f} matches kept; "
        f"{1000 * t_judge / max(n_cand, 1e-9):.0f} us a candidate)"
    )
    print(f"  findings                             {t_find:.3f}  ({n_find:.1f} a report)")
    print(f"  apply                                {t_apply:.3f}  ({1000 / t_apply:,.0f}/s)")
    print(f"  apply, candidates given ready-made   {t_given:.3f}  ({1000 / t_given:,.0f}/s)")


def adversarial() -> None:
    from humanfactors.rules import RuleSet, check

    rules = RuleSet.default()
    cases = {
        "one letter x 1,000,000": "a" * 1_000_000,
        "nested brackets 1 MB": "(" * 500_000 + ")" * 500_000,
        "'forgot ' x 140,000 (1 MB of matches)": "forgot " * 140_000,
        "'did not did not did not x, ' 1 MB": ("did not " * 3 + "x, ") * 40_000,
        "'.!?' x 300,000": ".!?" * 300_000,
        "'wrong-' x 160,000": "wrong-" * 160_000,
        "nested punctuation '([{<\"'...' 1 MB": "([{<\"'.,;:!?'\">}])" * 55_000,
    }
    rules.apply("warm up")
    check("warm up")
    for name, text in cases.items():
        cpu = time.process_time()
        rules.apply(text)
        t_rules = time.process_time() - cpu
        cpu = time.process_time()
        check(text)
        t_check = time.process_time() - cpu
        cpu = time.process_time()
        check(text, identifiable=False)
        t_plain = time.process_time() - cpu
        print(
            f"adversarial {name}: apply {t_rules:.2f} s, check {t_check:.2f} s "
            f"(without the identifier scan {t_plain:.2f} s) CPU"
        )


def tally(pairs, key=lambda c: c):  # type: ignore[no-untyped-def]
    """True positives, false positives and false negatives per ``key(code)`` over
    ``(gold, predicted)`` pairs of code sets."""
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    for gold, pred in pairs:
        tp.update(key(c) for c in pred & gold)
        fp.update(key(c) for c in pred - gold)
        fn.update(key(c) for c in gold - pred)
    return tp, fp, fn


def family_lines(tp: Counter[str], fp: Counter[str], fn: Counter[str]) -> None:
    """Print precision / recall per family from per-family (or per-code) counts."""
    for fam in FAMILIES:
        t = sum(v for k, v in tp.items() if k.split(".")[0] == fam)
        f_p = sum(v for k, v in fp.items() if k.split(".")[0] == fam)
        f_n = sum(v for k, v in fn.items() if k.split(".")[0] == fam)
        print(f"  {fam:5s} P={t / max(t + f_p, 1):.2f} R={t / max(t + f_n, 1):.2f}"
              f" (tp={t} fp={f_p} fn={f_n})")


def sentences() -> None:
    """Family precision / recall on each labelled-sentence file, reported separately.

    - ``rule_sentences.jsonl``: the set the rules are tuned on (the tests require every
      sentence in it to be right), so its figures are a fit.
    - ``rule_sentences_holdout.jsonl`` (361), ``rule_sentences_holdout2.jsonl`` (420) and
      ``rule_sentences_holdout3.jsonl`` (431): written from the code definitions by people
      who had not seen the rules, then used, one round each, to find what the rules got
      wrong. Their figures after that round are partly a fit too; each was measured before
      it was studied (docs/benchmarks/rules.md).
    - ``rule_sentences_holdout4.jsonl`` (420), ``rule_sentences_holdout5.jsonl`` (429)
      and ``rule_sentences_holdout6.jsonl`` (433): written the same way, measured unseen,
      then studied in rounds 4, 5 and 6.
    - ``rule_sentences_holdout7.jsonl`` (429): written the same way and never used to
      change a rule, so its figures are the estimate for sentences the rules were not
      written for.
    """
    from humanfactors.rules import RuleSet

    rules = RuleSet.default()
    for label, name in (
        ("tune", "rule_sentences.jsonl"),
        ("studied in round 1", "rule_sentences_holdout.jsonl"),
        ("studied in round 2", "rule_sentences_holdout2.jsonl"),
        ("studied in round 3", "rule_sentences_holdout3.jsonl"),
        ("studied in round 4", "rule_sentences_holdout4.jsonl"),
        ("studied in round 5", "rule_sentences_holdout5.jsonl"),
        ("studied in round 6", "rule_sentences_holdout6.jsonl"),
        ("held out, never studied", "rule_sentences_holdout7.jsonl"),
    ):
        path = ROOT / "tests" / "data" / name
        if not path.exists():
            print(f"labelled sentences ({label}): {path} not found, skipped")
            continue
        rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x]
        tp, fp, fn = tally(
            ((set(row["codes"]), {f.code for f in rules.apply(row["text"])}) for row in rows),
            key=lambda c: c.split(".")[0],
        )
        print(f"labelled sentences, {label} ({name}, {len(rows)}): family precision / recall")
        family_lines(tp, fp, fn)


def corpus() -> None:
    from humanfactors.rules import RuleSet

    rules = RuleSet.default()
    reports = corpus_reports()
    tp, fp, fn = tally((gold, {f.code for f in rules.apply(text)}) for text, gold in reports)
    print(f"fictional corpus ({len(reports)} reports): report-level precision / recall")
    family_lines(tp, fp, fn)
    codes = sorted(set(tp) | set(fp) | set(fn))
    print("  per code:")
    for c in codes:
        print(
            f"    {c:28s} P={tp[c] / max(tp[c] + fp[c], 1):.2f}"
            f" R={tp[c] / max(tp[c] + fn[c], 1):.2f} "
            f"support={tp[c] + fn[c]}"
        )


def asrs_quality() -> None:
    from humanfactors.rules import RuleSet

    rows = asrs_rows()
    if not rows:
        print(f"ASRS data not found at {ASRS}: skipped")
        return
    rules = RuleSet.default("asrs")
    tax = rules.taxonomy

    def pair(row: dict[str, str]) -> tuple[set[str], set[str]]:
        text = row["narrative"] + ("\n" + row["narrative_2"] if row["narrative_2"] else "")
        gold = {tax.resolve(x) for x in row["human_factors"].split("; ") if x}
        return gold, {f.code for f in rules.apply(text)}

    tp, fp, fn = tally(pair(row) for row in rows)
    print(
        f"ASRS dev.csv ({len(rows)} reports): per-code precision / recall (base rate = support / n)"
    )
    for c in tax.codes:
        p = tp[c] / max(tp[c] + fp[c], 1)
        r = tp[c] / max(tp[c] + fn[c], 1)
        f1 = 2 * p * r / (p + r) if p + r else 0.0
        print(
            f"  {c:26s} P={p:.2f} R={r:.2f} F1={f1:.2f} support={tp[c] + fn[c]}"
            f" base={(tp[c] + fn[c]) / len(rows):.2f}"
        )
    t, f_p, f_n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    p, r = t / (t + f_p), t / (t + f_n)
    print(f"  micro P={p:.2f} R={r:.2f} F1={2 * p * r / (p + r):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="speed only")
    parser.add_argument(
        "--sentences",
        action="store_true",
        help="only precision / recall on the labelled sentences (tune, studied and held-out files)",
    )
    parser.add_argument(
        "--stages",
        action="store_true",
        help="only the time per safeguarding report of each stage of apply",
    )
    args = parser.parse_args()
    if args.stages:
        stages()
        return
    if args.sentences:
        sentences()
        return
    speed()
    adversarial()
    if not args.quick:
        sentences()
        corpus()
        asrs_quality()


if __name__ == "__main__":
    main()
