"""Recognisers for structured UK identifiers: NHS and NI numbers, phones, emails,
postcodes, dates of birth, case references, vehicle registrations and user names."""

from __future__ import annotations

import re
from typing import ClassVar

from ._base import Pattern, PatternRecognizer

__all__ = [
    "DateOfBirthRecognizer",
    "EmailRecognizer",
    "NhsNumberRecognizer",
    "NiNumberRecognizer",
    "PhoneRecognizer",
    "PostcodeRecognizer",
    "ReferenceNumberRecognizer",
    "UsernameRecognizer",
    "VehicleRegistrationRecognizer",
]

_NOT_BEFORE = r"(?<![\w+/.\-])"  # not glued to a longer token
_NOT_AFTER = r"(?![\w/]|[.\-]\d)"


def nhs_checksum_ok(digits: str) -> bool:
    """Whether a 10-digit string passes the NHS number modulus-11 check.

    Examples
    --------
    >>> nhs_checksum_ok("9434765919"), nhs_checksum_ok("9434765918")
    (True, False)
    """
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


class NhsNumberRecognizer(PatternRecognizer):
    """NHS numbers: ten digits (3-3-4 or unbroken); the modulus-11 check raises the score.

    A grouped number that fails the check is still redacted (a mistyped NHS number still
    identifies), at a lower score; an unbroken ten-digit run needs the check or the word
    "NHS" before it.
    """

    name = "nhs_number"
    entity = "NHS_NUMBER"
    requires = r"\d"
    reach = 20
    patterns = (
        Pattern("grouped", _NOT_BEFORE + r"\d{3}[ \-]\d{3}[ \-]\d{4}" + _NOT_AFTER, 0.45),
        Pattern("unbroken", _NOT_BEFORE + r"\d{10}" + _NOT_AFTER, 0.2),
    )
    context = ("nhs", "nhs no", "nhs number", "nhs#")

    def validate_result(self, value: str) -> bool | None:
        return True if nhs_checksum_ok(re.sub(r"\D", "", value)) else None


class NiNumberRecognizer(PatternRecognizer):
    """National Insurance numbers: two letters, six digits, a suffix A-D (spaces allowed)."""

    name = "ni_number"
    entity = "NI_NUMBER"
    requires = r"\d"
    reach = 20
    patterns = (
        Pattern("full", _NOT_BEFORE + r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]" + _NOT_AFTER, 0.85),
        Pattern("no_suffix", _NOT_BEFORE + r"[A-Z]{2} ?\d{2} ?\d{2} ?\d{2}" + _NOT_AFTER, 0.1),
    )
    context = ("ni", "nino", "national insurance", "ni number", "ni no")

    _BAD_PREFIX: ClassVar[frozenset[str]] = frozenset({"BG", "GB", "NK", "KN", "TN", "NT", "ZZ"})

    def validate_result(self, value: str) -> bool | None:
        prefix = value[:2]
        if value[-1].isdigit():
            return None  # no suffix letter: only a context word makes it an NI number
        if prefix in self._BAD_PREFIX:
            return None
        if prefix[0] in "DFIQUV" or prefix[1] in "DFIOQUV":
            return None  # not issued (QQ is HMRC's example prefix): keep the base score
        return True


class PhoneRecognizer(PatternRecognizer):
    """UK telephone numbers: landlines, mobiles, freephone, with 0, +44 or 0044."""

    name = "phone"
    entity = "PHONE"
    requires = r"\d"
    reach = 25
    _PREFIX = r"(?:(?:\+|00)\s?44\s?(?:\(0\)\s?)?|0)"
    _SEP = r"[ .\-]?"
    _BODIES = (
        rf"7\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{3}}",
        rf"[1-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}",
        rf"[1-9]\d{{2}}{_SEP}\d{{3}}{_SEP}\d{{4}}",
        rf"[1-9]\d{{3}}{_SEP}\d{{3}}{_SEP}\d{{3,4}}",
        rf"[1-9]\d{{3}}{_SEP}\d{{5,6}}",
        rf"[1-9]\d{{4}}{_SEP}\d{{4,5}}",
    )
    patterns = (
        Pattern(
            "uk",
            r"(?<![\w+])" + _PREFIX + "(?:" + "|".join(_BODIES) + r")(?![\w]|[.\-]?\d)",
            0.7,
        ),
        Pattern(
            "bracketed",
            r"(?<![\w+])\(0[1-9]\d{1,3}\)\s?\d{3,4}[ .\-]?\d{3,4}(?![\w]|[.\-]?\d)",
            0.75,
        ),
    )
    context = (
        "tel",
        "telephone",
        "phone",
        "mobile",
        "mob",
        "number",
        "call",
        "called",
        "rang",
        "ring",
        "text",
        "texted",
        "contact",
        "landline",
        "whatsapp",
    )

    def validate_result(self, value: str) -> bool | None:
        digits = re.sub(r"\D", "", value)
        national = digits[2:] if digits.startswith("44") else digits[1:]
        if national.startswith("0"):  # +44 (0)20 ...
            national = national[1:]
        return None if len(national) in (9, 10) else False


class EmailRecognizer(PatternRecognizer):
    """Email addresses."""

    name = "email"
    entity = "EMAIL"
    requires = "@"
    reach = 80
    patterns = (
        Pattern(
            "address",
            r"(?<![\w.+%'\-])[A-Za-z0-9][A-Za-z0-9._%+'\-]*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![\w@])",
            0.95,
        ),
    )


