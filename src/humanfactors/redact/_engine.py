"""The redaction engine: run recognisers, merge overlaps, replace with placeholders."""

from __future__ import annotations

import hashlib
import hmac
import logging
import numbers
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from ..exceptions import RedactionError
from ..models import RedactionSpan
from ._addresses import AddressRecognizer
from ._base import Detection, PatternRecognizer, Recognizer
from ._identifiers import (
    DateOfBirthRecognizer,
    EmailRecognizer,
    NhsNumberRecognizer,
    NiNumberRecognizer,
    PhoneRecognizer,
    PostcodeRecognizer,
    ReferenceNumberRecognizer,
    UsernameRecognizer,
    VehicleRegistrationRecognizer,
)
from ._names import PersonRecognizer
from ._vocab import TITLES

if TYPE_CHECKING:
    from ..models import Incident

__all__ = [
    "ENTITIES",
    "PLACEHOLDER",
    "DenyListRecognizer",
    "RedactedText",
    "Redactor",
    "default_recognizers",
    "redact",
    "replace_spans",
]

logger = logging.getLogger(__name__)

#: Entity types the built-in recognisers produce.
ENTITIES: tuple[str, ...] = (
    "PERSON",
    "ADDRESS",
    "POSTCODE",
    "PHONE",
    "EMAIL",
    "NHS_NUMBER",
    "NI_NUMBER",
    "DATE_OF_BIRTH",
    "REFERENCE",
    "VEHICLE_REGISTRATION",
    "USERNAME",
)

#: A placeholder this library writes: ``[PERSON_1]`` or, keyed, ``[PERSON_3f9a1c2b]``.
PLACEHOLDER = re.compile(r"\[[A-Z][A-Z0-9_]*_(?:\d{1,6}|[0-9a-f]{4,32})\]")
# (every alternative starts with a literal character, so the regex engine scans fast)
_OTHER_MARKERS = re.compile(r"\[(?:REDACTED|REMOVED|NAME|ADDRESS|[A-Z]{2,20})\]|██*")
# Already-anonymised references ("Child A", "Sibling C", "Baby T", "Mr X"): kept.
_ANONYMISED = re.compile(
    r"(?:Child(?:ren)?|Sibling|Baby|Mother|Father|Parent|Carer|Adult|Young\s+Person|Person"
    r"|Family|Professional|Practitioner|Worker|Subject|Victim|Perpetrator|Male|Female|Man"
    r"|Woman|Boy|Girl|Student|Pupil|Mr|Mrs|Ms|Miss|Mx|Dr|Brother|Sister|Infant|Teenager"
    r"|Grandmother|Grandfather|Partner|Uncle|Aunt|Cousin|Officer|Social\s+Worker|Agency"
    r"|School|Nurse|Teacher|Witness|Suspect|Patient|Client|Resident)\s+[A-Z]\d?(?!\w)(?!['’][A-Za-z]{2})"
)
# Eponyms and named schemes that learning needs ("Fraser guidelines", "Clare's Law").
_KEEP_PHRASES = re.compile(
    r"(?:Moses\s+baskets?|Fraser\s+(?:guidelines?|competen(?:t|ce|cy)|test)"
    r"|Gillick\s+(?:guidelines?|competen(?:t|ce|cy)|test)"
    r"|Clare['’]s\s+Law|Sarah['’]s\s+Law|Down['’]?s?\s+syndrome|Asperger['’]?s?|Crohn['’]s"
    r"|Munchausen(?:['’]s)?(?:\s+syndrome)?|Tourette['’]?s?|Parkinson['’]s|Alzheimer['’]s"
    r"|Prader-Willi|Ehlers-Danlos|Apgar|Glasgow\s+Coma\s+Scale|Caesarean|Heimlich"
    r"|Working\s+Together|Signs\s+of\s+Safety|Lord\s+Laming|Munro\s+[Rr]eview)\b"
)


