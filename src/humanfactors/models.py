"""Typed, validated models for incidents, findings and analyses.

All models are immutable pydantic v2 models that refuse unknown fields. They serialise
to JSON and back exactly, and :func:`json_schema` gives their JSON Schema so that systems
written in any language can validate what this library reads and writes.

Reprs and validation errors never show narrative text or metadata values: a report may
hold personal data until it has been redacted.
"""

from __future__ import annotations

import hashlib
from datetime import date
from enum import Enum
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "Analysis",
    "CodedEvidence",
    "CodedIncident",
    "EventType",
    "Evidence",
    "Finding",
    "Harm",
    "Incident",
    "PiiSpan",
    "QualityIssue",
    "RecordError",
    "RedactionSpan",
    "Severity",
    "Source",
    "json_schema",
]

_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    hide_input_in_errors=True,  # a narrative may carry personal data: never echo it
    str_strip_whitespace=False,
    use_enum_values=False,
)

Code = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S(.*\S)?$")]
ShortText = Annotated[str, StringConstraints(max_length=200)]


class EventType(str, Enum):  # noqa: UP042 - StrEnum would change str() and format() of members
    """What kind of event a report describes."""

    INCIDENT = "incident"
    NEAR_MISS = "near_miss"
    UNSAFE_CONDITION = "unsafe_condition"
    GOOD_PRACTICE = "good_practice"


class Harm(str, Enum):  # noqa: UP042 - StrEnum would change str() and format() of members
    """The harm that resulted, from none to fatal (ordered)."""

    NONE = "none"
    LOW = "low"
    MODERATE = "moderate"
    SEVERE = "severe"
    FATAL = "fatal"

    @property
    def rank(self) -> int:
        """0 for ``none`` up to 4 for ``fatal``, for ordering and filtering."""
        return list(Harm).index(self)


class Source(str, Enum):  # noqa: UP042 - StrEnum would change str() and format() of members
    """Where a finding came from."""

    RULE = "rule"
    MODEL = "model"
    HUMAN = "human"
    COMBINED = "combined"  # a rule and the model agreed on the same code


class Severity(str, Enum):  # noqa: UP042 - StrEnum would change str() and format() of members
    """How much a quality issue limits what can be learned from a report."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


def _span_ok(start: int, end: int, text: str, where: str) -> None:
    if not 0 <= start < end:
        raise ValueError(
            f"{where}: span must satisfy 0 <= start < end, got start={start}, end={end}"
        )
    if len(text) != end - start:
        raise ValueError(
            f"{where}: text has {len(text)} characters but the span {start}..{end}"
            f" covers {end - start}"
        )


class Evidence(BaseModel):
    """A span of the narrative that supports a finding: ``narrative[start:end] == text``."""

    model_config = _CONFIG

    start: int = Field(ge=0, description="Offset of the first character (0-based).")
    end: int = Field(gt=0, description="Offset one past the last character.")
    text: str = Field(repr=False, description="The exact characters narrative[start:end].")

    @model_validator(mode="after")
    def _check_span(self) -> Self:
        _span_ok(self.start, self.end, self.text, "evidence")
        return self

    @classmethod
    def from_span(cls, narrative: str, start: int, end: int) -> Evidence:
        """Evidence for ``narrative[start:end]``, refusing spans outside the text."""
        if not 0 <= start < end <= len(narrative):
            raise ValueError(
                f"evidence span {start}..{end} is outside a text of {len(narrative)} characters"
            )
        return cls(start=start, end=end, text=narrative[start:end])

    def __repr__(self) -> str:
        return f"Evidence(start={self.start}, end={self.end})"


class Finding(BaseModel):
    """One human factor seen in a report, with its confidence and evidence."""

    model_config = _CONFIG

    code: Code = Field(description="Taxonomy code, e.g. 'ERR.LAPSE'.")
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence in [0, 1].")
    source: Source = Field(description="rule, model, human, or combined (rule and model agree).")
    evidence: tuple[Evidence, ...] = Field(default=(), description="Supporting spans.")
    explanation: str = Field(default="", max_length=2000, repr=False)
    rule_ids: tuple[str, ...] = Field(default=(), description="Rules that fired, if any.")

    @field_validator("confidence")
    @classmethod
    def _finite(cls, value: float) -> float:
        if value != value:  # NaN
            raise ValueError("confidence must be a number in [0, 1], got NaN")
        return value


class QualityIssue(BaseModel):
    """Something that makes a report less useful for learning, with a suggestion."""

    model_config = _CONFIG

    code: Code = Field(description="Check code, e.g. 'CHK.HINDSIGHT'.")
    message: str = Field(min_length=1, max_length=500, description="What the check found.")
    suggestion: str = Field(min_length=1, max_length=1000, description="How to improve it.")
    severity: Severity = Severity.WARNING
    evidence: tuple[Evidence, ...] = ()


class RedactionSpan(BaseModel):
    """One redaction: where it was in the original text and what replaced it."""

    model_config = _CONFIG

    entity: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")] = Field(
        description="Entity type, e.g. PERSON, NHS_NUMBER."
    )
    start: int = Field(ge=0, description="Start offset in the original text.")
    end: int = Field(gt=0, description="End offset in the original text.")
    replacement: str = Field(description="Placeholder that replaced it, e.g. '[PERSON_1]'.")
    score: float = Field(default=1.0, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.end <= self.start:
            raise ValueError(f"redaction span must have start < end, got {self.start}..{self.end}")
        return self


def _text_or_integer(schema: dict[str, Any]) -> None:
    """An id's schema: text, or an integer (kept as text, see ``Incident._int_id``)."""
    text = {k: schema.pop(k) for k in list(schema) if k not in ("title", "description")}
    schema["anyOf"] = [text, {"type": "integer"}]


