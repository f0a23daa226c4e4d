"""The rules engine: explainable rules that vote for taxonomy codes.

A :class:`Rule` is a small, named piece of data: the code it votes for, phrases that
trigger it, optional context that must (``requires``) or must not (``unless``) be in the
same sentence, words that raise or lower confidence, and an optional ``accept`` hook.
A :class:`RuleSet` holds rules for one taxonomy and applies them all in one linear pass
over the text. Negation ("did not forget", "no evidence of disguised compliance") makes
a rule abstain; hedging ("may have been distracted") lowers its confidence. Neither
crosses a sentence boundary.

Examples
--------
>>> rules = RuleSet.default()
>>> [f.code for f in rules.apply("I forgot to send the referral to the school.")]
['ERR.LAPSE']
>>> rules.apply("The worker did not forget to send the referral.")
[]
"""

from __future__ import annotations

import bisect
import functools
import importlib
import logging
import math
import re
import threading
import tomllib
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .._args import kind
from ..exceptions import InputError, RuleError, UnknownCodeError
from ..models import Evidence, Finding, Incident, Source
from ..taxonomy import Taxonomy, load_taxonomy
from ._text import LazyRegex, Phrase, Segmented, compile_alternation, compile_phrase, segment

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

__all__ = ["CoverageReport", "Rule", "RuleCoverage", "RuleMatch", "RuleSet"]

logger = logging.getLogger(__name__)

# -- negation and hedging ----------------------------------------------------------
# Words that negate what follows them within a few words of the same clause.
_NEG_WORDS: Final = frozenset(
    [
        "not",
        "no",
        "never",
        "without",
        "nor",
        "neither",
        "none",
        "nothing",
        "nobody",
        "cannot",
        "can't",
        "won't",
        "didn't",
        "doesn't",
        "don't",
        "wasn't",
        "weren't",
        "isn't",
        "aren't",
        "hasn't",
        "haven't",
        "hadn't",
        "couldn't",
        "wouldn't",
        "shouldn't",
    ]
)
# After these, "not" does not negate ("not only", "not just").
_NEG_RELEASE: Final = frozenset(["only", "just", "least", "merely"])
# Cues that negate the rest of the clause, however far away ("no evidence of ... X").
_NEG_CLAUSE: Final = re.compile(
    r"(?<!\w)(?:no|nothing|never|little|not\s+any)\s+(?:evidence|indication|suggestion|sign|signs|"
    r"concerns?|reason|issues?|problems?|question|doubt|record|mention|suggested|to\s+suggest|"
    r"to\s+indicate)(?!\w)|(?<!\w)(?:ruled\s+out|rather\s+than|instead\s+of|denied|denies|"
    r"free\s+from|free\s+of|absence\s+of|lack\s+of\s+evidence|unfounded|unsubstantiated|"
    r"not\s+(?:a\s+)?(?:factor|issue|concern|problem)|not\s+aware\s+of\s+any|no\s+one\s+suggested)(?!\w)",
    re.IGNORECASE,
)
# Clause-wide cues whose scope a comma ends.
_CONTRAST_CUE: Final = re.compile(r"(?:rather|instead)\s+(?:than|of)", re.IGNORECASE)
# Cues after a match that negate it ("workload was not a factor"), unless a consequence
# comes between them: in "the visit was forgotten, so it did not happen" the cue negates
# the consequence, not the match.
_NEG_AFTER: Final = re.compile(
    r"^(?:(?!(?<!\w)(?:so|therefore|thus|hence|consequently|meaning|which\s+meant|"
    r"as\s+a\s+result)(?!\w))[\w\s,'’]){0,40}?(?<!\w)(?:(?:(?:was|were|is|are|had\s+been|has\s+been)\s+)?(?:not|never)\s+"
    r"(?:a\s+|an\s+)?(?:factor|issue|concern|problem|relevant|the\s+case|present|an\s+issue|"
    r"a\s+concern|found|identified|evident|apparent)|played\s+no\s+part|did\s+not\s+(?:contribute|"
    r"play|apply|arise|happen|occur)|(?:was|were)\s+ruled\s+out|was\s+unfounded|"
    r"(?:is|was)\s+not\s+what\s+happened)(?!\w)",
    re.IGNORECASE,
)
# Words that end the scope of a negation or hedge inside a sentence.
_SCOPE_BREAK: Final = frozenset(
    [
        "but",
        "however",
        "although",
        "though",
        "yet",
        "because",
        "so",
        "whereas",
        "whilst",
        "while",
        "until",
        "unless",
        "which",
        "who",
        "when",
        "after",
        "before",
        "instead",
        "meanwhile",
        "then",
    ]
)
# Hedges lower confidence: the writer is not sure that this happened.
_HEDGE_WORDS: Final = frozenset(
    [
        "may",
        "might",
        "could",
        "possible",
        "possibly",
        "perhaps",
        "maybe",
        "probably",
        "likely",
        "unlikely",
        "potentially",
        "appears",
        "appeared",
        "seem",
        "seems",
        "seemed",
        "suggests",
        "suggested",
        "apparently",
        "unclear",
        "uncertain",
        "if",
        "whether",
        "query",
        "queried",
        "suspect",
        "suspected",
        "presumably",
    ]
)
_HEDGE_FACTOR: Final = 0.6
_NEG_WINDOW: Final = 4  # words between a negation word and the match
_HEDGE_WINDOW: Final = 10
_BOOST: Final = 0.1
_DAMPEN: Final = 0.2
_MAX_MATCHES: Final = 25  # per rule and text: enough evidence, bounded work on huge inputs
_CONTEXT: Final = 400  # characters either side of a match where context words count


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """One place where a rule fired: the span, its confidence and whether it was hedged."""

    rule_id: str
    code: str
    start: int
    end: int
    confidence: float
    hedged: bool = False
    phrase: str = ""

    def __repr__(self) -> str:
        return (
            f"RuleMatch(rule_id={self.rule_id!r}, code={self.code!r}, start={self.start}, "
            f"end={self.end}, confidence={self.confidence:.2f}, hedged={self.hedged})"
        )


AcceptHook = Callable[[str, int, int], bool]
"""``accept(sentence, start, end) -> bool``: offsets are into ``sentence`` (the match's
sentence, clipped to 400 characters either side of the match); False vetoes."""


@dataclass(frozen=True, eq=False)
class Rule:
    """A named, explainable rule that votes for one taxonomy code.

    Parameters
    ----------
    id : str
        Unique name, e.g. ``"lapse.forgot"`` (letters, digits, ``._-``).
    code : str
        The taxonomy code the rule votes for.
    patterns : sequence of str
        Phrases in the rule mini-language (see :func:`~humanfactors.rules._text.compile_phrase`):
        ``forgot|forget* to ~2 send*``. Any one of them triggers the rule.
    regex : sequence of str
        Raw regular expressions, for what phrases cannot say. Keep them free of nested
        quantifiers.
    requires : sequence of str
        Phrases of which at least one must be in the same sentence, else the rule abstains.
    unless : sequence of str
        Phrases that veto the rule when present in the same sentence.
    boost, dampen : sequence of str
        Phrases in the same sentence that raise (+0.1) or lower (-0.2) confidence.
    confidence : float
        Confidence of an unhedged match, in (0, 1].
    negatable : bool
        When True (the default), a negation in scope makes the rule abstain.
    description : str
        What the rule looks for, in plain words.
    accept : callable, optional
        ``accept(sentence, start, end) -> bool``, a last veto on each match.

    Examples
    --------
    >>> rule = Rule("lapse.forgot", "ERR.LAPSE", patterns=["forgot|forgotten"])
    >>> [m.code for m in rule("I forgot the strategy discussion.")]
    ['ERR.LAPSE']
    """

    id: str
    code: str
    patterns: tuple[str, ...] = ()
    regex: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()
    boost: tuple[str, ...] = ()
    dampen: tuple[str, ...] = ()
    confidence: float = 0.7
    negatable: bool = True
    description: str = ""
    accept: AcceptHook | None = field(default=None, repr=False)
    _phrases: tuple[Phrase, ...] = field(init=False, repr=False, default=())
    _regexes: tuple[re.Pattern[str], ...] = field(init=False, repr=False, default=())
    _context: dict[str, LazyRegex | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        for name in ("patterns", "regex", "requires", "unless", "boost", "dampen"):
            value = getattr(self, name)
            if isinstance(value, str):
                value = (value,)
            try:
                set_(self, name, tuple(str(v) for v in value))
            except TypeError:
                raise RuleError(f"rule {self.id!r}: {name} must be a list of strings") from None
        if not isinstance(self.id, str) or not re.fullmatch(
            r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}", self.id
        ):
            raise RuleError(f"rule id {self.id!r} must be 1-128 letters, digits, '.', '_' or '-'")
        if not isinstance(self.code, str) or not self.code.strip():
            raise RuleError(f"rule {self.id!r}: code must be a non-empty string")
        conf = self.confidence
        if (
            isinstance(conf, bool)
            or not isinstance(conf, int | float)
            or not 0.0 < float(conf) <= 1.0
        ):
            raise RuleError(
                f"rule {self.id!r}: confidence must be a number in (0, 1], got {conf!r}"
            )
        set_(self, "confidence", float(conf))
        if not self.patterns and not self.regex:
            raise RuleError(f"rule {self.id!r}: needs at least one pattern or regex")
        phrases = []
        for p in self.patterns:
            try:
                phrases.append(compile_phrase(p))
            except ValueError as exc:
                raise RuleError(f"rule {self.id!r}: pattern {p!r}: {exc}") from None
        regexes = []
        for r in self.regex:
            try:
                regexes.append(re.compile(r, re.IGNORECASE))
            except re.error as exc:
                raise RuleError(f"rule {self.id!r}: regex {r!r} is invalid: {exc}") from None
        context: dict[str, LazyRegex | None] = {}
        for name in ("requires", "unless", "boost", "dampen"):
            try:
                context[name] = compile_alternation(getattr(self, name))
            except ValueError as exc:
                raise RuleError(f"rule {self.id!r}: {name}: {exc}") from None
        set_(self, "_phrases", tuple(phrases))
        set_(self, "_regexes", tuple(regexes))
        set_(self, "_context", context)
        if self.accept is not None and not callable(self.accept):
            raise RuleError(f"rule {self.id!r}: accept must be callable")

    def __call__(self, text: str | Incident) -> list[RuleMatch]:
        """The matches of this rule alone in ``text`` (after negation and hedging)."""
        return _Matcher((self,)).matches(_narrative(text, "Rule", "text"), Counter())

    def with_code(self, code: str) -> Rule:
        """A copy of the rule voting for ``code`` (after resolving an alias)."""
        return Rule(**{**self.to_dict(), "code": code}, accept=self.accept)

    def to_dict(self) -> dict[str, Any]:
        """The rule as a TOML-ready dict (without the ``accept`` hook)."""
        out: dict[str, Any] = {"id": self.id, "code": self.code}
        for name in ("description",):
            if getattr(self, name):
                out[name] = getattr(self, name)
        out["confidence"] = self.confidence
        for name in ("patterns", "regex", "requires", "unless", "boost", "dampen"):
            if getattr(self, name):
                out[name] = list(getattr(self, name))
        if not self.negatable:
            out["negatable"] = False
        return out

    def __repr__(self) -> str:
        return (
            f"Rule(id={self.id!r}, code={self.code!r},"
            f" patterns={len(self.patterns) + len(self.regex)})"
        )


