"""Statistics of the bundled safeguarding corpus, as Markdown.

    python benchmarks/bench_corpus.py

Prints the number of reports per split, per-code counts, codes per report, words per
report, the distinct 4-gram share and the spread of event types, harm, years, regions and
reporter roles. Words and 4-grams are counted as ``tools/build_corpus.py`` counts them.
"""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter
from collections.abc import Iterable

from humanfactors.corpus import load_corpus
from humanfactors.models import CodedIncident
from humanfactors.taxonomy import load_taxonomy

WORD = re.compile(r"[A-Za-z0-9']+")


def distinct_4gram_share(reports: Iterable[CodedIncident]) -> float:
    grams: Counter[tuple[str, ...]] = Counter()
    for rep in reports:
        words = [w.lower() for w in WORD.findall(rep.narrative)]
        grams.update(zip(words, words[1:], words[2:], words[3:], strict=False))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def _table(title: str, counts: Counter[str], total: int) -> list[str]:
    lines = [f"| {title} | reports | share |", "|---|---:|---:|"]
    for key, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"| {key} | {n} | {n / total:.1%} |")
    return lines


def main() -> None:
    t0 = time.perf_counter()
    train, test = load_corpus("train"), load_corpus("test")
    every = [*train, *test]
    n = len(every)
    tax = load_taxonomy("safeguarding")
    out = ["## Size", "", "| split | reports |", "|---|---:|"]
    out += [f"| train | {len(train)} |", f"| test | {len(test)} |", f"| all | {n} |", ""]

    words = [len(WORD.findall(r.narrative)) for r in every]
    q = statistics.quantiles(words, n=4)
    out += ["## Words per report", ""]
    out += [
        f"min {min(words)}, lower quartile {q[0]:.0f}, median {q[1]:.0f}, "
        f"mean {statistics.mean(words):.0f}, upper quartile {q[2]:.0f}, max {max(words)}; "
        f"{sum(words)} words in all.",
        "",
    ]
    per = Counter(str(len(r.codes)) for r in every)
    out += ["## Codes per report", "", "| codes | reports |", "|---:|---:|"]
    out += [f"| {k} | {per[k]} |" for k in sorted(per)]
    mean_codes = statistics.mean(len(r.codes) for r in every)
    out += ["", f"Mean {mean_codes:.2f} codes per report.", ""]

    out += ["## Reports per code", "", "| code | train | test | all |", "|---|---:|---:|---:|"]
    c_train = Counter(c for r in train for c in r.codes)
    c_test = Counter(c for r in test for c in r.codes)
    for code in tax.leaves():
        a, b = c_train[code], c_test[code]
        out.append(f"| `{code}` | {a} | {b} | {a + b} |")
    out += [""]

    share = distinct_4gram_share(every)
    out += ["## Variety", "", f"Distinct 4-gram share (distinct / all 4-grams): {share:.3f}", ""]

    for title, key in [
        ("event type", lambda r: r.event_type.value if r.event_type else "-"),
        ("harm", lambda r: r.harm.value if r.harm else "-"),
        ("year occurred", lambda r: str(r.occurred_on.year) if r.occurred_on else "-"),
        ("region", lambda r: r.region or "-"),
    ]:
        out += [f"## By {title}", "", *_table(title, Counter(key(r) for r in every), n), ""]
    roles = Counter(r.reporter_role or "-" for r in every)
    out += [f"## Reporter roles ({len(roles)} distinct; the 15 most frequent)", ""]
    out += _table("reporter role", Counter(dict(roles.most_common(15))), n)
    pii = Counter(p.type for r in every for p in r.pii)
    with_pii = sum(1 for r in every if r.pii)
    out += ["", f"## Annotated personal data ({with_pii} reports carry at least one span)", ""]
    out += ["| type | spans |", "|---|---:|"] + [f"| {k} | {v} |" for k, v in sorted(pii.items())]
    out += ["", f"(computed in {time.perf_counter() - t0:.2f} s)"]
    print("\n".join(out))


if __name__ == "__main__":
    main()