class Incident(BaseModel):
    """An incident or near-miss report: the narrative and what is known about it."""

    model_config = _CONFIG

    id: Annotated[
        str, StringConstraints(min_length=1, max_length=256, pattern=r"^[^\x00-\x1f]+$")
    ] = Field(json_schema_extra=_text_or_integer)
    narrative: str = Field(
        repr=False, max_length=10_000_000, description="What happened, in the reporter's words."
    )
    event_type: EventType | None = None
    harm: Harm | None = None
    occurred_on: date | None = None
    reported_on: date | None = None
    setting: ShortText | None = None
    reporter_role: ShortText | None = None
    agencies: tuple[ShortText, ...] = ()
    region: ShortText | None = None
    metadata: dict[str, JsonValue] = Field(default_factory=dict, repr=False)

    @field_validator("id", mode="before")
    @classmethod
    def _int_id(cls, value: object) -> object:
        # Numeric ids (spreadsheets, databases) are common; keep them as text.
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @field_validator("narrative")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("narrative is empty or only whitespace")
        return value

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.occurred_on and self.reported_on and self.occurred_on > self.reported_on:
            raise ValueError(
                f"occurred_on ({self.occurred_on}) is after reported_on ({self.reported_on})"
            )
        return self

    @classmethod
    def from_text(cls, text: str, *, id: str | None = None, **fields: Any) -> Incident:
        """An incident from a narrative alone; the id defaults to a hash of the text.

        Examples
        --------
        >>> Incident.from_text("I forgot to send the referral.").id
        'r-5de5d7bea267'
        """
        if id is None:
            id = "r-" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]
        return cls(id=id, narrative=text, **fields)

    def __repr__(self) -> str:
        kind = self.event_type.value if self.event_type else None
        return (
            f"Incident(id={self.id!r}, narrative=<{len(self.narrative)} chars>,"
            f" event_type={kind!r})"
        )


class CodedEvidence(Evidence):
    """Evidence for one code in a coded report."""

    code: Code

    def __repr__(self) -> str:
        return f"CodedEvidence(code={self.code!r}, start={self.start}, end={self.end})"


class PiiSpan(BaseModel):
    """A personal identifier annotated in a coded report (for redaction tests)."""

    model_config = _CONFIG

    type: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]*$")]
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    text: str = Field(repr=False)

    @model_validator(mode="after")
    def _check_span(self) -> Self:
        _span_ok(self.start, self.end, self.text, "pii")
        return self