def _narrative(
    text: str | Incident, who: str = "apply", name: str | int = "text_or_incident"
) -> str:
    """The narrative of a text or incident; anything else is a TypeError naming the
    function and argument (``who``; ``name``, or an int ``k`` for ``texts[k]``, formatted
    only then) and the type given, never its value."""
    if isinstance(text, str):
        return text
    if isinstance(text, Incident):
        return text.narrative
    arg = f"texts[{name}]" if isinstance(name, int) else name
    raise TypeError(f"{who}: {arg} must be a str or an Incident, got {kind(text)}")


# -- matching ------------------------------------------------------------------------
_APOSTROPHE_TAIL: Final = re.compile("'[^\x00]*")
_UNSEEN: Final = object()
_CUT_FROM: Final = 6  # first-item alternatives from which a phrase's regex is cut per word


@functools.lru_cache(maxsize=1 << 14)
def _compile_cut(pattern: str) -> re.Pattern[str]:
    """A phrase regex cut to some first alternatives (shared by every matcher)."""
    return re.compile(pattern, re.IGNORECASE)


@functools.lru_cache(maxsize=1 << 14)
def _compile_low(pattern: str) -> re.Pattern[str]:
    """A phrase regex to match with case against a plain text lower-cased (see
    :func:`_lower_case_safe`)."""
    return re.compile(pattern)


def _lower_case_safe(source: str) -> bool:
    """Whether a phrase's regex matches a plain text ignoring case exactly where it
    matches the text lower-cased with case: its words have no upper-case letter and no
    non-ASCII letter (the regex adds only character classes and caseless characters)."""
    return not any("A" <= c <= "Z" for c in source) and all(
        c.isascii() or _caseless(c) for c in source
    )


