"""The main job: analyse reports end to end.

:func:`analyse` takes one report through redaction, rules, the classifier and the
report-quality checks and returns an :class:`~humanfactors.models.Analysis`.
:func:`analyse_many` does the same for a stream of records, in input order, in parallel
if asked, with memory that does not grow with the input, and yields exactly one item per
input: an ``Analysis`` or a :class:`~humanfactors.models.RecordError`.

Combined confidence
-------------------
When a rule and the model both find a code, the two findings become one finding with
``source="combined"``, the evidence of both, and confidence ``1 - (1 - p_rule)(1 - p_model)``
(a noisy-OR: each is treated as independent evidence, so agreement raises confidence
and neither alone is overridden).

A rule finding the model does not make is kept when the model gives that code at least
``rule_support`` times its decision threshold (default 0.4): a phrase match that the
model finds wholly implausible is more often a false alarm than a missed factor. Chosen
by cross-validation on the bundled corpus (macro-F1 0.589 against 0.571 for keeping every
rule finding and 0.570 for the model alone; see docs/benchmarks.md). Codes the model does
not know, and every rule finding when there is no model, are kept.
"""

from __future__ import annotations

import itertools
import json
import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .exceptions import (
    HumanFactorsError,
    InputError,
    ModelError,
    RecordValidationError,
    describe_failure,
)
from .models import (
    Analysis,
    CodedIncident,
    Evidence,
    Finding,
    Incident,
    QualityIssue,
    RecordError,
    RedactionSpan,
    Severity,
    Source,
)
from .taxonomy import Taxonomy, load_taxonomy

if TYPE_CHECKING:  # pragma: no cover
    from .classifier import HumanFactorsClassifier
    from .rules import RuleSet

__all__ = ["Analyser", "analyse", "analyse_many", "combine_confidence"]

log = logging.getLogger(__name__)

DEFAULT_BATCH_SIZE = 64
DEFAULT_RULE_SUPPORT = 0.4
_MODEL_EVIDENCE_TERMS = 3


def combine_confidence(p_rule: float, p_model: float) -> float:
    """Noisy-OR of a rule's and the model's confidence in the same code."""
    return 1.0 - (1.0 - p_rule) * (1.0 - p_model)


def _coerce(record: object, line: int | None = None) -> Incident:
    if isinstance(record, CodedIncident):
        return record.to_incident()
    if isinstance(record, Incident):
        return record
    if isinstance(record, str):
        return Incident.from_text(record)
    if isinstance(record, Mapping):
        data = {k: v for k, v in record.items() if k not in ("codes", "evidence", "pii")}
        if "id" not in data and isinstance(data.get("narrative"), str):
            return Incident.from_text(data.pop("narrative"), **data)
        return Incident.model_validate(data)
    raise InputError(
        f"cannot analyse a {type(record).__name__}: give a str, a mapping or an Incident"
    )


def _placeholder_spans(spans: Sequence[RedactionSpan], redacted: str) -> list[Evidence]:
    """Where each replacement stands in the redacted text."""
    out, shift = [], 0
    for sp in sorted(spans, key=lambda s: s.start):
        start = sp.start + shift
        end = start + len(sp.replacement)
        if 0 <= start < end <= len(redacted) and redacted[start:end] == sp.replacement:
            out.append(Evidence(start=start, end=end, text=sp.replacement))
        shift += len(sp.replacement) - (sp.end - sp.start)
    return out


