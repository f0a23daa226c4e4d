"""Street addresses, flat numbers and named buildings."""

from __future__ import annotations

import re

from ._base import Pattern, PatternRecognizer

__all__ = ["AddressRecognizer"]

_SUFFIX = (
    r"(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Close|Cl|Drive|Crescent|Cres|Gardens|Gdns|Grove"
    r"|Place|Pl|Terrace|Row|Rise|Walk|Court|Ct|Square|Sq|Hill|View|Park|Mews|Green|Parade|Vale"
    r"|Way|Wharf|Yard|Gate|Fields|Meadows?|Croft|Brow|Bank|Heights|Drove|Chase|Path|Boulevard"
    r"|Embankment|Quay|Circus|Wynd|Fold|Garth|Lea|Nook|Approach|Oval|Dene|Glade|Grange"
    r"|Hollow|Orchard|Passage|Precinct|Ridge|Spur|Villas|Cottages|Estate)\b"
)
_BUILDING = (
    r"(?:House|Court|Lodge|Mansions|Tower|Towers|Heights|Point|Building|Buildings|Block"
    r"|Hall|Apartments|Chambers|Villas|Cottages|Cottage|Farm|Manor|Mill|Works|Wharf)\b"
)
_CAPWORD = r"(?:[A-Z][\w'’]*(?:-[A-Za-z][\w'’]*)*)"
_NOT_ORG = (
    r"(?!(?:Family|Crown|Magistrates'?|Youth|County|Civil|Combined|Coroner['’]?s|High|Supreme"
    r"|Appeal)\s+Court\b)"
)
# Welsh streets put the street word first: "Heol y Felin", "Ffordd yr Eglwys", "Stryd Fawr"
_WELSH_WORD = r"(?:Heol|Ffordd|Stryd|Lôn|Lon|Rhodfa|Cilgant|Teras|Clos|Llys|Cwrt|Rhes|Gerddi)"
_WELSH_STREET = (
    rf"{_WELSH_WORD}(?:\s+(?:(?:y|yr|['’]r|ar|o)\s+)?{_CAPWORD}){{1,3}}"
    r"(?![\w'’])"
)
_STREET = rf"(?:{_NOT_ORG}(?:{_CAPWORD}\s+){{1,3}}{_SUFFIX}|{_WELSH_STREET})"
_NUMBER = r"\d{1,4}[A-Za-z]?(?:\s?[-–]\s?\d{1,4}[A-Za-z]?)?"
_FLAT = (
    r"(?:Flat|Apartment|Apt\.?|Unit|Room|Maisonette|Studio|Bedsit|Plot)"
    r"\s+(?:\d{1,4}[A-Za-z]?|[A-Z])\b"
)
_BUILDING_NAME = rf"(?:{_CAPWORD}\s+){{1,3}}{_BUILDING}"
# ", Truro" after a street, when the address line ends there or a postcode follows
_TOWN = (
    r"(?:,\s*[A-Z][a-z]+(?:[ \-](?:[A-Z][a-z]+|upon|on|under|le))*"
    r"(?=,?\s*[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b))?"
)


# Words one of which every match of a pattern contains (a fast test before the regex).
_WELSH_WORDS = tuple(_WELSH_WORD[3:-1].split("|"))
_SUFFIX_WORDS = (
    *(w.rstrip("?").rstrip("s") if w.endswith("?") else w for w in _SUFFIX[3:-3].split("|")),
    *_WELSH_WORDS,
)
_BUILDING_WORDS = tuple(_BUILDING[3:-3].split("|"))
_FLAT_WORDS = ("Flat", "Apartment", "Apt", "Unit", "Room", "Maisonette", "Studio", "Bedsit", "Plot")
_STREET_WORDS = (
    "Road",
    "Street",
    "Avenue",
    "Lane",
    "Close",
    "Drive",
    "Crescent",
    "Grove",
    "Terrace",
    "Gardens",
    "Mews",
    "Rise",
)

_GENERIC_STREETS = frozenset({"High", "Main", "Market", "Church", "Back", "Front", "Old", "New"})


class AddressRecognizer(PatternRecognizer):
    """UK street addresses: flat and house numbers, named buildings and streets.

    "Flat 4, Cobden Court", "Flat 3, 41 Tanner Row", "18 Coleridge Close", "14a High
    Street", "Marlowe House, Kestrel Road" and "5 Heol y Felin" (a Welsh street word comes
    first) are redacted up to the street; the town stays (places are kept for learning).
    A street name without a number ("lives on Kestrel Road") is redacted at a lower score.
    """

    name = "address"
    entity = "ADDRESS"
    patterns = (
        Pattern(
            "flat",
            rf"\b{_FLAT}(?:,?\s+{_BUILDING_NAME})?(?:,?\s+(?:{_NUMBER},?\s+)?{_STREET}{_TOWN})?",
            0.9,
            needs=_FLAT_WORDS,
        ),
        Pattern(
            "building_street",
            rf"(?:(?<![\w£$€.,/:]){_NUMBER},?\s+)?\b{_BUILDING_NAME},?\s+(?:{_NUMBER},?\s+)?"
            rf"{_STREET}{_TOWN}",
            0.8,
            needs=_BUILDING_WORDS,
        ),
        Pattern(
            "number_street",
            rf"(?<![\w£$€.,/:])(?:[Nn]o\.?\s*|[Nn]umber\s+)?{_NUMBER},?\s+{_STREET}{_TOWN}",
            0.85,
            needs=_SUFFIX_WORDS,
        ),
        Pattern(
            "street",
            rf"(?<![\w])(?!The\b){_NOT_ORG}(?:{_CAPWORD}\s+){{1,2}}"
            r"(?:Road|Street|Avenue|Lane|Close|Drive|Crescent|Grove|Terrace|Gardens|Mews|Rise)\b",
            0.5,
            needs=_STREET_WORDS,
        ),
        Pattern(
            "welsh_street",
            rf"(?<![\w]){_WELSH_STREET}",
            0.5,
            needs=_WELSH_WORDS,
        ),
    )
    context = (
        "address",
        "lives at",
        "living at",
        "lived at",
        "lives on",
        "living on",
        "lived on",
        "live on",
        "moved to",
        "resides",
        "home at",
        "flat",
        "house",
        "property",
        "tenancy",
    )

    def validate_result(self, value: str) -> bool | None:
        # a generic street alone ("the High Street branch") is not an address
        words = re.findall(r"[A-Za-z]+", value)
        if len(words) == 2 and words[0] in _GENERIC_STREETS and not re.search(r"\d", value):
            return False
        return None
