"""Curated vocabulary the name recogniser must keep: roles, relations, agencies,
institutions, calendar words, acronyms and places common in safeguarding reports.

The large lists (names, English vocabulary) live in ``data/lexicon.json.gz``; these
short lists hold what that lexicon cannot know about the domain.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

__all__ = ["Lexicon", "lexicon", "looks_english"]


def _words(text: str) -> frozenset[str]:
    return frozenset(w.lower() for w in text.split())


TITLES = _words(
    """mr mrs ms miss mx dr ds dc di dci dsi dsu det pc wpc sgt sergeant inspector
    cllr councillor prof professor rev revd reverend judge hhj lord lady sir dame"""
)

RELATIONS = _words(
    """mum mummy mom mother dad daddy father stepdad stepfather stepmum stepmother step-dad
    step-mum step-father step-mother parent parents carer carers son daughter brother sister
    sibling siblings half-brother half-sister stepbrother stepsister baby babies child children
    infant toddler teenager boy girl youngster grandmother grandfather gran granny grandma
    grandad granddad grandpa nan nana nanna nanny grandparent grandparents aunt auntie aunty
    uncle cousin niece nephew partner ex-partner boyfriend girlfriend ex-boyfriend ex-girlfriend
    husband wife ex-husband ex-wife fiancé fiancée friend neighbour lodger guardian kinship"""
)

ROLES = _words(
    """worker social sw sws health visitor hv teacher headteacher head deputy dsl ddsl senco
    nurse midwife gp doctor paediatrician consultant officer manager practitioner senior
    supervisor student pupil assistant advisor adviser coordinator co-ordinator lead leader
    chair clerk solicitor barrister guardian iro lado therapist psychologist psychiatrist
    counsellor mentor tutor keyworker key caseworker receptionist administrator admin driver
    interpreter translator detective constable sergeant inspector paramedic clinician
    registrar sister matron chaplain imam vicar priest foster adopter adoptive residential
    staff colleague colleagues team member panel reviewer author independent designated
    named safeguarding"""
)

INSTITUTIONS = _words(
    """council authority services service department team hub front door mash police
    constabulary court courts hospital ward unit clinic centre center surgery practice
    school schools academy college primary secondary junior infants infant high grammar
    church chapel mosque temple gurdwara synagogue library station airport nursery university
    trust board partnership agency agencies office probation prison charity nhs ofsted cafcass
    camhs barnardo barnardos
    nspcc childline samaritans refuge women's aid shelter foodbank home homes house
    conference meeting meetings group plan plans order orders protection review reviews
    panel strategy assessment section act acts regulations guidance procedures procedure
    framework protocol policy children's adult adults early help family families care
    looked-after leaving youth offending justice emergency department a&e ambulance
    housing education health social mental public community local county borough city
    district region regional national government ministry department home-office
    system systems record records database portal form forms report reports letter letters
    mosaic liquidlogic eclipse ehm azeus capita carefirst paris rio emis systmone
    teams zoom whatsapp snapchat instagram tiktok facebook youtube twitter roblox fortnite
    xbox playstation google microsoft outlook excel word covid coronavirus lockdown
    christmas easter ramadan eid diwali hanukkah halloween bank holiday term half-term
    brexit muslim islam islamic christian catholic jewish hindu sikh buddhist law laws scheme
    syndrome disease inquiry roma romani traveller travellers gypsy"""
)

CALENDAR = _words(
    """monday tuesday wednesday thursday friday saturday sunday mon tue tues wed thu thur thurs
    fri sat sun january february march april may june july august september october november
    december jan feb mar apr jun jul aug sep sept oct nov dec today yesterday tomorrow
    morning afternoon evening night week weekend month year spring summer autumn winter eve"""
)

ACRONYMS = _words(
    """nhs mash dsl camhs gp icpc rcpc cin cp lado iro ehcp send plo epo nfa dv da marac
    cse cce lac cla sw hv ae a&e ed cpp cpc cpr sgo sgos eha tac tav fgc mfh rho idva
    isva ypo yos yot mappa mosaic uasc pru sen fgm hbv cme ehe ofsted cafcass nspcc dfe
    wtsc dbs crb sar lcsr csr cspr ncsprp lscp lscb pcso cid cait mpu pvp ppu pnc cmht
    itu nicu picu scbu hmp hmyoi stc sch yoi ot slt salt adhd asd asc ptsd ocd bpd
    iq bmi ngt uk usa eu un uti ld pd pa bsl esol eal fsm pp lac pep pa pep sdq cse
    abe nrm nqsw asye pdf cctv ict it hr ceo dpo gdpr foi sms url dna rta nok"""
)

# Anonymised references and generic people: never names.
GENERIC = _words(
    """child sibling mother father parent carer adult person professional subject victim
    perpetrator male female man woman boy girl baby infant unknown anonymous redacted
    name names someone somebody anyone everyone nobody he she they him her his hers them
    their i me my we us our you your it its this that these those there here what which
    who whom whose when where why how all any both each few more most other some such
    no nor not only own same so than too very can just should now also however
    although though because since after before during while if unless until then"""
)

# Places that are also in the name lists; babel covers countries and languages.
PLACES = _words(
    """london birmingham manchester liverpool leeds sheffield bristol newcastle sunderland
    nottingham leicester coventry bradford hull york wakefield doncaster rotherham barnsley
    huddersfield halifax oldham rochdale bolton bury wigan salford stockport tameside
    trafford preston blackburn blackpool burnley lancaster carlisle kendal barrow durham
    darlington middlesbrough stockton hartlepool gateshead derby stoke stoke-on-trent
    wolverhampton walsall dudley sandwell solihull telford shrewsbury hereford worcester
    gloucester cheltenham swindon bath oxford reading slough windsor luton bedford
    northampton milton keynes cambridge peterborough norwich ipswich colchester chelmsford
    southend basildon harlow watford stevenage hertford st albans guildford woking crawley
    brighton hove eastbourne hastings maidstone canterbury dover margate medway chatham
    rochester gillingham southampton portsmouth bournemouth poole exeter plymouth torquay
    truro taunton yeovil salisbury winchester basingstoke cardiff swansea newport wrexham
    bangor glasgow edinburgh aberdeen dundee inverness belfast derry lincoln grimsby
    scunthorpe chester crewe warrington widnes runcorn st helens wirral birkenhead
    southport sefton knowsley croydon lambeth southwark hackney islington camden
    westminster lewisham greenwich tower hamlets newham barking dagenham havering redbridge
    waltham enfield haringey barnet brent ealing hounslow hillingdon harrow richmond
    kingston merton sutton wandsworth bromley bexley kensington chelsea hammersmith fulham
    kent essex surrey sussex hampshire dorset devon cornwall somerset wiltshire berkshire
    oxfordshire buckinghamshire hertfordshire bedfordshire cambridgeshire norfolk suffolk
    lincolnshire nottinghamshire derbyshire leicestershire northamptonshire warwickshire
    staffordshire shropshire cheshire lancashire cumbria northumberland yorkshire humber
    merseyside midlands west east north south england wales scotland ireland britain
    gwent powys gwynedd fife lothian highlands
    english welsh scottish irish british polish romanian lithuanian latvian bulgarian
    hungarian czech slovak albanian kosovan turkish kurdish sorani kurmanji arabic farsi dari
    pashto urdu punjabi bengali sylheti gujarati hindi tamil somali tigrinya amharic eritrean
    ethiopian sudanese afghan iranian iraqi syrian yemeni nigerian ghanaian congolese lingala
    swahili yoruba igbo twi portuguese spanish italian french german russian ukrainian
    chinese mandarin cantonese vietnamese pakistani bangladeshi indian jamaican caribbean
    african asian european
    lagos karachi lahore islamabad dhaka sylhet mirpur kabul tehran baghdad damascus aleppo
    mogadishu asmara addis nairobi accra kinshasa bucharest warsaw krakow vilnius riga sofia
    tirana pristina kyiv kiev lviv delhi mumbai kolkata chennai amritsar punjab kashmir dubai
    berlin rome madrid lisbon dublin cork"""
)

# Places that are also common first names: a capitalised one is taken as a name.
NAME_PLACES = _words(
    """chelsea georgia jordan florence victoria sydney devon paris lincoln preston kingston
    sienna skye eden aurora israel kenya"""
)

# Word-forming prefixes: "pre-birth", "non-molestation" are words, not double-barrelled names.
PREFIXES = _words(
    """pre non semi co re anti post multi sub inter ex self well over under mid part cross
    step half de un in out up down on off all long short full low high first second third"""
)

# Organisation and system names that look like unknown capitalised words.
ORGANISATIONS = _words(
    """ofsted cafcass barnardo barnardo's nspcc childline samaritans kooth mind rethink
    shelter crisis refuge anytown anyshire mosaic liquidlogic azeus wellbeing"""
)

STOP: frozenset[str] = (
    TITLES | RELATIONS | ROLES | INSTITUTIONS | CALENDAR | ACRONYMS | GENERIC | ORGANISATIONS
)

PARTICLES = frozenset(
    {
        "de",
        "da",
        "di",
        "du",
        "del",
        "della",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "le",
        "la",
        "bin",
        "binti",
        "bint",
        "ibn",
        "al",
        "el",
        "ul",
        "ur",
        "abu",
        "st",
    }
)


@dataclass(frozen=True, slots=True)
class Lexicon:
    """Word lists, lower case: first names, surnames, English words, places."""

    first: frozenset[str]
    last: frozenset[str]
    common: frozenset[str]
    frequent: frozenset[str]
    proper: frozenset[str]
    places: frozenset[str]


@cache
def lexicon() -> Lexicon:
    """The packaged lexicon (loaded once, on first use)."""
    raw = resources.files("humanfactors.redact").joinpath("data/lexicon.json.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    return Lexicon(
        first=frozenset(data["first"]),
        last=frozenset(data["last"]),
        common=frozenset(data["common"]),
        frequent=frozenset(data["frequent"]),
        proper=frozenset(data["proper"]),
        places=frozenset(data["places"]) | PLACES,
    )


_VARIANTS = (
    ("isation", "ization"),
    ("ised", "ized"),
    ("ising", "izing"),
    ("ise", "ize"),
    ("ises", "izes"),
    ("our", "or"),
    ("tre", "ter"),
    ("ogue", "og"),
    ("lled", "led"),
    ("lling", "ling"),
    ("ence", "ense"),
    ("yse", "yze"),
    ("ysed", "yzed"),
)
_SUFFIXES = (
    "ies",
    "es",
    "s",
    "ed",
    "ing",
    "ly",
    "er",
    "ers",
    "ness",
    "ment",
    "ments",
    "ation",
    "ations",
    "ful",
    "less",
    "ity",
    "ities",
    "al",
)


def looks_english(key: str, common: frozenset[str]) -> bool:
    """Whether a lower-case word is an English word the vocabulary spells differently.

    Covers British spellings ("realised", "behaviour", "centre") and regular inflections
    of known words ("chronologies", "rereading").
    """
    forms = {key}
    for a, b in _VARIANTS:
        if a in key:
            forms.add(key.replace(a, b))
    if key.startswith("re") and len(key) > 5:
        forms |= {f[2:] for f in list(forms)}
    for form in list(forms):
        for suffix in _SUFFIXES:
            if form.endswith(suffix) and len(form) - len(suffix) >= 3:
                stem = form[: -len(suffix)]
                forms |= {
                    stem,
                    stem + "e",
                    stem + "y",
                    stem[:-1] if stem[-1:] == stem[-2:-1] else stem,
                }
    if any(f in common for f in forms):
        return True
    # closed compounds of two known words ("partway", "workload")
    return any(key[:i] in common and key[i:] in common for i in range(3, len(key) - 2))
