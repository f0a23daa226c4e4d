"""De-identification: find and replace personal identifiers in report text.

``redact(text)`` replaces people's names, addresses, postcodes, UK phone numbers,
emails, NHS and National Insurance numbers, dates of birth, case references, vehicle
registrations and user names with typed placeholders (``[PERSON_1]``, ``[PHONE_1]``),
the same placeholder for the same value throughout a text. :class:`Redactor` is
configurable: choose recognisers, add your own (subclass :class:`PatternRecognizer` or
:class:`Recognizer`), allow- and deny-lists, and keyed pseudonyms that are stable across
a batch. Roles, agencies, legislation, dates that are not birth dates, places and
already-anonymised references ("Child A") are kept, because learning needs them.

>>> from humanfactors.redact import redact
>>> redact("The child, Aaliyah (DOB 03/04/2015), told her teacher.").text
'The child, [PERSON_1] (DOB [DATE_OF_BIRTH_1]), told her teacher.'
"""

from __future__ import annotations

import sys as _sys
import types as _types

from ._addresses import AddressRecognizer
from ._base import Detection, Pattern, PatternRecognizer, Recognizer
from ._engine import (
    ENTITIES,
    PLACEHOLDER,
    DenyListRecognizer,
    RedactedText,
    Redactor,
    default_recognizers,
    redact,
    replace_spans,
)
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
    nhs_checksum_ok,
)
from ._names import PersonRecognizer

__all__ = [
    "ENTITIES",
    "PLACEHOLDER",
    "AddressRecognizer",
    "DateOfBirthRecognizer",
    "DenyListRecognizer",
    "Detection",
    "EmailRecognizer",
    "NhsNumberRecognizer",
    "NiNumberRecognizer",
    "Pattern",
    "PatternRecognizer",
    "PersonRecognizer",
    "PhoneRecognizer",
    "PostcodeRecognizer",
    "Recognizer",
    "RedactedText",
    "Redactor",
    "ReferenceNumberRecognizer",
    "UsernameRecognizer",
    "VehicleRegistrationRecognizer",
    "default_recognizers",
    "nhs_checksum_ok",
    "redact",
    "replace_spans",
]


class _CallableModule(_types.ModuleType):
    """``humanfactors.redact`` is both this package and the function ``redact``.

    Importing the submodule makes the package attribute ``humanfactors.redact`` this
    module, shadowing the top-level function of the same name; calling the module
    calls :func:`redact`, so ``humanfactors.redact(text)`` works either way.
    """

    def __call__(self, text: str, *, redactor: Redactor | None = None) -> RedactedText:
        return redact(text, redactor=redactor)


_sys.modules[__name__].__class__ = _CallableModule