class _Matcher:
    """All phrases of a tuple of rules, indexed by their first word for one linear pass.

    Each phrase is indexed under its first word (or the first two words, where the
    second is known, or a prefix of the first). One pass over a text's tokens looks each
    up; a phrase is tried only if every word it requires is in the text (bits of one
    integer per text, checked once per index entry and text), and its regex only where
    its key occurs. In a plain text (see :func:`_plain_text`) two exact word tests drop
    more: a phrase none of whose first-item alternatives has all its words in the text,
    and a position where a later item's first word does not start a token within that
    item's reach. Candidates come out in text order, then in index order (word, word
    pair, prefixes), as if every token had been looked up in turn, so that the per-rule
    cap keeps the same matches. Regexes are compiled the first time they are needed.
    """

    def __init__(self, rules: Sequence[Rule]) -> None:
        self.rules = tuple(rules)
        words: dict[str, dict[tuple[int, str], list[str]]] = {}
        pairs: dict[tuple[str, str], dict[tuple[int, str], list[str]]] = {}
        prefixes: dict[str, dict[tuple[int, str], list[str]]] = {}
        phrases: dict[tuple[int, str], Phrase] = {}
        for i, rule in enumerate(self.rules):
            for ph in rule._phrases:
                phrases[(i, ph.source)] = ph
                for key, is_prefix, body, nxt in ph.keyed:
                    if is_prefix:
                        prefixes.setdefault(key, {}).setdefault((i, ph.source), []).append(body)
                    elif nxt is None:
                        words.setdefault(key, {}).setdefault((i, ph.source), []).append(body)
                    else:
                        for second in nxt:
                            pairs.setdefault((key, second), {}).setdefault(
                                (i, ph.source), []
                            ).append(body)
        # one integer id per phrase: the per-text caches are lists indexed by it
        self.phrase_ids = {k: n for n, k in enumerate(phrases)}
        self.phrases = tuple(phrases.values())
        self.compiled: list[re.Pattern[str] | None] = [None] * len(self.phrases)

        def build(table: dict[Any, dict[tuple[int, str], list[str]]]) -> dict[Any, Any]:
            return {
                # each phrase's own regex: trying its other first words fails at once
                k: tuple(
                    (self.phrase_ids[(i, src)], i, src, phrases[(i, src)].required)
                    for (i, src) in v
                )
                for k, v in table.items()
            }

        self.by_word = build(words)
        self.by_pair = build(pairs)
        self.by_prefix = build(prefixes)
        self.prefix_lengths = tuple(sorted({len(p) for p in self.by_prefix}))
        self.prefix_keys = tuple(
            frozenset(p for p in self.by_prefix if len(p) == n) for n in self.prefix_lengths
        )
        self.regex_rules = tuple(i for i, r in enumerate(self.rules) if r._regexes)
        # per rule, its raw regexes as (regex, a quicker scan for where they can match,
        # slot): a slot numbers the regexes whose matches start with known words (see
        # regex_leads); in a plain text those are tried only where such a word starts
        raw: dict[int, tuple[tuple[re.Pattern[str], re.Pattern[str] | None, int], ...]] = {}
        leads: list[tuple[tuple[str, bool], ...]] = []
        for i, r in enumerate(self.rules):
            if not r._regexes:
                continue
            items: list[tuple[re.Pattern[str], re.Pattern[str] | None, int]] = []
            for rx in r._regexes:
                found = regex_leads(rx.pattern, rx.flags)
                if found is not None:  # placed by its leads: no scan needed
                    items.append((rx, None, len(leads)))
                    leads.append(found)
                else:
                    items.append((rx, _lowered_scan(rx.pattern, rx.flags), -1))
            raw[i] = tuple(items)
        self._raw = raw
        self._lead_index = LeadIndex(leads)
        self._context_leads = _ContextLeads()
        # per phrase, its first item's needs, split for speed (see _split_needs)
        self.first = tuple(_split_needs(ph.first_needs) for ph in self.phrases)
        # The same index as records for the matching loop: one integer id per entry (the
        # per-text cache of an entry's viable phrases is keyed by it) and, per phrase,
        # (phrase id, rule index, source, near, regex slot, word-test bits in any text,
        # in a plain text, whether _first_ok must also pass). Near is (set, reach) per
        # later item: one of the set's words must start within ``reach`` tokens after the
        # phrase's first (Phrase.near_reach). The sets hold each word up to its
        # apostrophe, so that one window of such tokens serves (a weaker test than the
        # exact one, never a stricter one). A slot names the phrase's regex cut to the
        # alternatives that can start at the entry's word (see Phrase.pattern_at),
        # compiled the first time a plain text needs it.
        self._slots: dict[tuple[str | None, int], int] = {}
        self._slot_keys: list[tuple[str | None, int]] = []
        self._slot_rx: list[re.Pattern[str] | None] = []
        self._slot_low: list[bool] = []  # slot regexes for the lower-cased text
        self._near_cut = tuple(
            tuple(
                (frozenset(w.split("'", 1)[0] for w in req), reach)
                for req, reach in zip(ph.near, ph.near_reach, strict=True)
            )
            for ph in self.phrases
        )
        # A phrase's word tests as bits: one per distinct required set (met when a word
        # of the text is in it) and one per distinct set of one-word first alternatives
        # (met when a form of the text is in it, plain texts only). A phrase is viable
        # when every bit it needs is met; a phrase with several-word first alternatives
        # also passes _first_ok (plain texts only). Every bit is assigned now: a text's
        # met bits are found before its tokens are looked up.
        bits: dict[tuple[str, frozenset[str]], int] = {}
        word_bits: dict[str, int] = {}
        form_bits: dict[str, int] = {}

        def bit(kind: str, words: frozenset[str]) -> int:
            b = bits.get((kind, words))
            if b is None:
                b = bits[(kind, words)] = 1 << len(bits)
                table = word_bits if kind == "word" else form_bits
                for w in words:
                    table[w] = table.get(w, 0) | b
            return b

        needs: list[tuple[int, int]] = []
        for pid, ph in enumerate(self.phrases):
            need = 0
            for req in ph.required:
                need |= bit("word", req)
            free, singles, by_last = self.first[pid]
            needs.append((need, bit("form", singles) if not free and not by_last else 0))
        self._needs = needs
        self._word_bits = word_bits
        self._form_bits = form_bits
        self._bit_words = frozenset(word_bits)
        self._bit_forms = frozenset(form_bits)
        # The index entries as records, built the first time a text has their word.
        self._entry_rules: list[frozenset[int]] = []
        self._word_records: dict[str, Any] = {}
        self._pair_records: dict[str, dict[str, Any]] = {}
        self._prefix_records: dict[str, Any] = {}
        self._pairs_of: dict[str, list[tuple[str, Any]]] = {}
        for (a, b), e in self.by_pair.items():
            self._pairs_of.setdefault(a, []).append((b, e))
        # per token seen in a text, its entries (None: none); words recur across texts
        self._token_entries: dict[str, Any] = {}

    def _records(
        self, entry: Any, token: str | None, second: str | None = None
    ) -> tuple[int, tuple[Any, ...], bool]:
        """An index entry as (id, records, whether a record needs _first_ok)."""
        # the words a hit of this entry is known to have: its token (and the next)
        hit = frozenset(w for w in (token, second) if w is not None)
        after = None if second is None else second.split("'", 1)[0]
        out = []
        for pid, i, source, _ in entry:
            slot = self._slots.get((token, pid))
            if slot is None:
                slot = self._slots[(token, pid)] = len(self._slot_keys)
                self._slot_keys.append((token, pid))
                self._slot_rx.append(None)
                self._slot_low.append(False)
            # a near set holding the next token is met in its window at a pair hit
            sets = tuple(
                (s, reach) for s, reach in self._near_cut[pid] if reach < 1 or after not in s
            )
            need, form = self._needs[pid]
            free, singles, by_last = self.first[pid]
            if (
                free
                or not singles.isdisjoint(hit)
                or any(
                    all(not ks.isdisjoint(hit) for ks in rest)
                    for w in hit
                    for rest in by_last.get(w, ())
                )
            ):
                # the entry's own words make up a first alternative: met where it is hit
                out.append((pid, i, source, sets, slot, need, need, False))
            else:
                out.append((pid, i, source, sets, slot, need, need | form, bool(by_last)))
        self._entry_rules.append(frozenset(e[1] for e in entry))
        return len(self._entry_rules) - 1, tuple(out), any(rec[7] for rec in out)

    def _regex(self, pid: int) -> re.Pattern[str]:
        rx = self.compiled[pid]
        if rx is None:
            rx = self.compiled[pid] = self.phrases[pid].regex
        return rx

    def _slot_regex(self, slot: int) -> re.Pattern[str]:
        token, pid = self._slot_keys[slot]
        phrase = self.phrases[pid]
        # a few alternatives cost little to try: those phrases keep their own regex
        if token is None or len(phrase.alternatives) < _CUT_FROM:
            rx = self._regex(pid)
        elif _lower_case_safe(phrase.source):
            # matched with case against the lower-cased text, the regex engine skips
            # each alternative whose first letter differs at once: no need to cut
            rx = _compile_low(phrase.lazy.pattern)
            self._slot_low[slot] = True
        else:
            pattern = phrase.pattern_at(token)
            rx = self._regex(pid) if pattern is None else _compile_cut(pattern)
        self._slot_rx[slot] = rx
        return rx

    def _entries(self, tok: str) -> Any:
        """(word entry, pair entries by next word, prefix entries, the rules they serve) of
        a token, or None."""
        table = self._token_entries
        if len(table) > 50_000:  # a stream of new words refills it: memory stays flat
            table.clear()
        prefixes = []
        for n, keys in zip(self.prefix_lengths, self.prefix_keys, strict=True):
            key = tok[:n]
            if key in keys:
                entry = self._prefix_records.get(key)
                if entry is None:
                    # a prefix entry's tokens vary: its phrases use their whole regex
                    entry = self._prefix_records[key] = self._records(self.by_prefix[key], None)
                prefixes.append(entry)
        word = self._word_records.get(tok)
        if word is None and tok in self.by_word:
            word = self._word_records[tok] = self._records(self.by_word[tok], tok)
        pairs = self._pair_records.get(tok)
        if pairs is None and tok in self._pairs_of:
            pairs = self._pair_records[tok] = {
                b: self._records(e, tok, b) for b, e in self._pairs_of[tok]
            }
        # (kept with the token's entries in table: no second cache)
        raw = self._lead_index.compute(tok) if self._lead_index.leads else None
        info = None
        if word or pairs or prefixes or raw:
            # and every rule an entry of this token can offer
            entries = [word, *(pairs.values() if pairs else ()), *prefixes]
            rules = frozenset().union(*(self._entry_rules[e[0]] for e in entries if e))
            info = (word, pairs, tuple(prefixes), rules, raw)
        table[tok] = info
        return info

    def _keep(
        self,
        entry: tuple[int, tuple[Any, ...], bool],
        absent: int,
        forms: frozenset[str] | None,
        first_ok: dict[int, bool],
        allowed: frozenset[int] | None,
    ) -> list[Any]:
        """The records of an index entry whose phrases can match somewhere in this text
        (``absent``: the complement of the word-test bits the text meets)."""
        records: Sequence[Any] = entry[1]
        if allowed is not None:
            if self._entry_rules[entry[0]].isdisjoint(allowed):
                return []
            # the other rules' records first: the word tests below then see only these
            records = [rec for rec in records if rec[1] in allowed]
        if forms is None:
            return [rec for rec in records if not rec[5] & absent]
        if not entry[2]:  # no record needs _first_ok
            return [rec for rec in records if not rec[6] & absent]
        items = []
        for rec in records:
            if rec[6] & absent:
                continue
            if rec[7]:
                ok = first_ok.get(rec[0])
                if ok is None:
                    ok = first_ok[rec[0]] = self._first_ok(rec[0], forms)
                if not ok:
                    continue
            items.append(rec)
        return items

    def _first_ok(self, pid: int, forms: frozenset[str]) -> bool:
        """Whether some first-item alternative of a phrase has all its words in a plain
        text's ``forms`` (see :func:`_split_needs`)."""
        free, singles, by_last = self.first[pid]
        if free or not singles.isdisjoint(forms):
            return True
        for w in forms.intersection(by_last):
            for need in by_last[w]:
                for ks in need:
                    if ks.isdisjoint(forms):
                        break
                else:
                    return True
        return False

    def candidates(
        self, seg: Segmented, allowed: frozenset[int] | None = None
    ) -> Iterator[tuple[int, str, int, int]]:
        """``(rule index, phrase, start, end)`` for every raw phrase match.

        ``allowed``, a set of rule indices, skips every other rule (they cost nothing).
        """
        text = seg.text
        toks = seg.tokens
        n_toks = len(toks)
        # the words of the text: a cheap necessary condition for each phrase
        words = frozenset(toks)
        # In a plain text a word of a phrase matches only where a token starts that
        # equals it or extends it past an apostrophe ("can" in "can't"): ``cut`` holds
        # each token up to its apostrophe. Tokens with two apostrophes turn this off.
        plain = _plain_text(text)
        forms: frozenset[str] | None = None
        cut: tuple[str, ...] = toks
        if plain:
            split = [w for w in words if "'" in w]
            if not split:
                forms = words
            elif all(w.count("'") == 1 for w in split):
                forms = words | {w[: w.index("'")] for w in split}
                # every token up to its apostrophe, without a Python loop over tokens
                cut = tuple(_APOSTROPHE_TAIL.sub("", "\x00".join(toks)).split("\x00"))
        near = forms is not None
        met = 0
        word_bits = self._word_bits
        for w in words & self._bit_words:
            met |= word_bits[w]
        if forms is not None:
            form_bits = self._form_bits
            for w in forms & self._bit_forms:
                met |= form_bits[w]
        absent = ~met
        viable: dict[int, bool] = {}
        kept: dict[int, list[Any]] = {}
        table = self._token_entries
        starts = seg.token_starts
        compiled = self.compiled
        slot_rx = self._slot_rx
        slot_low = self._slot_low
        low = text.lower() if plain else ""
        keep = self._keep
        raw_at: list[tuple[int, tuple[tuple[int, int], ...]]] = []  # (offset, raw starts)
        # Candidates in text order, then word, word pair and prefixes (shortest first).
        for k, tok in enumerate(toks):
            info = table.get(tok, _UNSEEN)
            if info is _UNSEEN:
                info = self._entries(tok)
            if info is None:
                continue
            word, pairs, prefixes, rules, raw = info
            if raw is not None and plain:
                raw_at.append((starts[k], raw))
            if allowed is not None and rules.isdisjoint(allowed):
                continue  # none of this token's entries serves an allowed rule
            found = []
            if word is not None:
                items = kept.get(word[0])
                if items is None:
                    items = kept[word[0]] = keep(word, absent, forms, viable, allowed)
                if items:
                    found.append(items)
            if pairs is not None and k + 1 < n_toks:
                pair = pairs.get(toks[k + 1])
                if pair is not None:
                    items = kept.get(pair[0])
                    if items is None:
                        items = kept[pair[0]] = keep(pair, absent, forms, viable, allowed)
                    if items:
                        found.append(items)
            for entry in prefixes:
                items = kept.get(entry[0])
                if items is None:
                    items = kept[entry[0]] = keep(entry, absent, forms, viable, allowed)
                if items:
                    found.append(items)
            if not found:
                continue
            start = starts[k]
            for items in found:
                for pid, i, source, sets, slot, _, _, _ in items:
                    if near and sets:
                        far = False
                        for req, reach in sets:
                            if req.isdisjoint(cut[k + 1 : k + reach + 1]):
                                far = True
                                break
                        if far:
                            continue
                    if plain:
                        rx = slot_rx[slot] or self._slot_regex(slot)
                        m = rx.match(low if slot_low[slot] else text, start)
                    else:
                        rx = compiled[pid] or self._regex(pid)
                        m = rx.match(text, start)
                    if m and m.end() > start:
                        yield i, source, start, m.end()
        # Raw regexes after the phrases, each in finditer's order. In a plain text a regex
        # with leads is tried only where a run of word characters can start its match:
        # every match starts at one of those places, so trying them in order and going
        # on from each match's end finds what finditer finds.
        at = _gather(raw_at, len(self._lead_index.leads))
        for i in self.regex_rules:
            if allowed is not None and i not in allowed:
                continue
            for rx, scan, slot in self._raw[i]:
                if plain and slot >= 0:
                    for m in led_finditer(rx, at[slot], text):
                        yield i, rx.pattern, m.start(), m.end()
                    continue
                if scan is None or not plain:
                    for m in rx.finditer(text):
                        if m.end() > m.start():
                            yield i, rx.pattern, m.start(), m.end()
                    continue
                for m in scanned_finditer(rx, scan, text, low):
                    yield i, rx.pattern, m.start(), m.end()

    def allowed(self, codes: Collection[str] | None) -> frozenset[int] | None:
        """The indices of the rules voting for one of ``codes`` (None: every rule)."""
        if codes is None:
            return None
        if isinstance(codes, str):  # one code, not its characters
            codes = (codes,)
        wanted = codes if isinstance(codes, set | frozenset) else set(codes)
        return frozenset(i for i, r in enumerate(self.rules) if r.code in wanted)

    def matches(
        self,
        text: str,
        faults: Counter[str],
        seg: Segmented | None = None,
        allowed: frozenset[int] | None = None,
    ) -> list[RuleMatch]:
        if allowed is not None and not allowed:
            return []
        seg = seg or segment(text)
        out: list[RuleMatch] = []
        seen: set[tuple[int, int, int]] = set()
        accepted: Counter[int] = Counter()
        low = seg.text.lower() if _plain_text(seg.text) else None
        for i, phrase, start, end in self.candidates(seg, allowed):
            rule = self.rules[i]
            key = (i, start, end)
            if key in seen or accepted[i] >= _MAX_MATCHES:
                continue
            seen.add(key)
            try:
                m = _judge(rule, phrase, seg, start, end, low, self._context_leads)
            except Exception as exc:  # a fault in one rule must not stop the others
                faults[rule.id] += 1
                logger.warning("rule %r raised %s; match skipped", rule.id, type(exc).__name__)
                continue
            if m is not None:
                accepted[i] += 1
                out.append(m)
        out.sort(key=lambda m: (m.start, m.end, m.rule_id))
        return out


