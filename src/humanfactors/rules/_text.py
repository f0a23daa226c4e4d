"""Linear-time text helpers shared by the rules engine and the checks.

Sentences, tokens, and the phrase mini-language that rule files are written in. Every
regular expression here is free of nested quantifiers, so that matching time stays
linear in the length of the text whatever the text contains.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LazyRegex",
    "Phrase",
    "Segmented",
    "compile_alternation",
    "compile_phrase",
    "segment",
    "sentence_spans",
]

# A word: letters or digits, with inner apostrophes ("didn't", "child's") but no outer ones.
_TOKEN = re.compile(r"\w+(?:['’]\w+)*")
_TOKEN_SPLIT = re.compile(r"(\w+(?:['\u2019]\w+)*)")  # _TOKEN, captured
# End of a sentence: terminal punctuation (with closing quotes or brackets) before
# whitespace, or a line break. Semicolons do not end a sentence but do end a clause.
_BOUNDARY = re.compile(r"[.!?]+['\"’”)\]]*(?=\s)|[.!?]+['\"’”)\]]*\Z|\n")
# The same matches: each branch starting with one literal lets the regex engine skip to
# the next ".", "!", "?" or line break instead of trying the pattern at every character.
# (A run of stops and closers followed by a space cannot also reach the end of the text,
# so trying the space then the end at each length finds what _BOUNDARY finds.)
_STOPS = r"[.!?]*['\"\u2019\u201d)\]]*(?:(?=\s)|\Z)"
_BOUNDARY_SCAN = re.compile(rf"\.{_STOPS}|!{_STOPS}|\?{_STOPS}|\n")
# The word before a stop: letters, digits and dots, at most 12 characters.
_WORD_BEFORE = re.compile(r"(?:[^\W_]|\.)*\Z")
# Words after which a full stop does not end a sentence.
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "mr",
        "mrs",
        "ms",
        "mx",
        "prof",
        "st",
        "no",
        "nos",
        "approx",
        "e.g",
        "eg",
        "i.e",
        "ie",
        "etc",
        "vs",
        "cf",
        "fig",
        "incl",
        "re",
        "tel",
        "ref",
    ]
)

# Words after which a full stop ends a sentence only before a capital ("at 9 a.m. and
# then" goes on; "at 9 a.m. The worker" does not).
_TIMES = frozenset(["a.m", "p.m"])
_LOWER_NEXT = re.compile(r"\s+[a-z]")

# Between two words of a phrase: spaces, a hyphen or slash, or an apostrophe-s boundary.
# A plural possessive's apostrophe may end a word ("the parents' views"), and a quotation
# may open or close between words: reviews quote what was written ("recorded as a
# 'significant improvement'", "described as “engaging well”").
_SEP = r"[\"'’”)]?(?:\s*[-/]\s*|%?[\s,]\s{0,3})[\"'‘“(]?"
_WORD = re.compile(r"^[\w'’&+]+(?:[-/][\w'’&+]+)*\*?$")


@dataclass(frozen=True, slots=True)
class Segmented:
    """A text split once into sentences and word tokens (offsets into the text)."""

    text: str
    sentence_starts: tuple[int, ...]
    sentence_ends: tuple[int, ...]
    token_starts: tuple[int, ...]
    token_ends: tuple[int, ...]
    tokens: tuple[str, ...]  # lower-cased

    def sentence_of(self, offset: int) -> int:
        """Index of the sentence that holds ``offset`` (or the last one before it)."""
        return max(0, bisect.bisect_right(self.sentence_starts, offset) - 1)

    def sentence_span(self, index: int) -> tuple[int, int]:
        """``(start, end)`` of sentence ``index``."""
        return self.sentence_starts[index], self.sentence_ends[index]

    def token_range(self, start: int, end: int) -> tuple[int, int]:
        """Indices ``[i, j)`` of the tokens that lie within ``start..end``."""
        i = bisect.bisect_left(self.token_starts, start)
        j = bisect.bisect_left(self.token_starts, end)
        return i, j


def sentence_spans(text: str) -> tuple[list[int], list[int]]:
    """Start and end offsets of the sentences of ``text`` (one linear pass).

    Examples
    --------
    >>> sentence_spans("I forgot. Dr. Khan rang me.")
    ([0, 10], [9, 27])
    """
    starts: list[int] = [0]
    ends: list[int] = []
    for m in _BOUNDARY_SCAN.finditer(text):
        if m.group() != "\n":
            # "Dr." or an initial such as "J." does not end a sentence, nor does "a.m."
            # before a word in lower case.
            k = m.start()
            before = _WORD_BEFORE.search(text, max(0, k - 12), k)
            word = text[before.start() if before is not None else k : k]
            if word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper()):
                continue
            if word.lower() in _TIMES and _LOWER_NEXT.match(text, m.end()):
                continue
        ends.append(m.end())
        starts.append(m.end())
    ends.append(len(text))
    # drop leading whitespace and empty sentences
    s_starts: list[int] = []
    s_ends: list[int] = []
    for a, b in zip(starts, ends, strict=True):
        while a < b and text[a].isspace():
            a += 1
        if a < b:
            s_starts.append(a)
            s_ends.append(b)
    if not s_starts:
        s_starts, s_ends = [0], [len(text)]
    return s_starts, s_ends


def segment(text: str) -> Segmented:
    """Split ``text`` into sentences and tokens in one linear pass each.

    Examples
    --------
    >>> seg = segment("I forgot. Dr. Khan rang me.")
    >>> [seg.text[s:e] for s, e in zip(seg.sentence_starts, seg.sentence_ends)]
    ['I forgot.', 'Dr. Khan rang me.']
    """
    last = _last_segmented[0]
    if last is not None and last.text is text:
        return last
    starts, ends = sentence_spans(text)
    low = text.lower()
    if len(low) != len(text):  # a few characters change length when lower-cased
        low = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in text)
    low = low.replace("’", "'")
    # one pass, offsets without a Python loop: the split alternates gap, token, gap, ...
    parts = _TOKEN_SPLIT.split(low)
    bounds = list(itertools.accumulate(map(len, parts)))
    seg = Segmented(
        text,
        tuple(starts),
        tuple(ends),
        tuple(bounds[0:-1:2]),
        tuple(bounds[1::2]),
        tuple(parts[1::2]),
    )
    _last_segmented[0] = seg
    return seg


# The last text segmented (one slot, matched by identity): the rules and the quality
# checks of one report read the same string object and so share one segmentation.
_last_segmented: list[Segmented | None] = [None]


class LazyRegex:
    """A regular expression compiled on first use (``search``, ``match``, ``finditer``).

    Compiling the built-in rules' patterns up front costs seconds, and most of them are
    never needed by a given process; the pattern text is validated when it is built.
    After the first use, ``search``, ``match`` and ``finditer`` are the compiled
    pattern's own methods, so a lazy regex costs nothing more than a compiled one.
    """

    __slots__ = ("_rx", "finditer", "flags", "match", "pattern", "search")

    def __init__(self, pattern: str, flags: int = re.IGNORECASE) -> None:
        self.pattern = pattern
        self.flags = flags
        self._rx: re.Pattern[str] | None = None
        self.search: Callable[..., re.Match[str] | None] = self._first("search")
        self.match: Callable[..., re.Match[str] | None] = self._first("match")
        self.finditer: Callable[..., Iterator[re.Match[str]]] = self._first("finditer")

    def _first(self, name: str) -> Callable[..., Any]:
        def call(*args: Any) -> Any:
            return getattr(self.compiled, name)(*args)

        return call

    @property
    def compiled(self) -> re.Pattern[str]:
        """The compiled pattern (compiled now if it was not yet)."""
        rx = self._rx
        if rx is None:
            rx = self._rx = re.compile(self.pattern, self.flags)
            self.search = rx.search
            self.match = rx.match
            self.finditer = rx.finditer
        return rx

    def __reduce__(self) -> tuple[type[LazyRegex], tuple[str, int]]:
        return LazyRegex, (self.pattern, self.flags)  # pickled uncompiled, like re.Pattern

    def __repr__(self) -> str:
        return f"LazyRegex({self.pattern[:60]!r}{'...' if len(self.pattern) > 60 else ''})"


@dataclass(frozen=True, slots=True)
class Phrase:
    """One phrase of a rule, compiled: its source, a regex and the words it can start with."""

    source: str
    lazy: LazyRegex
    first_words: tuple[str, ...]  # exact lower-case first words
    first_prefixes: tuple[str, ...]  # lower-case prefixes of first words (from ``word*``)
    # (key, is_prefix, regex body of a first-item alternative, possible second words or None)
    keyed: tuple[tuple[str, bool, str, tuple[str, ...] | None], ...] = ()
    rest: str = ""  # regex of everything after the first item
    # For each later mandatory item, the words one of which must be in the sentence.
    required: tuple[frozenset[str], ...] = ()
    # At most how many tokens of :func:`segment` can start inside one match.
    span: int = 0
    # In a plain text (see _keyset): per alternative of the first item, sets of tokens
    # that must each have a member in the text for that alternative to match.
    first_needs: tuple[tuple[frozenset[str], ...], ...] = ()
    # Per later mandatory item, the tokens one of which must start within ``span``
    # tokens after the phrase's start.
    near: tuple[frozenset[str], ...] = ()
    # Per set of ``near``, the most tokens that can start in a match before its item:
    # the item starts within that many tokens after the phrase's first.
    near_reach: tuple[int, ...] = ()
    # Per alternative of the first item, in order: its first word and its regex body.
    alternatives: tuple[tuple[str, str], ...] = ()

    @property
    def regex(self) -> re.Pattern[str]:
        """The phrase's compiled regex (compiled on first use)."""
        return self.lazy.compiled

    def pattern_for(self, bodies: Iterable[str]) -> str:
        """The phrase's regex with its first item restricted to ``bodies``."""
        return "(?:" + "|".join(dict.fromkeys(bodies)) + ")" + self.rest

    def pattern_at(self, token: str) -> str | None:
        """The phrase's regex with its first item cut to the alternatives that can start
        where ``token`` starts in a plain text (see :func:`could_start`), or None when
        every alternative can.

        In a plain text the other alternatives fail on their first word there, so both
        regexes find the same match at that position, and the cut one is cheaper when
        the first item has many alternatives.
        """
        cuts = token_cuts(token)
        keep = [body for word, body in self.alternatives if could_start(word, token, cuts)]
        if not keep or len(keep) == len(self.alternatives):
            return None
        return self.pattern_for(keep)