def default_recognizers() -> list[Recognizer]:
    """A fresh list of the built-in recognisers (one instance each)."""
    return [
        PersonRecognizer(),
        AddressRecognizer(),
        PostcodeRecognizer(),
        PhoneRecognizer(),
        EmailRecognizer(),
        NhsNumberRecognizer(),
        NiNumberRecognizer(),
        DateOfBirthRecognizer(),
        ReferenceNumberRecognizer(),
        VehicleRegistrationRecognizer(),
        UsernameRecognizer(),
    ]


class DenyListRecognizer(Recognizer):
    """Terms that are always redacted (whole words, any case), each with its entity."""

    name = "deny_list"

    def __init__(self, terms: Mapping[str, str]) -> None:
        self.terms = dict(terms)
        self.entities = tuple(sorted(set(self.terms.values())))  # type: ignore[misc]
        by_key = {t.casefold(): e for t, e in self.terms.items()}
        self._entity_of = by_key
        ordered = sorted(by_key, key=len, reverse=True)
        self._regex = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in ordered) + r")(?!\w)", re.I)
            if ordered
            else None
        )

    def analyze(self, text: str) -> Iterable[Detection]:  # type: ignore[override]
        if self._regex is None:
            return
        for m in self._regex.finditer(text):
            entity = self._entity_of.get(m.group().casefold(), "CUSTOM")
            yield Detection(entity, m.start(), m.end(), 1.0, self.id, "on the deny list")


class RedactedText(BaseModel):
    """A redacted text and where each redaction was in the original.

    Holds no original value: ``spans`` give offsets into the original text and the
    placeholder that replaced each one. ``str(result)`` is the redacted text.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    text: str = Field(repr=False, description="The text with identifiers replaced.")
    spans: tuple[RedactionSpan, ...] = Field(
        default=(), description="Redactions in order, with offsets into the ORIGINAL text."
    )

    @property
    def entities(self) -> Counter[str]:
        """How many spans of each entity type were redacted."""
        return Counter(s.entity for s in self.spans)

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The distinct placeholders used, in order of first use."""
        return tuple(dict.fromkeys(s.replacement for s in self.spans))

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return (
            f"RedactedText(<{len(self.text)} chars>, spans={len(self.spans)}, "
            f"entities={dict(sorted(self.entities.items()))!r})"
        )