_sre_parser: Any = None


def _parse(pattern: str, flags: int) -> Any:
    """The parse tree of a regex (Python's own parser, imported the first time)."""
    global _sre_parser
    if _sre_parser is None:
        _sre_parser = importlib.import_module("re._parser")
    return _sre_parser.parse(pattern, flags)


@functools.lru_cache(maxsize=4096)
def _lowered_scan(pattern: str, flags: int) -> re.Pattern[str] | None:
    """A quicker regex that finds, in a plain text lower-cased, at least every place where
    ``rx`` can start a match; or None.

    For a case-insensitive ``rx`` (``pattern`` and ``flags``) that starts with
    ``(?<!\\w)``, cannot match the empty string and has no upper-case letter, non-ASCII
    letter, back-reference or flag change anywhere (the parse tree is checked): there,
    matching the plain text ignoring case is matching its lower-cased form with case, and
    ``rx`` without its leading look-behind matches wherever ``rx`` does. Python's regex
    engine skips ahead to a possible first character only when the pattern starts with
    literals and matches with case, so this scan is several times faster than ``rx``
    itself; each place it finds is then tried with ``rx``.
    """
    head = r"(?<!\w)"
    if flags & ~re.UNICODE != re.IGNORECASE or not pattern.startswith(head):
        return None
    try:
        tree = _parse(pattern, flags)
        if tree.getwidth()[0] == 0 or not _case_free(tree.data):
            return None
        rest = pattern[len(head) :]
        # a leading (?=\w) only narrows the places found; without it a scan that starts
        # with literals lets the regex engine skip ahead to them
        if rest.startswith(r"(?=\w)"):
            rest = rest[len(r"(?=\w)") :]
        return re.compile(rest)
    except Exception:  # an unusual pattern keeps finditer
        return None


@functools.lru_cache(maxsize=4096)
def regex_leads(pattern: str, flags: int) -> tuple[tuple[str, bool], ...] | None:
    """How every match of a case-insensitive regex that starts with ``(?<!\\w)`` begins,
    in a plain text: ``(word, exact)`` pairs, one of which fits the run of word
    characters where the match starts (``exact``: the run is the word; else the run
    starts with it). None when the regex does not allow this (the parse tree is read).

    Only the regex's first literal characters are read: each alternative must start
    with an ASCII word character, outside any flag change.
    """
    head = r"(?<!\w)"
    if flags & ~re.UNICODE != re.IGNORECASE or not pattern.startswith(head):
        return None
    try:
        items = list(_parse(pattern, flags).data)
        if not items or str(items[0][0]) != "ASSERT_NOT":
            return None  # a top-level alternation: the look-behind guards only the first
        found = _leads(items[1:], [_LEADS_STEPS])
    except Exception:  # an unusual pattern is scanned as before
        return None
    if not found:
        return None
    out = set()
    for lead in found:
        word = _LEAD_WORD.match(lead)
        if word is None:
            return None
        out.add((word.group(), word.end() < len(lead)))
    return tuple(sorted(out))


_LEAD_WORD: Final = re.compile(r"[a-z0-9_]+")
_LEADS_MAX: Final = 256  # more alternatives than this: not worth the per-word test
_LEADS_STEPS: Final = 2000  # a regex whose leads take more steps keeps its scan


def _leads(items: list[Any], budget: list[int]) -> set[str] | None:
    """Lower-case literal strings one of which starts every match of a parsed regex
    sequence (None: unknown, or it can match the empty string). ``budget`` holds the
    steps left: a regex made of many optional groups gives up rather than branching on."""
    budget[0] -= 1
    if budget[0] < 0:
        return None
    acc = ""
    for n, (op, av) in enumerate(items):
        name = str(op)
        if name == "LITERAL":
            if av >= 128:
                return None
            acc += chr(av).lower()
            continue
        if acc:
            return {acc}
        rest = items[n + 1 :]
        if name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue  # takes no characters
        if name == "IN":
            chars = _set_chars(av)
            return None if chars is None else set(chars)
        if name == "CATEGORY":
            return set("0123456789") if str(av) == "CATEGORY_DIGIT" else None
        if name == "SUBPATTERN":
            if av[1] or av[2]:
                return None  # a flag change
            return _leads([*av[3].data, *rest], budget)
        if name == "BRANCH":
            out: set[str] = set()
            for alt in av[1]:
                sub = _leads([*alt.data, *rest], budget)
                if sub is None:
                    return None
                out |= sub
            return out if len(out) <= _LEADS_MAX else None
        if name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, _, body = av
            first = _leads([*body.data, *rest], budget)
            if lo >= 1 or first is None:
                return first
            skip = _leads(rest, budget)
            return None if skip is None else first | skip
        return None
    return {acc} if acc else None


def _set_chars(items: Any) -> set[str] | None:
    """The lower-case characters of a parsed character set (None: not a short ASCII list)."""
    out: set[str] = set()
    for op, av in items:
        name = str(op)
        if name == "LITERAL" and av < 128:
            out.add(chr(av).lower())
        elif name == "RANGE" and av[1] < 128 and av[1] - av[0] < 40:
            out.update(chr(c).lower() for c in range(av[0], av[1] + 1))
        elif name == "CATEGORY" and str(av) == "CATEGORY_DIGIT":
            out.update("0123456789")
        else:
            return None
    return out


# Tokens whose lead-word places are kept per cache: a stream of new words (numbers,
# misspellings) refills it, and a common word costs a microsecond to read again.
_LEAD_CACHE_MAX: Final = 20_000


class LeadIndex:
    """Where the matches of some regexes can start in a plain text (see
    :func:`_plain_text`): at the runs of word characters that fit their leads (see
    :func:`regex_leads`), found from a text's tokens. Each regex is a slot (its index in
    ``leads``); what each token offers is computed once and kept."""

    def __init__(self, leads: Sequence[tuple[tuple[str, bool], ...]]) -> None:
        self.leads = tuple(leads)
        # the slots by exact word, and by prefix (a run starting with it) per length
        exact: dict[str, set[int]] = {}
        prefixes: dict[int, dict[str, set[int]]] = {}
        for slot, pairs in enumerate(self.leads):
            for word, is_exact in pairs:
                table = exact if is_exact else prefixes.setdefault(len(word), {})
                table.setdefault(word, set()).add(slot)
        self._exact = exact
        self._prefixes = tuple(sorted(prefixes.items()))
        self._cache: dict[str, tuple[tuple[int, int], ...] | None] = {}

    def starts_of(self, tok: str) -> tuple[tuple[int, int], ...] | None:
        """``(slot, offset)`` for each regex that can start a match at a run of word
        characters of the lower-cased token ``tok`` (at ``offset``: 0, or just past an
        apostrophe), or None."""
        if tok in self._cache:
            return self._cache[tok]
        found = self.compute(tok)
        if len(self._cache) > _LEAD_CACHE_MAX:
            self._cache.clear()
        self._cache[tok] = found
        return found

    def compute(self, tok: str) -> tuple[tuple[int, int], ...] | None:
        """:meth:`starts_of` without the cache."""
        out: list[tuple[int, int]] = []
        offset = 0
        for piece in re.split("['’]", tok):
            slots = set(self._exact.get(piece, ()))
            for n, table in self._prefixes:
                if n > len(piece):
                    break
                slots.update(table.get(piece[:n], ()))
            out.extend((slot, offset) for slot in sorted(slots))
            offset += len(piece) + 1
        return tuple(out) or None

    def places(self, seg: Segmented) -> list[list[int]]:
        """Per slot, the offsets in ``seg.text`` (a plain text) where its regex can start
        a match, in order."""
        cache = self._cache
        hits = []
        for tok, start in zip(seg.tokens, seg.token_starts, strict=True):
            hit = cache[tok] if tok in cache else self.starts_of(tok)
            if hit is not None:
                hits.append((start, hit))
        return _gather(hits, len(self.leads))


def _gather(
    hits: Iterable[tuple[int, tuple[tuple[int, int], ...]]], n: int
) -> list[list[int]]:
    """Per slot of ``n``, the offsets ``start + offset`` of ``(start, ((slot, offset),
    ...))`` hits given in text order: where each slot's regex can start, ascending."""
    at: list[list[int]] = [[] for _ in range(n)]
    for start, hit in hits:
        for slot, offset in hit:
            at[slot].append(start + offset)
    return at


