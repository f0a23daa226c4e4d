"""Weak supervision on real ASRS reports: a classifier trained from rules alone.

    python benchmarks/bench_weak.py [--asrs ../shared/data/asrs] [--test-share 0.25]

Splits ``dev.csv`` by ACN (a seeded shuffle) into a training part and a held-out part.
On the training part the analysts' labels are ignored: the built-in ``asrs`` rules vote,
the :class:`~humanfactors.weak.LabelModel` combines the votes, and a
:class:`~humanfactors.classifier.HumanFactorsClassifier` is trained on the label model's
thresholded posteriors (the classifier takes no sample weights). On the held-out part,
against the analysts' labels, it prints:

- the rules alone (a code is predicted where one of its rules fired);
- the label model alone (posterior >= 0.5; the same decisions as the rules when each
  code has one rule, with posteriors as scores);
- the classifier trained from the rules;
- for reference, the same classifier trained on the analysts' labels (the supervised
  ceiling that coded reports buy), and a bare scikit-learn pipeline on those labels.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import numpy as np

from humanfactors.classifier import HumanFactorsClassifier
from humanfactors.evaluate import EvaluationReport, evaluate
from humanfactors.io import load_asrs_dev
from humanfactors.rules import RuleSet
from humanfactors.weak import LabelModel, weak_labels

DEFAULT_ASRS = Path(__file__).resolve().parents[2] / "shared" / "data" / "asrs"


def split_by_acn(ids: list[str], test_share: float, seed: int) -> tuple[list[int], list[int]]:
    """A seeded split of report positions, by ACN (each ACN appears once in dev.csv)."""
    acns = sorted(set(ids))
    rng = np.random.default_rng(seed)
    held = set(rng.choice(acns, size=round(test_share * len(acns)), replace=False).tolist())
    train = [i for i, a in enumerate(ids) if a not in held]
    test = [i for i, a in enumerate(ids) if a in held]
    return train, test


def bare_sklearn(train_texts: list[str], train_labels: list[list[str]]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MultiLabelBinarizer

    mlb = MultiLabelBinarizer().fit(train_labels)
    pipe = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        OneVsRestClassifier(
            LogisticRegression(class_weight="balanced", max_iter=1000, solver="liblinear")
        ),
    ).fit(train_texts, mlb.transform(train_labels))
    return pipe, list(mlb.classes_)


def row(name: str, r: EvaluationReport, seconds: float | None = None) -> str:
    p1 = "n/a" if r.p_at_1 is None else f"{r.p_at_1:.3f}"
    t = "" if seconds is None else f"{seconds:.0f}"
    return (
        f"| {name} | {r.micro_f1:.3f} | {r.macro_f1:.3f} | {r.micro_precision:.3f} | "
        f"{r.micro_recall:.3f} | {p1} | {t} |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--asrs", type=Path, default=DEFAULT_ASRS)
    ap.add_argument("--test-share", type=float, default=0.25)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    data = load_asrs_dev(args.asrs / "dev.csv")
    train, test = split_by_acn(data.ids, args.test_share, args.seed)
    tr_texts = [data.texts[i] for i in train]
    te_texts = [data.texts[i] for i in test]
    tr_labels = [data.labels[i] for i in train]
    te_labels = [data.labels[i] for i in test]
    classes = sorted({c for x in data.labels for c in x})
    print(f"ASRS dev.csv: {len(data)} reports; {len(train)} for training (labels ignored), "
          f"{len(test)} held out (split by ACN, seed {args.seed})")

    rules = RuleSet.default("asrs")
    t0 = time.perf_counter()
    tr_votes = rules.vote_matrix(tr_texts)
    te_votes = rules.vote_matrix(te_texts)
    t_votes = time.perf_counter() - t0
    rule_codes = [r.code for r in rules]
    print(f"{len(rules)} asrs rules voting for {len(set(rule_codes))} of {len(classes)} codes; "
          f"votes on all reports in {t_votes:.1f} s")

    results: list[str] = []
    # 1. rules alone
    index = {c: j for j, c in enumerate(classes)}
    pred_rules = np.zeros((len(test), len(classes)), dtype=np.int8)
    for j, code in enumerate(rule_codes):
        pred_rules[:, index[code]] |= te_votes[:, j]
    r_rules = evaluate(te_labels, pred_rules, classes=classes, method="rules alone")
    results.append(row("rules alone", r_rules))

    # 2. label model alone
    t0 = time.perf_counter()
    lm = LabelModel(rules=rules).fit_votes(tr_votes, rule_codes, rule_ids=rules.rule_ids)
    t_lm = time.perf_counter() - t0
    post = lm.predict_proba_votes(te_votes)
    scores = np.zeros((len(test), len(classes)))
    for ci, code in enumerate(lm.classes_):
        scores[:, index[code]] = post[:, ci]
    r_lm = evaluate(te_labels, (scores >= 0.5).astype(np.int8), classes=classes,
                    y_score=scores, method="label model")
    results.append(row("label model alone (posterior >= 0.5)", r_lm, t_lm))

    # 3. classifier trained from the rules
    t0 = time.perf_counter()
    weak, _ = weak_labels(lm.predict_proba_votes(tr_votes), lm.classes_)
    clf = HumanFactorsClassifier(taxonomy="asrs", random_state=0).fit(tr_texts, weak)
    t_weak = time.perf_counter() - t0
    r_weak = evaluate(te_labels, clf.predict(te_texts), classes=list(clf.classes_),
                      y_score=clf.predict_proba(te_texts), method="from rules")
    results.append(row("classifier trained from rules (no labels)", r_weak, t_weak))
    n_pos = sum(bool(x) for x in weak)
    print(f"label model: {n_pos} of {len(train)} training reports got at least one code; "
          f"{sum(len(x) for x in weak) / len(train):.2f} codes per report "
          f"(analysts: {sum(len(x) for x in tr_labels) / len(train):.2f})")

    # 4. supervised references
    t0 = time.perf_counter()
    sup = HumanFactorsClassifier(taxonomy="asrs", random_state=0).fit(tr_texts, tr_labels)
    t_sup = time.perf_counter() - t0
    r_sup = evaluate(te_labels, sup.predict(te_texts), classes=list(sup.classes_),
                     y_score=sup.predict_proba(te_texts), method="supervised")
    results.append(row("reference: classifier on analysts' labels", r_sup, t_sup))
    t0 = time.perf_counter()
    pipe, pclasses = bare_sklearn(tr_texts, tr_labels)
    t_bare = time.perf_counter() - t0
    pscores = pipe.predict_proba(te_texts)
    r_bare = evaluate(te_labels, (pscores >= 0.5).astype(np.int8), classes=pclasses,
                      y_score=pscores, method="bare sklearn")
    results.append(row("reference: bare scikit-learn on analysts' labels", r_bare, t_bare))

    print()
    print("| held-out ASRS reports | micro-F1 | macro-F1 | micro-P | micro-R | P@1 | fit s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for line in results:
        print(line)
    print()
    print("Per code, F1 (rules alone / trained from rules / supervised):")
    for code in classes:
        a = r_rules.per_label[code].f1
        b = r_weak.per_label[code].f1 if code in r_weak.per_label else 0.0
        c = r_sup.per_label[code].f1
        support = r_sup.per_label[code].support
        print(f"  {code:<26} {a:.3f} / {b:.3f} / {c:.3f}   (support {support})")
    print()
    print("Rules as the label model sees them (estimated on the training part, no labels):")
    for est in lm.rule_estimates():
        print(f"  {est.rule_id:<32} {est.code:<26} fires {est.coverage:6.1%}  "
              f"sensitivity {est.sensitivity:.2f}  false-fire {est.false_fire_rate:.3f}")


if __name__ == "__main__":
    main()
