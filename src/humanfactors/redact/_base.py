"""Recogniser base classes and the detection record they produce."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import ClassVar, NamedTuple

__all__ = ["Detection", "Pattern", "PatternRecognizer", "Recognizer"]


@dataclass(frozen=True, slots=True)
class Detection:
    """One identifier found in a text: ``(entity, start, end, score)`` and why.

    A detection holds offsets, never the characters themselves, so it can be logged.
    """

    entity: str
    start: int
    end: int
    score: float
    recognizer: str
    explanation: str = ""


@lru_cache(maxsize=2)
def _runs(text: str, requires: str) -> tuple[tuple[int, int], ...]:
    return tuple(m.span() for m in re.finditer(requires + "+", text))


@lru_cache(maxsize=8)
def _windows(text: str, requires: str, reach: int) -> list[tuple[int, int]]:
    """Merged windows of ``reach`` characters around each run of ``requires``."""
    n = len(text)
    windows: list[tuple[int, int]] = []
    for s, e in _runs(text, requires):
        start, end = max(0, s - reach), min(n, e + reach)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


class Pattern(NamedTuple):
    """A named regular expression and the score a match starts with.

    ``needs``, when given, lists strings of which every match contains at least one
    (lower case when ``flags`` has ``re.IGNORECASE``): the regular expression runs only
    on texts that contain one of them, which is much faster than running it everywhere.
    """

    name: str
    regex: str
    score: float
    flags: int = 0
    needs: tuple[str, ...] = ()


def _gate(pattern: Pattern) -> tuple[bool, re.Pattern[str]] | None:
    """A fast literal scan for ``pattern.needs``: (on lower-cased text?, regex), or None."""
    if not pattern.needs:
        return None
    folded = bool(pattern.flags & re.IGNORECASE)
    words = sorted({w.lower() if folded else w for w in pattern.needs}, key=len, reverse=True)
    # literal alternatives, case-sensitive: the regex engine scans for their first letters
    return folded, re.compile("|".join(re.escape(w) for w in words))


class Recognizer:
    """Base class of every recogniser.

    A recogniser finds one or more entity types. Subclasses either supply data —
    :attr:`patterns` (regular expressions), :attr:`context` (words that make a match
    more likely when they occur shortly before it) — and override narrow hooks such as
    :meth:`validate_result`, or override :meth:`analyze` when the recogniser is not
    pattern based.

    Class-level data are tuples (immutable), so subclasses never share mutable state.
    """

    name: ClassVar[str] = ""
    entities: ClassVar[tuple[str, ...]] = ()

    def analyze(self, text: str) -> Iterator[Detection]:
        """Yield the detections in ``text`` (in any order; overlaps are allowed)."""
        raise NotImplementedError

    @property
    def id(self) -> str:
        """The recogniser's name, or its class name when it has none."""
        return self.name or type(self).__name__

    def __repr__(self) -> str:
        return f"{type(self).__name__}(entities={list(self.entities)!r})"


class PatternRecognizer(Recognizer):
    """A recogniser driven by regular expressions, context words and a validator.

    Subclasses set :attr:`entity`, :attr:`patterns` and, optionally, :attr:`context`,
    and may override :meth:`validate_result` (is the matched value well formed?) and
    :meth:`span` (which part of the match to redact).

    Examples
    --------
    >>> class TicketNumber(PatternRecognizer):
    ...     entity = "TICKET"
    ...     patterns = (Pattern("ticket", r"\\bTK-\\d{4}\\b", 0.9),)
    >>> [(d.entity, d.start, d.end) for d in TicketNumber().analyze("see TK-1234 today")]
    [('TICKET', 4, 11)]
    """

    entity: ClassVar[str] = ""
    patterns: ClassVar[tuple[Pattern, ...]] = ()
    #: Lower-case words that raise the score when they occur shortly before a match.
    context: ClassVar[tuple[str, ...]] = ()
    context_window: ClassVar[int] = 40
    context_boost: ClassVar[float] = 0.35
    #: Matches scoring below this (after validation and context) are dropped.
    min_score: ClassVar[float] = 0.3
    #: A regular expression every match contains (e.g. ``r"\d"``), or None. When set, the
    #: patterns run only within :attr:`reach` characters of its occurrences: much faster on
    #: prose, and the same matches, provided no match is longer than :attr:`reach`.
    requires: ClassVar[str | None] = None
    reach: ClassVar[int] = 200

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.entity and not cls.entities:
            cls.entities = (cls.entity,)

    def __init__(self) -> None:
        self._compiled: Sequence[tuple[Pattern, re.Pattern[str]]] = [
            (p, re.compile(p.regex, p.flags)) for p in self.patterns
        ]
        self._gates = [_gate(p) for p in self.patterns]
        self._context_re = (
            re.compile(r"\b(?:" + "|".join(re.escape(w) for w in self.context) + r")\b", re.I)
            if self.context
            else None
        )

    def validate_result(self, value: str) -> bool | None:
        """Whether ``value`` is a well-formed identifier: True (certain), False (drop), None."""
        return None

    def span(self, match: re.Match[str]) -> tuple[int, int]:
        """The part of a match to redact: the named group ``value`` when there is one."""
        if "value" in match.re.groupindex and match.group("value") is not None:
            return match.span("value")
        return match.span()

    def has_context(self, text: str, start: int) -> bool:
        """Whether a context word is within :attr:`context_window` characters before ``start``."""
        if self._context_re is None:
            return False
        return self._context_re.search(text, max(0, start - self.context_window), start) is not None

    def _windows(self, text: str) -> list[tuple[int, int]]:
        if self.requires is None:
            return [(0, len(text))]
        return _windows(text, self.requires, self.reach)

    def _matches(self, text: str) -> Iterator[tuple[Pattern, re.Match[str]]]:
        windows: list[tuple[int, int]] | None = None
        lowered: str | None = None
        for (pattern, regex), gate in zip(self._compiled, self._gates, strict=True):
            if gate is not None:
                folded, needs = gate
                if folded and lowered is None:
                    lowered = text.lower()
                if needs.search(lowered if folded else text) is None:  # type: ignore[arg-type]
                    continue  # no match can occur without one of the needed strings
            if windows is None:
                windows = self._windows(text)
                if not windows:
                    return
            for start, end in windows:
                for match in regex.finditer(text, start, end):
                    yield pattern, match

    def analyze(self, text: str) -> Iterator[Detection]:
        for pattern, match in self._matches(text):
            start, end = self.span(match)
            if start >= end:
                continue
            score = pattern.score
            why = f"pattern {pattern.name}"
            valid = self.validate_result(text[start:end])
            if valid is False:
                continue
            if valid is True:
                score = max(score, 0.95)
                why += ", checksum valid"
            if self.has_context(text, start):
                score = min(1.0, score + self.context_boost)
                why += ", context word before it"
            if score >= self.min_score:
                yield Detection(self.entity, start, end, round(score, 3), self.id, why)