class PostcodeRecognizer(PatternRecognizer):
    """Full UK postcodes (outward and inward code), upper or lower case."""

    name = "postcode"
    entity = "POSTCODE"
    requires = r"\d"
    reach = 10
    patterns = (
        Pattern(
            "full",
            r"(?<![\w\-/])(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?|GIR) ?\d[ABD-HJLNP-UW-Z]{2}(?![\w\-/])",
            0.9,
            re.I,
        ),
    )

    def validate_result(self, value: str) -> bool | None:
        letters = "".join(c for c in value if c.isalpha())
        if not (letters.isupper() or letters.islower()):
            return False  # "Mr1 2ab" style mixed case is not a postcode
        if letters.islower() and " " not in value:
            return False  # unspaced lower-case runs are too often other tokens
        return None


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
_DAY = r"(?:[0-2]?\d|3[01])(?:st|nd|rd|th)?"
DATE = (
    r"(?:\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{4}|\d{2})"
    r"|\d{4}-\d{2}-\d{2}"
    rf"|{_DAY}\s+(?:of\s+)?{_MONTH},?\s+\d{{4}}"
    rf"|{_MONTH}\s+{_DAY},?\s+\d{{4}}"
    rf"|{_MONTH}\s+\d{{4}}"
    r")(?![\w/])"
)


# Every birth word ("dob", "d.o.b", "date of birth", "born", "birthday") contains one
# of these, in lower case; case-insensitive matching also pairs i with the dotless i,
# and the capital dotted I lower-cases to i plus a combining dot.
_BIRTH_WORDS = ("dob", "d.ob", "do.b", "d.o.b", "born", "birth", "b\u0131rth", "bi\u0307rth")


class DateOfBirthRecognizer(PatternRecognizer):
    """Dates of birth: a date after "DOB", "date of birth", "born (on)", "d.o.b." or "b."."""

    name = "date_of_birth"
    entity = "DATE_OF_BIRTH"
    requires = r"\d"
    reach = 120
    patterns = (
        Pattern(
            "after_birth_word",
            r"(?:\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth\b|\bborn\b|\bbirthday\b|(?<![\w.])b\.)"
            r"(?:[\s:,.(\[\-–]|\bis\b|\bwas\b|\bgiven\b|\brecorded\b|\bas\b|\bon\b|\bof\b|\bin\b){0,8}?"
            r"(?P<value>" + DATE + ")",
            0.9,
            re.I,
            needs=(*_BIRTH_WORDS, "b."),
        ),
        Pattern(
            "corrected_date",
            r"(?:\bd\.?o\.?b\b\.?|\bdate\s+of\s+birth\b|\bborn\b|\bbirthday\b)[^.\n]{0,40}?"
            + DATE
            + r"\s*(?:,\s*)?(?:instead\s+of|rather\s+than|not|or|and|but"
            r"|corrected\s+to|changed\s+to)"
            r"\s+(?:the\s+)?(?:correct\s+|right\s+|actual\s+)?(?P<value>" + DATE + ")",
            0.85,
            re.I,
            needs=_BIRTH_WORDS,
        ),
    )


class ReferenceNumberRecognizer(PatternRecognizer):
    """Case, crime, log and system references ("LL123456", "case no. 2023/0456")."""

    name = "reference_number"
    entity = "REFERENCE"
    requires = r"\d"
    reach = 60
    patterns = (
        Pattern("letters_digits", _NOT_BEFORE + r"[A-Z]{1,4}\d{5,12}" + _NOT_AFTER, 0.6),
        Pattern(
            "after_label",
            r"\b(?:case|client|child|person|crime|incident|log|police|crn|urn|upn|uln|ref"
            r"|reference|id|mosaic|lcs|ehm|liquidlogic|record|file|docket|claim)"
            r"(?:\s+(?:number|no|num|ref|reference|id|#))?\s*[.:#]?\s*(?:(?:is|was)\s+)?"
            r"(?P<value>[A-Z0-9][A-Z0-9/\-]*\d[A-Z0-9/\-]*)(?![\w/])",
            0.6,
            re.I,
        ),
    )

    def validate_result(self, value: str) -> bool | None:
        digits = sum(c.isdigit() for c in value)
        if digits < 4:
            return False
        if re.fullmatch(r"(?:19|20)\d\d", value) or re.fullmatch(
            r"\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}", value
        ):
            return False  # a year or a date, not a reference
        return None


class VehicleRegistrationRecognizer(PatternRecognizer):
    """Current-format UK vehicle registrations ("AB12 CDE")."""

    name = "vehicle_registration"
    entity = "VEHICLE_REGISTRATION"
    requires = r"\d"
    reach = 10
    patterns = (Pattern("current", _NOT_BEFORE + r"[A-Z]{2}\d{2} ?[A-Z]{3}" + _NOT_AFTER, 0.75),)


class UsernameRecognizer(PatternRecognizer):
    """Social-media handles ("@kirsty_x")."""

    name = "username"
    entity = "USERNAME"
    requires = "@"
    reach = 80
    patterns = (
        Pattern(
            "handle",
            r"(?<![\w@.\]])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,28}[A-Za-z0-9_])?(?![\w@])",
            0.8,
        ),
    )
