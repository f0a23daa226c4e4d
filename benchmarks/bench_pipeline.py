"""Speed and memory of the whole pipeline (issue targets in brackets).

    python benchmarks/bench_pipeline.py            # everything (about 10 minutes)
    python benchmarks/bench_pipeline.py --quick    # smaller streams for a smoke run
    python benchmarks/bench_pipeline.py --quick --repeat 3 --throughput-only
    python benchmarks/bench_pipeline.py --quick --stages   # CPU a report by stage
    python benchmarks/bench_pipeline.py --quick --cold     # first pass in a fresh process
    python benchmarks/bench_pipeline.py --vocabulary       # memory, a growing vocabulary

Prints:
- reports/second on one core for 1,500-character reports, whole pipeline     [>= 300/s]
- the same with --jobs 2, and the ratio                                        [>= 1.7x]
- a bare scikit-learn baseline (TF-IDF + one-vs-rest logistic regression predict) for scale
- peak memory of a 10,000- and a 100,000-report stream, and the difference     [< 50 MB]
- the same for a 2,000- and a 20,000-report stream with 20 made-up words in every report
  (a vocabulary that keeps growing: the per-word caches must stay bounded)
- `import humanfactors` time                                                   [< 0.3 s]
- the first `analyse` in a fresh process with the default model cached         [< 2 s]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time

REPORT_CHARS = 1500


def make_reports(n: int, seed: int = 0) -> list[str]:
    """1,500-character reports stitched from corpus sentences (realistic vocabulary)."""
    from humanfactors.corpus import load_corpus

    sentences = [
        s.strip() + "."
        for r in load_corpus("all")
        for s in r.narrative.split(".")
        if len(s.strip()) > 20
    ]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < REPORT_CHARS:
            parts.append(rng.choice(sentences))
        out.append(" ".join(parts)[:REPORT_CHARS])
    return out


def throughput(texts: list[str], n_jobs: int, batch_size: int = 64) -> float:
    from humanfactors.models import RecordError
    from humanfactors.pipeline import analyse_many

    # warm up to the steady state of a long stream: model loaded, every worker started, and
    # the regular expressions these texts need compiled in each worker (the rules compile
    # each phrase's regex on first use, which costs the first few hundred reports of a
    # process about half a second)
    list(analyse_many(texts[: 32 * n_jobs * 4], n_jobs=n_jobs, batch_size=8))
    list(analyse_many(texts, n_jobs=n_jobs, batch_size=batch_size))
    start = time.perf_counter()
    n = sum(
        1
        for r in analyse_many(texts, n_jobs=n_jobs, batch_size=batch_size)
        if not isinstance(r, RecordError)
    )
    elapsed = time.perf_counter() - start
    assert n == len(texts)
    return len(texts) / elapsed


def baseline(texts: list[str]) -> float:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    from humanfactors.corpus import load_corpus

    train = load_corpus("train")
    y = MultiLabelBinarizer().fit_transform([r.codes for r in train])
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(max_iter=1000, class_weight="balanced")),
    )
    pipe.fit([r.narrative for r in train], y)
    start = time.perf_counter()
    pipe.predict_proba(texts)
    return len(texts) / (time.perf_counter() - start)


STREAM = """
import resource, sys, itertools
from humanfactors.pipeline import analyse_many
from humanfactors.models import RecordError
import random, string
n = int(sys.argv[1])
texts = json.load(open(sys.argv[2]))
new_words = int(sys.argv[3])  # made-up words added to each report (a vocabulary that grows)
rng = random.Random(0)
def words():
    return "".join(" " + "".join(rng.choices(string.ascii_lowercase, k=rng.randint(4, 9)))
                   for _ in range(new_words))
gen = (texts[i % len(texts)] + f" Ref {i}." + words() for i in range(n))
count = sum(1 for _ in analyse_many(gen, batch_size=64))
assert count == n
# VmHWM is this process's own peak; ru_maxrss would also count the parent's size when
# the parent forked it (Linux carries the high-water mark across fork and exec)
try:
    status = open("/proc/self/status").read()
    print(int(status.split("VmHWM:")[1].split()[0]) / 1024)
