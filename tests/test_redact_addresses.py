"""Table-driven tests for the address recogniser."""

from __future__ import annotations

import pytest

from humanfactors.redact import AddressRecognizer, Redactor


def addresses(text: str) -> list[str]:
    r = Redactor(recognizers=[AddressRecognizer()])
    return [text[s.start : s.end] for s in r.redact(text).spans]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sent to Flat 4, Cobden Court, B19 3QT.", ["Flat 4, Cobden Court"]),
        ("at Flat 3, 41 Tanner Row, Leeds, with", ["Flat 3, 41 Tanner Row"]),
        ("Flat 6, Marlowe House, Kestrel Road and", ["Flat 6, Marlowe House, Kestrel Road"]),
        ("moved to 18 Coleridge Close.", ["18 Coleridge Close"]),
        ("lives at 14a High Street.", ["14a High Street"]),
        ("at 3 Mill Lane, Truro TR1 2XX.", ["3 Mill Lane, Truro"]),
        ("Flat 2, Mill House, 14 Canal Street", ["Flat 2, Mill House, 14 Canal Street"]),
        ("She lives on Kestrel Road now.", ["Kestrel Road"]),
        # a building name, then a street (with or without a house number before it)
        ("moved to Ashdown House, Pelham Road last year", ["Ashdown House, Pelham Road"]),
        ("at 12 Bramble Court, Tenter Street on Monday", ["12 Bramble Court, Tenter Street"]),
        ("Harcourt Lodge, 9 Mill Lane, was visited.", ["Harcourt Lodge, 9 Mill Lane"]),
        # Welsh streets: the street word comes first
        ("lives at 22 Ffordd yr Eglwys, Bangor, LL57 2PX.", ["22 Ffordd yr Eglwys, Bangor"]),
        ("moved to 3 Stryd Fawr in May", ["3 Stryd Fawr"]),
        ("She lives on Heol y Nant now.", ["Heol y Nant"]),
    ],
)
def test_addresses_found(text: str, expected: list[str]) -> None:
    assert addresses(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "The Family Court heard 3 Family Court cases.",
        "The High Street branch rang.",
        "I held 28 cases in January.",
        "Section 47 of the Children Act 1989.",
        "aged 4 at the Health Centre",
    ],
)
def test_not_addresses(text: str) -> None:
    assert addresses(text) == []