@dataclass
class Analyser:
    """A configured analysis chain: build once, call many times.

    Parameters
    ----------
    taxonomy : str, Path or Taxonomy, optional
        Defaults to ``safeguarding``.
    model : HumanFactorsClassifier, path, False or None
        ``None`` uses the embedded default model for the ``safeguarding`` taxonomy (and
        no model for other taxonomies); a path loads a saved model; ``False`` disables
        the model.
    rules : RuleSet, False or None
        ``None`` uses the built-in rules for the taxonomy where there are some; ``False``
        disables rules.
    redact : bool
        Redact personal data before anything else sees the text (default True): the
        narrative and every string in ``metadata`` (a CSV's extra columns, an ASRS
        synopsis). The id and the short fields (setting, role, agencies, region) are
        kept as given.
    checks : bool
        Run the report-quality checks (default True).
    rule_support : float
        Keep a rule finding the model does not make only when the model's probability
        for that code reaches this fraction of its threshold (0 keeps every rule finding).
    """

    taxonomy: str | Path | Taxonomy | None = None
    model: Any = None
    rules: Any = None
    redact: bool = True
    checks: bool = True
    rule_support: float = DEFAULT_RULE_SUPPORT
    _tax: Taxonomy = field(init=False, repr=False)
    _model: Any = field(init=False, repr=False, default=None)
    _rules: Any = field(init=False, repr=False, default=None)
    _redactor: Any = field(init=False, repr=False, default=None)

    def __post_init__(self) -> None:
        self._tax = load_taxonomy(self.taxonomy)
        self._model = self._resolve_model(self.model)
        self._rules = self._resolve_rules(self.rules)
        if self.redact:
            from .redact import Redactor

            self._redactor = Redactor()

    # -- configuration ------------------------------------------------------------
    def _resolve_model(self, model: Any) -> Any:
        if model is False:
            return None
        if model is None:
            if self._tax.name != "safeguarding":
                return None
            from ._default import default_predictor

            return default_predictor()
        what = "model"
        if isinstance(model, (str, os.PathLike)):
            from .persistence import load_model

            what = "the model file's object"
            model = load_model(model)
        if not hasattr(model, "predict_proba"):
            raise InputError(
                "model must be a fitted classifier, a path, False or None;"
                f" {what} is a {type(model).__name__}"
            )
        if getattr(model, "classes_", None) is None:
            raise ModelError(f"{what} is not fitted (it has no classes_): fit it first")
        return model

    def _resolve_rules(self, rules: Any) -> Any:
        if rules is False:
            return None
        from .rules import RuleSet

        if rules is None:
            try:
                return RuleSet.default(self._tax.name)
            except HumanFactorsError:
                log.info("no built-in rules for taxonomy %s", self._tax.name)
                return None
        if not isinstance(rules, RuleSet):
            raise InputError(f"rules must be a RuleSet, False or None; got {type(rules).__name__}")
        return rules

    @property
    def model_version(self) -> str | None:
        """A short identifier of the model in use, recorded on every analysis."""
        if self._model is None:
            return None
        version = getattr(self._model, "model_version_", None)
        return str(version) if version else type(self._model).__name__

    # -- one report ---------------------------------------------------------------
    def __call__(self, record: object) -> Analysis:
        return self.analyse(record)

    def analyse(self, record: object) -> Analysis:
        """Analyse one report (str, mapping, Incident or CodedIncident).

        A record that fails validation raises
        :class:`~humanfactors.exceptions.RecordValidationError` naming the field.
        """
        try:
            incident = _coerce(record)
        except HumanFactorsError:
            raise
        except ValueError as exc:  # pydantic's ValidationError: the library's error instead
            raise RecordValidationError(
                _error_for(exc, None, record).error, record_id=_safe_id(record)
            ) from None
        return self.analyse_batch([incident])[0]

    def analyse_batch(self, records: Sequence[object]) -> list[Analysis]:
        """Analyse several reports at once (the model predicts them in one call)."""
        from ._args import check_texts

        check_texts(records, "records", "Analyser.analyse_batch", "a list of reports")
        incidents = [_coerce(r) for r in records]
        redactions: list[tuple[RedactionSpan, ...]] = []
        prepared: list[Incident] = []
        for inc in incidents:
            if self._redactor is not None:
                red = self._redactor.redact(inc.narrative)
                update: dict[str, Any] = {"narrative": red.text}
                if inc.metadata:
                    # other free text (a CSV's extra columns, an ASRS synopsis) too
                    update["metadata"] = _redact_values(self._redactor, inc.metadata)
                prepared.append(inc.model_copy(update=update))
                redactions.append(tuple(red.spans))
            else:
                prepared.append(inc)
                redactions.append(())
        texts = [p.narrative for p in prepared]
        model_findings, support = self._model_findings(texts)
        out = []
        for inc, spans, found, sup in zip(
            prepared, redactions, model_findings, support, strict=True
        ):
            rule_findings = self._rule_findings(inc, sup)
            findings = self._merge(rule_findings, found, sup)
            issues = self._quality(inc, spans)
            analysis = Analysis(
                incident=inc,
                findings=tuple(findings),
                quality_issues=tuple(issues),
                redactions=spans,
                redacted=self._redactor is not None,
                taxonomy=self._tax.name,
                taxonomy_version=self._tax.version,
                model_version=self.model_version,
            )
            from .feedback import compose_feedback

            out.append(
                analysis.model_copy(update={"feedback": compose_feedback(analysis, self._tax)})
            )
        return out

    # -- stages ---------------------------------------------------------------------
    def _model_findings(
        self, texts: list[str]
    ) -> tuple[list[list[Finding]], list[dict[str, float] | None]]:
        """Model findings per text, and per text each code's probability / threshold."""
        if self._model is None:
            return [[] for _ in texts], [None for _ in texts]
        batch_evidence = getattr(self._model, "predict_proba_with_evidence", None)
        best: list[Any] | None = None
        if batch_evidence is not None:  # one pass gives probabilities and evidence sentences
            proba, best = batch_evidence(texts)
        else:
            proba = self._model.predict_proba(texts)
        classes = list(self._model.classes_)
        thresholds = getattr(self._model, "thresholds_", None)
        if thresholds is None:
            thresholds = [0.5] * len(classes)
        thresholds = [max(float(t), 1e-9) for t in thresholds]
        chosen = [
            [proba[i, j] >= thresholds[j] for j in range(len(classes))] for i in range(len(texts))
        ]
        support: list[dict[str, float] | None] = [
            {str(c): float(proba[i, j]) / thresholds[j] for j, c in enumerate(classes)}
            for i in range(len(texts))
        ]
        out: list[list[Finding]] = []
        explain = getattr(self._model, "explain", None)
        for i, text in enumerate(texts):
            codes = [c for j, c in enumerate(classes) if chosen[i][j]]
            if not codes:
                out.append([])
                continue
            if best is not None:
                spans = {
                    c: (
                        []
                        if best[i] is None
                        else [(best[i][j][0], best[i][j][1], text[best[i][j][0] : best[i][j][1]])]
                    )
                    for j, c in enumerate(classes)
                    if c in codes
                }
            else:
                spans = self._explain(explain, text, codes)
            found = []
            for code in codes:
                j = classes.index(code)
                terms = spans.get(code, [])
                evidence = tuple(
                    Evidence.from_span(text, s, e) for s, e, _ in terms[:_MODEL_EVIDENCE_TERMS]
                )
                explanation = f"classifier probability {proba[i, j]:.2f}"
                if best is not None:
                    if terms:
                        explanation += "; the sentence that most suggests it is the evidence"
                elif terms:
                    words = ", ".join(f"'{t}'" for _, _, t in terms[:_MODEL_EVIDENCE_TERMS])
                    explanation += f"; words that raised it: {words}"
                found.append(
                    Finding(
                        code=code,
                        confidence=float(proba[i, j]),
                        source=Source.MODEL,
                        evidence=evidence,
                        explanation=explanation,
                    )
                )
            out.append(found)
        return out, support

    @staticmethod
    def _explain(
        explain: Any, text: str, codes: list[str]
    ) -> dict[str, list[tuple[int, int, str]]]:
        """Code -> [(start, end, term)] from the model's explanation, best first."""
        if explain is None:
            return {}
        try:
            items = explain(text, top=_MODEL_EVIDENCE_TERMS, codes=codes)
        except Exception:  # explanation is a courtesy; never lose the finding over it
            log.debug("model explanation failed", exc_info=True)
            return {}
        result: dict[str, list[tuple[int, int, str]]] = {}
        for item in items:
            code = getattr(item, "code", None)
            if code not in codes:
                continue
            spans = []
            for term in getattr(item, "terms", ()):
                for start, end in getattr(term, "spans", ()):
                    if 0 <= start < end <= len(text):
                        spans.append((start, end, text[start:end]))
                        break
            result[code] = spans
        return result

    def _rule_findings(self, inc: Incident, support: dict[str, float] | None) -> list[Finding]:
        """The rules' findings, running only the rules whose findings :meth:`_merge` can keep.

        A rule finding for a code the model scores below ``rule_support`` of its threshold
        is dropped by the merge, so those codes' rules are not run at all (codes the model
        does not know are always run). The result is the same as running every rule and
        merging; it is several times cheaper, as most codes are implausible in any one
        report.
        """
        if self._rules is None:
            return []
        if support is None:
            return list(self._rules.apply(inc))
        # the same test as _merge's: support.get(code, 1.0) < rule_support drops a code
        codes = [c for c in self._rules.codes if support.get(c, 1.0) >= self.rule_support]
        return list(self._rules.apply(inc, codes=codes))

    def _merge(
        self,
        rule_findings: list[Finding],
        model_findings: list[Finding],
        support: dict[str, float] | None = None,
    ) -> list[Finding]:
        by_code: dict[str, Finding] = {}
        for f in model_findings:
            by_code[f.code] = f
        for r in rule_findings:
            m = by_code.get(r.code)
            if m is None:
                if support is not None and support.get(r.code, 1.0) < self.rule_support:
                    continue  # the model finds this code implausible here
                by_code[r.code] = r
                continue
            evidence = {(e.start, e.end): e for e in (*r.evidence, *m.evidence)}
            by_code[r.code] = Finding(
                code=r.code,
                confidence=combine_confidence(r.confidence, m.confidence),
                source=Source.COMBINED,
                evidence=tuple(evidence[k] for k in sorted(evidence)),
                explanation=f"{r.explanation}; {m.explanation}"[:2000],
                rule_ids=r.rule_ids,
            )
        order = {c: i for i, c in enumerate(self._tax.codes)}
        return sorted(
            by_code.values(), key=lambda f: (-f.confidence, order.get(f.code, 1 << 30), f.code)
        )

    def _quality(self, inc: Incident, spans: tuple[RedactionSpan, ...]) -> list[QualityIssue]:
        if not self.checks:
            return []
        from .rules import check

        # After redaction the scan for identifiers would find only placeholders: the
        # redactions themselves are reported below instead.
        issues = check(inc, taxonomy=self._tax, identifiable=self._redactor is None)
        if spans:
            kinds = sorted({s.entity for s in spans})
            issues.append(
                QualityIssue(
                    code="CHK.IDENTIFIABLE",
                    message=(
                        f"The report contained {len(spans)} personal identifier(s)"
                        f" ({', '.join(kinds)}); they were redacted."
                    ),
                    suggestion=(
                        "Describe people by their role (mum, the child, the health visitor) rather"
                        " than by name, and leave out addresses, numbers and dates of birth."
                    ),
                    severity=Severity.WARNING,
                    evidence=tuple(_placeholder_spans(spans, inc.narrative)),
                )
            )
        return issues


