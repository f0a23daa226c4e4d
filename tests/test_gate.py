"""The quality checks' word-start gating gives exactly the regexes' own matches."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from humanfactors.rules import checks
from humanfactors.rules._gate import GatedRegex, first_word_prefixes, words

GATED = {name: getattr(checks, name) for name in dir(checks) if name.startswith("_G_")}

# words that start check phrases, mixed with filler, punctuation and odd characters
_VOCAB = [
    "in", "hindsight", "should", "have", "known", "It", "was", "obvious", "the", "risk",
    "worker", "failed", "to", "visit", "negligent", "We", "will", "ensure", "training",
    "because", "workload", "nearly", "noticed", "caught", "in time", "Going", "forward",
    "procedure", "system", "change", "she", "refused", "e-learning", "didn't", "SW",
    "looking", "back", "warning", "signs", "missed", "I", "think", "ſhould", "Ça", "İn",
    "x", "", ".", ",", ";", "\n", "?", "’", "-", "  ",
]
texts = st.lists(st.sampled_from(_VOCAB), max_size=60).map(" ".join) | st.text(max_size=200)


def test_every_check_regex_is_gated():
    assert len(GATED) >= 8
    for name, gated in GATED.items():
        assert gated.prefixes, f"{name}: no prefixes could be read from the pattern"


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?<!\w)(?=\w)(?:in\s+hindsight|should\s+have)(?!\w)", ("in", "should")),
        (r"(?<!\w)(?:notic\w*|spott\w*)", ("notic", "spott")),
        (r"(?<!\w)(?:e-?learning|train\w*)", ("e", "train")),
        (r"(?<!\w)(?:a|ab|abc)", ("a",)),
        (r"(?<!\w)\w+", None),  # may start with any word character
        (r"in\s+hindsight", None),  # not anchored at a word start
        (r"(?<!\w)(?:in|\d+)", None),  # one alternative starts with a class
    ],
)
def test_prefixes(pattern, expected):
    assert first_word_prefixes(re.compile(pattern, re.IGNORECASE)) == expected


@settings(max_examples=300, deadline=None)
@given(texts)
def test_gated_spans_equal_finditer(text):
    ws = words(text)
    for gated in GATED.values():
        assert gated.spans(text, ws) == [m.span() for m in gated.rx.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(0, 200), st.integers(0, 200))
def test_gated_found_equals_search(text, a, b):
    lo, hi = sorted((min(a, len(text)), min(b, len(text))))
    ws = words(text)
    for gated in GATED.values():
        assert gated.found(text, ws, lo, hi) == (gated.rx.search(text, lo, hi) is not None)


def test_non_ascii_text_is_not_gated():
    # case folding matches "ſ" to "s": the gate steps aside rather than miss it
    assert words("ſhould have known") is None
    g = GatedRegex(checks._HINDSIGHT)
    assert g.spans("ſhould have known", None) == [(0, 17)]