class CodedIncident(Incident):
    """An incident with the codes a human gave it: one line of a coded-report file.

    The coded-report JSONL format is the :class:`Incident` fields plus ``codes`` and,
    optionally, ``evidence`` (spans per code) and ``pii`` (annotated identifiers).
    """

    codes: tuple[Code, ...] = Field(description="Codes given by a human coder.")
    evidence: tuple[CodedEvidence, ...] = ()
    pii: tuple[PiiSpan, ...] = ()

    @model_validator(mode="after")
    def _spans_in_text(self) -> Self:
        spans: list[CodedEvidence | PiiSpan] = [*self.evidence, *self.pii]
        for ev in spans:
            if ev.end > len(self.narrative) or self.narrative[ev.start : ev.end] != ev.text:
                what = getattr(ev, "code", None) or getattr(ev, "type", "span")
                raise ValueError(
                    f"evidence {ev.start}..{ev.end} for {what} does not match the narrative"
                )
        for ev in self.evidence:
            if ev.code not in self.codes:
                raise ValueError(f"evidence given for {ev.code!r}, which is not among the codes")
        return self

    def to_incident(self) -> Incident:
        """The plain :class:`Incident`, without the coding."""
        return Incident(**self.model_dump(exclude={"codes", "evidence", "pii"}))

    def __repr__(self) -> str:
        return (
            f"CodedIncident(id={self.id!r}, narrative=<{len(self.narrative)} chars>,"
            f" codes={list(self.codes)!r})"
        )


class RecordError(BaseModel):
    """An input record that could not be processed: ``{"id", "line", "error"}``.

    Batches never drop a record: each input yields a result or one of these. ``error``
    names the field or problem and never quotes the record's text.
    """

    model_config = _CONFIG

    id: str | None = None
    line: int | None = Field(default=None, ge=1, description="1-based line or row in the input.")
    error: str = Field(min_length=1)
    source: str | None = Field(default=None, description="Input file name, when known.")


class Analysis(BaseModel):
    """Everything the library found in one report.

    ``incident`` is the report as analysed: when redaction ran, its narrative is the
    redacted text, and every evidence span indexes into it.
    """

    model_config = _CONFIG

    incident: Incident
    findings: tuple[Finding, ...] = ()
    quality_issues: tuple[QualityIssue, ...] = ()
    redactions: tuple[RedactionSpan, ...] = Field(
        default=(), description="Spans removed from the original narrative (original offsets)."
    )
    redacted: bool = False
    taxonomy: str = Field(min_length=1)
    taxonomy_version: str = Field(min_length=1)
    model_version: str | None = None
    feedback: str = Field(default="", repr=False)
    schema_version: Literal[1] = 1

    @model_validator(mode="after")
    def _evidence_in_text(self) -> Self:
        text = self.incident.narrative
        items: list[Finding | QualityIssue] = [*self.findings, *self.quality_issues]
        for item in items:
            for ev in item.evidence:
                if ev.end > len(text) or text[ev.start : ev.end] != ev.text:
                    raise ValueError(
                        f"evidence {ev.start}..{ev.end} of {item.code} does not match the narrative"
                    )
        return self

    @property
    def incident_id(self) -> str:
        """The analysed incident's id."""
        return self.incident.id

    @property
    def narrative(self) -> str:
        """The narrative as analysed (redacted when redaction ran)."""
        return self.incident.narrative

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes found, in the order of the findings."""
        return tuple(f.code for f in self.findings)

    def __repr__(self) -> str:
        return (
            f"Analysis(incident_id={self.incident.id!r}, codes={list(self.codes)!r}, "
            f"quality_issues={[q.code for q in self.quality_issues]!r})"
        )


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of the models that cross system boundaries.

    Returns one document whose ``$defs`` hold ``Incident`` and ``CodedIncident`` (what is
    read), ``Analysis`` and ``RecordError`` (what is written) and the models they use;
    ``properties`` name the top-level models for convenience.

    Examples
    --------
    >>> schema = json_schema()
    >>> sorted(schema["properties"])
    ['Analysis', 'CodedIncident', 'Finding', 'Incident', 'QualityIssue', 'RecordError']
    """
    from pydantic.json_schema import models_json_schema

    from ._version import __version__

    top: list[type[BaseModel]] = [
        Incident,
        CodedIncident,
        Analysis,
        Finding,
        QualityIssue,
        RecordError,
    ]
    pairs: list[tuple[type[BaseModel], Literal["validation"]]] = [(m, "validation") for m in top]
    _, defs = models_json_schema(pairs, ref_template="#/$defs/{model}")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"https://humanfactors.readthedocs.io/schema/{__version__}.json",
        "title": "humanfactors models",
        "description": "Incidents read and analyses written by humanfactors.",
        "type": "object",
        "properties": {m.__name__: {"$ref": f"#/$defs/{m.__name__}"} for m in top},
        "$defs": defs["$defs"],
    }
