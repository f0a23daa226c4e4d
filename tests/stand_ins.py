"""Stand-in estimators shared by the tests (fast, deterministic, the library's interface)."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator


class WordCoder(BaseEstimator):  # type: ignore[misc]
    """A tiny stand-in multi-label text estimator with the library's interface.

    A code's score is the share of a text's words seen in training reports with that
    code; it is predicted when the score reaches ``threshold``.
    """

    def __init__(
        self,
        *,
        taxonomy: Any = None,
        threshold: float = 0.5,
        random_state: int = 0,
        n_jobs: Any = None,
    ):
        self.taxonomy = taxonomy
        self.threshold = threshold
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, texts: list[str], labels: list[list[str]]) -> WordCoder:
        from humanfactors.taxonomy import load_taxonomy

        tax = load_taxonomy(self.taxonomy) if self.taxonomy is not None else None
        labels = [[tax.resolve(c) for c in codes] if tax else list(codes) for codes in labels]
        self.classes_ = np.array(sorted({c for codes in labels for c in codes}))
        self.vocab_ = {c: set() for c in self.classes_}
        for text, codes in zip(texts, labels, strict=True):
            for c in codes:
                self.vocab_[c].update(text.lower().split())
        return self

    def predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self.classes_)))
        for i, text in enumerate(texts):
            words = text.lower().split() or [""]
            for j, c in enumerate(self.classes_):
                out[i, j] = sum(w in self.vocab_[c] for w in words) / len(words)
        return out

    def predict(self, texts: list[str]) -> np.ndarray:
        return (self.predict_proba(texts) >= self.threshold).astype(int)