@functools.lru_cache(maxsize=1 << 16)
def _word_regex(word: str) -> str:
    prefix = word.endswith("*")
    core = word[:-1] if prefix else word
    # "follow-up" also matches "follow up" and "followup"; "didn't" also "didn’t"
    body = r"\s*/\s*".join(
        r"[\s\-]?".join(
            "['’]".join(re.escape(piece) for piece in re.split("['’]", part))
            for part in half.split("-")
        )
        for half in core.split("/")
    )
    return body + (r"\w*+" if prefix else r"(?!\w)")


def _token_starts(word: str) -> int:
    """At most how many tokens a match of ``word`` can start: one, plus one per inner
    non-word character (a hyphen, slash, ``&`` or apostrophe can split tokens)."""
    return 1 + sum(1 for ch in word.rstrip("*") if not (ch.isalnum() or ch == "_"))


_ITEM = re.compile(r"\(([^()]*)\)(\??)|(\S+)")


def _alt_words(alt: str, source: str) -> list[str]:
    words = alt.split()
    if not words:
        raise ValueError(f"empty alternative in phrase {source!r}")
    for w in words:
        if not _WORD.match(w) or w == "*":
            raise ValueError(f"{w!r} is not a word in phrase {source!r}")
    return words


# A word the tokeniser keeps whole (letters, digits, inner apostrophes); "a&e" is not one
# (it is the tokens "a" and "e").
_WHOLE_WORD = re.compile(r"[\w'’]+")