class _ContextLeads:
    """Lead words (see :func:`regex_leads`) of the context alternations (``requires``,
    ``unless``, ``boost``, ``dampen``) of one matcher's rules, read the first time each
    is needed, and per token, the alternations whose match can start at it: ``{slot:
    offsets}`` (offset 0, or just past an apostrophe), or None.

    Safe to share between threads: a new slot makes a new :class:`_LeadState` (under a
    lock), and a token's entry is computed from one state and kept in that state's own
    cache, so no entry misses a slot its state has.
    """

    def __init__(self) -> None:
        self._slots: dict[str, int] = {}  # pattern -> slot (-1: no leads)
        self._lock = threading.Lock()
        self.state = _LeadState(LeadIndex(()))

    def __reduce__(self) -> tuple[type[_ContextLeads], tuple[()]]:
        return _ContextLeads, ()  # a lock does not pickle; the leads are read again

    def slot(self, rx: LazyRegex) -> int:
        slot = self._slots.get(rx.pattern)
        if slot is None:
            leads = regex_leads(rx.pattern, rx.flags)
            with self._lock:
                slot = self._slots.get(rx.pattern)
                if slot is None:
                    slot = -1
                    if leads is not None:
                        old = self.state.index.leads
                        slot = len(old)
                        self.state = _LeadState(LeadIndex((*old, leads)))
                    self._slots[rx.pattern] = slot
        return slot


class _LeadState:
    """One :class:`LeadIndex` of context alternations and the tokens read with it."""

    __slots__ = ("cache", "index")

    def __init__(self, index: LeadIndex) -> None:
        self.index = index
        self.cache: dict[str, dict[int, tuple[int, ...]] | None] = {}

    def token(self, tok: str) -> dict[int, tuple[int, ...]] | None:
        found: dict[int, tuple[int, ...]] | None = None
        starts = self.index.compute(tok)
        if starts is not None:
            found = {}
            for slot, offset in starts:
                found[slot] = (*found.get(slot, ()), offset)
        if len(self.cache) > _LEAD_CACHE_MAX:
            self.cache.clear()
        self.cache[tok] = found
        return found


def led_finditer(
    rx: re.Pattern[str], places: Sequence[int], text: str, pos: int = 0, endpos: int | None = None
) -> Iterator[re.Match[str]]:
    """``rx.finditer(text, pos, endpos)`` for a regex whose every match starts at one of
    ``places`` (ascending; from :meth:`LeadIndex.places`) and is not empty: it is tried
    only there, going on from each match's end as finditer does."""
    end = len(text) if endpos is None else endpos
    reach = pos
    for k in range(bisect.bisect_left(places, pos), len(places)):
        at = places[k]
        if at >= end:
            break
        if at >= reach and (m := rx.match(text, at, end)) is not None:
            yield m
            reach = m.end()


def scanned_finditer(
    rx: re.Pattern[str],
    scan: re.Pattern[str],
    text: str,
    low: str,
    pos: int = 0,
    endpos: int | None = None,
) -> Iterator[re.Match[str]]:
    """``rx.finditer(text, pos, endpos)``, trying ``rx`` only where ``scan`` (from
    :func:`_lowered_scan`) finds a place in ``low``, the text lower-cased."""
    end = len(text) if endpos is None else endpos
    while (hit := scan.search(low, pos, end)) is not None:
        m = rx.match(text, hit.start(), end)
        if m is None:
            pos = hit.start() + 1
            continue
        yield m
        pos = m.end()  # a scanned pattern never matches the empty string


@functools.lru_cache(maxsize=4096)
def _alternation_scan(pattern: str, flags: int) -> re.Pattern[str] | None:
    """:func:`_lowered_scan` for a regex made by ``compile_alternation`` from phrases:
    the phrases' words are checked instead of parsing the regex (it has no
    back-reference or flag change, and each phrase needs at least one word)."""
    head = r"(?<!\w)"
    if flags & ~re.UNICODE != re.IGNORECASE or not pattern.startswith(head):
        return None
    if not _lower_case_safe(pattern) or _ESCAPES.search(pattern):
        return None
    return re.compile(pattern[len(head) :])


# escapes that could stand for an upper-case letter, back-references and flag changes
_ESCAPES: Final = re.compile(r"\\[0-9xuUN]|\(\?[aiLmsux-]")


def _caseless(ch: str) -> bool:
    """Whether ``ch`` has no other case (a curly apostrophe, not a long s)."""
    return ch.lower() == ch == ch.upper() and ch.casefold() == ch


def _found(
    rx: LazyRegex,
    text: str,
    low: str | None,
    pos: int,
    endpos: int,
    seg: Segmented | None = None,
    leads: _ContextLeads | None = None,
) -> bool:
    """``rx.search(text, pos, endpos) is not None``, in a plain text (``low``: ``text``
    lower-cased when it is plain, else None) trying ``rx`` only where ``seg``'s tokens
    fit its leads (see :class:`_ContextLeads`), or else scanning ``low`` where
    :func:`_lowered_scan` allows."""
    if low is not None and seg is not None and leads is not None:
        slot = leads.slot(rx)
        if slot >= 0:
            starts = seg.token_starts
            toks = seg.tokens
            compiled = rx.compiled
            # a token that starts before pos may have a part after an apostrophe in range
            k = max(0, bisect.bisect_left(starts, pos) - 1)
            stop = bisect.bisect_left(starts, endpos)
            state = leads.state  # has this slot: it was made before slot() returned
            cache = state.cache
            while k < stop:
                tok = toks[k]
                hits = cache[tok] if tok in cache else state.token(tok)
                if hits is not None:
                    offsets = hits.get(slot)
                    if offsets is not None:
                        for offset in offsets:
                            at = starts[k] + offset
                            if pos <= at < endpos and compiled.match(text, at, endpos):
                                return True
                k += 1
            return False
    if low is not None:
        scan = _alternation_scan(rx.pattern, rx.flags)
        if scan is not None:
            compiled = rx.compiled
            while (hit := scan.search(low, pos, endpos)) is not None:
                if compiled.match(text, hit.start(), endpos) is not None:
                    return True
                pos = hit.start() + 1
            return False
    return rx.search(text, pos, endpos) is not None


def _case_free(items: Any) -> bool:
    """Whether a parsed regex has no upper-case letter and no non-ASCII character with a
    case (literal or in a range), no back-reference and no flag change."""
    for op, av in items:
        name = str(op)
        if name in ("LITERAL", "NOT_LITERAL"):
            if 65 <= av <= 90 or (av >= 128 and not _caseless(chr(av))):
                return False
        elif name == "RANGE":
            if av[1] >= 128 or (av[0] <= 90 and av[1] >= 65):
                return False
        elif name == "IN":
            if not _case_free(av):
                return False
        elif name == "SUBPATTERN":
            if av[1] or av[2] or not _case_free(av[3].data):
                return False
        elif name == "BRANCH":
            if not all(_case_free(alt.data) for alt in av[1]):
                return False
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            if not _case_free(av[2].data):
                return False
        elif name in ("ASSERT", "ASSERT_NOT"):
            if not _case_free(av[1].data):
                return False
        elif name == "ATOMIC_GROUP":
            if not _case_free(av.data):
                return False
        elif name not in ("AT", "ANY", "CATEGORY", "NEGATE"):
            return False
    return True


def _split_needs(
    needs: tuple[tuple[frozenset[str], ...], ...],
) -> tuple[bool, frozenset[str], dict[str, list[tuple[frozenset[str], ...]]]]:
    """(some alternative needs nothing, the tokens of one-word alternatives, the other
    alternatives' remaining needs indexed by each token of their last word)."""
    free = any(not need for need in needs)
    singles = frozenset(w for need in needs if len(need) == 1 for w in need[0])
    by_last: dict[str, list[tuple[frozenset[str], ...]]] = {}
    for need in needs:
        if len(need) > 1:
            for w in need[-1]:
                by_last.setdefault(w, []).append(need[:-1])
    return free, singles, by_last


# The characters outside ASCII that Python's case-insensitive matching equates with an
# ASCII letter (dotless i, long s, the Kelvin sign) or whose lower case is longer (capital
# I with a dot above): found by trying every code point (tests/test_fast_paths.py).
_CASE_TRAPS: Final = ("\u0130", "\u0131", "\u017f", "\u212a")
_OTHER_DIGIT: Final = re.compile(r"[^\D0-9]")  # a digit other than 0-9


def _plain_text(text: str) -> bool:
    """True when ``text`` has none of the few characters that make case-insensitive
    matching differ from matching the lower-cased text: no case trap (see _CASE_TRAPS)
    and no digit outside 0-9. Curly quotes, dashes, accented letters and other
    characters outside ASCII are fine.

    In such a text lower-casing keeps every offset; a pattern with no upper-case or
    cased non-ASCII letter matches the text ignoring case exactly where it matches the
    lower-cased text with case; and a phrase word matches exactly where a token starts
    that equals it or extends it past an apostrophe (see ``_text._keyset``). Outside
    plain texts (a long s matches ``s``) these fail, so _Matcher does not filter phrases
    by their words there. The answer for the last text asked about is kept: the rules
    and the checks ask about the same string several times.
    """
    if text.isascii():
        return True
    last = _last_plain[0]
    if last is not None and last[0] is text:
        return last[1]
    plain = not any(ch in text for ch in _CASE_TRAPS) and _OTHER_DIGIT.search(text) is None
    _last_plain[0] = (text, plain)  # one assignment: threads see a whole pair
    return plain


# The last text outside ASCII asked about and the answer, matched by identity.
_last_plain: list[tuple[str, bool] | None] = [None]


