"""Shortcuts taken for speed give exactly what the slow paths give."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer

from humanfactors._features import TOKEN_PATTERN, char_wb_transform, word_count_transform
from humanfactors.rules import RuleSet

TRAIN = [
    "I forgot to send the safety plan to the school.",
    "The HV did not feel able to challenge the consultant's view.",
    "Caseloads were high and supervision was cancelled twice.",
    "Mum's new partner was not known to children's social care.",
    "We all agreed quickly; nobody wanted to be the one to disagree.",
    "Ça va: naïve façade, coöperate — ſ and İ are odd letters.",
]
_WORDS = [
    "forgot", "plan", "school", "HV", "challenge", "ça", "naïve", "İ", "ſ", "the", "qqhfsepqq"
]
docs = st.lists(
    st.lists(st.sampled_from(_WORDS), max_size=12).map(" ".join) | st.text(max_size=40),
    min_size=1,
    max_size=6,
)


def _same(a, b):
    return (
        a.shape == b.shape
        and a.dtype == b.dtype
        and np.array_equal(a.indptr, b.indptr)
        and np.array_equal(a.indices, b.indices)
        and np.array_equal(a.data, b.data)
    )


@pytest.mark.parametrize("ngram_range", [(3, 4), (2, 5), (1, 1)])
@settings(max_examples=60, deadline=None)
@given(batch=docs)
def test_char_wb_transform_equals_scikit_learn(ngram_range, batch):
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=ngram_range, sublinear_tf=True,
                          dtype=np.float32).fit(TRAIN)
    assert _same(char_wb_transform(vec, batch), vec.transform(batch))
    assert _same(char_wb_transform(vec, batch), vec.transform(batch))  # cached words too


@pytest.mark.parametrize("ngram_range", [(1, 2), (1, 1), (1, 3), (2, 3)])
@settings(max_examples=60, deadline=None)
@given(batch=docs)
def test_word_count_transform_equals_scikit_learn(ngram_range, batch):
    vec = CountVectorizer(ngram_range=ngram_range, token_pattern=TOKEN_PATTERN,
                          dtype=np.float32).fit(TRAIN)
    assert _same(word_count_transform(vec, batch), vec.transform(batch))


def test_word_count_transform_of_an_empty_batch_has_no_rows():
    vec = CountVectorizer(token_pattern=TOKEN_PATTERN, dtype=np.float32).fit(TRAIN)
    assert _same(word_count_transform(vec, []), vec.transform([]))


def test_word_count_transform_falls_back_for_other_settings():
    vec = CountVectorizer(stop_words=["the"]).fit(TRAIN)
    assert _same(word_count_transform(vec, TRAIN), vec.transform(TRAIN))
    binary = CountVectorizer(binary=True).fit(TRAIN)
    assert _same(word_count_transform(binary, TRAIN), binary.transform(TRAIN))


REPORTS = [
    "I forgot to send the revised safety plan to the school; the DSL noticed and rang me.",
    "We all went along with the consultant. I did not feel able to challenge her view, "
    "and caseloads were so high that supervision was cancelled.",
    "There was no evidence of disguised compliance. Mum may have been distracted.",
]


@pytest.mark.parametrize("text", REPORTS)
def test_apply_with_codes_gives_those_codes_findings_unchanged(text):
    rules = RuleSet.default()
    full = rules.apply(text)
    assert full, "the example should fire some rules"
    for keep in ({f.code for f in full[:1]}, {f.code for f in full}, set(), {"ERR.SLIP"}):
        part = rules.apply(text, codes=keep)
        assert [f for f in full if f.code in keep] == part


def test_matches_with_codes():
    rules = RuleSet.default()
    text = REPORTS[1]
    every = rules.matches(text)
    codes = {every[0].code}
    assert rules.matches(text, codes=codes) == [m for m in every if m.code in codes]


def test_pipeline_skips_rules_only_where_the_merge_would_drop_them(monkeypatch):
    from humanfactors.pipeline import Analyser

    analyser = Analyser()
    fast = [a.findings for a in analyser.analyse_batch(REPORTS)]
    # the same analyser made to run every rule: identical findings
    monkeypatch.setattr(
        Analyser, "_rule_findings", lambda self, inc, support: list(self._rules.apply(inc))
    )
    slow = [a.findings for a in analyser.analyse_batch(REPORTS)]
    assert fast == slow


@pytest.mark.parametrize("taxonomy", ["safeguarding", "asrs"])
def test_cut_phrase_regex_finds_what_the_whole_regex_finds(taxonomy):
    # A phrase's regex cut to the first alternatives that can start at a token
    # (Phrase.pattern_at) gives the same match there as the whole regex, in plain texts.
    import random
    import re

    from humanfactors.rules._text import segment
    from humanfactors.rules.engine import _compile_low, _lower_case_safe

    matcher = RuleSet.default(taxonomy)._get_matcher()
    phrases = [p for p in matcher.phrases if len(p.alternatives) >= 2]
    rng = random.Random(7)
    phrases = rng.sample(phrases, min(40, len(phrases)))
    tails = ["", "'s", "’s", "n't", "-up", "ing"]
    for phrase in phrases:
        for word, _ in phrase.alternatives:
            core = word.rstrip("*")
            for tail, sep in ((t, s) for t in tails for s in (" ", "-", " / ")):
                text = f"{core.upper() if tail == 'ing' else core}{tail}{sep}" + " ".join(
                    rng.choice(phrase.alternatives)[0].rstrip("*") for _ in range(4)
                )
                seg = segment(text)
                for tok, start in zip(seg.tokens, seg.token_starts, strict=True):
                    cut = phrase.pattern_at(tok)
                    if cut is None:
                        continue
                    whole = phrase.regex.match(text, start)
                    part = re.compile(cut, re.IGNORECASE).match(text, start)
                    assert (whole and whole.span()) == (part and part.span()), (text, tok)
                    if _lower_case_safe(phrase.source):  # matched with case, lower-cased
                        low = _compile_low(cut).match(text.lower(), start)
                        assert (whole and whole.span()) == (low and low.span()), (text, tok)


_RAW = [
    r"(?<!\w)(?:caseloads?|holding)[ ](?:of[ ])?(?:2\d|3\d)(?!\w)",
    r"(?<!\w)(?:i|we|she)[ ]had[ ](?:a[ ]caseload[ ]of[ ])?\d+",
    r"(?<!\w)(?:average[ ])?caseloads?[ ](?:is|was)",
    r"(?<!\w)forgot|(?<!\w)missed",  # a top-level alternation
    r"(?<!\w)no|ward",
    r"(?<!\w)[a-f]\w+[^a-z ]",
    r"(?<!\w)(?:[0-_]\w)",  # a range that holds upper-case letters: finditer
    r"(?<!\w)Caseload",  # upper case: finditer
    r"(?<!\w)(?=\w)(?:ſ|s)taff",  # a non-ASCII letter: finditer
    r"(?<!\w)(?i:was)\s(\w)\1",  # a flag change and a back-reference: finditer
    r"(?<!\w)(?:no(?:-one|body)|[1-3]\d|t\b)\s\w+",  # leads: exact, a digit, a piece
    r"(?<!\w)(?:(?:very )?busy|n't)(?: was)?",  # an optional first group; an apostrophe
    r"(?<!\w)(?=\w)(?:was|is)(?-i:\s[A-Z]\w*)",  # a flag change after the leads
]


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["caseload", "Caseloads", "CASELOADS", "of", "32", "I", "we", "had", "a", "was", "is",
             "average", "forgot", "Forgot", "missed", "noward", "no", "ward", "staff", "ſtaff",
             "face;", "dead!", "A1", "_x", "’", "'", "xforgot", "wasll", "was ll", "didn't",
             "can’t", "t", "no-one", "nobody", "Very", "busy", "12", "Zed"]
        ),
        max_size=40,
    ),
    st.sampled_from([" ", "  ", "-", "\n"]),
)
def test_raw_regexes_find_what_finditer_finds(words, sep):
    from humanfactors.rules import Rule
    from humanfactors.rules._text import segment

    rules = RuleSet([Rule(f"raw.{n}", "ERR.LAPSE", regex=[rx]) for n, rx in enumerate(_RAW)])
    matcher = rules._get_matcher()
    text = sep.join(words)
    expected = [
        (i, rx.pattern, m.start(), m.end())
        for i, rule in enumerate(matcher.rules)
        for rx in rule._regexes
        for m in rx.finditer(text)
        if m.end() > m.start()
    ]
    assert list(matcher.candidates(segment(text))) == expected


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*".!?'\"’”)] \n\tabcDrJ_1²ſİ", "Dr", "e.g", ". ", "x" * 14]),
                max_size=30).map("".join))
def test_sentence_boundary_scan_equals_the_plain_pattern(text):
    from humanfactors.rules import _text

    def spans(rx):
        return [(m.start(), m.end()) for m in rx.finditer(text)]

    assert spans(_text._BOUNDARY_SCAN) == spans(_text._BOUNDARY)
    for k in range(len(text) + 1):  # the word before a stop, as a character loop finds it
        j = k
        while j > 0 and (text[j - 1].isalnum() or text[j - 1] == ".") and k - j < 12:
            j -= 1
        assert _text._WORD_BEFORE.search(text, max(0, k - 12), k).start() == j


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["I", "was", "not", "very", "busy", "Busy", "BUSY", "didn't", "didn’t", "sorry", "-",
             "agency", "follow-up", "follow", "up", "perhaps", "Perhaps", ",", ".", "x"]
        ),
        max_size=30,
    ).map(" ".join),
    st.integers(0, 40),
    st.integers(0, 200),
)
def test_context_scans_find_what_search_finds(text, pos, endpos):
    # the built-in rules' context regexes, scanned on the lower-cased plain text, and
    # tried where the text's tokens fit their lead words
    from humanfactors.rules._text import segment
    from humanfactors.rules.engine import _ContextLeads, _found

    low = text.lower()
    seg = segment(text)
    leads = _ContextLeads()
    tried = 0
    for rule in RuleSet.default():
        for rx in rule._context.values():
            if rx is not None:
                want = rx.search(text, pos, endpos) is not None
                assert _found(rx, text, low, pos, endpos) == want
                assert _found(rx, text, low, pos, endpos, seg, leads) == want
                tried += leads.slot(rx) >= 0
    assert tried > 100  # most context regexes have lead words


_CHECK_WORDS = [
    "should have known", "In Hindsight", "FAILED TO", "the SW failed to", "near-miss",
    "recommend", "Training", "workload", "because", "nearly", "caught", "İ", "ß", "’", "x",
    "action:", "will be", "negligent", "to blame",
]
check_texts = st.lists(
    st.sampled_from(_CHECK_WORDS) | st.text(max_size=8), max_size=14
).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(text=check_texts, cut=st.integers(min_value=0, max_value=60))
def test_quality_check_scans_find_what_finditer_finds(text, cut):
    import re

    from humanfactors.rules import checks
    from humanfactors.rules.engine import _plain_text

    scan = checks._Scan(text)
    assert (scan.places is not None) == _plain_text(text)
    for name in ("_HINDSIGHT", "_BLAME_WORDS", "_BLAME_VERB", "_CAUSAL", "_ACTION_SENTENCE",
                 "_PROCEDURAL", "_SYSTEMIC", "_NEAR_MISS", "_RECOVERY"):
        rx: re.Pattern[str] = getattr(checks, name)
        want = [m.span() for m in rx.finditer(text)]
        assert [m.span() for m in scan.finditer(rx)] == want, name
        pos, end = min(cut, len(text)), len(text) - min(cut // 2, len(text))
        want_part = rx.search(text, pos, max(pos, end))
        got_part = scan.search(rx, pos, max(pos, end))
        assert (got_part and got_part.span()) == (want_part and want_part.span()), name


def test_case_traps_are_every_character_that_breaks_lower_cased_matching():
    # _plain_text lets every other character through: check all of Unicode
    import re
    import string
    import sys

    from humanfactors.rules.engine import _CASE_TRAPS

    ascii_alnum = re.compile("[" + re.escape(string.ascii_letters + string.digits) + "]", re.I)
    classes = [re.compile(p) for p in (r"\w", r"\d", r"\s")]
    traps = set()
    for cp in range(128, sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        low = ch.lower()
        if len(low) != 1 or ascii_alnum.fullmatch(ch):
            traps.add(ch)
            continue
        for rx in classes:  # lower-casing never moves a character in or out of a class
            assert bool(rx.fullmatch(ch)) == bool(rx.fullmatch(low)), (hex(cp), rx.pattern)
    assert traps == set(_CASE_TRAPS)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["I", "forgot", "Forgot", "the", "visit", "didn’t", "“busy”", "–", "—", "…", "£40",
             "café", "Café", "rôle", "É", "no", "one", "saw", "child", "caseload", "of", "32",
             "cases", "was", "not", "a", "factor", "nobody", "challenged", "ſ", "K", "٣", "x"]
        ),
        max_size=30,
    ).map(" ".join)
)
def test_texts_beyond_ascii_match_as_the_unfiltered_path_does(text):
    # a plain text with characters outside ASCII takes the filtered, lower-cased path:
    # it must find what the path for other texts (no word tests, no lower-casing) finds
    from humanfactors.rules import engine

    rules = RuleSet.default()
    fast = [(m.rule_id, m.start, m.end, m.confidence) for m in rules.matches(text)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(engine, "_plain_text", lambda t: False)
        slow = [(m.rule_id, m.start, m.end, m.confidence) for m in rules.matches(text)]
    assert fast == slow


def test_threads_sharing_a_new_matcher_find_what_one_thread_finds():
    # the context alternations' lead words are read on first use, from whichever thread
    # needs them first: a new rule set shared by many threads must find the same matches
    from concurrent.futures import ThreadPoolExecutor

    from humanfactors.corpus import load_corpus

    texts = [r.narrative for r in load_corpus("all")][:240]
    alone = RuleSet(list(RuleSet.default()))
    expected = [alone.matches(t) for t in texts]
    shared = RuleSet(list(RuleSet.default()))
    with ThreadPoolExecutor(max_workers=8) as pool:
        got = list(pool.map(shared.matches, texts))
    assert got == expected
    assert sum(map(len, got)) > 200  # the texts do fire rules