def _plain_words(words: Iterable[str]) -> tuple[str, ...] | None:
    """Lower-case words usable as exact index keys, or None if any is a prefix or compound."""
    out = []
    for w in words:
        if w.endswith("*") or not _WHOLE_WORD.fullmatch(w):
            return None
        out.append(w.lower().replace("’", "'"))
    return tuple(out)


def _index_keys(word: str, source: str) -> list[str]:
    """The index keys of a phrase's first word: the tokens one of which its match starts.

    A hyphenated word starts with its first part or the parts run together; a word with a
    character the tokeniser splits at ("a&e", "b&b") starts with the token before it.
    Keys ending in ``*`` are prefixes.
    """
    low = word.lower().replace("’", "'").split("/")[0]
    keys = {low.split("-")[0], low.replace("-", "")} if "-" in low else {low}
    out = set()
    for key in keys:
        core = key[:-1] if key.endswith("*") else key
        lead = _WHOLE_WORD.match(core)
        if lead is None:
            raise ValueError(f"a phrase cannot start with {word!r}: {source!r}")
        out.add(key if lead.end() == len(core) else lead.group())
    return sorted(out)


def _expand_keys(alts: list[list[str]], source: str) -> list[list[str]]:
    """One entry per index key of each first-item alternative (matches ``keyed`` order)."""
    out = []
    for alt in alts:
        out.extend([alt] * len(_index_keys(alt[0], source)))
    return out


