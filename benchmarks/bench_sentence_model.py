"""The sentence-evidence classifier against the current default model, on the bundled corpus.

    python benchmarks/bench_sentence_model.py            # full figures (about 3 minutes)
    python benchmarks/bench_sentence_model.py --screen   # compare settings by internal CV

Both models train on the redacted train split (evidence offsets moved onto the redacted
text), exactly as the default model does. Figures:
- 5-fold cross-validation on train (thresholds tuned inside each training fold only);
- the test split (model trained on all of train), alone and unioned with the rules;
- fit time and prediction speed.
``--screen`` prints, for several settings, the internal out-of-fold micro/macro-F1 of one
fit on train (thresholds tuned on the same out-of-fold scores: optimistic, but comparable
between settings). The test split is never used to choose settings.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np


def indicator(code_lists: list[list[str]], classes: list[str]) -> np.ndarray:
    index = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(code_lists), len(classes)), dtype=int)
    for r, codes in enumerate(code_lists):
        for c in codes:
            if c in index:
                out[r, index[c]] = 1
    return out


def f1s(y: np.ndarray, p: np.ndarray) -> str:
    from sklearn.metrics import f1_score

    mi = f1_score(y, p, average="micro", zero_division=0)
    ma = f1_score(y, p, average="macro", zero_division=0)
    return f"micro-F1 {mi:.3f}  macro-F1 {ma:.3f}"


def redacted(split: str) -> tuple[list[str], list[list[str]], list[list[tuple[str, int, int]]]]:
    from humanfactors.corpus import load_corpus
    from humanfactors.redact import Redactor
    from humanfactors.sentence_model import redacted_evidence

    redactor = Redactor()
    texts, labels, evidence = [], [], []
    for r in load_corpus(split):  # type: ignore[arg-type]
        red = redactor.redact(r.narrative)
        texts.append(red.text)
        labels.append(list(r.codes))
        evidence.append(redacted_evidence(r.evidence, red.spans))
    return texts, labels, evidence


SETTINGS: dict[str, dict[str, Any]] = {
    "max": {"blend": 0.0},
    "default": {},
    "top2": {"blend": 0.0, "pooling": "top2"},
    "C=2": {"C": 2.0, "blend": 0.0},
    "C=8": {"C": 8.0, "blend": 0.0},
    "blend=0.2": {"blend": 0.2},
    "blend=0.35": {"blend": 0.35},
    "blend=0.5": {"blend": 0.5},
    "rules=0.3": {"blend": 0.0, "rule_weight": 0.3},
    "blend=0.35+rules=0.3": {"blend": 0.35, "rule_weight": 0.3},
    "chars(3,5)": {"blend": 0.0, "char_ngram_range": (3, 5)},
    "blend=0.65": {"blend": 0.65},
    "blend=0.8": {"blend": 0.8},
    "blend=0.5+rules=0.3": {"blend": 0.5, "rule_weight": 0.3},
    "blend=0.5+top2": {"blend": 0.5, "pooling": "top2"},
    "blend=0.4": {"blend": 0.4},
    "blend=0.6": {"blend": 0.6},
    "report_C=2": {"report_C": 2.0},
    "report_C=10": {"report_C": 10.0},
    "min_df=2": {"min_df": 2},
    "blend=0.5+chars(3,5)": {"char_ngram_range": (3, 5)},
    "ngram(1,3)": {"blend": 0.0, "word_ngram_range": (1, 3)},
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--screen", nargs="*", default=None, help="settings to screen (default: all)")
    ap.add_argument("--params", default="", help="model params as k=v;k=v (python literals)")
    ap.add_argument("--cv", type=int, default=5)
    args = ap.parse_args()

    import ast

    from sklearn.model_selection import KFold

    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.rules import RuleSet
    from humanfactors.sentence_model import SentenceEvidenceClassifier
    from humanfactors.taxonomy import load_taxonomy

    classes = list(load_taxonomy().leaves())
    texts, labels, evidence = redacted("train")
    y_train = indicator(labels, classes)

    if args.screen is not None:
        for name in args.screen or list(SETTINGS):
            start = time.perf_counter()
            m = SentenceEvidenceClassifier(**SETTINGS[name]).fit(texts, labels, evidence=evidence)
            s = m.cv_scores_
            print(f"{name:24s} internal OOF micro-F1 {s['micro_f1']:.3f}  macro-F1 "
                  f"{s['macro_f1']:.3f}  ({time.perf_counter() - start:.1f} s)", flush=True)
        return

    params: dict[str, Any] = {}
    for item in filter(None, args.params.split(";")):
        key, value = item.split("=", 1)
        params[key] = ast.literal_eval(value)
    test_texts, test_labels, _ = redacted("test")
    y_test = indicator(test_labels, classes)
    rules = RuleSet.default("safeguarding")
    r_train = indicator([sorted({f.code for f in rules.apply(t)}) for t in texts], classes)
    r_test = indicator([sorted({f.code for f in rules.apply(t)}) for t in test_texts], classes)

    def old() -> Any:
        return HumanFactorsClassifier(taxonomy="safeguarding", random_state=0)

    def new() -> Any:
        return SentenceEvidenceClassifier(taxonomy="safeguarding", random_state=0, **params)

    print(f"train {len(texts)} reports, test {len(test_texts)}; "
          f"new model params {params or 'defaults'}")
    for name, make, with_ev in (("old (HumanFactorsClassifier)", old, False),
                                ("new (SentenceEvidenceClassifier)", new, True)):
        oof = np.zeros_like(y_train)
        for tr, va in KFold(args.cv, shuffle=True, random_state=0).split(texts):
            m = make()
            kw = {"evidence": [evidence[i] for i in tr]} if with_ev else {}
            m.fit([texts[i] for i in tr], [labels[i] for i in tr], **kw)
            oof[va] = indicator(m.predict_codes([texts[i] for i in va]), classes)
        start = time.perf_counter()
        m = make().fit(texts, labels, **({"evidence": evidence} if with_ev else {}))
        fit_s = time.perf_counter() - start
        many = test_texts * 8
        start = time.perf_counter()
        pred = indicator(m.predict_codes(many), classes)[: len(test_texts)]
        rate = len(many) / (time.perf_counter() - start)
        print(f"\n{name}: fit {fit_s:.1f} s, predict {rate:,.0f} reports/s")
        print(f"  cv{args.cv} train         {f1s(y_train, oof)}")
        print(f"  cv{args.cv} train + rules {f1s(y_train, np.maximum(oof, r_train))}")
        print(f"  test             {f1s(y_test, pred)}")
        print(f"  test + rules     {f1s(y_test, np.maximum(pred, r_test))}")
    print(f"\nrules alone: test {f1s(y_test, r_test)}")


if __name__ == "__main__":
    main()
