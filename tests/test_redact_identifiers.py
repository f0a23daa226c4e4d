"""Table-driven tests for the structured-identifier recognisers."""

from __future__ import annotations

import pytest

from humanfactors.redact import (
    DateOfBirthRecognizer,
    EmailRecognizer,
    NhsNumberRecognizer,
    NiNumberRecognizer,
    PhoneRecognizer,
    PostcodeRecognizer,
    Redactor,
    ReferenceNumberRecognizer,
    UsernameRecognizer,
    VehicleRegistrationRecognizer,
    nhs_checksum_ok,
)


def found(recognizer: object, text: str, threshold: float = 0.4) -> list[str]:
    r = Redactor(recognizers=[recognizer], threshold=threshold)  # type: ignore[list-item]
    return [text[s.start : s.end] for s in r.redact(text).spans]


@pytest.mark.parametrize(
    "digits, ok",
    [
        ("9434765919", True),
        ("9434765918", False),
        ("1924270498", True),
        ("123456789", False),
        ("abcdefghij", False),
        ("0000000000", True),
    ],
)
def test_nhs_checksum(digits: str, ok: bool) -> None:
    assert nhs_checksum_ok(digits) is ok


@pytest.mark.parametrize(
    "text, expected",
    [
        ("NHS number 943 476 5919 recorded", ["943 476 5919"]),
        ("nhs no: 9434765919.", ["9434765919"]),
        ("number 943-476-5919", ["943-476-5919"]),
        ("her NHS number 123 456 7890 (mistyped)", ["123 456 7890"]),  # context, bad checksum
        ("the ref 1234567890 was used", []),  # unbroken, bad checksum, no context
        ("in 2019 and 2020", []),
        ("9434765919", ["9434765919"]),  # valid checksum, no context
    ],
)
def test_nhs_number(text: str, expected: list[str]) -> None:
    assert found(NhsNumberRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("NI number QQ 12 34 56 C.", ["QQ 12 34 56 C"]),
        ("NINO AB123456C", ["AB123456C"]),
        ("national insurance JT 45 67 89", ["JT 45 67 89"]),
        ("the form AB123456 was lost", []),
        ("Section 47 of the Children Act 1989", []),
    ],
)
def test_ni_number(text: str, expected: list[str]) -> None:
    assert found(NiNumberRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("call 07700 900123 today", ["07700 900123"]),
        ("mobile 07700900123.", ["07700900123"]),
        ("ring 0161 496 0000 or", ["0161 496 0000"]),
        ("tel: 020 7946 0872", ["020 7946 0872"]),
        ("on +44 7700 900 123", ["+44 7700 900 123"]),
        ("+44 (0)20 7946 0872", ["+44 (0)20 7946 0872"]),
        ("(01632) 960123", ["(01632) 960123"]),
        ("01632 960 123", ["01632 960 123"]),
        ("0800-123-4567", ["0800-123-4567"]),
        ("dial 999 or 111", []),
        ("on 01/02/2023 at 09:30", []),
        ("aged 07 years", []),
    ],
)
def test_phone(text: str, expected: list[str]) -> None:
    assert found(PhoneRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("email sara.whitfield@example.org.", ["sara.whitfield@example.org"]),
        ("(ola.adebayo-king@example.co.uk)", ["ola.adebayo-king@example.co.uk"]),
        ("r.hussain.home@example.com, then", ["r.hussain.home@example.com"]),
        ("an @ sign alone", []),
    ],
)
def test_email(text: str, expected: list[str]) -> None:
    assert found(EmailRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Cobden Court, B19 3QT, which", ["B19 3QT"]),
        ("SE15 4RW.", ["SE15 4RW"]),
        ("at EC1A 1BB and W1A 0AX", ["EC1A 1BB", "W1A 0AX"]),
        ("lower case m1 1aa too", ["m1 1aa"]),
        ("postcode E97QT", ["E97QT"]),
        ("the B19 area", []),
        ("Mixed Ab1 2cD", []),
    ],
)
def test_postcode(text: str, expected: list[str]) -> None:
    assert found(PostcodeRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Aaliyah (DOB 03/04/2015)", ["03/04/2015"]),
        ("D.O.B.: 3.4.15", ["3.4.15"]),
        ("date of birth is 11/03/2016", ["11/03/2016"]),
        ("born on 3 April 2015", ["3 April 2015"]),
        ("born 3rd of April, 2015", ["3rd of April, 2015"]),
        ("was born in March 2019", ["March 2019"]),
        ("birthday is April 3, 2015", ["April 3, 2015"]),
        ("recorded DOB as 03/11/2016 instead of 11/03/2016.", ["03/11/2016", "11/03/2016"]),
        ("the visit on 03/04/2015 went well", []),
        ("born in 2015", []),
    ],
)
def test_date_of_birth(text: str, expected: list[str]) -> None:
    assert found(DateOfBirthRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("case LL123456 was", ["LL123456"]),
        ("crime number 23/45678/22", ["23/45678/22"]),
        ("Mosaic ID 1234567.", ["1234567"]),
        ("police log 0456", ["0456"]),
        ("a case conference in 2023", []),
        ("Section 47 enquiry", []),
    ],
)
def test_reference(text: str, expected: list[str]) -> None:
    assert found(ReferenceNumberRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("a silver car, AB12 CDE, outside", ["AB12 CDE"]),
        ("reg YX67ABC.", ["YX67ABC"]),
        ("the B19 area", []),
    ],
)
def test_vehicle(text: str, expected: list[str]) -> None:
    assert found(VehicleRegistrationRecognizer(), text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("Snapchat @kirsty_x2 sent", ["@kirsty_x2"]), ("an email a@b.com", []), ("@ noon", [])],
)
def test_username(text: str, expected: list[str]) -> None:
    assert found(UsernameRecognizer(), text) == expected
