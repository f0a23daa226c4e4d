"""Quality of the embedded default model on the bundled corpus (issue target in brackets).

    python benchmarks/bench_default_model.py [--cv 5] [--json]

Prints, per code and overall (micro / macro F1):
- rules alone on the test split;
- the model alone, trained on the train split, on the test split;
- model plus rules: the plain union of codes, and what `analyse` reports (a rule finding
  kept only with model support >= rule_support x threshold)         [macro-F1 >= 0.70];
- 5-fold cross-validation of the model on the train split;
- the merge at several ``rule_support`` values (cross-validated on train, and on test);
- a bare scikit-learn baseline (TF-IDF + one-vs-rest logistic regression, threshold 0.5);
- the first prediction of the cached default model in a fresh process.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

import numpy as np


def indicator(code_lists: list[list[str]], classes: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(code_lists), len(classes)), dtype=int)
    for r, codes in enumerate(code_lists):
        for c in codes:
            if c in index:
                out[r, index[c]] = 1
    return out


def support_ratio(model, texts: list[str], classes: list[str]) -> np.ndarray:
    """Each code's probability divided by its threshold (1 where the model lacks the code)."""
    out = np.ones((len(texts), len(classes)))
    proba = model.predict_proba(texts)
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(model.classes_):
        out[:, index[c]] = proba[:, j] / max(float(model.thresholds_[j]), 1e-9)
    return out


def fuse(ratio: np.ndarray, rules: np.ndarray, rule_support: float) -> np.ndarray:
    """The pipeline's merge: model codes, plus rule codes with enough model support."""
    return ((ratio >= 1) | ((rules > 0) & (ratio >= rule_support))).astype(int)


