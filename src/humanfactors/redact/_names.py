"""Person names: lexicon, titles, roles and relations, and links within a report."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache

from ._base import Detection, Recognizer
from ._vocab import (
    CALENDAR,
    INSTITUTIONS,
    NAME_PLACES,
    PARTICLES,
    PREFIXES,
    RELATIONS,
    ROLES,
    STOP,
    TITLES,
    Lexicon,
    lexicon,
    looks_english,
)

__all__ = ["PersonRecognizer"]

_TOKEN = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*")
_POSSESSIVE = re.compile(r"['’]s$|(?<=s)['’]$")
_KIN_TITLES = frozenset(
    {
        "baby",
        "auntie",
        "aunty",
        "aunt",
        "uncle",
        "nana",
        "nan",
        "nanna",
        "grandma",
        "grandad",
        "granny",
        "grandpa",
        "cousin",
    }
)
_COUPLE = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Dr)\.?\s+(?:and|&)\s+$")
_IRISH = re.compile(r"^(?:O|D|Mc|Mac)['’]?[A-Z]")
_SENTENCE_GAP = re.compile(r"[.!?:;\n•*\"“”|>\[\]{}=]|^\s*[-–]\s")

# Words that, just before a capitalised word, say a person's name follows.
_CONTEXT_WORDS = sorted(
    {
        *RELATIONS,
        *ROLES,
        "called",
        "named",
        "name",
        "known as",
        "aka",
        "a.k.a.",
        "alias",
        "nickname",
        "spoke to",
        "seen by",
        "allocated to",
        "visited by",
        "met",
        "with",
        "from",
        "told",
        "asked",
        "and",
        "or",
    }
    - {"with", "from", "and", "or", "met", "told", "asked"},
    key=len,
    reverse=True,
)
_CONTEXT_SET = frozenset(w for w in _CONTEXT_WORDS if " " not in w)
# The last word of a window that ends with no space, read from the reversed window: a
# match at its start instead of a search that retries at every character of the window.
_LAST_WORD_REVERSED = re.compile(r"[\w'’.\-]+")
_ROLE_AFTER = re.compile(
    r"\s*(?:[,(]\s*(?:aged?\b|dob\b|d\.o\.b|born\b|\d|the\s|her\s|his\s|their\s|"
    + "|".join(re.escape(w) + r"\b" for w in sorted(RELATIONS | {"mum", "dad"}))
    + r")|['’]s\s+(?:"
    + "|".join(re.escape(w) for w in sorted(RELATIONS))
    + r")\b"
    r"|\s*\(\s*(?:" + "|".join(re.escape(w) for w in sorted(RELATIONS | ROLES)) + r")\b)",
    re.I,
)


_NEXT_LOWER = re.compile(r" [a-z]")
# Street words that are not surnames: a run ending in one is a street ("Albion Street"),
# left to the address recogniser when it finds one there.
_STREET_WORDS = frozenset(
    {"Road", "Street", "Avenue", "Close", "Drive", "Crescent", "Terrace", "Gardens", "Mews"}
)
_UPPER = "A-ZÀ-ÖØ-ÞĀĂĄĆĈĊČĎĐĒĔĖĘĚĜĞĠĢĤĦĨĪĬĮİĲĴĶĹĻĽĿŁŃŅŇŊŌŎŐŒŔŖŘŚŜŞŠŢŤŦŨŪŬŮŰŲŴŶŸŹŻŽА-ЯΑ-Ω"
_WORD_TAIL = r"[^\W\d_]*(?:['’][^\W\d_]+)*(?:-[^\W\d_]+(?:['’][^\W\d_]+)*)*"
# a capitalised token: the class comes first so that the scan is fast; then not mid-word
# (an apostrophe or hyphen before it counts only after a letter: "O'Brien", not "'Owen")
_CAP_TOKEN = re.compile(
    rf"[{_UPPER}](?<![^\W\d_][{_UPPER}])(?<![^\W\d_]['’\-][{_UPPER}])" + _WORD_TAIL
)
# (the first character class comes first, the word-start check after it: a fast scan)
_LOWER_TOKEN = re.compile(
    r"[a-zß-öø-ÿ](?<![^\W\d_'’\-][a-zß-öø-ÿ])[^\W\d_]*(?:['’]s)?(?![^\W\d_'’\-])"
)
_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_CHARS = frozenset('.!?:;\n•*"“”|>[]{}=')


@lru_cache(maxsize=256)
def _keep_regex(words: frozenset[str]) -> re.Pattern[str]:
    """Whole lower-case words from ``words`` (the caller checks that no letter precedes)."""
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?:{alternatives})(?![^\W\d_'’\-])")


def _starts_sentence(text: str, start: int) -> bool:
    j = start
    while j > 0 and text[j - 1] in " \t":
        j -= 1
    if j == 0:
        return True
    c = text[j - 1]
    if c in _SENTENCE_CHARS:
        return True
    # a dash or an opening single quote at the start of a line or after a space
    return c in "-–'‘" and (j == 1 or text[j - 2] in " \t\n(")


def _start(m: re.Match[str]) -> int:
    return m.start()


@cache
def _lower_names() -> frozenset[str]:
    """Lower-case words that may be a name written in lower case."""
    lex = lexicon()
    return frozenset((lex.first | lex.last) - lex.common - STOP)


@dataclass(slots=True)
class _Tok:
    start: int
    end: int  # excludes a possessive 's
    word: str
    key: str
    shape: str  # "cap", "upper", "lower", "other"
    sentence_start: bool
    gap_space: bool  # separated from the previous token by plain spaces only


class PersonRecognizer(Recognizer):
    """Person names, using a name lexicon and the words around a candidate.

    A capitalised word is a name when it is a known first name or surname that is not
    an ordinary English word; when a title (Mr, Mrs, Dr, DS, PC, Cllr …), a role or a
    relation ("Mum (Kirsty)", "the child, Aaliyah", "her son Jayden") comes before it;
    when it is an unknown capitalised word in mid-sentence; or when it was seen as part
    of a name elsewhere in the same text. Surnames that are also ordinary words (Brown,
    Hope, Will, Rose) need one of those signals. Roles, agencies, places, calendar words,
    acronyms and anonymised references ("Child A") are kept.
    """

    name = "person"
    entities = ("PERSON",)

    def __init__(self, *, lower_case: bool = True) -> None:
        self.lower_case = lower_case
        self._kinds: dict[str, str] = {}  # word -> kind, shared by every call

    # -- token features ---------------------------------------------------------
    @staticmethod
    def _tokens(text: str, lower_names: frozenset[str]) -> list[_Tok]:
        """Capitalised tokens, particles and lower-case tokens that may be names.

        Other lower-case words are skipped (for speed); they still break runs, because
        runs require plain spaces between neighbouring tokens.
        """
        matches = list(_CAP_TOKEN.finditer(text))
        words = set(_LOWER_TOKEN.findall(text))
        keep = (words & lower_names) | (words & PARTICLES)
        keep.update(w for w in words if w[-2:] in ("'s", "’s") and w[:-2] in lower_names)
        found = _keep_regex(frozenset(keep)).finditer(text) if keep else ()
        # the word start is checked here, so that the regex scans for the words' letters
        lowers = [m for m in found if not m.start() or not _LETTER.match(text, m.start() - 1)]
        if lowers:
            matches += lowers
            matches.sort(key=_start)
        toks: list[_Tok] = []
        kept_end = -1
        for m in matches:
            word = m.group()
            first = word[0]
            start, end = m.span()
            poss = _POSSESSIVE.search(word) if word[-1] in "sS'’" else None
            if poss and len(word) > 3:
                end -= len(poss.group())
                word = word[: len(word) - len(poss.group())]
            if word.isupper():
                shape = "upper" if len(word) > 1 else "cap"
            elif first.isupper():
                shape = (
                    "acronym"
                    if len(word) > 2 and word[-1] == "s" and word[:-1].isupper()
                    else "cap"
                )
            elif word.islower():
                shape = "lower"
            else:
                shape = "other"
            gap = text[kept_end:start] if kept_end >= 0 else None
            if gap in (". ", ".") and toks[-1].key in TITLES:
                sentence_start, gap_space = False, True  # "Mr. Smith"
            else:
                sentence_start = _starts_sentence(text, start)
                gap_space = gap is not None and 0 < len(gap) <= 2 and gap.strip(" \t") == ""
            toks.append(_Tok(start, end, word, word.lower(), shape, sentence_start, gap_space))
            kept_end = m.end()
        return toks

    @staticmethod
    def _short(key: str, lex: Lexicon) -> bool:
        """Too short to be taken as a name alone ("Jo", "Al", "Amy" when frequent)."""
        return len(key) <= 2 or (len(key) == 3 and key in lex.frequent)

    @classmethod
    def _short_name(cls, key: str, lex: Lexicon) -> bool:
        """A given name too short to stand alone that is no English word ("Jo", not "Red")."""
        return key in lex.first and key not in lex.common and cls._short(key, lex)

    @staticmethod
    def _parts(key: str) -> list[str]:
        return [p for p in re.split(r"-", key) if p]

    def _kind(self, key: str, lex: Lexicon) -> str:
        """'stop', 'strong', 'weak' / 'midweak' (name and word), 'unknown', 'word' or 'place'."""
        if key in STOP:
            return "stop"
        parts = self._parts(key)
        if len(parts) > 1:
            if parts[0] in PREFIXES or parts[-1] in PREFIXES:
                return "word"
            kinds = [self._kind(p, lex) for p in parts]
            if sum(p in lex.first for p in parts) >= 2:
                # a given name too short to stand alone is a name beside another ("Ruby-Jo")
                kinds = [
                    "strong" if k == "word" and self._short_name(p, lex) else k
                    for p, k in zip(parts, kinds, strict=True)
                ]
            if "word" in kinds:
                return "word"  # "Ruby-coloured", "Follow-Up"
            if all(p in lex.first or p in lex.last for p in parts):
                return "strong"  # "Lily-Rose", "Ellie-May"
            if "strong" in kinds:
                return "strong"
            if all(k in ("word", "stop", "place") for k in kinds) or key in lex.common:
                return "word"
            if "unknown" in kinds and "stop" not in kinds:
                return "strong"  # two capitalised halves, one unknown: a double-barrelled name
            return "weak"
        plain = key.replace("’", "'")
        if self._short(plain, lex):
            return "word"
        named = plain in lex.first or plain in lex.last
        if plain in lex.places and not (plain in NAME_PLACES and plain in lex.first):
            return "place"
        if plain in lex.common:
            if named:
                return "weak" if plain in lex.frequent else "midweak"
            return "word"
        if named:
            return "strong"
        if plain in lex.proper:
            return "place"
        if "'" in plain:
            return "strong" if _IRISH.match(key.title()) else "word"
        if looks_english(plain, lex.common):
            return "word"
        return "unknown"

    # -- analysis ---------------------------------------------------------------
    def analyze(self, text: str) -> Iterator[Detection]:
        lex = lexicon()
        toks = self._tokens(text, _lower_names())
        n = len(toks)
        taken: list[tuple[int, int, float, str]] = []  # token index range, score, why
        kinds = self._kinds
        if len(kinds) > 200_000:  # the kind of a word never changes; keep the cache bounded
            kinds.clear()

        def kind(t: _Tok) -> str:
            k = kinds.get(t.key)
            if k is None:
                k = kinds[t.key] = self._kind(t.key, lex)
            return k

        def capish(t: _Tok) -> bool:
            return t.shape == "cap" or (t.shape == "upper" and (len(t.word) > 2 or t.key in TITLES))

        i = 0
        while i < n:
            t = toks[i]
            if not (capish(t) or (t.shape == "other" and t.word[0].isupper())):
                if self.lower_case and t.shape == "lower" and len(t.word) > 3 and "-" not in t.word:
                    k = kind(t)
                    if k == "strong" and self._role_before(text, t.start):
                        taken.append((i, i + 1, 0.7, "lower-case name after a role or relation"))
                    elif k == "strong" and t.key not in lex.proper:
                        taken.append((i, i + 1, 0.45, "lower-case word in the name lexicon"))
                i += 1
                continue
            # a run of capitalised words separated by single spaces (particles allowed)
            j = i + 1
            while (
                j < n
                and toks[j].gap_space
                and (
                    capish(toks[j])
                    or (toks[j].shape == "other" and toks[j].word[0].isupper())
                    or (
                        toks[j].key in PARTICLES
                        and j + 1 < n
                        and capish(toks[j + 1])
                        and toks[j + 1].gap_space
                    )
                )
            ):
                j += 1
            self._chain(text, toks, i, j, kind, taken)
            i = j

        found: dict[int, tuple[int, float, str]] = {}
        for a, b, score, why in taken:
            if a not in found or found[a][1] < score:
                found[a] = (b, score, why)

        # link: words seen as part of a name elsewhere in the text
        linked = {
            toks[k].key
            for a, (b, score, _) in found.items()
            if score >= 0.6
            for k in range(a, b)
            if toks[k].key not in STOP and toks[k].key not in TITLES and len(toks[k].key) > 1
        }
        covered = {k for a, (b, _, _) in found.items() for k in range(a, b)}
        if linked:
            for idx, t in enumerate(toks):
                if idx in covered or t.key not in linked:
                    continue
                if t.shape == "lower" and kind(t) not in ("strong", "unknown"):
                    continue  # "I hope" stays when Hope is a name
                found[idx] = (idx + 1, 0.8, "same name as elsewhere in the text")

        for a, (b, score, why) in sorted(found.items()):
            start = toks[a].start
            if toks[a].key in TITLES:
                couple = _COUPLE.search(text, max(0, start - 12), start)
                if couple:
                    start = couple.start()  # "Mr and Mrs Sandhu"
            yield Detection("PERSON", start, toks[b - 1].end, score, self.id, why)

    @staticmethod
    def _role_before(text: str, start: int) -> bool:
        window = text[max(0, start - 40) : start].rstrip()
        if window[-1:] in ("(", ",", ":", "–", "-"):
            window = window[:-1].rstrip()
        low = window.lower()
        for verb in (" is", " was"):
            if low.endswith(verb):
                low = low[: -len(verb)].rstrip()
        last = _LAST_WORD_REVERSED.match(low[::-1])  # low has no trailing space
        if last is None:
            return False
        word = last.group()[::-1]
        if word.endswith(("'s", "’s")):
            word = word[:-2]
        return word in _CONTEXT_SET or low.endswith(("known as", "a.k.a."))

    def _chain(
        self,
        text: str,
        toks: list[_Tok],
        i: int,
        j: int,
        kind: Callable[[_Tok], str],
        taken: list[tuple[int, int, float, str]],
    ) -> None:
        kind_of = kind  # callable cache
        # split the run at stop words; a title or role before a segment is context
        k = i
        context: str | None = None
        if self._role_before(text, toks[i].start):
            context = "role"
        while k < j:
            t = toks[k]
            tk = kind_of(t)
            if (t.key in TITLES or (t.key in _KIN_TITLES and t.shape == "cap")) and k + 1 < j:
                context = "title"
                title_start = k
                k += 1
                seg_end = k
                while seg_end < j and seg_end - k < 3 and kind_of(toks[seg_end]) != "stop":
                    seg_end += 1
                if seg_end > k:
                    taken.append((title_start, seg_end, 0.95, f"name after the title {t.word!r}"))
                    k = seg_end
                    context = None
                    continue
                continue
            if (
                tk == "stop"
                and t.key in CALENDAR
                and t.shape == "cap"
                and k + 1 < j
                and kind_of(toks[k + 1]) == "strong"
                and t.key in lexicon().first
            ):
                taken.append((k, min(j, k + 2), 0.7, "first name that is also a calendar word"))
                k += 2
                context = None
                continue
            if tk == "stop":
                context = "role" if t.key in RELATIONS or t.key in ROLES else None
                k += 1
                continue
            seg_start = k
            while k < j and kind_of(toks[k]) != "stop":
                k += 1
            if k < j and toks[k].key in INSTITUTIONS and toks[k].key not in ROLES:
                context = None
                continue  # part of an organisation's name ("Rose Hill Primary School")
            self._segment(text, toks, seg_start, k, context, kind_of, taken)
            context = None

    def _segment(
        self,
        text: str,
        toks: list[_Tok],
        a: int,
        b: int,
        context: str | None,
        kind_of: Callable[[_Tok], str],
        taken: list[tuple[int, int, float, str]],
    ) -> None:
        kinds = [kind_of(toks[k]) for k in range(a, b)]
        namey = {"strong", "weak", "midweak", "unknown"}
        after = _ROLE_AFTER.match(text, toks[b - 1].end, min(len(text), toks[b - 1].end + 40))
        signal = context == "role" or after is not None or "strong" in kinds
        while a < b and kinds[0] == "word":
            a += 1
            kinds.pop(0)
        all_upper = all(toks[k].shape == "upper" for k in range(a, b))
        while b > a and kinds[-1] == "word" and (not signal or all_upper):
            b -= 1
            kinds.pop()
        while all_upper and b > a and kinds[-1] not in ("strong", "weak", "midweak"):
            b -= 1  # in capitals, unknown words are more often ordinary words than names
            kinds.pop()
        if a >= b:
            return
        first = toks[a]
        upper = all(toks[k].shape == "upper" for k in range(a, b))
        if b - a >= 2 and toks[b - 1].word in _STREET_WORDS and any(k in namey for k in kinds):
            # still redacted, but an address found over it names the entity
            taken.append((a, b, 0.45, "name word before a street word"))
            return
        if upper and b - a == 1 and len(first.word) <= 4:
            return  # a short word in capitals is far more often an acronym
        if all(len(toks[k].word) == 1 for k in range(a, b)):
            return  # initials alone ("Child A" style references) are kept
        if context == "role" or after is not None:
            if any(k in namey for k in kinds) and not (upper and "strong" not in kinds):
                taken.append((a, b, 0.85, "name beside a role or relation"))
            return
        if "strong" in kinds:
            taken.append((a, b, 0.85 if not upper else 0.75, "name in the name lexicon"))
            return
        if upper:
            return  # capitals alone do not make an ordinary word a name
        if (
            b - a >= 2
            and all(k in namey or k == "place" for k in kinds)
            and any(k in namey for k in kinds)
        ):
            taken.append((a, b, 0.7, "several capitalised name words together"))
            return
        while a < b and kinds[0] == "place":
            a += 1
            kinds.pop(0)
        while b > a and kinds[-1] == "place":
            b -= 1
            kinds.pop()
        if b - a != 1:
            return
        k0 = kinds[0]
        first = toks[a]
        if k0 == "unknown" and not first.sentence_start:
            taken.append((a, b, 0.6, "unknown capitalised word in mid-sentence"))
        elif k0 == "unknown" and first.shape == "cap" and len(first.word) > 2:
            taken.append((a, b, 0.45, "unknown capitalised word"))
        elif k0 == "midweak" and not first.sentence_start:
            taken.append((a, b, 0.6, "capitalised name word in mid-sentence"))
        elif (
            k0 == "midweak" and first.key in lexicon().first and _NEXT_LOWER.match(text, first.end)
        ):
            taken.append((a, b, 0.5, "first name starting a sentence"))