except (OSError, IndexError):
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def stream_peak_mb(n: int, sample_file: str, new_words: int = 0) -> float:
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + STREAM, str(n), sample_file, str(new_words)],
        capture_output=True, text=True, check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def vocabulary_stream(sample: str) -> None:
    """Peak memory of a 2,000- and a 20,000-report stream with 20 made-up words in every
    report: the per-word caches must stay bounded."""
    few, many = 2000, 20000
    v_few, v_many = stream_peak_mb(few, sample, 20), stream_peak_mb(many, sample, 20)
    print(f"peak RSS with 20 new words a report: {few:,} reports {v_few:.0f} MB; "
          f"{many:,} reports {v_many:.0f} MB; growth {v_many - v_few:+.1f} MB")


def timed_subprocess(code: str, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


COLD = r"""
import json, sys, time
from humanfactors.pipeline import analyse_many
texts = json.load(open(sys.argv[1]))
list(analyse_many(["I forgot the visit."]))  # model loaded, as after the first analyse
times = []
for _ in range(3):
    start = time.process_time()
    list(analyse_many(texts, batch_size=64))
    times.append(time.process_time() - start)
print(*times)
"""


def cold(texts: list[str]) -> None:
    """CPU time of the same reports analysed three times in one fresh process: the first
    pass also compiles the regexes and fills the caches those reports need."""
    sample = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hf-bench-cold.json")
    with open(sample, "w") as fh:
        json.dump(texts, fh)
    out = subprocess.run([sys.executable, "-c", COLD, sample],
                         capture_output=True, text=True, check=True)
    first, *later = (float(x) for x in out.stdout.split())
    print(f"fresh process, {len(texts):,} reports: first pass {first:.2f} s CPU, then "
          + ", ".join(f"{t:.2f} s" for t in later)
          + f" (first-use cost about {first - min(later):.1f} s)")


def stages(texts: list[str], rule_support: float | None = None) -> None:
    """CPU time a report of each stage of one process's pipeline, and the parent's CPU
    time a report while two worker processes analyse the same texts (``rule_support``:
    the Analyser's, default its own)."""
    from humanfactors.models import Incident
    from humanfactors.pipeline import Analyser, analyse_many

    def cpu_ms(fn) -> float:  # type: ignore[no-untyped-def]
        fn()  # warm: regexes compiled, caches filled
        best = float("inf")
        for _ in range(3):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        return best / len(texts) * 1e3

    an = Analyser() if rule_support is None else Analyser(rule_support=rule_support)
    batches = [texts[i : i + 64] for i in range(0, len(texts), 64)]
    redacted = [an._redactor.redact(t).text for t in texts]
    support: list = []  # type: ignore[type-arg]
    for i in range(0, len(redacted), 64):
        support += an._model_findings(redacted[i : i + 64])[1]
    incidents = [Incident.from_text(t) for t in redacted]
    print(f"stages, CPU ms a report (n={len(texts)}, best of 3):")
    whole = cpu_ms(lambda: [an.analyse_batch(b) for b in batches])
    print(f"  whole analyse_batch     {whole:.2f}")
    redaction = cpu_ms(lambda: [an._redactor.redact(t) for t in texts])
    print(f"  redaction               {redaction:.2f}")
    model = cpu_ms(lambda: [an._model_findings(redacted[i : i + 64])
                            for i in range(0, len(redacted), 64)])
    print(f"  model                   {model:.2f}")
    rules = cpu_ms(lambda: [an._rule_findings(inc, s)
                            for inc, s in zip(incidents, support, strict=True)])
    print(f"  rules (plausible codes) {rules:.2f}")
    checks = cpu_ms(lambda: [an._quality(inc, ()) for inc in incidents])
    print(f"  quality checks          {checks:.2f}")
    list(analyse_many(texts[:256], n_jobs=2, batch_size=8))  # workers started and warm
    start_cpu, start = time.process_time(), time.perf_counter()
    n = sum(1 for _ in analyse_many(texts, n_jobs=2, batch_size=64))
    cpu, wall = time.process_time() - start_cpu, time.perf_counter() - start
    print(f"2 jobs: parent CPU {cpu / n * 1e3:.3f} ms a report ({cpu / wall:.1%} of a core)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=1,
                    help="alternate the throughput runs this many times")
    ap.add_argument("--throughput-only", action="store_true",
                    help="skip the memory and start-up figures")
    ap.add_argument("--stages", action="store_true",
                    help="only the CPU time of each stage and the parent's share with two jobs")
    ap.add_argument("--rule-support", type=float, default=None,
                    help="with --stages: the Analyser's rule_support (default its own)")
    ap.add_argument("--cold", action="store_true",
                    help="only the first pass against later ones in a fresh process")
    ap.add_argument("--vocabulary", action="store_true",
                    help="only the memory of a stream whose vocabulary keeps growing")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from humanfactors._default import default_predictor

    default_predictor()  # make sure the caches exist before timing anything
    n = 1000 if args.quick else 3000
    texts = make_reports(n)
    if args.stages:
        stages(texts, args.rule_support)
        return
    if args.cold:
        cold(texts)
        return
    if args.vocabulary:
        sample = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hf-bench-sample.json")
        with open(sample, "w") as fh:
            json.dump(texts[:500], fh)
        vocabulary_stream(sample)
        return
    # one and two jobs alternate, each pair with its own baseline run, so that a change in
    # the machine's speed shows in the spread rather than in one ratio
    rows = []
    for _ in range(args.repeat):
        one = throughput(texts, 1)
        two = throughput(texts, 2)
        base = baseline(texts)
        rows.append((one, two, base))
        print(f"whole pipeline, 1 job : {one:8.0f} reports/s  (1,500-char reports, n={n})")
        print(f"whole pipeline, 2 jobs: {two:8.0f} reports/s  ({two / one:.2f}x one job)")
        print(f"bare scikit-learn TF-IDF+LR predict: {base:8.0f} reports/s "
              f"(pipeline/baseline = {one / base:.2f})")
    if args.repeat > 1:
        import statistics

        ones = [r[0] for r in rows]
        ratios = [r[1] / r[0] for r in rows]
        print(f"over {args.repeat} runs: 1 job median {statistics.median(ones):.0f} reports/s "
              f"(range {min(ones):.0f}-{max(ones):.0f}); 2 jobs / 1 job median "
              f"{statistics.median(ratios):.2f}x (range {min(ratios):.2f}-{max(ratios):.2f})")

    if args.throughput_only:
        return
    sample = os.path.join(os.environ.get("TMPDIR", "/tmp"), "hf-bench-sample.json")
    with open(sample, "w") as fh:
        json.dump(texts[:500], fh)
    small, large = (1000, 10000) if args.quick else (10000, 100000)
    m_small, m_large = stream_peak_mb(small, sample), stream_peak_mb(large, sample)
    print(f"peak RSS: {small:,} reports {m_small:.0f} MB; {large:,} reports {m_large:.0f} MB; "
          f"growth {m_large - m_small:+.1f} MB")
    vocabulary_stream(sample)

    imp = timed_subprocess("import humanfactors")
    bare = timed_subprocess("pass")
    print(f"import humanfactors: {imp - bare:.3f} s"
          f" (interpreter start excluded; {imp:.3f} s with it)")
    first = timed_subprocess(
        "import humanfactors as hf; hf.analyse('I forgot to send the referral.')", repeat=3
    )
    print(f"first analyse in a fresh process, default model cached: {first:.2f} s"
          " (interpreter start included)")


if __name__ == "__main__":
    main()