def _judge(
    rule: Rule,
    phrase: str,
    seg: Segmented,
    start: int,
    end: int,
    low: str | None = None,
    leads: _ContextLeads | None = None,
) -> RuleMatch | None:
    """Apply context, negation, hedging and the accept hook to one raw match (``low``:
    the text lower-cased when it is plain, for quicker context scans)."""
    text = seg.text
    s_idx = seg.sentence_of(start)
    s_start = seg.sentence_starts[s_idx]
    s_end = seg.sentence_ends[s_idx]
    if end > s_end:  # a phrase may not run across a sentence boundary
        return None
    # Context is read within the sentence, but never further than _CONTEXT characters
    # from the match: a "sentence" of a million characters must not make each match
    # rescan it (that would be quadratic).
    c_start = max(s_start, start - _CONTEXT)
    c_end = min(s_end, end + _CONTEXT)
    ctx = rule._context
    req = ctx["requires"]
    if req is not None and not _found(req, text, low, c_start, c_end, seg, leads):
        return None
    unl = ctx["unless"]
    if unl is not None and _found(unl, text, low, c_start, c_end, seg, leads):
        return None
    # the tokens of the sentence before the match, and of the match itself
    i, j = seg.token_range(s_start, start)
    clause = _clause_tokens(seg, i, j, _HEDGE_WINDOW, start)
    hedged = _hedged(clause, text, start, s_end)
    inside = seg.tokens[j : seg.token_range(start, end)[1]]
    if rule.negatable and (
        _negated(seg, clause[-(_NEG_WINDOW + 1) :], i, j, start, end, s_end)
        or _inside(inside, phrase, _NEG_WORDS)
    ):
        return None
    hedged = hedged or _inside(inside, phrase, _HEDGE_WORDS)
    confidence = rule.confidence
    boost = ctx["boost"]
    if boost is not None and _found(boost, text, low, c_start, c_end, seg, leads):
        confidence = min(1.0, confidence + _BOOST)
    dampen = ctx["dampen"]
    if dampen is not None and _found(dampen, text, low, c_start, c_end, seg, leads):
        confidence = max(0.05, confidence - _DAMPEN)
    if hedged:
        confidence *= _HEDGE_FACTOR
    if rule.accept is not None:
        sentence = text[c_start:c_end]
        if not rule.accept(sentence, start - c_start, end - c_start):
            return None
    return RuleMatch(rule.id, rule.code, start, end, round(confidence, 4), hedged, phrase)


def _clause_tokens(
    seg: Segmented, i: int, j: int, window: int, start: int
) -> tuple[str, ...]:
    """Up to ``window`` of the tokens ``i..j`` (those of a sentence before a match at
    ``start``) that are in the match's clause, nearest last.

    The result for a smaller window is the end of this one: the clause punctuation
    nearest the match is found first either way.
    """
    lo = max(i, j - window)
    toks = seg.tokens[lo:j]
    # a semicolon, colon or dash between tokens ends the clause, and so does one between
    # the last of them and the match ("No reply; curtains drawn")
    text = seg.text
    ends = seg.token_ends
    starts = seg.token_starts
    for k in range(j, lo, -1):
        gap = text[ends[k - 1] : starts[k] if k < j else start]
        if gap != " " and any(ch in gap for ch in ";:–—()"):
            return toks[k - lo :]
    return toks


# Words that end the scope of a clause-wide negation cue.
_CUE_BREAK: Final = re.compile(
    r"(?<!\w)(?:but|however|although|though|yet|because|whereas|instead)(?!\w)|[;:]",
    re.IGNORECASE,
)


def _negated(
    seg: Segmented, toks: tuple[str, ...], i: int, j: int, start: int, end: int, s_end: int
) -> bool:
    """Whether a negation governs the match ``start..end``; ``toks``: its clause's tokens
    before it (at most _NEG_WINDOW + 1), ``i..j``: its sentence's tokens before it."""
    text = seg.text
    for n in range(len(toks) - 1, -1, -1):
        tok = toks[n]
        if tok in _SCOPE_BREAK or tok == "and":
            break
        if tok in _NEG_WORDS or tok.endswith("n't"):
            nxt = toks[n + 1] if n + 1 < len(toks) else ""
            if nxt in _NEG_RELEASE or (tok == "no" and nxt in ("longer", "doubt")):
                continue
            if tok == "not" and n >= 1 and toks[n - 1] in ("whether", "if"):
                continue
            return True
    # clause-wide cues: "there was no evidence that ... X"
    lo = max(i, j - 25)
    window_start = seg.token_starts[lo] if lo < j else start
    before = text[window_start:start]
    cue = None
    for found in _NEG_CLAUSE.finditer(before):
        cue = found  # the last clause-wide cue before the match
    # "rather than" and "instead of" set aside only their own phrase: after a comma the
    # main clause goes on ("Instead of waiting, she did what she had never done")
    if (
        cue is not None
        and not _CUE_BREAK.search(before, cue.end())
        and not (_CONTRAST_CUE.fullmatch(cue.group()) and "," in before[cue.end() :])
    ):
        return True
    return _NEG_AFTER.match(text[end : min(s_end, end + 80)]) is not None


@functools.lru_cache(maxsize=4096)
def _vocabulary(phrase: str) -> frozenset[str]:
    """The literal words of a phrase, lower-cased (prefix words without their star), or
    of a raw regex (its letters outside escapes such as ``\\s``), so that a regex's own
    negation ("no professional saw the child") does not cancel its matches."""
    if "\\" in phrase or "(?" in phrase:  # phrases have neither: a raw regex
        letters = re.sub(r"\\[A-Za-z]", " ", phrase)
        return frozenset(w.lower().replace("’", "'") for w in re.findall(r"[A-Za-z'’]+", letters))
    return frozenset(
        w.rstrip("*?").lower().replace("’", "'") for w in re.split(r"[\s()|]+", phrase) if w
    )


def _inside(toks: tuple[str, ...], phrase: str, words: frozenset[str]) -> bool:
    """True when a word of ``words`` is among ``toks`` (a match's tokens) but is not one
    of the phrase's own.

    "The team did not cut corners" matches ``(the team) ~3 (cut corners)`` with "did not"
    in the gap: a negation or hedge in a gap applies to what follows it.
    """
    if words is _NEG_WORDS:
        hits = [t for t in toks if t in words or t.endswith("n't")]
    elif words.isdisjoint(toks):
        return False
    else:
        hits = [t for t in toks if t in words]
    if not hits:
        return False
    vocab = _vocabulary(phrase)
    # a contraction of a phrase word and "not" is the phrase's own when it has "not"
    # too: "(was|were) ~2 (not)? ~2 (visible)" wrote "wasn't visible" as well
    return any(
        t not in vocab and not (t.endswith("n't") and "not" in vocab and t[:-3] in vocab)
        for t in hits
    )


def _hedged(clause: tuple[str, ...], text: str, start: int, s_end: int) -> bool:
    """Whether a hedge word governs a match at ``start`` (``clause``: its clause's tokens
    before it, at most _HEDGE_WINDOW), or its sentence (ending at ``s_end``) is a question."""
    for tok in reversed(clause):
        if tok in _SCOPE_BREAK and tok not in ("if", "whether"):
            break
        if tok in _HEDGE_WORDS:
            return True
    # a question is not an assertion
    k = s_end - 1
    while k > start and text[k].isspace() and s_end - k < 64:
        k -= 1
    return text[k] == "?"


