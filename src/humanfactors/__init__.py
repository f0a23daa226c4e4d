"""humanfactors: human-factors analysis of incident and near-miss reports.

Reads free-text reports and says, with evidence, which human factors were at work
(slips, lapses, mistakes, violations, groupthink, authority gradients, fixed views of a
family, workload, staffing, information sharing) and what went well; checks that a
report is analytical and free of blame and personal data; redacts identifiers; and
pools findings into themes.

Importing the package is cheap: the public names below load their modules (and
scikit-learn) on first use.

>>> import humanfactors
>>> humanfactors.load_taxonomy()["ERR.LAPSE"].name
'Lapse'
"""

import importlib as _importlib
import typing as _typing

from ._version import __version__

# Public name -> module that defines it. One line per name, sorted by name.
_LAZY: dict[str, str] = {
    "Analysis": "humanfactors.models",
    "CodedIncident": "humanfactors.models",
    "Crosswalk": "humanfactors.taxonomy",
    "EvaluationReport": "humanfactors.evaluate",
    "EventType": "humanfactors.models",
    "Evidence": "humanfactors.models",
    "Factor": "humanfactors.taxonomy",
    "Finding": "humanfactors.models",
    "Harm": "humanfactors.models",
    "HumanFactorsClassifier": "humanfactors.classifier",
    "HumanFactorsError": "humanfactors.exceptions",
    "Incident": "humanfactors.models",
    "IncidentStore": "humanfactors.store",
    "InputError": "humanfactors.exceptions",
    "LabelModel": "humanfactors.weak",
    "MissingDependencyError": "humanfactors.exceptions",
    "ModelError": "humanfactors.exceptions",
    "ModelLoadError": "humanfactors.exceptions",
    "QualityIssue": "humanfactors.models",
    "RecordError": "humanfactors.models",
    "RecordValidationError": "humanfactors.exceptions",
    "RedactedText": "humanfactors.redact",
    "RedactionError": "humanfactors.exceptions",
    "RedactionSpan": "humanfactors.models",
    "Redactor": "humanfactors.redact",
    "Rule": "humanfactors.rules",
    "RuleError": "humanfactors.exceptions",
    "RuleSet": "humanfactors.rules",
    "SentenceEvidenceClassifier": "humanfactors.sentence_model",
    "Severity": "humanfactors.models",
    "Source": "humanfactors.models",
    "StoreError": "humanfactors.exceptions",
    "Taxonomy": "humanfactors.taxonomy",
    "TaxonomyError": "humanfactors.exceptions",
    "UnknownCodeError": "humanfactors.exceptions",
    "analyse": "humanfactors.pipeline",
    "analyse_frame": "humanfactors.frames",
    "analyse_many": "humanfactors.pipeline",
    "audit_labels": "humanfactors.audit",
    "check": "humanfactors.rules",
    "coder_agreement": "humanfactors.agreement",
    "cross_validate": "humanfactors.evaluate",
    "default_model": "humanfactors._default",
    "default_predictor": "humanfactors._default",
    "evaluate_predictions": "humanfactors.evaluate",
    "iter_records": "humanfactors.io",
    "json_schema": "humanfactors.models",
    "list_taxonomies": "humanfactors.taxonomy",
    "load_corpus": "humanfactors.corpus",
    "load_crosswalk": "humanfactors.taxonomy",
    "load_labelled": "humanfactors.io",
    "load_model": "humanfactors.persistence",
    "load_taxonomy": "humanfactors.taxonomy",
    "save_model": "humanfactors.persistence",
    "suggest_next": "humanfactors.suggest",
    "write_jsonl": "humanfactors.io",
}

# Written out (not computed from `_LAZY`) so linters and type checkers can read it;
# tests/test_public_api.py checks that it is sorted and matches `_LAZY`.
__all__ = [
    "Analysis",
    "CodedIncident",
    "Crosswalk",
    "EvaluationReport",
    "EventType",
    "Evidence",
    "Factor",
    "Finding",
    "Harm",
    "HumanFactorsClassifier",
    "HumanFactorsError",
    "Incident",
    "IncidentStore",
    "InputError",
    "LabelModel",
    "MissingDependencyError",
    "ModelError",
    "ModelLoadError",
    "QualityIssue",
    "RecordError",
    "RecordValidationError",
    "RedactedText",
    "RedactionError",
    "RedactionSpan",
    "Redactor",
    "Rule",
    "RuleError",
    "RuleSet",
    "SentenceEvidenceClassifier",
    "Severity",
    "Source",
    "StoreError",
    "Taxonomy",
    "TaxonomyError",
    "UnknownCodeError",
    "__version__",
    "analyse",
    "analyse_frame",
    "analyse_many",
    "audit_labels",
    "check",
    "coder_agreement",
    "cross_validate",
    "default_model",
    "default_predictor",
    "evaluate_predictions",
    "iter_records",
    "json_schema",
    "list_taxonomies",
    "load_corpus",
    "load_crosswalk",
    "load_labelled",
    "load_model",
    "load_taxonomy",
    "save_model",
    "suggest_next",
    "write_jsonl",
]


def __getattr__(name: str) -> _typing.Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'humanfactors' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


if _typing.TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from ._default import default_model, default_predictor
    from .agreement import coder_agreement
    from .audit import audit_labels
    from .classifier import HumanFactorsClassifier
    from .corpus import load_corpus
    from .evaluate import EvaluationReport, cross_validate, evaluate_predictions
    from .exceptions import (
        HumanFactorsError,
        InputError,
        MissingDependencyError,
        ModelError,
        ModelLoadError,
        RecordValidationError,
        RedactionError,
        RuleError,
        StoreError,
        TaxonomyError,
        UnknownCodeError,
    )
    from .frames import analyse_frame
    from .io import iter_records, load_labelled, write_jsonl
    from .models import (
        Analysis,
        CodedIncident,
        EventType,
        Evidence,
        Finding,
        Harm,
        Incident,
        QualityIssue,
        RecordError,
        RedactionSpan,
        Severity,
        Source,
        json_schema,
    )
    from .persistence import load_model, save_model
    from .pipeline import analyse, analyse_many
    from .redact import RedactedText, Redactor
    from .rules import Rule, RuleSet, check
    from .sentence_model import SentenceEvidenceClassifier
    from .store import IncidentStore
    from .suggest import suggest_next
    from .taxonomy import (
        Crosswalk,
        Factor,
        Taxonomy,
        list_taxonomies,
        load_crosswalk,
        load_taxonomy,
    )
    from .weak import LabelModel
