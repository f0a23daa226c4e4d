"""Report-quality checks: what would make a report more useful for learning.

:func:`check` reads a report (or a practice review) and returns
:class:`~humanfactors.models.QualityIssue` items with ``CHK.*`` codes, each with the
evidence that triggered it and a suggestion written for the practitioner who wrote it.

========================  ===============================================================
``CHK.HINDSIGHT``         judging with hindsight or from the outcome ("should have known")
``CHK.BLAME``             fault placed on a person or role ("the social worker failed to")
``CHK.NO_ANALYSIS``       says what happened but never why
``CHK.PROCEDURAL_FIX``    the only actions are more procedure, training or recording
``CHK.IDENTIFIABLE``      personal data present (names, NHS numbers, phones, postcodes...)
``CHK.TOO_SHORT``         too short to learn from
``CHK.MISSING_FIELDS``    an incident without event type or harm
``CHK.NO_RECOVERY``       a near miss that does not say what stopped the harm
========================  ===============================================================

Examples
--------
>>> text = "The social worker failed to visit; with hindsight the risk was obvious."
>>> [i.code for i in check(text)]
['CHK.HINDSIGHT', 'CHK.BLAME', 'CHK.TOO_SHORT']
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Final

from .._args import kind
from ..models import EventType, Evidence, Incident, QualityIssue, Severity
from ..taxonomy import Taxonomy
from ._text import segment
from .engine import (
    LeadIndex,
    _lowered_scan,
    _plain_text,
    led_finditer,
    regex_leads,
    scanned_finditer,
)

__all__ = ["CHECK_CODES", "check"]

logger = logging.getLogger(__name__)

CHECK_CODES: Final[tuple[str, ...]] = (
    "CHK.HINDSIGHT",
    "CHK.BLAME",
    "CHK.NO_ANALYSIS",
    "CHK.PROCEDURAL_FIX",
    "CHK.IDENTIFIABLE",
    "CHK.TOO_SHORT",
    "CHK.MISSING_FIELDS",
    "CHK.NO_RECOVERY",
)

_MIN_WORDS: Final = 25
_ANALYSIS_MIN_WORDS: Final = 60

_HINDSIGHT: Final = re.compile(
    r"(?<!\w)(?=\w)(?:should\s+(?:have|'ve)\s+(?:known|realised|realized|seen|spotted|noticed|recognised|recognized|"
    r"picked\s+up|foreseen|predicted|anticipated|been\s+obvious|been\s+clear|been\s+apparent|been\s+aware)|"
    r"(?:it|this|that|the\s+risk|the\s+danger)\s+(?:was|is|should\s+have\s+been)\s+(?:obvious|clear|evident|"
    r"apparent|plain|self-evident)|obvious(?:ly)?\s+(?:that|signs?|risk)|clearly\s+(?:should|missed|failed|"
    r"ignored)|in\s+hindsight|with\s+(?:the\s+)?(?:benefit\s+of\s+)?hindsight|with\s+the\s+benefit\s+of|"
    r"looking\s+back|in\s+retrospect|retrospectively|could\s+(?:easily\s+)?have\s+been\s+(?:avoided|prevented)|"
    r"(?:was|were|is|entirely|wholly|completely|totally)\s+(?:avoidable|preventable)|"
    r"(?:missed|ignored|overlooked)\s+(?:the\s+)?(?:obvious|clear|warning)\s+signs?|"
    r"warning\s+signs\s+(?:were\s+)?(?:missed|ignored)|failed\s+to\s+(?:see|spot|notice|recognise|recognize)\s+"
    r"(?:the\s+)?(?:obvious|clear))(?!\w)",
    re.IGNORECASE,
)
_ROLE: Final = (
    r"(?:the\s+|a\s+|our\s+|this\s+)?(?:social\s+worker|sw|health\s+visitor|hv|teacher|head\s*teacher|dsl|"
    r"manager|team\s+manager|tm|practitioner|worker|officer|police\s+officer|nurse|midwife|gp|doctor|"
    r"consultant|paediatrician|iro|chair|carer|foster\s+carer|staff\s+member|colleague|student|"
    r"duty\s+worker|(?:mr|mrs|ms|miss|dr)\.?\s+[A-Z][a-z]+|she|he|they)"
)
# Blame: fault words, and "<role> (up to two words) failed/neglected/refused/omitted to".
# The role form is found from its verb backwards (the verb is rare, roles are common), so
# the scan does not try every role word at every word of the text.
_BLAME_WORDS: Final = re.compile(
    r"(?<!\w)(?=\w)(?:"
    r"(?:negligen(?:t|ce)|careless(?:ness|ly)?|incompeten(?:t|ce)|lazy|laziness|reckless(?:ness|ly)?|"
    r"unprofessional|at\s+fault|to\s+blame|is\s+responsible\s+for\s+the\s+(?:death|harm|injury|incident)|"
    r"the\s+fault\s+of|(?:his|her|their)\s+(?:fault|failure|failings|negligence|mistake)|culpab(?:le|ility)|"
    r"should\s+be\s+(?:disciplined|sacked|dismissed|held\s+accountable|held\s+responsible)|"
    r"disciplinary\s+(?:action|procedures?|hearing)|poor\s+performance\s+(?:of|by)|"
    r"(?:gross|serious)\s+misconduct|dereliction))(?!\w)",
    re.IGNORECASE,
)
_BLAME_VERB: Final = re.compile(
    r"(?<!\w)(?:failed|neglected|refused|omitted)\s+to(?!\w)", re.IGNORECASE
)
_ROLE_BEFORE: Final = re.compile(r"(?<!\w)(?=\w)" + _ROLE + r"\s+(?:\w+\s+){0,2}?\Z", re.IGNORECASE)
_ROLE_REACH: Final = 120  # characters before the verb in which the role may start


# The checks' regexes (below) that the lead index can place: read at first use.
@functools.cache
def _lead_index() -> tuple[LeadIndex, dict[re.Pattern[str], int]]:
    leads: list[tuple[tuple[str, bool], ...]] = []
    slots: dict[re.Pattern[str], int] = {}
    for rx in (
        _HINDSIGHT,
        _BLAME_WORDS,
        _BLAME_VERB,
        _CAUSAL,
        _ACTION_SENTENCE,
        _PROCEDURAL,
        _SYSTEMIC,
        _NEAR_MISS,
    ):
        found = regex_leads(rx.pattern, rx.flags)
        if found is not None:
            slots[rx] = len(leads)
            leads.append(found)
    return LeadIndex(leads), slots


class _Scan:
    """How one text is searched: ``low`` (the text lower-cased, or None when that would
    move offsets) and, in a plain text, where each placed regex can start."""

    __slots__ = ("low", "places", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.low = text.lower() if _plain_text(text) else None
        self.places: list[list[int]] | None = None
        if self.low is not None:
            self.places = _lead_index()[0].places(segment(text))

    def finditer(
        self, rx: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> Iterator[re.Match[str]]:
        """``rx.finditer(text, pos, endpos)``, trying ``rx`` only where it can start."""
        text, low = self.text, self.low
        if self.places is not None:
            slot = _lead_index()[1].get(rx)
            if slot is not None:
                return led_finditer(rx, self.places[slot], text, pos, endpos)
        scan = None if low is None else _lowered_scan(rx.pattern, rx.flags)
        if scan is None or low is None:
            return rx.finditer(text, pos, len(text) if endpos is None else endpos)
        return scanned_finditer(rx, scan, text, low, pos, endpos)

    def search(
        self, rx: re.Pattern[str], pos: int = 0, endpos: int | None = None
    ) -> re.Match[str] | None:
        return next(self.finditer(rx, pos, endpos), None)


def _blame_spans(text: str, scan: _Scan | None = None) -> list[tuple[int, int]]:
    """Non-overlapping blame phrases in text order (earlier start wins, then the role form)."""
    scan = scan or _Scan(text)
    found = [(m.start(), 0, m.end()) for m in scan.finditer(_BLAME_WORDS)]
    for verb in scan.finditer(_BLAME_VERB):
        role = _ROLE_BEFORE.search(text, max(0, verb.start() - _ROLE_REACH), verb.start())
        if role is not None:
            found.append((role.start(), -1, verb.end()))
    out: list[tuple[int, int]] = []
    reach = 0
    for start, _, end in sorted(found):
        if start >= reach:
            out.append((start, end))
            reach = end
    return out


_CAUSAL: Final = re.compile(
    r"(?<!\w)(?=\w)(?:because|due\s+to|owing\s+to|as\s+a\s+result|result(?:ed)?\s+in|led\s+to|lead\s+to|leads\s+to|"
    r"contribut\w*|caus\w*|reason\w*|why|so\s+that|which\s+meant|this\s+meant|meant\s+that|therefore|"
    r"factor\w*|explain\w*|on\s+reflection|reflect\w*|i\s+think|we\s+think|in\s+my\s+view|learning|"
    r"lesson\w*|made\s+sense|understand\w*|since\s+(?:the|we|i|she|he|they)|as\s+(?:i|we|she|he|they)\s+"
    r"(?:was|were|had)|pressure\w*|workload|caseload|distract\w*|assum\w*|thought\s+that|believed)(?!\w)",
    re.IGNORECASE,
)
_ACTION_SENTENCE: Final = re.compile(
    r"(?<!\w)(?=\w)(?:recommend\w*|action\s*(?:s|plan|point)?\s*:|going\s+forward|in\s+future|from\s+now\s+on|"
    r"will\s+(?:be|now|ensure)|should\s+(?:now\s+)?(?:be|ensure|attend|complete|receive|undertake)|"
    r"learning\s*:|next\s+steps?|we\s+will|i\s+will|have\s+been\s+reminded|has\s+been\s+reminded|"
    r"to\s+be\s+reminded|must\s+(?:ensure|complete|attend|record))(?!\w)",
    re.IGNORECASE,
)
_PROCEDURAL: Final = re.compile(
    r"(?<!\w)(?=\w)(?:train\w*|refresher|e-?learning|remind\w*|re-?iterat\w*|re-?issu\w*|re-?circulat\w*|"
    r"procedures?|polic(?:y|ies)|protocols?|guidance|checklists?|forms?|templates?|record\w*|document\w*|"
    r"compliance|comply|adhere\w*|follow\s+(?:the\s+)?(?:procedure|policy|guidance|protocol)|"
    r"audit\w*|sign-?off|disciplin\w*|memo|briefing\s+note|reflective\s+account|"
    r"be\s+more\s+(?:careful|vigilant|thorough|diligent)|take\s+more\s+care|double-?check)(?!\w)",
    re.IGNORECASE,
)
_SYSTEMIC: Final = re.compile(
    r"(?<!\w)(?=\w)(?:workload|caseloads?|staffing|recruit\w*|vacanc\w*|capacity|resourc\w*|funding|budget|"
    r"redesign\w*|design\w*|system\s+change|change\s+(?:to|in)\s+the\s+system|it\s+system|software|"
    r"automat\w*|alert\s+(?:on|in)\s+the\s+system|prompt\s+(?:on|in)\s+the\s+system|forcing|"
    r"supervision\s+capacity|protected\s+time|reduce\s+(?:the\s+)?(?:number|load|demand)|"
    r"admin(?:istrative)?\s+support|business\s+support|culture|environment|rota|handover\s+(?:process|tool)|"
    r"multi-?agency\s+(?:process|arrangements?)|pathway|commission\w*|escalation\s+route|"
    r"feedback\s+loop|shared\s+record|interoperab\w*|link(?:ing|ed)?\s+(?:the\s+)?systems)(?!\w)",
    re.IGNORECASE,
)
_NEAR_MISS: Final = re.compile(
    r"(?<!\w)(?=\w)(?:near[\s-]miss(?:es)?|nearly|almost|narrowly|could\s+have\s+(?:led|resulted|caused|been))(?!\w)",
    re.IGNORECASE,
)
_RECOVERY: Final = re.compile(
    r"(?<!\w)(?=\w)(?:notic\w*|spott\w*|picked\s+(?:it\s+|this\s+)?up|caught|identif\w*|realis\w*|realiz\w*|"
    r"recogni\w*|stopp\w*|prevent\w*|intercept\w*|recall\w*|retriev\w*|averted|contain\w*|queried|"
    r"question\w*|challeng\w*|escalat\w*|checked|double-?checked|cross-?checked|flagged|alerted|"
    r"rang|phoned|called|corrected|rectified|put\s+right|before\s+(?:any\s+)?harm|in\s+time|safety\s+plan|"
    r"returned\s+(?:it\s+)?unopened|handed\s+(?:it\s+)?back|deleted|withdrew|withdrawn)(?!\w)",
    re.IGNORECASE,
)
# Every pattern above starts with a word character: ``(?=\w)`` lets the scan skip
# punctuation and spaces at once instead of trying each alternative there.

# Fallback identifiers when the redaction module is not available.
_FALLBACK_PII: Final = (
    (
        "EMAIL",
        re.compile(
            r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,5}(?![\w-])"
        ),
    ),
    (
        "UK_PHONE",
        re.compile(
            r"(?<![\w+])(?:\+44\s?7\d{3}|07\d{3}|\+44\s?[12]\d{2,3}|0[12]\d{2,3})[\s-]?\d{3}[\s-]?\d{3,4}(?!\w)"
        ),
    ),
    ("NHS_NUMBER", re.compile(r"(?<![\w-])\d{3}[ -]?\d{3}[ -]?\d{4}(?![\w-])")),
    ("POSTCODE", re.compile(r"(?<!\w)[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}(?!\w)")),
)


def _nhs_valid(digits: str) -> bool:
    d = [int(c) for c in digits if c.isdigit()]
    if len(d) != 10:
        return False
    check = 11 - sum(v * w for v, w in zip(d[:9], range(10, 1, -1), strict=True)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == d[9]


def _sentences(text: str) -> list[tuple[int, int]]:
    from ._text import segment

    seg = segment(text)  # shared with the rules when they have just read the same text
    return list(zip(seg.sentence_starts, seg.sentence_ends, strict=True))


def _ev(text: str, start: int, end: int) -> Evidence:
    # trim surrounding whitespace so the evidence reads cleanly
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Evidence(start=start, end=max(end, start + 1), text=text[start : max(end, start + 1)])


def _issue(
    code: str,
    message: str,
    suggestion: str,
    evidence: Iterable[Evidence] = (),
    severity: Severity = Severity.WARNING,
) -> QualityIssue:
    return QualityIssue(
        code=code,
        message=message,
        suggestion=suggestion,
        severity=severity,
        evidence=tuple(evidence),
    )


def check(
    text_or_incident: str | Incident,
    *,
    taxonomy: str | Path | Taxonomy | None = None,
    identifiable: bool = True,
) -> list[QualityIssue]:
    """Check a report for what limits learning from it.

    Parameters
    ----------
    text_or_incident : str or Incident
        The narrative, or an incident (whose fields are also checked).
    taxonomy : str, Path or Taxonomy, optional
        When it is ``safeguarding`` (the default), the built-in protective rules also
        count as an account of recovery for ``CHK.NO_RECOVERY``. A name or path that
        is not a taxonomy raises :class:`~humanfactors.exceptions.TaxonomyError`.

    identifiable : bool
        Scan for personal data (``CHK.IDENTIFIABLE``). The pipeline turns this off when
        it has already redacted the text and reports the redactions itself.

    Returns
    -------
    list of QualityIssue
        In the order of :data:`CHECK_CODES`; messages never quote personal data.
    """
    incident: Incident | None = None
    if isinstance(text_or_incident, Incident):
        incident = text_or_incident
        text = incident.narrative
    elif isinstance(text_or_incident, str):
        text = text_or_incident
    else:
        raise TypeError(
            f"check: text_or_incident must be a str or an Incident, got {kind(text_or_incident)}"
        )
    if taxonomy is not None and not isinstance(taxonomy, Taxonomy):
        from ..taxonomy import load_taxonomy

        taxonomy = load_taxonomy(taxonomy)  # an unknown name is refused, not ignored
    issues: list[QualityIssue] = []
    sentences = _sentences(text) if text.strip() else []
    n_words = len(re.findall(r"\w+", text))

    scan = _Scan(text)
    hind = list(scan.finditer(_HINDSIGHT))
    if hind:
        issues.append(
            _issue(
                "CHK.HINDSIGHT",
                f"{len(hind)} phrase(s) judge events with hindsight or by their outcome.",
                "This judges with hindsight; describe what was known at the time, and why the "
                "decision made sense to the people making it then.",
                [_ev(text, m.start(), m.end()) for m in hind[:10]],
            )
        )
    blame = _blame_spans(text, scan)
    if blame:
        issues.append(
            _issue(
                "CHK.BLAME",
                f"{len(blame)} phrase(s) place fault on a person or role.",
                "This places fault on a person; describe what they did and what in the task, team "
                "or system made it the thing to do at the time, so others can learn from it.",
                [_ev(text, a, b) for a, b in blame[:10]],
            )
        )
    if n_words >= _ANALYSIS_MIN_WORDS and not scan.search(_CAUSAL):
        issues.append(
            _issue(
                "CHK.NO_ANALYSIS",
                "The report says what happened but not why: no causal or reflective language.",
                "Add why it happened: what made the actions make sense at the time (workload, "
                "information available, tools, team, pressures) and what you would want others"
                " to learn.",
                [_ev(text, 0, len(text))] if text.strip() else [],
                Severity.INFO,
            )
        )
    action_spans = [(a, b) for a, b in sentences if scan.search(_ACTION_SENTENCE, a, b)]
    if action_spans:
        procedural = [(a, b) for a, b in action_spans if scan.search(_PROCEDURAL, a, b)]
        systemic = [(a, b) for a, b in action_spans if scan.search(_SYSTEMIC, a, b)]
        if procedural and not systemic:
            issues.append(
                _issue(
                    "CHK.PROCEDURAL_FIX",
                    f"All {len(procedural)} recommended action(s) add procedure, training,"
                    " reminders or recording.",
                    "These actions only add procedure, training or recording; consider also"
                    " changing the conditions that made the problem likely (workload, tools,"
                    " systems, staffing, how information reaches people).",
                    [_ev(text, a, b) for a, b in procedural[:10]],
                )
            )
    if identifiable:
        issues.extend(_identifiable(text))
    if text.strip() and n_words < _MIN_WORDS:
        issues.append(
            _issue(
                "CHK.TOO_SHORT",
                f"The narrative has {n_words} words; at least {_MIN_WORDS} are needed to learn"
                " from it.",
                "Say what happened, what you expected to happen, what made it hard at the time, "
                "and what stopped it getting worse.",
                [_ev(text, 0, len(text))],
                Severity.INFO,
            )
        )
    if incident is not None:
        missing = [name for name in ("event_type", "harm") if getattr(incident, name) is None]
        if missing:
            issues.append(
                _issue(
                    "CHK.MISSING_FIELDS",
                    f"The report does not record {' or '.join(missing)}.",
                    "Record whether this was an incident, near miss, unsafe condition or good"
                    " practice, and what harm resulted (none, low, moderate, severe, fatal), so"
                    " reports can be compared.",
                    severity=Severity.INFO,
                )
            )
    near_miss = (incident is not None and incident.event_type == EventType.NEAR_MISS) or (
        incident is None and scan.search(_NEAR_MISS) is not None
    )
    if near_miss and text.strip() and not _has_recovery(text, taxonomy):
        issues.append(
            _issue(
                "CHK.NO_RECOVERY",
                "A near miss that does not say what stopped the harm.",
                "Say who or what noticed the problem and what was done to stop it reaching the"
                " child: recovery is the part of a near miss others can copy.",
                [_ev(text, 0, len(text))],
            )
        )
    order = {c: i for i, c in enumerate(CHECK_CODES)}
    issues.sort(key=lambda i: order.get(i.code, len(order)))
    return issues


def _has_recovery(text: str, taxonomy: str | Path | Taxonomy | None) -> bool:
    if _RECOVERY.search(text):
        return True
    name = taxonomy.name if isinstance(taxonomy, Taxonomy) else taxonomy
    if name in (None, "safeguarding"):
        return bool(_recovery_rules().matches(text))
    return False


_RECOVERY_CODES: Final = ("PROT.DETECTION", "PROT.MITIGATION", "PROT.CHALLENGE")


@functools.lru_cache(maxsize=1)
def _recovery_rules() -> Any:
    """The built-in rules for the recovery codes alone (rules fire independently, so a
    code is found by these exactly when the full rule set finds it)."""
    from .engine import RuleSet

    full = RuleSet.default("safeguarding")
    return RuleSet((r for r in full if r.code in _RECOVERY_CODES), taxonomy=full.taxonomy)


@functools.lru_cache(maxsize=1)
def _shared_redactor() -> Any:
    from .. import redact as _redact  # written separately; optional at run time

    return _redact.Redactor()


def _identifiable(text: str) -> list[QualityIssue]:
    spans: list[tuple[str, int, int]] = []
    try:
        found: Any = _shared_redactor().analyze(text)
        for item in found:
            start, end = int(item.start), int(item.end)
            if 0 <= start < end <= len(text):
                spans.append((str(item.entity), start, end))
    except (ImportError, AttributeError):
        for entity, rx in _FALLBACK_PII:
            for m in rx.finditer(text):
                if entity == "NHS_NUMBER" and not _nhs_valid(m.group()):
                    continue
                spans.append((entity, m.start(), m.end()))
    except Exception as exc:  # the redactor failing must not stop the other checks
        logger.warning(
            "redaction analysis failed (%s); identifiers not checked", type(exc).__name__
        )
        return [
            _issue(
                "CHK.IDENTIFIABLE",
                "Identifiers could not be checked because the redactor failed.",
                "Check the report by hand for names, addresses, dates of birth and NHS numbers.",
                severity=Severity.INFO,
            )
        ]
    if not spans:
        return []
    spans.sort(key=lambda s: (s[1], s[2]))
    kinds = sorted({e for e, _, _ in spans})
    return [
        _issue(
            "CHK.IDENTIFIABLE",
            f"{len(spans)} possible identifier(s) found: {', '.join(kinds)}.",
            "Remove or replace personal details (names, addresses, phone numbers, NHS numbers, "
            "dates of birth) before sharing; use roles such as 'Child A' or 'the mother'.",
            [Evidence(start=s, end=e, text=text[s:e]) for _, s, e in spans[:50]],
            Severity.ERROR,
        )
    ]
