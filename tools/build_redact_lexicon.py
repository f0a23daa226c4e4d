"""Build the name lexicon used by ``humanfactors.redact`` (run once; output is committed).

Sources (both MIT licensed, installed from the package registry):

* Faker (https://github.com/joke2k/faker): first and last names of every person
  locale, Latin script only.
* Babel (https://github.com/python-babel/babel, BSD): English names of languages and
  territories, which are capitalised but are not people.
* TextBlob (https://github.com/sloria/TextBlob): the Brill tagger lexicon (Penn
  Treebank and Brown corpus) for the English vocabulary and known proper nouns, and its
  spelling frequency list (Project Gutenberg, Wiktionary, British National Corpus) for
  how often a word is used as an ordinary word.

Usage::

    python tools/build_redact_lexicon.py   # writes src/humanfactors/redact/data/lexicon.json.gz
"""

from __future__ import annotations

import gzip
import importlib
import json
import pkgutil
import re
from pathlib import Path

import babel
import faker
import faker.providers.person as person_providers
import textblob

OUT = (
    Path(__file__).resolve().parents[1]
    / "src"
    / "humanfactors"
    / "redact"
    / "data"
    / "lexicon.json.gz"
)
LATIN = re.compile(r"^[A-Za-zÀ-ÖØ-öø-ž]+(?:['’\-][A-Za-zÀ-ÖØ-öø-ž]+)*$")
FREQUENT = 50  # a word seen this often in the frequency list is an ordinary word first


def faker_names() -> tuple[set[str], set[str]]:
    first: set[str] = set()
    last: set[str] = set()
    for info in pkgutil.iter_modules(person_providers.__path__):
        module = importlib.import_module(f"{person_providers.__name__}.{info.name}")
        for attr, value in vars(module.Provider).items():
            if not attr.startswith(("first_names", "last_names")) or isinstance(value, property):
                continue
            if callable(value):
                continue
            target = first if attr.startswith("first") else last
            for name in value.keys() if isinstance(value, dict) else value:
                if isinstance(name, str) and LATIN.match(name) and len(name) > 1:
                    target.add(name.lower())
    return first, last


def textblob_words() -> tuple[set[str], set[str], set[str]]:
    root = Path(textblob.__file__).parent / "en"
    common: set[str] = set()
    proper: set[str] = set()
    for line in (root / "en-lexicon.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(";") or not line.strip():
            continue
        word, *tags = line.split()
        if not re.fullmatch(r"[A-Za-z][A-Za-z'\-]*", word):
            continue
        if word[0].islower():
            common.add(word)
        elif tags and tags[0] in {"NNP", "NNPS"}:
            proper.add(word.lower())
    frequent: set[str] = set()
    for line in (root / "en-spelling.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith(";") or not line.strip():
            continue
        word, count = line.split()
        if int(count) >= FREQUENT:
            frequent.add(word.lower())
    return common, proper - common, frequent


def babel_places() -> set[str]:
    english = babel.Locale("en")
    words: set[str] = set()
    for name in [*english.languages.values(), *english.territories.values()]:
        for word in re.findall(r"[A-Za-z]+", name):
            if word[0].isupper() and len(word) > 2:
                words.add(word.lower())
    return words


def main() -> None:
    first, last = faker_names()
    common, proper, frequent = textblob_words()
    data = {
        "sources": {
            "faker": faker.VERSION,
            "textblob": textblob.__version__,
            "babel": babel.__version__,
            "licence": "MIT (Faker, TextBlob), BSD-3-Clause (Babel)",
        },
        "first": sorted(first),
        "last": sorted(last),
        "common": sorted(common),
        "proper": sorted(proper),
        "frequent": sorted(frequent),
        "places": sorted(babel_places()),
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    raw = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    OUT.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
    print(
        f"{OUT}: {len(first)} first, {len(last)} last, {len(common)} common, "
        f"{len(proper)} proper, {len(frequent)} frequent; {OUT.stat().st_size} bytes"
    )


if __name__ == "__main__":
    main()