def scores(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict[str, object]:
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, zero_division=0)
    return {
        "micro_f1": float(f1_score(y_true, y_pred, average="micro", zero_division=0)),
        "macro_f1": float(f1_score(y_true, y_pred, average="macro", zero_division=0)),
        "per_label": {c: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                          "support": int(s[i])}
                      for i, c in enumerate(classes)},
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cv", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from sklearn.model_selection import KFold

    from humanfactors._default import build_default_model, training_data
    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.corpus import load_corpus
    from humanfactors.redact import Redactor
    from humanfactors.rules import RuleSet
    from humanfactors.sentence_model import SentenceEvidenceClassifier
    from humanfactors.taxonomy import load_taxonomy

    classes = list(load_taxonomy().leaves())
    redactor = Redactor()
    test = load_corpus("test")
    test_texts = [redactor.redact(r.narrative).text for r in test]
    y_test = indicator([list(r.codes) for r in test], classes)
    train_texts, train_labels, train_evidence = training_data()

    rules = RuleSet.default("safeguarding")
    rule_codes = [sorted({f.code for f in rules.apply(t)}) for t in test_texts]
    y_rules = indicator(rule_codes, classes)

    start = time.perf_counter()
    model = build_default_model()
    fit_s = time.perf_counter() - start
    from humanfactors.pipeline import DEFAULT_RULE_SUPPORT

    model_codes = model.predict_codes(test_texts)
    y_model = indicator(model_codes, classes)
    y_both = np.maximum(y_model, y_rules)
    y_pipeline = fuse(support_ratio(model, test_texts, classes), y_rules, DEFAULT_RULE_SUPPORT)

    # cross-validation on the train split: the default model, and the whole-report
    # HumanFactorsClassifier for comparison
    oof = np.zeros((len(train_texts), len(classes)), dtype=int)
    oof_report = np.zeros_like(oof)
    oof_ratio = np.ones((len(train_texts), len(classes)))
    for tr, va in KFold(args.cv, shuffle=True, random_state=0).split(train_texts):
        m = SentenceEvidenceClassifier(taxonomy="safeguarding", random_state=0)
        m.fit([train_texts[i] for i in tr], [train_labels[i] for i in tr],
              evidence=[train_evidence[i] for i in tr])
        oof[va] = indicator(m.predict_codes([train_texts[i] for i in va]), classes)
        oof_ratio[va] = support_ratio(m, [train_texts[i] for i in va], classes)
        r = HumanFactorsClassifier(taxonomy="safeguarding", random_state=0)
        r.fit([train_texts[i] for i in tr], [train_labels[i] for i in tr])
        oof_report[va] = indicator(r.predict_codes([train_texts[i] for i in va]), classes)
    y_train = indicator(train_labels, classes)
    rules_train = indicator(
        [sorted({f.code for f in rules.apply(t)}) for t in train_texts], classes
    )

    # bare scikit-learn baseline
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.pipeline import make_pipeline

    bare = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
        OneVsRestClassifier(LogisticRegression(max_iter=1000, class_weight="balanced")),
    )
    bare.fit(train_texts, y_train)
    y_bare = (bare.predict_proba(test_texts) >= 0.5).astype(int)

    results = {
        "test_rules": scores(y_test, y_rules, classes),
        "test_model": scores(y_test, y_model, classes),
        "test_model_plus_rules": scores(y_test, y_both, classes),
        "test_pipeline_merge": scores(y_test, y_pipeline, classes),
        "test_bare_sklearn": scores(y_test, y_bare, classes),
        "cv_model": scores(y_train, oof, classes),
        "cv_model_plus_rules": scores(y_train, np.maximum(oof, rules_train), classes),
        "cv_pipeline_merge": scores(
            y_train, fuse(oof_ratio, rules_train, DEFAULT_RULE_SUPPORT), classes
        ),
        "cv_report_level_classifier": scores(y_train, oof_report, classes),
        "n_train": len(train_texts), "n_test": len(test), "fit_seconds": fit_s,
    }
    code = ("import time; t=time.perf_counter(); from humanfactors import default_model; "
            "m=default_model(); m.predict_codes(['I forgot to send the referral.']); "
            "print(time.perf_counter()-t)")
    # make sure it is cached
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
    results["fresh_process_first_prediction_s"] = min(
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                             text=True).stdout)
        for _ in range(3))
    if args.json:
        print(json.dumps(results, indent=2))
        return
    print(f"train {len(train_texts)} reports, test {len(test)}; default model fit {fit_s:.1f} s")
    rows = ["test_rules", "test_model", "test_model_plus_rules", "test_pipeline_merge",
            "test_bare_sklearn", "cv_model", "cv_model_plus_rules", "cv_pipeline_merge",
            "cv_report_level_classifier"]
    for key in rows:
        r = results[key]
        print(f"{key:24s} micro-F1 {r['micro_f1']:.3f}  macro-F1 {r['macro_f1']:.3f}")  # type: ignore[index]
    print(f"\nfirst prediction of the cached default model in a fresh process: "
          f"{results['fresh_process_first_prediction_s']:.2f} s (after interpreter start)")
    # the pipeline merge by where the test reports come from (parts 1-4: the first 620
    # reports of the corpus; parts 5-10: the 600 written later to per-code quotas)
    part = np.array([int(r.id.split("-")[1]) for r in test])
    for name, keep in (("parts 1-4", part <= 4), ("parts 5-10", part >= 5)):
        if keep.any():
            r = scores(y_test[keep], y_pipeline[keep], classes)
            print(f"test_pipeline_merge, {name} (n={int(keep.sum())}): "
                  f"micro-F1 {r['micro_f1']:.3f}  macro-F1 {r['macro_f1']:.3f}")
    # the merge threshold: cross-validated on train (where it is chosen), and on test
    print("\nrule_support: merge micro / macro F1, CV on train | test split")
    for support in (0.0, 0.1, 0.2, 0.3, 0.4, 0.6, 0.8):
        cv_r = scores(y_train, fuse(oof_ratio, rules_train, support), classes)
        te_r = scores(y_test, fuse(support_ratio(model, test_texts, classes), y_rules, support),
                      classes)
        mark = "  (default)" if support == DEFAULT_RULE_SUPPORT else ""
        print(f"  {support:.1f}  {cv_r['micro_f1']:.3f} / {cv_r['macro_f1']:.3f} | "
              f"{te_r['micro_f1']:.3f} / {te_r['macro_f1']:.3f}{mark}")
    print("\nper code on the test split (F1): rules | model | pipeline merge | support")
    for c in classes:
        a, b, m = (
            results[k]["per_label"][c]  # type: ignore[index]
            for k in ("test_rules", "test_model", "test_pipeline_merge")
        )
        print(f"  {c:26s} {a['f1']:.2f} | {b['f1']:.2f} | {m['f1']:.2f} | {m['support']}")


if __name__ == "__main__":
    main()