def analyse(
    record: str | Incident | Mapping[str, Any],
    *,
    taxonomy: str | Path | Taxonomy | None = None,
    model: HumanFactorsClassifier | str | os.PathLike[str] | bool | None = None,
    rules: RuleSet | bool | None = None,
    redact: bool = True,
    checks: bool = True,
) -> Analysis:
    """Analyse one report with redaction, rules, the classifier and quality checks.

    Parameters are those of :class:`Analyser`; for many reports build an ``Analyser``
    once or use :func:`analyse_many`.

    Examples
    --------
    >>> from humanfactors import analyse
    >>> result = analyse("I forgot to send the referral because I was covering three caseloads.",
    ...                  model=False)
    >>> "ERR.LAPSE" in result.codes
    True
    """
    return _cached_analyser(taxonomy, model, rules, redact, checks).analyse(record)


_ANALYSERS: dict[tuple[Any, ...], Analyser] = {}


def _cached_analyser(taxonomy: Any, model: Any, rules: Any, redact: bool, checks: bool) -> Analyser:
    try:
        key = (
            taxonomy if not isinstance(taxonomy, Taxonomy) else taxonomy.fingerprint,
            model if isinstance(model, (str, bool, type(None), os.PathLike)) else id(model),
            rules if isinstance(rules, (bool, type(None))) else id(rules),
            redact,
            checks,
        )
        hash(key)
    except TypeError:
        return Analyser(taxonomy=taxonomy, model=model, rules=rules, redact=redact, checks=checks)
    found = _ANALYSERS.get(key)
    if (
        found is None
        or (
            not isinstance(model, (str, bool, type(None), os.PathLike)) and found.model is not model
        )
        or (not isinstance(rules, (bool, type(None))) and found.rules is not rules)
    ):
        found = Analyser(taxonomy=taxonomy, model=model, rules=rules, redact=redact, checks=checks)
        if len(_ANALYSERS) > 8:
            _ANALYSERS.clear()
        _ANALYSERS[key] = found
    return found


