"""Plain-English feedback for the person who reported.

The most common complaint about reporting systems is "I never get any feedback". Every
:class:`~humanfactors.models.Analysis` carries a short note that says which factors were
seen and why, quoting the reporter's own words, what went well, and how the report could
be more useful. It is written about the system, never about the reporter's fault.
"""

from __future__ import annotations

from collections.abc import Sequence

from .models import Analysis, Finding
from .taxonomy import Taxonomy

__all__ = ["compose_feedback"]

_MAX_FACTORS = 4
_MAX_QUOTE = 90


def _quote(finding: Finding, personal: Sequence[tuple[int, int]] = ()) -> str:
    """A short quote of the finding's evidence, never one that overlaps personal data."""
    usable = [
        e for e in finding.evidence if not any(s < e.end and e.start < t for s, t in personal)
    ]
    if not usable:
        return ""
    # The longest span that fits reads best: a rule's phrase rather than one model term.
    fitting = [e for e in usable if len(e.text) <= _MAX_QUOTE] or usable
    text = " ".join(max(fitting, key=lambda e: len(e.text)).text.split())
    if len(text) > _MAX_QUOTE:
        text = text[: _MAX_QUOTE - 1].rstrip() + "…"
    return f" — you wrote “{text}”"


def _personal_spans(analysis: Analysis) -> list[tuple[int, int]]:
    """Where the report still holds personal data the checks found (unredacted text)."""
    return [
        (e.start, e.end)
        for q in analysis.quality_issues
        if q.code == "CHK.IDENTIFIABLE"
        for e in q.evidence
    ]


def _name(tax: Taxonomy, code: str) -> str:
    factor = tax.get(code)
    return factor.name if factor is not None else code


def _strength(confidence: float) -> str:
    if confidence >= 0.8:
        return "clearly"
    if confidence >= 0.5:
        return "probably"
    return "possibly"


def compose_feedback(analysis: Analysis, taxonomy: Taxonomy) -> str:
    """A short note for the reporter: factors seen (with quotes), what went well, suggestions."""
    risks = [f for f in analysis.findings if not _protective(taxonomy, f.code)]
    wells = [f for f in analysis.findings if _protective(taxonomy, f.code)]
    personal = _personal_spans(analysis)
    lines = ["Thank you for your report."]
    if risks:
        lines.append("What we think contributed:")
        for f in risks[:_MAX_FACTORS]:
            lines.append(
                f"- {_name(taxonomy, f.code)} ({f.code}), {_strength(f.confidence)}"
                f"{_quote(f, personal)}."
            )
        if len(risks) > _MAX_FACTORS:
            lines.append(f"- and {len(risks) - _MAX_FACTORS} more factor(s) in the full analysis.")
    elif wells:
        lines.append("We did not recognise a human factor that contributed to harm.")
    else:
        lines.append(
            "We did not recognise a specific human factor in it"
            + ("; the suggestions below may help." if analysis.quality_issues else ".")
        )
    if wells:
        lines.append("What went well, and is worth sharing:")
        for f in wells[:_MAX_FACTORS]:
            lines.append(f"- {_name(taxonomy, f.code)}{_quote(f, personal)}.")
        if len(wells) > _MAX_FACTORS:
            lines.append(f"- and {len(wells) - _MAX_FACTORS} more in the full analysis.")
    if analysis.quality_issues:
        lines.append("To make reports like this even more useful for learning:")
        for q in analysis.quality_issues:
            lines.append(f"- {q.suggestion}")
    lines.append(
        "These are patterns in how work is organised, not judgements of anyone's fault; "
        "they will be pooled with other reports to find what needs to change."
    )
    return "\n".join(lines)


def _protective(taxonomy: Taxonomy, code: str) -> bool:
    factor = taxonomy.get(code)
    return factor is not None and factor.polarity == "protective"