def compile_phrase(source: str) -> Phrase:
    """Compile one phrase of the rule mini-language.

    Words are separated by spaces and matched case-insensitively as whole words.
    ``word*`` matches any word starting with ``word``; ``a|b|c`` is one word with
    alternatives; ``(come across|dealt with)`` is a group of multi-word alternatives;
    ``word?`` and ``(...)?`` are optional; ``~`` stands for up to three words and ``~N``
    for up to N (at most 8). A hyphenated word (``follow-up``) also matches ``follow up``
    and ``followup``. The first item may not be optional or a gap.

    Raises
    ------
    ValueError
        The phrase is empty or malformed; the message says why.

    Examples
    --------
    >>> p = compile_phrase("(forgot|forget*) to ~2 send*")
    >>> p.regex.match("Forgot to quickly send it").group()
    'Forgot to quickly send'
    >>> compile_phrase("had not (come across|dealt with) ~2 before").regex.match(
    ...     "had not dealt with FII before").group()
    'had not dealt with FII before'
    """
    if source.count("(") != source.count(")"):
        raise ValueError(f"unbalanced parentheses in phrase {source!r}")
    items = list(_ITEM.finditer(source))
    if not items:
        raise ValueError("empty phrase")
    parts: list[str] = []
    first_words: list[str] = []
    first_prefixes: list[str] = []
    keyed: list[tuple[str, bool, str, tuple[str, ...] | None]] = []
    first_alts: list[list[str]] = []
    alternatives: list[tuple[str, str]] = []
    info: list[tuple[bool, tuple[str, ...] | None]] = []  # items after the first
    span = 0  # most tokens a match can start (see Phrase.span)
    near: list[frozenset[str]] = []
    reach: list[int] = []
    for n, item in enumerate(items):
        group, group_opt, raw = item.group(1), item.group(2), item.group(3)
        if (raw is not None and "(" in raw) or (raw is not None and ")" in raw):
            raise ValueError(f"misplaced parenthesis in phrase {source!r}")
        if raw is not None:
            gap = re.fullmatch(r"~(\d?)", raw)
            if gap:
                if n == 0 or n == len(items) - 1:
                    raise ValueError(f"a gap '~' cannot start or end a phrase: {source!r}")
                k = int(gap.group(1) or 3)
                if not 1 <= k <= 8:
                    raise ValueError(f"gap '~{k}' must allow 1 to 8 words: {source!r}")
                parts.append(rf"(?:{_SEP}\w++(?:['’]\w++)?){{0,{k}}}")
                info.append((True, None))
                span += k
                continue
            optional = raw.endswith("?") and len(raw) > 1
            if optional:
                raw = raw[:-1]
            alts = [[a] for a in raw.split("|")]
        else:
            optional = group_opt == "?"
            alts = [_alt_words(a, source) for a in group.split("|")]
        for alt in alts:
            _alt_words(" ".join(alt), source)
        before = span  # most tokens that can start in the match before this item
        span += max(sum(_token_starts(w) for w in alt) for alt in alts)
        if optional and n == 0:
            raise ValueError(f"the first word cannot be optional: {source!r}")
        body = "(?:" + "|".join(_SEP.join(_word_regex(w) for w in alt) for alt in alts) + ")"
        if n >= 1:
            info.append((optional, _plain_words(a[0] for a in alts)))
            need = None if optional else _item_need(alts)
            if need is not None:
                near.append(need)
                reach.append(before)
        if n == 0:
            first_alts = alts
            parts.append(body)
            for alt in alts:
                alt_body = _SEP.join(_word_regex(w) for w in alt)
                alternatives.append((alt[0], alt_body))
                for key in _index_keys(alt[0], source):
                    if key.endswith("*"):
                        if len(key) < 3:
                            raise ValueError(
                                f"a leading prefix needs at least 2 letters: {source!r}"
                            )
                        first_prefixes.append(key[:-1])
                        keyed.append((key[:-1], True, alt_body, None))
                    else:
                        first_words.append(key)
                        keyed.append((key, False, alt_body, None))
        else:
            piece = _SEP + body
            parts.append(f"(?:{piece})?" if optional else piece)
    # The words that can follow the first item: optional items add theirs and pass on.
    second_words: tuple[str, ...] | None = None
    acc: list[str] = []
    for optional, plain in info:
        if plain is None:
            break
        acc.extend(plain)
        if not optional:
            second_words = tuple(dict.fromkeys(acc))
            break
    # Index a first word together with the word that must follow it, where that is known.
    final: list[tuple[str, bool, str, tuple[str, ...] | None]] = []
    for (key, is_prefix, alt_body, _), alt in zip(
        keyed, _expand_keys(first_alts, source), strict=True
    ):
        if is_prefix or not _WHOLE_WORD.fullmatch(alt[0]):
            nxt = None
        elif len(alt) > 1:
            nxt = _plain_words([alt[1]])
        else:
            nxt = second_words
        final.append((key, is_prefix, alt_body, nxt))
    keyed = final
    required = tuple(frozenset(plain) for optional, plain in info if not optional and plain)
    return Phrase(
        source,
        LazyRegex("".join(parts)),
        tuple(first_words),
        tuple(first_prefixes),
        tuple(keyed),
        "".join(parts[1:]),
        required,
        span,
        _first_needs(first_alts),
        tuple(near),
        tuple(reach),
        tuple(alternatives),
    )