# -- many reports -------------------------------------------------------------------
Item = tuple[int | None, object]


def _redact_values(redactor: Any, value: Any) -> Any:
    """``value`` with every string in it redacted (mappings and lists walked through)."""
    if isinstance(value, str):
        return redactor.redact(value).text if value.strip() else value
    if isinstance(value, dict):
        return {k: _redact_values(redactor, v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(redactor, v) for v in value]
    return value


def _numbered(records: Iterable[object]) -> Iterator[Item]:
    """(line, record) pairs; pairs from :func:`humanfactors.io.iter_records` pass through.

    So does any ``(number, record)`` pair, such as :func:`enumerate` gives; a number
    below 1 is no line number, and an error record then names none.
    """
    for i, rec in enumerate(records, start=1):
        if (
            isinstance(rec, tuple)
            and len(rec) == 2
            and isinstance(rec[0], int)
            and not isinstance(rec[0], bool)
            and rec[0] >= 0
        ):
            yield rec[0], rec[1]
        else:
            yield i, rec


def _safe_id(record: object) -> str | None:
    if isinstance(record, Incident):
        return record.id
    if isinstance(record, Mapping):
        value = record.get("id")
        return str(value)[:256] if isinstance(value, (str, int)) else None
    return None


def _error_for(exc: BaseException, line: int | None, record: object) -> RecordError:
    reason = describe_failure(exc)
    if line is not None and line < 1:
        line = None
    prefix = f"line {line}: " if line is not None else ""
    return RecordError(id=_safe_id(record), line=line, error=prefix + reason)


def _analyse_chunk(analyser: Analyser, chunk: list[Item]) -> list[Analysis | RecordError]:
    out: list[Analysis | RecordError | None] = [None] * len(chunk)
    good: list[tuple[int, Incident]] = []
    for k, (line, rec) in enumerate(chunk):
        if isinstance(rec, RecordError):
            out[k] = rec
            continue
        try:
            good.append((k, _coerce(rec)))
        except Exception as exc:
            out[k] = _error_for(exc, line, rec)
    if good:
        try:
            results = analyser.analyse_batch([inc for _, inc in good])
            for (k, _), res in zip(good, results, strict=True):
                out[k] = res
        except Exception:
            for k, inc in good:  # isolate the failing record(s)
                try:
                    out[k] = analyser.analyse(inc)
                except Exception as exc:
                    out[k] = _error_for(exc, chunk[k][0], inc)
    return [o for o in out if o is not None]


# Worker processes keep one Analyser per configuration: the model is loaded once.
_WORKER_ANALYSERS: dict[tuple[Any, ...], Analyser] = {}


def _worker(config: tuple[Any, ...], chunk: list[Item]) -> list[Wire]:
    analyser = _WORKER_ANALYSERS.get(config)
    if analyser is None:
        taxonomy, model_path, rules, redact, checks = config
        analyser = Analyser(
            taxonomy=taxonomy, model=model_path, rules=rules, redact=redact, checks=checks
        )
        _WORKER_ANALYSERS[config] = analyser
    results = _analyse_chunk(analyser, chunk)  # one per item, in order
    return [_to_wire(res, line) for res, (line, _) in zip(results, chunk, strict=True)]


# Analyses travel back from the workers as JSON: the parent reads one with pydantic's
# compiled validator in about a quarter of the time unpickling its objects takes, and the
# parent's time is what two workers on two cores wait for.
_SERIALIZER = Analysis.__pydantic_serializer__
Wire = tuple[int | None, bytes] | Analysis | RecordError


def _to_wire(result: Analysis | RecordError, line: int | None) -> Wire:
    """An analysis as (line, JSON bytes) where JSON carries it unchanged; else as is."""
    if isinstance(result, RecordError) or not _json_exact(result.incident.metadata):
        return result
    try:
        return line, _SERIALIZER.to_json(result)
    except Exception:  # pragma: no cover - pickled instead, never lost
        return result


def _json_exact(value: object) -> bool:
    """Whether JSON keeps a metadata value as it is (it writes NaN and infinity as null)."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_json_exact(v) for v in value.values())
    if isinstance(value, list):
        return all(_json_exact(v) for v in value)
    return True


def _from_wire(item: Wire) -> Analysis | RecordError:
    if not isinstance(item, tuple):
        return item
    line, blob = item
    try:
        return Analysis.model_validate_json(blob)
    except Exception as exc:  # a result the parent cannot read is an error record
        try:
            rid = json.loads(blob)["incident"]["id"]
        except Exception:
            rid = None
        prefix = f"line {line}: " if line is not None else ""
        reason = (
            f"{prefix}the analysis could not be read back from its worker process"
            f" ({type(exc).__name__})"
        )
        return RecordError(id=rid if isinstance(rid, str) else None, line=line, error=reason)


def _chunks(items: Iterator[Item], size: int) -> Iterator[list[Item]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def analyse_many(
    records: Iterable[object],
    *,
    taxonomy: str | Path | Taxonomy | None = None,
    model: HumanFactorsClassifier | str | os.PathLike[str] | bool | None = None,
    rules: RuleSet | bool | None = None,
    redact: bool = True,
    checks: bool = True,
    n_jobs: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> Iterator[Analysis | RecordError]:
    """Analyse a stream of reports; yields one result per input, in input order.

    Parameters
    ----------
    records : iterable
        Strings, mappings, Incidents, or ``(line, Incident | RecordError)`` pairs as
        :func:`humanfactors.io.iter_records` yields them. Consumed lazily.
    n_jobs : int
        Worker processes (joblib, loky backend); ``-1`` for all cores. Each worker loads
        the model once; only text travels between processes.
    batch_size : int
        Reports per task; memory holds about ``2 * n_jobs`` batches at a time.

    Yields
    ------
    Analysis or RecordError
        Exactly one per input record, in input order: the count in equals the count out.
        If iterating ``records`` itself raises, every record read before has its result
        yielded first, then that exception is raised.
    """
    # checked at the call, not at the first result: a generator body would wait
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise InputError(f"n_jobs must be a positive integer or -1, got {n_jobs!r}")
    if isinstance(records, str | bytes | Mapping | Incident) or not isinstance(records, Iterable):
        raise InputError(
            f"records must be an iterable of reports, got one {type(records).__name__}; "
            "use analyse() for a single report, or wrap it in a list"
        )
    return _analyse_stream(
        records, taxonomy, model, rules, redact, checks, n_jobs, batch_size
    )


def _analyse_stream(
    records: Iterable[object],
    taxonomy: Any,
    model: Any,
    rules: Any,
    redact: bool,
    checks: bool,
    n_jobs: int,
    batch_size: int,
) -> Iterator[Analysis | RecordError]:
    items = _Guarded(_numbered(records))
    if n_jobs == 1:
        analyser = _cached_analyser(taxonomy, model, rules, redact, checks)
        for chunk in _chunks(items, batch_size):
            yield from _analyse_chunk(analyser, chunk)
    else:
        yield from _analyse_parallel(
            items, taxonomy, model, rules, redact, checks, n_jobs, batch_size
        )
    if items.error is not None:
        # every record read before the input failed has had its result: now the failure
        raise items.error


class _Guarded(Iterator[Item]):
    """The input, ending where it raises; the exception is kept to be raised once every
    record read before it has been analysed (a batch never loses those)."""

    def __init__(self, items: Iterator[Item]) -> None:
        self._items = items
        self.error: BaseException | None = None

    def __next__(self) -> Item:
        if self.error is not None:
            raise StopIteration
        try:
            return next(self._items)
        except StopIteration:
            raise
        except Exception as exc:
            self.error = exc
            raise StopIteration from None


def _analyse_parallel(
    items: Iterator[Item],
    taxonomy: Any,
    model: Any,
    rules: Any,
    redact: bool,
    checks: bool,
    n_jobs: int,
    batch_size: int,
) -> Iterator[Analysis | RecordError]:
    from joblib import Parallel, delayed

    tax = load_taxonomy(taxonomy)
    tmpdir = None
    if model is None and tax.name == "safeguarding":
        from ._default import default_predictor

        default_predictor()  # build the cache once here, not in every worker
        model_ref: Any = None
    elif model is None or model is False:
        model_ref = False
    elif isinstance(model, (str, os.PathLike)):
        model_ref = str(model)
    else:  # an in-memory model: ship it once through a file the workers load
        from .persistence import save_model

        tmpdir = tempfile.mkdtemp(prefix="humanfactors-")
        model_ref = os.path.join(tmpdir, "model.hfmodel")
        save_model(model, model_ref)
    config = (
        tax if taxonomy is not None and not isinstance(taxonomy, str) else taxonomy,
        model_ref,
        rules,
        redact,
        checks,
    )
    try:
        parallel = Parallel(
            n_jobs=n_jobs, backend="loky", return_as="generator", pre_dispatch="2*n_jobs"
        )
        for results in parallel(
            delayed(_worker)(config, chunk) for chunk in _chunks(items, batch_size)
        ):
            for item in results:
                yield _from_wire(item)
    finally:
        if tmpdir is not None:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)