# -- coverage -------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class RuleCoverage:
    """How one rule behaves on a corpus (fractions of the texts)."""

    rule_id: str
    code: str
    fired: int
    coverage: float
    overlaps: float
    conflicts: float
    accuracy: float | None = None
    faults: int = 0


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Coverage, overlaps and conflicts of every rule on a corpus.

    ``overlaps``: fraction of texts where the rule fired and any other rule fired too.
    ``conflicts``: fraction of texts where another rule, voting for a different code,
    fired on words overlapping this rule's evidence. ``accuracy``: when labels were
    given, the fraction of the texts the rule fired on whose labels include its code
    (or a code below it).
    """

    n_texts: int
    rules: tuple[RuleCoverage, ...]
    total_coverage: float

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "n_texts": self.n_texts,
            "total_coverage": self.total_coverage,
            "rules": [
                {
                    "rule_id": r.rule_id,
                    "code": r.code,
                    "fired": r.fired,
                    "coverage": r.coverage,
                    "overlaps": r.overlaps,
                    "conflicts": r.conflicts,
                    "accuracy": r.accuracy,
                    "faults": r.faults,
                }
                for r in self.rules
            ],
        }

    def table(self) -> str:
        """A fixed-width table, one row per rule."""
        head = (
            f"{'rule':<40} {'code':<26} {'fired':>6} {'cover':>6} {'overlap':>7}"
            f" {'conflict':>8} {'acc':>5} {'faults':>6}"
        )
        lines = [head, "-" * len(head)]
        for r in self.rules:
            acc = "-" if r.accuracy is None else f"{r.accuracy:.2f}"
            lines.append(
                f"{r.rule_id[:40]:<40} {r.code[:26]:<26} {r.fired:>6} {r.coverage:>6.3f} "
                f"{r.overlaps:>7.3f} {r.conflicts:>8.3f} {acc:>5} {r.faults:>6}"
            )
        lines.append(
            f"{self.n_texts} texts; {self.total_coverage:.1%} have at least one rule firing"
        )
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.table()


# -- the rule set ---------------------------------------------------------------------
_BUILTIN_TAXONOMIES: Final = ("safeguarding", "asrs")


class RuleSet:
    """An ordered collection of rules for one taxonomy.

    Parameters
    ----------
    rules : iterable of Rule, optional
        Rules to register, in order.
    taxonomy : str, Path or Taxonomy, optional
        The taxonomy whose codes the rules vote for (default ``safeguarding``). Codes
        are checked at registration; aliases are resolved to codes.

    Examples
    --------
    >>> rs = RuleSet()
    >>> rs.register(Rule("lapse.forgot", "ERR.LAPSE", patterns=["forgot"]))
    >>> len(rs), [r.id for r in rs]
    (1, ['lapse.forgot'])
    """

    def __init__(
        self, rules: Iterable[Rule] = (), *, taxonomy: str | Path | Taxonomy | None = None
    ) -> None:
        self.taxonomy: Taxonomy = load_taxonomy(taxonomy)
        self._rules: dict[str, Rule] = {}
        self._matcher: _Matcher | None = None
        self.faults: Counter[str] = Counter()
        for rule in rules:
            self.register(rule)

    # -- registry ----------------------------------------------------------------
    def register(self, rule: Rule) -> None:
        """Add ``rule``; refuses duplicate ids and codes the taxonomy does not have."""
        if not isinstance(rule, Rule):
            raise RuleError(f"expected a Rule, got {type(rule).__name__}")
        if rule.id in self._rules:
            raise RuleError(f"duplicate rule id {rule.id!r}")
        try:
            code = self.taxonomy.resolve(rule.code)
        except UnknownCodeError as exc:
            raise UnknownCodeError(rule.code, self.taxonomy.name, self.taxonomy.codes) from exc
        if code != rule.code:
            rule = rule.with_code(code)
        self._rules[rule.id] = rule
        self._matcher = None

    def remove(self, rule_id: str) -> Rule:
        """Remove and return the rule with id ``rule_id``."""
        try:
            rule = self._rules.pop(rule_id)
        except KeyError:
            raise RuleError(f"no rule with id {rule_id!r}") from None
        self._matcher = None
        return rule

    def select(self, prefix: str) -> RuleSet:
        """A new RuleSet with the rules whose code is ``prefix`` or below it."""
        code = self.taxonomy.resolve(prefix)
        out = RuleSet(taxonomy=self.taxonomy)
        for rule in self._rules.values():
            if rule.code == code or rule.code.startswith(code + "."):
                out._rules[rule.id] = rule
        return out

    def __iter__(self) -> Iterator[Rule]:
        return iter(tuple(self._rules.values()))

    def __len__(self) -> int:
        return len(self._rules)

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._rules

    def __getitem__(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            raise RuleError(f"no rule with id {rule_id!r}") from None

    def __repr__(self) -> str:
        return f"RuleSet(taxonomy={self.taxonomy.name!r}, rules={len(self)})"

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """Rule ids in order: the columns of :meth:`vote_matrix`."""
        return tuple(self._rules)

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes the rules vote for, in taxonomy order: the columns of :meth:`code_scores`."""
        have = {r.code for r in self._rules.values()}
        return tuple(c for c in self.taxonomy.codes if c in have)

    # -- constructors ------------------------------------------------------------
    @classmethod
    def default(cls, taxonomy: str = "safeguarding") -> RuleSet:
        """The built-in rules for ``taxonomy`` (``"safeguarding"`` or ``"asrs"``).

        The compiled rules are cached per taxonomy, so repeated calls are cheap; each
        call returns a new RuleSet that may be changed without affecting others.
        """
        name = taxonomy.name if isinstance(taxonomy, Taxonomy) else taxonomy
        if name not in _BUILTIN_TAXONOMIES:
            raise RuleError(
                f"no built-in rules for taxonomy {name!r}; built-in rules exist for "
                f"{', '.join(_BUILTIN_TAXONOMIES)} (load others with RuleSet.from_toml)"
            )
        rules, matcher = _builtin(name)
        out = cls(taxonomy=name)
        out._rules = {r.id: r for r in rules}
        out._matcher = matcher
        return out

    @classmethod
    def from_toml(cls, path: str | Path, taxonomy: str | Path | Taxonomy | None = None) -> RuleSet:
        """Load rules from a TOML file (see docs/rules.md for the format).

        Raises
        ------
        RuleError
            The file is unreadable or invalid; the message names the file, line and rule.
        UnknownCodeError
            A rule votes for a code the taxonomy does not have.
        """
        p = Path(path)
        try:
            blob = p.read_bytes()
        except OSError as exc:
            raise RuleError(f"{p}: cannot read rule file ({exc.strerror})") from None
        return cls._from_blob(blob, str(p), taxonomy)

    @classmethod
    def _from_blob(
        cls, blob: bytes, source: str, taxonomy: str | Path | Taxonomy | None
    ) -> RuleSet:
        rules, declared = _parse_rule_file(blob, source)
        out = cls(taxonomy=taxonomy if taxonomy is not None else declared)
        for n, rule in enumerate(rules):
            try:
                out.register(rule)
            except (UnknownCodeError, RuleError) as exc:
                lines = _rule_lines(blob)  # only an error needs the scan
                at = lines[n] if n < len(lines) else {}
                header = at.get("[[rules]]", 0)
                if isinstance(exc, UnknownCodeError):
                    # still an UnknownCodeError, with its near matches, but placed in the file
                    err = UnknownCodeError(rule.code, out.taxonomy.name, out.taxonomy.codes)
                    line = at.get(("code", rule.code), at.get("code", header))
                    err.args = (f"{source}:{line}: rule {rule.id!r}: {err}",)
                    raise err from None
                line = at.get("id", header)
                raise RuleError(f"{source}:{line}: rule {rule.id!r}: {exc}") from None
        return out

    def extend(self, rules: Iterable[Rule]) -> None:
        """Register several rules."""
        for rule in rules:
            self.register(rule)

    # -- applying ------------------------------------------------------------------
    def _get_matcher(self) -> _Matcher:
        if self._matcher is None:
            self._matcher = _Matcher(tuple(self._rules.values()))
        return self._matcher

    def matches(
        self, text_or_incident: str | Incident, *, codes: Collection[str] | None = None
    ) -> list[RuleMatch]:
        """Every individual rule match, in text order (only rules for ``codes``, if given)."""
        text = _narrative(text_or_incident, "RuleSet.matches")
        matcher = self._get_matcher()
        return matcher.matches(text, self.faults, allowed=matcher.allowed(codes))

    def apply(
        self, text_or_incident: str | Incident, *, codes: Collection[str] | None = None
    ) -> list[Finding]:
        """One :class:`~humanfactors.models.Finding` per code that a rule voted for.

        Confidence combines the matches of a code (each one more makes it likelier);
        evidence spans index the given text exactly; the explanation says which rules
        fired on which words. Findings come in taxonomy order.

        ``codes`` limits the work to the rules voting for those exact codes (a string is
        one code); the others are not run at all. The findings for those codes are the
        same as without it (each rule's matches are independent of the others'), so a
        caller that will discard some codes anyway can skip their rules;
        :func:`humanfactors.analyse` does this for codes the model finds implausible in a
        report.
        """
        text = _narrative(text_or_incident, "RuleSet.apply")
        matcher = self._get_matcher()
        matches = matcher.matches(text, self.faults, allowed=matcher.allowed(codes))
        by_code: dict[str, list[RuleMatch]] = {}
        for m in matches:
            by_code.setdefault(m.code, []).append(m)
        order = _code_order(self.taxonomy)
        findings = []
        for code in sorted(by_code, key=lambda c: order.get(c, len(order))):
            findings.append(_finding(code, by_code[code], text))
        return findings

    def code_scores(self, texts: Iterable[str | Incident]) -> tuple[tuple[str, ...], np.ndarray]:
        """The highest rule confidence per code for each text (0 where none fired).

        Returns
        -------
        codes : tuple of str
            Column order (see :attr:`codes`).
        scores : numpy.ndarray of shape (n_texts, n_codes), float64
        """
        import numpy as np

        codes = self.codes
        col = {c: j for j, c in enumerate(codes)}
        matcher = self._get_matcher()
        rows = []
        for k, t in enumerate(texts):
            row = np.zeros(len(codes), dtype=np.float64)
            text = _narrative(t, "RuleSet.code_scores", k)
            for m in matcher.matches(text, self.faults):
                j = col[m.code]
                if m.confidence > row[j]:
                    row[j] = m.confidence
            rows.append(row)
        if not rows:
            return codes, np.zeros((0, len(codes)), dtype=np.float64)
        return codes, np.vstack(rows)

    def vote_matrix(self, texts: Iterable[str | Incident]) -> np.ndarray:
        """An int8 array (n_texts, n_rules): 1 where a rule fired, 0 where it abstained.

        Columns follow :attr:`rule_ids`. This is the label matrix a weak-supervision
        label model expects (each rule votes only for its own code, or abstains).
        """
        import numpy as np

        ids = self.rule_ids
        col = {r: j for j, r in enumerate(ids)}
        matcher = self._get_matcher()
        rows = []
        for k, t in enumerate(texts):
            row = np.zeros(len(ids), dtype=np.int8)
            text = _narrative(t, "RuleSet.vote_matrix", k)
            for m in matcher.matches(text, self.faults):
                row[col[m.rule_id]] = 1
            rows.append(row)
        if not rows:
            return np.zeros((0, len(ids)), dtype=np.int8)
        return np.vstack(rows)

    def _label_sets(self, labels: Iterable[Iterable[str]]) -> list[set[str]]:
        """Each text's true codes as a set, aliases resolved; a string is refused."""
        out = []
        for i, row in enumerate(labels):
            if isinstance(row, str):
                raise InputError(f"labels: row {i} is a string; give a list of codes")
            codes = list(row)
            if self.taxonomy is not None:
                try:
                    codes = [self.taxonomy.resolve(c) for c in codes]
                except UnknownCodeError as exc:
                    raise InputError(f"labels: row {i}: {exc}") from None
            out.append(set(codes))
        return out

    def analyse_coverage(
        self,
        texts: Iterable[str | Incident],
        labels: Iterable[Iterable[str]] | None = None,
    ) -> CoverageReport:
        """Per rule: how often it fires, overlaps other rules and conflicts with them.

        Parameters
        ----------
        texts : iterable of str or Incident
        labels : iterable of iterables of codes, optional
            The true codes of each text; gives each rule's empirical accuracy.
        """
        ids = self.rule_ids
        matcher = self._get_matcher()
        fired: Counter[str] = Counter()
        overlap: Counter[str] = Counter()
        conflict: Counter[str] = Counter()
        correct: Counter[str] = Counter()
        label_list = None if labels is None else self._label_sets(labels)
        faults_before = Counter(self.faults)
        n = 0
        any_fired = 0
        for n_idx, t in enumerate(texts):
            n += 1
            ms = matcher.matches(_narrative(t, "RuleSet.analyse_coverage", n_idx), self.faults)
            here = {m.rule_id for m in ms}
            if here:
                any_fired += 1
            for rid in here:
                fired[rid] += 1
                if len(here) > 1:
                    overlap[rid] += 1
            conflicted: set[str] = set()
            for a in ms:
                for b in ms:
                    if b.start >= a.end:
                        break
                    if a.code != b.code and a.start < b.end and b.start < a.end:
                        conflicted.add(a.rule_id)
            for rid in conflicted:
                conflict[rid] += 1
            if label_list is not None:
                if n_idx >= len(label_list):
                    raise RuleError(f"labels has {len(label_list)} entries but texts has more")
                truth = label_list[n_idx]
                for rid in here:
                    code = self._rules[rid].code
                    if any(t_ == code or t_.startswith(code + ".") for t_ in truth):
                        correct[rid] += 1
        if label_list is not None and len(label_list) != n:
            raise RuleError(f"labels has {len(label_list)} entries but texts has {n}")
        denom = max(n, 1)
        rows = tuple(
            RuleCoverage(
                rule_id=rid,
                code=self._rules[rid].code,
                fired=fired[rid],
                coverage=fired[rid] / denom,
                overlaps=overlap[rid] / denom,
                conflicts=conflict[rid] / denom,
                accuracy=(correct[rid] / fired[rid] if fired[rid] else None)
                if label_list is not None
                else None,
                faults=self.faults[rid] - faults_before[rid],
            )
            for rid in ids
        )
        return CoverageReport(n_texts=n, rules=rows, total_coverage=any_fired / denom)

    def to_dicts(self) -> list[dict[str, Any]]:
        """Every rule as a dict, in order."""
        return [r.to_dict() for r in self._rules.values()]