_KEYABLE = re.compile(r"[a-z0-9_]+(?:'[a-z0-9_]+)?")
_SIMPLE = re.compile(r"[a-z0-9_]+(?:'[a-z0-9_]+)*")


def token_cuts(token: str) -> frozenset[str]:
    """``token`` and each of its prefixes that ends before an apostrophe."""
    return frozenset([token] + [token[:j] for j, ch in enumerate(token) if ch == "'"])


def could_start(word: str, token: str, cuts: frozenset[str]) -> bool:
    """False only when ``word`` of a phrase cannot match where ``token`` starts in a
    plain text (see ``engine._plain_text``; ``token`` lower-cased as by
    :func:`segment`, ``cuts`` its :func:`token_cuts`).

    There a word of letters, digits and inner apostrophes matches only the whole token
    or the token up to an apostrophe ("did" in "didn't"); ``word*`` only a token that
    starts with it; ``a-b-c`` only where the token is ``a``, ``ab`` or ``abc`` (up to an
    apostrophe). Anything else (slashes, ``&``, other characters) may match: True.
    """
    w = word.lower().replace("\u2019", "'")
    if w.endswith("*"):
        core = w[:-1]
        return not _PIECE.fullmatch(core) or token.startswith(core)
    if "-" in w and "/" not in w:
        keys = _keyset(w)
        return keys is None or not keys.isdisjoint(cuts)
    if _SIMPLE.fullmatch(w):
        return w in cuts
    return True
_PIECE = re.compile(r"[a-z0-9_]+")


def _keyset(word: str) -> frozenset[str] | None:
    """The tokens one of which starts where ``word`` matches in a plain text, or None.

    In a plain text (see ``engine._plain_text``) with no token of two apostrophes,
    ``word`` matches only where a token starts that equals one of
    these, or one of these followed by an apostrophe and more ("can" in "can't"). A
    hyphenated word ``a-b-c`` starts the token ``a``, ``ab`` or ``abc``. Prefixes,
    slashes and other characters give None (no constraint).
    """
    w = word.lower().replace("’", "'")
    if w.endswith("*") or "/" in w:
        return None
    if "-" in w:
        pieces = w.split("-")
        if not all(_PIECE.fullmatch(p) for p in pieces):
            return None
        return frozenset("".join(pieces[:n]) for n in range(1, len(pieces) + 1))
    return frozenset([w]) if _KEYABLE.fullmatch(w) else None


def _first_needs(alts: list[list[str]]) -> tuple[tuple[frozenset[str], ...], ...]:
    """Per alternative of the first item, the key sets of its words (see _keyset)."""
    out = []
    for alt in alts:
        sets = (_keyset(w) for w in alt)
        out.append(tuple(ks for ks in sets if ks is not None))
    return tuple(out)


def _item_need(alts: list[list[str]]) -> frozenset[str] | None:
    """The tokens one of which starts a match of a later item, or None."""
    out: set[str] = set()
    for alt in alts:
        ks = _keyset(alt[0])
        if ks is None:
            return None
        out |= ks
    return frozenset(out)


def compile_alternation(phrases: Iterable[str]) -> LazyRegex | None:
    """One regex that finds any of ``phrases`` (with word boundaries), or None if empty.

    The phrases are checked now; the regex is compiled when it is first used.
    """
    bodies = [compile_phrase(p).lazy.pattern for p in phrases]
    if not bodies:
        return None
    return LazyRegex(r"(?<!\w)(?:" + "|".join(bodies) + ")")