def replace_spans(text: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """Replace ``(start, end, replacement)`` spans of ``text``, from the end to the start.

    Raises
    ------
    RedactionError
        If a span is empty, outside the text, or overlaps another (the message gives the
        offsets and the text length, never the text).

    Examples
    --------
    >>> replace_spans("call Ann on Monday", [(5, 8, "[PERSON_1]")])
    'call [PERSON_1] on Monday'
    """
    n = len(text)
    ordered = sorted(spans)
    prev_end = -1
    for start, end, _ in ordered:
        if not 0 <= start < end <= n:
            raise RedactionError(
                f"impossible redaction span {start}..{end} in a text of {n} characters "
                "(need 0 <= start < end <= length)"
            )
        if start < prev_end:
            raise RedactionError(
                f"redaction spans overlap: one ends at {prev_end}, the next starts at {start}"
            )
        prev_end = end
    parts: list[str] = []
    pos = n
    for start, end, replacement in reversed(ordered):
        parts.append(text[end:pos])
        parts.append(replacement)
        pos = start
    parts.append(text[:pos])
    return "".join(reversed(parts))


def _merge(detections: list[Detection]) -> list[Detection]:
    """Merge overlapping detections; the highest score (then the longest) names the entity."""
    merged: list[Detection] = []
    for d in sorted(detections, key=lambda d: (d.start, -d.end)):
        if merged and d.start < merged[-1].end:
            last = merged[-1]
            best = max((last, d), key=lambda x: (x.score, x.end - x.start))
            merged[-1] = Detection(
                best.entity,
                last.start,
                max(last.end, d.end),
                max(last.score, d.score),
                best.recognizer,
                best.explanation,
            )
        else:
            merged.append(d)
    return merged


_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")


def _name_tokens(value: str) -> tuple[str, ...]:
    out = []
    for w in _WORD.findall(value):
        key = re.sub(r"['’]s$", "", w.casefold())
        if key.rstrip(".") in TITLES:
            continue
        out.append(key)
    return tuple(out) or (value.casefold(),)


def _normalise(entity: str, value: str) -> str:
    if entity in {"NHS_NUMBER", "NI_NUMBER", "POSTCODE", "VEHICLE_REGISTRATION", "REFERENCE"}:
        return re.sub(r"[^0-9A-Za-z]", "", value).upper()
    if entity == "PHONE":
        digits = re.sub(r"\D", "", value)
        if digits.startswith("44"):
            digits = digits[2:]
        return digits.lstrip("0")
    if entity == "DATE_OF_BIRTH":
        m = re.fullmatch(r"\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{2,4})\s*", value)
        if m:
            d, mo, y = (int(x) for x in m.groups())
            return f"{d}-{mo}-{y % 100}"
    return " ".join(_WORD.findall(value.casefold()))


class Redactor:
    """Finds and replaces personal identifiers with typed, consistent placeholders.

    Parameters
    ----------
    recognizers : sequence of Recognizer, optional
        The recognisers to run; default :func:`default_recognizers`. Add your own by
        passing ``[*default_recognizers(), MyRecognizer()]``.
    allow : iterable of str
        Words or phrases never redacted (whole-word, any case), e.g. a team's name.
    deny : iterable of str, or mapping of str to entity
        Words or phrases always redacted; plain strings are redacted as ``CUSTOM``.
    entities : iterable of str, optional
        Redact only these entity types (default: all that the recognisers find).
    pseudonym_key : bytes, optional
        With a key, placeholders are keyed hashes of the normalised value
        (``[PERSON_3f9a1c2b]``), stable across reports, so a store can link reports
        without holding names. Keep the key secret: anyone holding it can test guesses.
    threshold : float
        Detections scoring below this are ignored (default 0.4).
    pseudonym_length : int
        Hex digits in a keyed pseudonym (default 8).

    Examples
    --------
    >>> r = Redactor()
    >>> r.redact("Mum (Kirsty Smith) rang 07700 900123. Kirsty was upset.").text
    'Mum ([PERSON_1]) rang [PHONE_1]. [PERSON_1] was upset.'
    """

    def __init__(
        self,
        *,
        recognizers: Sequence[Recognizer] | None = None,
        allow: Iterable[str] = (),
        deny: Iterable[str] | Mapping[str, str] = (),
        entities: Iterable[str] | None = None,
        pseudonym_key: bytes | None = None,
        threshold: float = 0.4,
        pseudonym_length: int = 8,
    ) -> None:
        _check_iterable(recognizers, "recognizers", "a sequence of Recognizer", none=True)
        _check_iterable(allow, "allow", "a string or an iterable of strings")
        _check_iterable(deny, "deny", "a string, an iterable of strings or a mapping")
        _check_iterable(entities, "entities", "a string or an iterable of strings", none=True)
        self.recognizers = list(default_recognizers() if recognizers is None else recognizers)
        # a single string is one term (or entity), not its letters
        self.allow = (allow,) if isinstance(allow, str) else tuple(allow)
        if any(not isinstance(a, str) for a in self.allow):
            raise RedactionError("Redactor(allow=...) terms must be strings")
        if isinstance(deny, str):
            deny = (deny,)
        self.deny = dict(deny) if isinstance(deny, Mapping) else {t: "CUSTOM" for t in deny}
        if isinstance(entities, str):
            entities = (entities,)
        self.entities = None if entities is None else frozenset(entities)
        self.pseudonym_key = pseudonym_key
        self.threshold = threshold
        self.pseudonym_length = pseudonym_length
        self._validate()
        self._all = [*self.recognizers]
        if self.deny:
            self._all.append(DenyListRecognizer(self.deny))
        # recognisers whose matches depend on neighbouring words (re-run after replacing)
        self._context_sensitive = [
            r for r in self._all if not isinstance(r, PatternRecognizer | DenyListRecognizer)
        ]
        allowed = sorted({a.casefold() for a in self.allow if a.strip()}, key=len, reverse=True)
        self._allow_re = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(a) for a in allowed) + r")(?!\w)", re.I)
            if allowed
            else None
        )

    def _validate(self) -> None:
        for r in self.recognizers:
            if not isinstance(r, Recognizer):
                raise RedactionError(
                    f"Redactor(recognizers=...) takes Recognizer instances, got {type(r).__name__}"
                )
        names = Counter(r.id for r in self.recognizers)
        dupes = sorted(n for n, c in names.items() if c > 1)
        if dupes:
            raise RedactionError(
                f"Redactor(recognizers=...) has duplicate recogniser names: {dupes}"
            )
        for term, entity in self.deny.items():
            if not isinstance(term, str) or not term.strip():
                raise RedactionError("Redactor(deny=...) terms must be non-empty strings")
            if not isinstance(entity, str) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", entity):
                raise RedactionError(
                    f"Redactor(deny=...) entity must be upper case like 'PERSON', got {entity!r}"
                )
        if self.entities is not None:
            bad = sorted(e for e in self.entities if not re.fullmatch(r"[A-Z][A-Z0-9_]*", str(e)))
            if bad:
                raise RedactionError(
                    f"Redactor(entities=...) must be upper-case entity names, got {bad}"
                )
            known = {e for r in self.recognizers for e in r.entities} | set(self.deny.values())
            unknown = sorted(self.entities - known)
            if unknown:
                raise RedactionError(
                    f"Redactor(entities=...): no recogniser finds {unknown}; "
                    f"the entities are {sorted(known)}"
                )
        if self.pseudonym_key is not None and (
            not isinstance(self.pseudonym_key, bytes) or len(self.pseudonym_key) < 16
        ):
            raise RedactionError("Redactor(pseudonym_key=...) must be bytes of length 16 or more")
        for name in ("threshold", "pseudonym_length"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise RedactionError(
                    f"Redactor({name}=...) must be a number, got {type(value).__name__}"
                )
        if not 0.0 <= self.threshold <= 1.0:
            raise RedactionError(f"Redactor(threshold=...) must be in [0, 1], got {self.threshold}")
        if not 4 <= self.pseudonym_length <= 32:
            raise RedactionError(
                "Redactor(pseudonym_length=...) must be between 4 and 32,"
                f" got {self.pseudonym_length}"
            )

    def __repr__(self) -> str:
        return (
            f"Redactor(recognizers={[r.id for r in self.recognizers]!r},"
            f" allow=<{len(self.allow)}>, deny=<{len(self.deny)}>,"
            f" entities={sorted(self.entities) if self.entities else None!r}, "
            f"keyed={self.pseudonym_key is not None})"
        )

    # -- analysis ---------------------------------------------------------------
    def _protected(self, text: str) -> list[tuple[int, int]]:
        spans = [m.span() for m in PLACEHOLDER.finditer(text)]
        spans += [m.span() for m in _OTHER_MARKERS.finditer(text)]
        # (no leading \b in these patterns: much faster; the word start is checked here)
        for rx in (_ANONYMISED, _KEEP_PHRASES):
            spans += [
                m.span()
                for m in rx.finditer(text)
                if not m.start() or not text[m.start() - 1].isalnum()
            ]
        if self._allow_re is not None:
            spans += [m.span() for m in self._allow_re.finditer(text)]
        return sorted(spans)

    def analyze(self, text: str, *, only: Sequence[Recognizer] | None = None) -> list[Detection]:
        """Every identifier found in ``text``, sorted by position; overlaps are kept.

        Detections inside placeholders, already-anonymised references ("Child A") and
        allow-listed phrases are left out; so are those under the threshold. ``only``
        limits the run to some of the redactor's recognisers.
        """
        if not isinstance(text, str):
            raise RedactionError(f"analyze() takes a str, got {type(text).__name__}")
        n = len(text)
        protected = self._protected(text)
        # Recognisers see each placeholder as a plain lower-case word of the same length,
        # as the word it replaced was: a redacted text then reads like the original.
        seen = PLACEHOLDER.sub(lambda m: "x" * len(m.group()), text) if "[" in text else text
        out: list[Detection] = []
        for rec in self._all if only is None else only:
            for d in rec.analyze(seen):
                if not 0 <= d.start < d.end <= n:
                    raise RedactionError(
                        f"recogniser {rec.id!r} returned the impossible span {d.start}..{d.end} "
                        f"for a text of {n} characters"
                    )
                if d.score < self.threshold:
                    continue
                if self.entities is not None and d.entity not in self.entities:
                    continue
                if not isinstance(rec, DenyListRecognizer) and _overlaps(protected, d.start, d.end):
                    continue
                out.append(d)
        out.sort(key=lambda d: (d.start, -d.end, d.entity))
        return out

    # -- replacement --------------------------------------------------------------
    def _detect(self, text: str) -> list[Detection]:
        """Merged detections, re-checked on the redacted text until nothing new appears.

        Replacing a name can change the context of its neighbours; the re-check makes
        redaction idempotent (redacting the output again finds nothing).
        """
        merged = _merge(self.analyze(text))
        for _ in range(3):
            if not merged:
                return merged
            pieces: list[str] = []
            shifts: list[tuple[int, int]] = []  # (offset in redacted text, offset in original)
            pos = 0
            out_len = 0
            for d in merged:
                shifts.append((out_len, pos))
                pieces.append(text[pos : d.start])
                out_len += d.start - pos
                ph = f"[{d.entity}_1]"
                pieces.append(ph)
                out_len += len(ph)
                pos = d.end
            shifts.append((out_len, pos))
            pieces.append(text[pos:])
            again = self.analyze("".join(pieces), only=self._context_sensitive)
            if not again:
                return merged
            import bisect

            keys = [s[0] for s in shifts]
            extra = []
            for d in again:
                i = bisect.bisect_right(keys, d.start) - 1
                delta = shifts[i][1] - shifts[i][0]
                extra.append(
                    Detection(
                        d.entity,
                        d.start + delta,
                        d.end + delta,
                        d.score,
                        d.recognizer,
                        d.explanation + " (seen once neighbours were redacted)",
                    )
                )
            merged = _merge(merged + extra)
        return merged

    def _plan(self, text: str) -> tuple[list[Detection], list[str], dict[str, str]]:
        merged = self._detect(text)
        values = [text[d.start : d.end] for d in merged]
        keys = self._keys(merged, values)
        placeholders: dict[tuple[str, str], str] = {}
        counters: Counter[str] = Counter()
        for m in PLACEHOLDER.finditer(text):  # continue numbering after existing ones
            entity, _, num = m.group()[1:-1].rpartition("_")
            if num.isdigit():
                counters[entity] = max(counters[entity], int(num))
        replacements: list[str] = []
        originals: dict[str, str] = {}
        for d, key, value in zip(merged, keys, values, strict=True):
            ph = placeholders.get((d.entity, key))
            if ph is None:
                if self.pseudonym_key is not None:
                    digest = hmac.new(
                        self.pseudonym_key, f"{d.entity}\x00{key}".encode(), hashlib.sha256
                    ).hexdigest()
                    ph = f"[{d.entity}_{digest[: self.pseudonym_length]}]"
                else:
                    counters[d.entity] += 1
                    ph = f"[{d.entity}_{counters[d.entity]}]"
                placeholders[(d.entity, key)] = ph
            replacements.append(ph)
            if len(value) > len(originals.get(ph, "")):
                originals[ph] = value
        return merged, replacements, originals

    @staticmethod
    def _keys(merged: Sequence[Detection], values: Sequence[str]) -> list[str]:
        """Normalised values; a person's first name or surname links to their full name."""
        keys = [_normalise(d.entity, v) for d, v in zip(merged, values, strict=True)]
        people = [i for i, d in enumerate(merged) if d.entity == "PERSON"]
        if not people:
            return keys
        tokens = {i: _name_tokens(values[i]) for i in people}
        clusters: list[tuple[str, set[str]]] = []  # (key, tokens), in order of creation
        by_size = sorted(people, key=lambda i: (-len(tokens[i]), i))
        for i in by_size:
            toks = tokens[i]
            match = None
            for ckey, ctoks in clusters:
                if set(toks) <= ctoks:
                    match = ckey
                    break
            if match is None:
                match = " ".join(toks)
                clusters.append((match, set(toks)))
            keys[i] = match
        return keys

    def redact(self, text: str) -> RedactedText:
        """Replace every identifier in ``text`` with a typed placeholder.

        Examples
        --------
        >>> Redactor().redact("NHS number 943 476 5919, DOB 03/04/2015").text
        'NHS number [NHS_NUMBER_1], DOB [DATE_OF_BIRTH_1]'
        """
        result, _ = self._redact(text)
        return result

    def redact_reversible(self, text: str) -> tuple[RedactedText, dict[str, str]]:
        """Redact, and also return the mapping placeholder -> original text.

        The mapping is returned separately and never stored on the result or logged;
        where one placeholder stands for several forms (a full name and a first name) it
        maps to the longest. Keep it as securely as the original text.
        """
        return self._redact(text)

    def _redact(self, text: str) -> tuple[RedactedText, dict[str, str]]:
        merged, replacements, originals = self._plan(text)
        spans = [(d.start, d.end, r) for d, r in zip(merged, replacements, strict=True)]
        new_text = replace_spans(text, spans)
        result = RedactedText(
            text=new_text,
            spans=tuple(
                RedactionSpan(
                    entity=d.entity, start=d.start, end=d.end, replacement=r, score=d.score
                )
                for d, r in zip(merged, replacements, strict=True)
            ),
        )
        if merged:
            logger.debug("redacted %d spans: %s", len(merged), dict(result.entities))
        return result, originals

    def redact_incident(self, incident: Incident) -> tuple[Incident, RedactedText]:
        """An :class:`~humanfactors.models.Incident` with its narrative redacted.

        Returns the new incident (a plain ``Incident``: coded evidence offsets would no
        longer match) and the :class:`RedactedText` with the spans.
        """
        from ..models import Incident

        if not isinstance(incident, Incident):
            raise RedactionError(
                f"Redactor.redact_incident: incident must be an Incident, got "
                f"{type(incident).__name__}; use redact() for a text"
            )
        result = self.redact(incident.narrative)
        fields: dict[str, Any] = {
            name: getattr(incident, name) for name in Incident.model_fields if name != "narrative"
        }
        return Incident(narrative=result.text, **fields), result


def _check_iterable(value: object, name: str, what: str, *, none: bool = False) -> None:
    if value is None and none:
        return
    if value is None or isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        shown = "None" if value is None else type(value).__name__
        raise RedactionError(f"Redactor({name}=...) must be {what}, got {shown}")


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    import bisect

    i = bisect.bisect_left(spans, (end, end))
    # protected spans are short and sorted: a few before the insertion point suffice
    return any(s < end and start < e for s, e in spans[max(0, i - 8) : i])


_DEFAULT: Redactor | None = None


def redact(text: str, *, redactor: Redactor | None = None) -> RedactedText:
    """Redact personal identifiers from ``text`` with the default (or given) redactor.

    Examples
    --------
    >>> redact("Dad, Tomasz Nowak, lives at 18 Coleridge Close, B19 3QT.").text
    'Dad, [PERSON_1], lives at [ADDRESS_1], [POSTCODE_1].'
    """
    global _DEFAULT
    if redactor is None:
        if _DEFAULT is None:
            _DEFAULT = Redactor()
        redactor = _DEFAULT
    return redactor.redact(text)