def _code_order(taxonomy: Taxonomy) -> dict[str, int]:
    """Each code's index in ``taxonomy.codes`` (kept for the last taxonomy asked about:
    a taxonomy is immutable)."""
    last = _last_order[0]
    if last is not None and last[0] is taxonomy:
        return last[1]
    order = {c: i for i, c in enumerate(taxonomy.codes)}
    _last_order[0] = (taxonomy, order)
    return order


_last_order: list[tuple[Taxonomy, dict[str, int]] | None] = [None]


def _finding(code: str, matches: list[RuleMatch], text: str) -> Finding:
    best: dict[str, float] = {}
    for m in matches:
        best[m.rule_id] = max(best.get(m.rule_id, 0.0), m.confidence)
    # Independent rules agreeing raise confidence (noisy-or), capped below certainty.
    miss = math.prod(1.0 - c for c in best.values())
    confidence = min(0.99, max(max(best.values()), 1.0 - miss))
    # drop spans nested inside a longer span of the same code ("busy" in "extremely busy")
    spans: list[tuple[int, int]] = []
    reach = -1
    for a, b in sorted({(m.start, m.end) for m in matches}, key=lambda s: (s[0], -s[1])):
        if b <= reach:
            continue
        spans.append((a, b))
        reach = b
    kept = set(spans)
    matches = [m for m in matches if (m.start, m.end) in kept] or matches
    # spans come from regex matches on ``text`` itself, so they are valid by construction
    evidence = tuple(Evidence.model_construct(start=s, end=e, text=text[s:e]) for s, e in spans)
    parts = []
    for m in matches[:5]:
        words = text[m.start : m.end]
        if len(words) > 80:
            words = words[:77] + "..."
        note = " (hedged)" if m.hedged else ""
        parts.append(f"rule {m.rule_id} matched {words!r}{note}")
    more = f"; and {len(matches) - 5} more" if len(matches) > 5 else ""
    explanation = f"{code}: " + "; ".join(parts) + more
    return Finding.model_construct(
        code=code,
        confidence=round(confidence, 4),
        source=Source.RULE,
        evidence=evidence,
        explanation=explanation[:2000],
        rule_ids=tuple(best),
    )


# -- rule files ---------------------------------------------------------------------------
_RULE_KEYS: Final = frozenset(
    [
        "id",
        "code",
        "description",
        "confidence",
        "patterns",
        "regex",
        "requires",
        "unless",
        "boost",
        "dampen",
        "negatable",
    ]
)


def _rule_lines(blob: bytes) -> list[dict[Any, int]]:
    """Where each ``[[rules]]`` entry is written, in order, as 1-based line numbers.

    Each entry maps ``"[[rules]]"`` to its header line, a key (``"patterns"``) to the line
    where ``key =`` is written, and ``(key, value)`` to the line holding that string of
    the key's value, so that an error can point at the words at fault. It is a scan of
    the lines, not a TOML parser: what it cannot place is absent, and an error then names
    the key's line or the header's.
    """
    key_re = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
    string_re = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'")
    out: list[dict[Any, int]] = []
    key: str | None = None
    for n, line in enumerate(blob.decode("utf-8", "replace").splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("["):  # a table header ends the previous rule's lines
            key = None
            if stripped.startswith("[[rules]]"):
                out.append({"[[rules]]": n})
            elif out:
                out[-1]["end"] = n
            continue
        if not out or "end" in out[-1] or stripped.startswith("#"):
            continue
        rest = line
        found = key_re.match(line)
        if found:
            key = found.group(1)
            out[-1].setdefault(key, n)
            rest = line[found.end() :]
        if key is None:
            continue
        for literal in string_re.findall(rest):
            try:
                value = tomllib.loads(f"v = {literal}")["v"]
            except tomllib.TOMLDecodeError:
                continue
            out[-1].setdefault((key, value), n)
    return out


def _parse_rule_file(blob: bytes, source: str) -> tuple[list[Rule], str | None]:
    try:
        data = tomllib.loads(blob.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise RuleError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{source}: invalid TOML: {exc}") from None
    extra = set(data) - {"ruleset", "rules"}
    if extra:
        raise RuleError(
            f"{source}: unknown top-level keys {sorted(extra)}; expected [ruleset] and [[rules]]"
        )
    head = data.get("ruleset", {})
    if not isinstance(head, Mapping):
        raise RuleError(f"{source}: [ruleset] must be a table")
    unknown_head = set(head) - {"taxonomy", "unless"}
    if unknown_head:
        raise RuleError(
            f"{source}: [ruleset] has unknown keys {sorted(unknown_head)};"
            " allowed: ['taxonomy', 'unless']"
        )
    declared = head.get("taxonomy")
    if declared is not None and not isinstance(declared, str):
        raise RuleError(f"{source}: [ruleset] taxonomy must be a string")
    # context phrases that veto every rule of the file (each rule's own are added to them)
    shared = head.get("unless", [])
    if not isinstance(shared, list) or not all(isinstance(v, str) for v in shared):
        raise RuleError(f"{source}: [ruleset] 'unless' must be a list of strings")
    items = data.get("rules")
    if not isinstance(items, list) or not items:
        raise RuleError(f"{source}: no [[rules]] entries")
    lists = ("patterns", "regex", "requires", "unless", "boost", "dampen")
    located: list[list[dict[Any, int]]] = []

    def lines_of(n: int) -> dict[Any, int]:
        if not located:  # only an error needs the scan: a valid file costs nothing more
            located.append(_rule_lines(blob))
        return located[0][n] if n < len(located[0]) else {}

    def place(n: int, key: str | None = None, value: object = None) -> str:
        """``source:line`` of the value, else of its key, else of rule ``n``'s header."""
        at = lines_of(n)
        header = at.get("[[rules]]", 0)
        line = at.get((key, value), at.get(key, header)) if key else header
        return f"{source}:{line}"

    rules = []
    for n, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise RuleError(f"{place(n)}: rule #{n + 1} is not a table")
        rid = item.get("id", f"#{n + 1}")
        unknown = set(item) - _RULE_KEYS
        if unknown:
            raise RuleError(
                f"{place(n, min(unknown, key=lambda k: (lines_of(n).get(k, 0), k)))}: rule {rid!r}:"
                f" unknown keys {sorted(unknown)}; allowed: {sorted(_RULE_KEYS)}"
            )
        for key in ("id", "code"):
            if not isinstance(item.get(key), str):
                raise RuleError(
                    f"{place(n, key)}: rule {rid!r}: {key!r} is required and must be a string"
                )
        for key in lists:
            value = item.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise RuleError(f"{place(n, key)}: rule {rid!r}: {key!r} must be a list of strings")
        if "negatable" in item and not isinstance(item["negatable"], bool):
            raise RuleError(
                f"{place(n, 'negatable')}: rule {rid!r}: 'negatable' must be true or false"
            )
        if "description" in item and not isinstance(item["description"], str):
            raise RuleError(
                f"{place(n, 'description')}: rule {rid!r}: 'description' must be a string"
            )
        fields = dict(item)
        if shared:
            own = fields.get("unless", [])
            fields["unless"] = [*shared, *(u for u in own if u not in shared)]
        try:
            rules.append(Rule(**fields))
        except RuleError as exc:
            # Rule names the key (and the phrase) at fault in its message: find its line
            message = str(exc)
            blamed: str | None = None
            culprit: str | None = None
            if message.startswith("rule id "):
                blamed = "id"
            elif ": confidence must" in message:
                blamed = "confidence"
            elif ": code must" in message:
                blamed = "code"
            else:
                for name in lists:
                    label = {"patterns": "pattern", "regex": "regex"}.get(name, name + ":")
                    if f": {name} must" in message or f": {label} " in message:
                        hits = [v for v in item.get(name, []) if f"{v!r}" in message]
                        blamed, culprit = name, hits[0] if hits else None
                        break
            raise RuleError(f"{place(n, blamed, culprit)}: {message}") from None
    return rules, declared


def _builtin_files(name: str) -> list[tuple[bytes, str]]:
    base = resources.files("humanfactors.rules") / "builtin"
    out = []
    single = base / f"{name}.toml"
    if single.is_file():
        out.append((single.read_bytes(), f"builtin/{name}.toml"))
    folder = base / name
    if folder.is_dir():
        for res in sorted(folder.iterdir(), key=lambda r: r.name):
            if res.name.endswith(".toml"):
                out.append((res.read_bytes(), f"builtin/{name}/{res.name}"))
    return out


@functools.cache
def _builtin(name: str) -> tuple[tuple[Rule, ...], _Matcher]:
    rs = RuleSet(taxonomy=name)
    for blob, source in _builtin_files(name):
        part = RuleSet._from_blob(blob, source, name)
        for rule in part:
            try:
                rs.register(rule)
            except RuleError as exc:
                raise RuleError(f"{source}: {exc}") from None
    rules = tuple(rs)
    return rules, _Matcher(rules)
