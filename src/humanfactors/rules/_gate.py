"""Word-start gating for the quality checks' regular expressions.

A check's regex such as ``(?<!\\w)(?=\\w)(?:in\\s+hindsight|should\\s+have\\s+known|...)``
can only match at the start of a word that begins with one of a few literal prefixes
("in", "should", ...). Python's regex engine does not know that: it tries every
alternative at every word. :class:`GatedRegex` reads the prefixes from the pattern once,
and for a text tries the regex only at the words that begin with one of them, which gives
the same matches several times faster. Where the prefixes cannot be read (a pattern
that may start otherwise) or the text is not plain ASCII (where case folding can match a
letter to a different one), it uses the regex as it is.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field
from re import _constants as _K  # type: ignore[attr-defined]
from re import _parser as _P  # type: ignore[attr-defined]
from typing import Final

__all__ = ["GatedRegex", "Words", "words"]

_WORD: Final = re.compile(r"\w+")
_LIMIT: Final = 512  # at most this many prefixes per pattern


def _seq_prefixes(seq: object) -> set[str] | None:
    """The lower-case word-character prefixes one of which every match of ``seq`` starts
    with, or None when a match could start otherwise."""
    out = [""]
    items = list(seq)  # type: ignore[call-overload]
    i = 0
    while i < len(items) and items[i][0] in (_K.ASSERT, _K.ASSERT_NOT, _K.AT):
        i += 1  # zero-width assertions consume nothing
    while i < len(items):
        op, av = items[i]
        if op is _K.LITERAL:
            ch = chr(av).lower()
            if not (ch.isalnum() or ch == "_"):
                break
            out = [p + ch for p in out]
            i += 1
            continue
        sub: set[str] | None
        if op is _K.SUBPATTERN:
            sub = _seq_prefixes(av[-1])
        elif op is _K.BRANCH:
            sub = set()
            for alt in av[1]:
                s = _seq_prefixes(alt)
                if s is None:
                    sub = None
                    break
                sub |= s
        else:
            break
        if sub is None:
            break
        out = [p + s for p in out for s in sub]
        if len(out) > _LIMIT:
            return None
        break
    if not all(out):
        return None
    return set(out)


def first_word_prefixes(rx: re.Pattern[str]) -> tuple[str, ...] | None:
    """Lower-case prefixes one of which begins the word at which every match starts.

    None when the pattern does not start at a word (no leading ``(?<!\\w)``) or may start
    with something other than a literal letter or digit.
    """
    if not rx.pattern.startswith(r"(?<!\w)"):
        return None
    try:
        found = _seq_prefixes(_P.parse(rx.pattern, rx.flags))
    except Exception:  # an unexpected parse tree: no gating, never a wrong answer
        return None
    if not found:
        return None
    # a shorter prefix covers every longer one that starts with it
    return tuple(sorted(p for p in found if not any(q != p and p.startswith(q) for q in found)))


@dataclass(frozen=True, slots=True)
class Words:
    """The word starts of a plain-ASCII text and its lower-case words (``\\w+`` runs)."""

    starts: tuple[int, ...]
    words: tuple[str, ...]
    # per gated regex (by id), the starts of the words it can begin at: computed once
    hits: dict[int, list[int]] = field(default_factory=dict, compare=False, repr=False)


def words(text: str) -> Words | None:
    """Every ``\\w+`` word of ``text`` with its offset; None unless the text is ASCII
    (curly apostrophes aside)."""
    if not (text.isascii() or text.replace("’", "'").isascii()):
        return None
    low = text.lower()
    toks = _WORD.findall(low)
    gaps = _WORD.split(low)
    lengths = [0] * (2 * len(toks))
    lengths[0::2] = map(len, gaps[:-1])
    lengths[1::2] = map(len, toks)
    bounds = list(itertools.accumulate(lengths))
    return Words(tuple(bounds[0::2]), tuple(toks))


class GatedRegex:
    """A compiled regex tried only at the words that can start a match (see the module)."""

    __slots__ = ("prefixes", "rx")

    def __init__(self, rx: re.Pattern[str]) -> None:
        self.rx = rx
        self.prefixes = first_word_prefixes(rx)

    @property
    def pattern(self) -> str:
        return self.rx.pattern

    def _starts(self, ws: Words, lo: int = 0, hi: int | None = None) -> list[int]:
        hits = ws.hits.get(id(self))
        if hits is None:
            prefixes = self.prefixes
            assert prefixes is not None
            hits = ws.hits[id(self)] = [
                s for s, w in zip(ws.starts, ws.words, strict=True) if w.startswith(prefixes)
            ]
        if not lo and hi is None:
            return hits
        a = bisect.bisect_left(hits, lo) if lo else 0
        b = len(hits) if hi is None else bisect.bisect_left(hits, hi)
        return hits[a:b]

    def spans(self, text: str, ws: Words | None) -> list[tuple[int, int]]:
        """``[m.span() for m in rx.finditer(text)]``."""
        if ws is None or self.prefixes is None:
            return [m.span() for m in self.rx.finditer(text)]
        out: list[tuple[int, int]] = []
        reach = 0
        match = self.rx.match
        for s in self._starts(ws):
            if s < reach:
                continue
            m = match(text, s)
            if m is not None:
                out.append((s, m.end()))
                reach = m.end()
        return out

    def found(self, text: str, ws: Words | None, lo: int = 0, hi: int | None = None) -> bool:
        """``rx.search(text, lo, hi) is not None``."""
        end = len(text) if hi is None else hi
        if ws is None or self.prefixes is None:
            return self.rx.search(text, lo, end) is not None
        match = self.rx.match
        return any(match(text, s, end) is not None for s in self._starts(ws, lo, end))
