"""Exceptions raised by humanfactors.

Every error the library raises on purpose derives from :class:`HumanFactorsError`, and
each subclass also derives from the built-in type a caller would naturally catch, so
``except ValueError`` keeps working for code that does not know this library::

    HumanFactorsError
    ├── InputError(ValueError)            a record or file that cannot be used
    │   └── RecordValidationError         one record failed validation (names field and line)
    ├── TaxonomyError(ValueError)         a taxonomy or crosswalk file is invalid
    │   └── UnknownCodeError(KeyError)    a code or alias that the taxonomy does not have
    ├── RuleError(ValueError)             an invalid rule or rule file (names line and rule)
    ├── ModelError                        training or prediction problems
    │   └── ModelLoadError(ValueError)    a model file that is tampered, truncated or foreign
    ├── RedactionError(ValueError)        an impossible redaction span or configuration
    ├── StoreError(RuntimeError)          the incident store cannot do what was asked
    └── MissingDependencyError(ImportError)  an optional extra is not installed

Messages name the field, line, code or parameter at fault; they never quote the text of
a report, so an exception can be logged without leaking personal data.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = [
    "HumanFactorsError",
    "InputError",
    "MissingDependencyError",
    "ModelError",
    "ModelLoadError",
    "RecordValidationError",
    "RedactionError",
    "RuleError",
    "StoreError",
    "TaxonomyError",
    "UnknownCodeError",
    "describe_failure",
]


class HumanFactorsError(Exception):
    """Base class of every error raised by humanfactors."""

    def __str__(self) -> str:
        # KeyError quotes its argument; the message reads better plain.
        return str(self.args[0]) if self.args else self.__class__.__name__


class InputError(HumanFactorsError, ValueError):
    """A record, file or argument that cannot be used."""


class RecordValidationError(InputError):
    """One input record failed validation.

    Attributes
    ----------
    line : int or None
        1-based line (or row) number in the input, when known.
    record_id : str or None
        The record's id, when it could be read.
    """

    def __init__(self, message: str, *, line: int | None = None, record_id: str | None = None):
        super().__init__(message)
        self.line = line
        self.record_id = record_id


class TaxonomyError(HumanFactorsError, ValueError):
    """A taxonomy or crosswalk is invalid (names the file, the code and the problem)."""


class UnknownCodeError(TaxonomyError, KeyError):
    """A code or alias the taxonomy does not define; the message suggests near matches."""

    def __init__(self, code: str, taxonomy: str, candidates: Iterable[str] = ()):
        suggestions = difflib.get_close_matches(code, list(candidates), n=3, cutoff=0.5)
        if not suggestions:
            upper = code.upper()
            suggestions = [c for c in candidates if upper and upper in c.upper()][:3]
        hint = f"; did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(f"unknown code {code!r} in taxonomy {taxonomy!r}{hint}")
        self.code = code
        self.taxonomy = taxonomy
        self.suggestions = tuple(suggestions)


class RuleError(HumanFactorsError, ValueError):
    """An invalid rule, duplicate rule id or malformed rule file."""


class ModelError(HumanFactorsError):
    """Training or prediction cannot proceed."""


class ModelLoadError(ModelError, ValueError):
    """A model file failed verification: tampered, truncated, foreign or untrusted."""


class RedactionError(HumanFactorsError, ValueError):
    """An impossible redaction span or an invalid redactor configuration."""


class StoreError(HumanFactorsError, RuntimeError):
    """The incident store cannot complete the operation."""


class MissingDependencyError(HumanFactorsError, ImportError):
    """An optional dependency is missing; the message gives the ``pip install`` line."""

    def __init__(self, package: str, extra: str, feature: str):
        super().__init__(
            f"{feature} needs the optional dependency {package!r}: "
            f"pip install 'humanfactors[{extra}]'"
        )
        self.package = package
        self.extra = extra


def require(module: str, *, extra: str, feature: str) -> object:
    """Import an optional dependency or raise :class:`MissingDependencyError`."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise MissingDependencyError(module.split(".")[0], extra, feature) from exc


def describe_failure(exc: BaseException) -> str:
    """Why one record failed, for an error record: the field and the problem, never the
    record's text (the library's own messages are safe; anything else is named by type).
    """
    if isinstance(exc, HumanFactorsError):
        return str(exc)
    errors = getattr(exc, "errors", None)
    if callable(errors):  # pydantic's ValidationError, whose input is never shown
        try:
            first = errors(include_input=False, include_url=False)[0]
            parts = [str(p) for p in first["loc"]]
            loc = ".".join(parts[:4]) + (".…" if len(parts) > 4 else "")
            msg = str(first["msg"]).removeprefix("Value error, ")
            # a check across fields (such as the order of two dates) names no one field
            return f"field {loc!r}: {msg}" if loc else msg
        except Exception:  # pragma: no cover - not pydantic's errors() after all
            pass
    if isinstance(exc, RecursionError):
        return "record nested too deeply"
    if isinstance(exc, UnicodeError):
        return "text cannot be written as UTF-8 (a lone surrogate such as \\ud800)"
    return f"internal error ({type(exc).__name__})"

