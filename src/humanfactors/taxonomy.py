"""Taxonomies of human factors, loaded from TOML, and crosswalks between them.

A taxonomy is data: a TOML file with a ``[taxonomy]`` table (name, version, title,
description) and a ``[[factors]]`` array. Codes are dotted; a factor's parent is the
longest dotted prefix of its code that is itself a factor, unless it names a ``parent``
explicitly. Built-in taxonomies are ``safeguarding`` (the default), ``hfacs`` and ``asrs``.

Examples
--------
>>> tax = load_taxonomy()
>>> tax.name, tax["ERR.LAPSE"].name
('safeguarding', 'Lapse')
>>> tax.resolve("err.lapse")
'ERR.LAPSE'
>>> tax.ancestors("ERR.MISTAKE.RULE")
('ERR.MISTAKE', 'ERR')
"""

from __future__ import annotations

import functools
import hashlib
import numbers
import os
import re
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .exceptions import InputError, TaxonomyError, UnknownCodeError

__all__ = [
    "Crosswalk",
    "CrosswalkMapping",
    "Factor",
    "Taxonomy",
    "list_taxonomies",
    "load_crosswalk",
    "load_taxonomy",
]

DEFAULT_TAXONOMY = "safeguarding"
Polarity = Literal["risk", "protective"]


class Factor(BaseModel):
    """One human factor: a node of a taxonomy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_]+(\.[A-Za-z0-9_]+)*$")
    name: str = Field(min_length=1)
    definition: str = Field(min_length=1)
    examples: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    polarity: Polarity | None = None
    level: int = Field(default=1, ge=1, description="1 for a root, 2 for its children, ...")


class _TaxonomyHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    title: str = ""
    description: str = ""


class Taxonomy:
    """A validated, immutable tree of :class:`Factor` objects.

    Look factors up by code or alias (case-insensitive) with ``tax[code]``; unknown
    codes raise :class:`~humanfactors.exceptions.UnknownCodeError` with near matches.
    """

    def __init__(
        self,
        name: str,
        version: str,
        factors: Iterable[Factor],
        *,
        title: str = "",
        description: str = "",
        source: str = "<memory>",
    ) -> None:
        self.name = name
        self.version = version
        self.title = title
        self.description = description
        self.source = source
        self._factors: dict[str, Factor] = {}
        self._alias: dict[str, str] = {}
        self._children: dict[str | None, list[str]] = {}
        if isinstance(factors, str | bytes | Mapping) or not isinstance(factors, Iterable):
            raise InputError(
                f"Taxonomy: factors must be an iterable of Factor, got {type(factors).__name__}"
            )
        factors = list(factors)
        for f in factors:
            if not isinstance(f, Factor):
                raise InputError(
                    "Taxonomy: factors must be an iterable of Factor; "
                    f"it holds a {type(f).__name__}"
                )
        self._build(factors)

    # -- construction -------------------------------------------------------------
    def _fail(self, message: str) -> TaxonomyError:
        return TaxonomyError(f"{self.source}: {message}")

    def _build(self, factors: list[Factor]) -> None:
        raw: dict[str, Factor] = {}
        for f in factors:
            if f.code in raw:
                raise self._fail(f"duplicate code {f.code!r}")
            raw[f.code] = f
        if not raw:
            raise self._fail("taxonomy has no factors")
        parents: dict[str, str | None] = {}
        for code, f in raw.items():
            parent = f.parent
            if parent is None and "." in code:
                parent = code.rsplit(".", 1)[0]
            if parent is not None and parent not in raw:
                raise self._fail(f"code {code!r}: parent {parent!r} is not defined")
            if parent == code:
                raise self._fail(f"code {code!r} is its own parent")
            parents[code] = parent
        levels: dict[str, int] = {}
        for code in raw:
            seen = [code]
            node = parents[code]
            while node is not None:
                if node in seen:
                    cycle = " -> ".join([*seen, node])
                    raise self._fail(f"code {code!r}: parent cycle {cycle}")
                seen.append(node)
                node = parents[node]
            levels[code] = len(seen)
        polarity: dict[str, Polarity] = {}

        def resolve_polarity(code: str) -> Polarity:
            if code not in polarity:
                own = raw[code].polarity
                parent = parents[code]
                polarity[code] = own or (resolve_polarity(parent) if parent else "risk")
            return polarity[code]

        for code, f in raw.items():
            self._factors[code] = f.model_copy(
                update={
                    "parent": parents[code],
                    "level": levels[code],
                    "polarity": resolve_polarity(code),
                }
            )
            self._children.setdefault(parents[code], []).append(code)
        for code, f in self._factors.items():
            for key in (code, *f.aliases):
                folded = key.casefold().strip()
                if not folded:
                    raise self._fail(f"{code!r} has a blank alias")
                other = self._alias.get(folded)
                if other is not None and other != code:
                    raise self._fail(f"alias {key!r} of {code!r} is already used by {other!r}")
                self._alias[folded] = code

    # -- lookups ------------------------------------------------------------------
    def resolve(self, code_or_alias: str) -> str:
        """The canonical code for a code or alias (case-insensitive)."""
        if not isinstance(code_or_alias, str):
            raise InputError(
                f"a code must be a str (a code or an alias), got {type(code_or_alias).__name__}"
            )
        if code_or_alias in self._factors:
            return code_or_alias
        found = self._alias.get(str(code_or_alias).casefold().strip())
        if found is None:
            raise _unknown_code(str(code_or_alias), self.name, [*self._factors, *self._aliases()])
        return found

    def _aliases(self) -> list[str]:
        return [a for f in self._factors.values() for a in f.aliases]

    def __getitem__(self, code_or_alias: str) -> Factor:
        return self._factors[self.resolve(code_or_alias)]

    def get(self, code_or_alias: str, default: Factor | None = None) -> Factor | None:
        """The factor for a code or alias, or ``default`` (also for a value that is not a str)."""
        if not isinstance(code_or_alias, str):
            return default
        try:
            return self[code_or_alias]
        except UnknownCodeError:
            return default

    def __contains__(self, code_or_alias: object) -> bool:
        return isinstance(code_or_alias, str) and (
            code_or_alias in self._factors or code_or_alias.casefold().strip() in self._alias
        )

    def __iter__(self) -> Iterator[Factor]:
        return iter(self._factors.values())

    def __len__(self) -> int:
        return len(self._factors)

    def __repr__(self) -> str:
        return f"Taxonomy(name={self.name!r}, version={self.version!r}, factors={len(self)})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Taxonomy) and self.fingerprint == other.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.to_dict(), self.source))

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes, parents before children, in file order."""
        return tuple(self._factors)

    @functools.cached_property
    def fingerprint(self) -> str:
        """A SHA-256 over name, version and factors: equal taxonomies, equal fingerprints."""
        import json

        blob = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=True).encode()
        return hashlib.sha256(blob).hexdigest()

    def roots(self) -> tuple[str, ...]:
        """Codes with no parent."""
        return tuple(self._children.get(None, ()))

    def parent(self, code: str) -> str | None:
        """The parent's code, or None for a root."""
        return self[code].parent

    def children(self, code: str | None = None) -> tuple[str, ...]:
        """Direct children of ``code`` (roots when ``code`` is None)."""
        key = None if code is None else self.resolve(code)
        return tuple(self._children.get(key, ()))

    def descendants(self, code: str) -> tuple[str, ...]:
        """All codes below ``code``, depth first."""
        out: list[str] = []
        stack = list(reversed(self.children(code)))
        while stack:
            node = stack.pop()
            out.append(node)
            stack.extend(reversed(self._children.get(node, ())))
        return tuple(out)

    def ancestors(self, code: str) -> tuple[str, ...]:
        """Codes above ``code``, nearest first."""
        out: list[str] = []
        node = self[code].parent
        while node is not None:
            out.append(node)
            node = self._factors[node].parent
        return tuple(out)

    def is_leaf(self, code: str) -> bool:
        """True when ``code`` has no children."""
        return not self._children.get(self.resolve(code))

    def leaves(self, prefix: str | None = None) -> tuple[str, ...]:
        """Leaf codes, optionally only those at or below ``prefix``."""
        codes = self.codes if prefix is None else (self.resolve(prefix), *self.descendants(prefix))
        return tuple(c for c in codes if not self._children.get(c))

    def at_level(self, code: str, level: int) -> str:
        """The ancestor-or-self of ``code`` at ``level``.

        A code above that level is returned as is.
        """
        if isinstance(level, bool) or not isinstance(level, numbers.Integral):
            raise InputError(
                f"Taxonomy.at_level: level must be an integer, got {type(level).__name__}"
            )
        if level < 1:
            raise ValueError(f"level must be >= 1, got {level}")
        chain = [self.resolve(code), *self.ancestors(code)]
        for node in chain:
            if self._factors[node].level <= level:
                return node
        return chain[-1]

    def max_level(self) -> int:
        """Depth of the deepest factor."""
        return max(f.level for f in self._factors.values())

    def is_protective(self, code: str) -> bool:
        """True for factors that describe what went well."""
        return self[code].polarity == "protective"

    # -- export -------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict in the TOML file's shape (parent and level included)."""
        return {
            "taxonomy": {
                "name": self.name,
                "version": self.version,
                "title": self.title,
                "description": self.description,
            },
            "factors": [f.model_dump(mode="json") for f in self._factors.values()],
        }


def _rebuild(data: dict[str, Any], source: str) -> Taxonomy:
    return _from_mapping(data, source)


def _from_mapping(data: Mapping[str, Any], source: str) -> Taxonomy:
    if not isinstance(data, Mapping):
        raise TaxonomyError(f"{source}: expected a table at the top level")
    head = data.get("taxonomy")
    if not isinstance(head, Mapping):
        raise TaxonomyError(f"{source}: missing [taxonomy] table with name and version")
    try:
        header = _TaxonomyHeader.model_validate(dict(head))
    except ValidationError as exc:
        raise TaxonomyError(f"{source}: [taxonomy] {_first_error(exc)}") from None
    items = data.get("factors")
    if not isinstance(items, list) or not items:
        raise TaxonomyError(f"{source}: missing [[factors]] entries")
    extra = set(data) - {"taxonomy", "factors"}
    if extra:
        raise TaxonomyError(f"{source}: unknown top-level keys {sorted(extra)}")
    factors = []
    for i, item in enumerate(items, start=1):
        if not isinstance(item, Mapping):
            raise TaxonomyError(f"{source}: factor #{i} is not a table")
        code = item.get("code", f"#{i}")
        try:
            factors.append(Factor.model_validate(dict(item)))
        except ValidationError as exc:
            raise TaxonomyError(f"{source}: factor {code!r}: {_first_error(exc)}") from None
    return Taxonomy(
        header.name,
        header.version,
        factors,
        title=header.title,
        description=header.description,
        source=source,
    )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"]) or "value"
    return f"field {loc!r}: {err['msg']}"


def _builtin_dir() -> Any:
    return resources.files("humanfactors") / "taxonomies"


def list_taxonomies() -> tuple[str, ...]:
    """Names of the built-in taxonomies."""
    return tuple(sorted(p.name[:-5] for p in _builtin_dir().iterdir() if p.name.endswith(".toml")))


@functools.lru_cache(maxsize=32)
def _load_builtin(name: str) -> Taxonomy:
    res = _builtin_dir() / f"{name}.toml"
    return _parse(res.read_bytes(), f"{name}.toml (built-in)")


def _parse(blob: bytes, source: str) -> Taxonomy:
    try:
        data = tomllib.loads(blob.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise TaxonomyError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except tomllib.TOMLDecodeError as exc:
        raise TaxonomyError(f"{source}: invalid TOML: {exc}") from None
    return _from_mapping(data, source)


def load_taxonomy(name_or_path: str | Path | Taxonomy | None = None) -> Taxonomy:
    """Load a built-in taxonomy by name, or a user's TOML file by path.

    Parameters
    ----------
    name_or_path : str, Path, Taxonomy or None
        ``None`` for the default ``safeguarding`` taxonomy, a built-in name (see
        :func:`list_taxonomies`), or the path of a TOML file. A Taxonomy is returned as is.

    Raises
    ------
    TaxonomyError
        The name is unknown, or the file is unreadable or invalid; the message names the
        file, the code and the problem.
    """
    if isinstance(name_or_path, Taxonomy):
        return name_or_path
    if name_or_path is None:
        name_or_path = DEFAULT_TAXONOMY
    if not isinstance(name_or_path, str | os.PathLike):
        raise InputError(
            "taxonomy must be a built-in name, the path of a .toml file or a Taxonomy, "
            f"got {type(name_or_path).__name__}"
        )
    if isinstance(name_or_path, str) and name_or_path in list_taxonomies():
        return _load_builtin(name_or_path)
    path = Path(name_or_path)
    if path.suffix.lower() != ".toml" and not path.exists():
        raise TaxonomyError(
            f"unknown taxonomy {str(name_or_path)!r}: use one of {', '.join(list_taxonomies())} "
            "or the path of a .toml file"
        )
    try:
        blob = path.read_bytes()
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read taxonomy file ({exc.strerror})") from None
    return _parse(blob, str(path))


#: What a code or alias looks like: letters, digits, spaces and ``_ - . / & ( )``.
_CODE_CHARS = re.compile(r"[\w .\-/&()]*", re.ASCII)
_DIGIT_RUN = re.compile(r"\d{3}")


def _looks_like_code(value: str) -> bool:
    """Whether ``value`` could be a code or alias, and so may be quoted in a message.

    A label cell can hold anything, a narrative included; only a short value made of
    the characters codes use (at most 40 characters and five words, no run of three
    or more digits, which could be part of a date, time or phone number) is echoed.
    """
    return (
        len(value) <= 40
        and len(value.split()) <= 5
        and _CODE_CHARS.fullmatch(value) is not None
        and _DIGIT_RUN.search(value) is None
    )


def _unknown_code(value: str, taxonomy: str, candidates: Iterable[str]) -> UnknownCodeError:
    """The error for a value the taxonomy does not know, quoting it only if code-like.

    A short value can still be a name or a postcode from a shifted column ("Jane Smith",
    "LS6 2AB"), so besides looking like a code it must be written like one (a dot or an
    underscore, as in ``ERR.LAPS``) or lie close to a code or alias (a misspelling).
    """
    import difflib

    names = list(candidates)
    if _looks_like_code(value) and (
        "." in value
        or "_" in value
        or difflib.get_close_matches(value.casefold(), [c.casefold() for c in names], 1, 0.75)
    ):
        return UnknownCodeError(value, taxonomy, names)
    exc = UnknownCodeError(value, taxonomy)
    exc.args = (
        f"unknown code in taxonomy {taxonomy!r}: a value that matches no code or alias "
        f"({len(value)} characters; not quoted, as it may be personal data)",
    )
    return exc


# -- crosswalks -------------------------------------------------------------------
Relation = Literal["exact", "close", "broader", "narrower", "related"]


class CrosswalkMapping(BaseModel):
    """One correspondence between a code of the source and one of the target taxonomy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str
    target: str
    relation: Relation = "exact"
    note: str = ""


class Crosswalk:
    """Maps codes of one taxonomy onto another where the concepts match."""

    def __init__(self, source: Taxonomy, target: Taxonomy, mappings: Iterable[CrosswalkMapping]):
        self.source = source
        self.target = target
        self.mappings = tuple(mappings)
        for m in self.mappings:
            source.resolve(m.source)
            target.resolve(m.target)

    def __repr__(self) -> str:
        return (
            f"Crosswalk({self.source.name!r} -> {self.target.name!r},"
            f" mappings={len(self.mappings)})"
        )

    def map(self, code: str, *, relations: Iterable[str] | None = None) -> tuple[str, ...]:
        """Target codes for a source code or alias (empty when nothing matches)."""
        canonical = self.source.resolve(code)
        if isinstance(relations, str):  # one relation, not its letters
            relations = (relations,)
        if relations is not None and (
            isinstance(relations, bytes) or not isinstance(relations, Iterable)
        ):
            raise InputError(
                "Crosswalk.map: relations must be a relation name, an iterable of them or None, "
                f"got {type(relations).__name__}"
            )
        allowed = set(relations) if relations is not None else None
        return tuple(
            m.target
            for m in self.mappings
            if m.source == canonical and (allowed is None or m.relation in allowed)
        )

    def inverse(self) -> Crosswalk:
        """The same correspondences read from target to source."""
        flip = {"broader": "narrower", "narrower": "broader"}
        return Crosswalk(
            self.target,
            self.source,
            [
                CrosswalkMapping(
                    source=m.target,
                    target=m.source,
                    relation=flip.get(m.relation, m.relation),
                    note=m.note,
                )
                for m in self.mappings
            ],
        )


def load_crosswalk(source: str | Taxonomy, target: str | Taxonomy) -> Crosswalk:
    """The built-in crosswalk between two taxonomies (either direction).

    Examples
    --------
    >>> load_crosswalk("asrs", "safeguarding").map("Distraction")
    ('CF.IND.DISTRACTION',)
    """
    for name, value in (("source", source), ("target", target)):
        if not isinstance(value, str | os.PathLike | Taxonomy):
            raise InputError(
                f"load_crosswalk: {name} must be a taxonomy name or a Taxonomy, "
                f"got {type(value).__name__}"
            )
    src, tgt = load_taxonomy(source), load_taxonomy(target)
    folder = _builtin_dir() / "crosswalks"
    for a, b, flip in ((src, tgt, False), (tgt, src, True)):
        res = folder / f"{a.name}__{b.name}.toml"
        if res.is_file():
            where = f"crosswalks/{res.name} (built-in)"
            try:
                data = tomllib.loads(res.read_text("utf-8"))
                maps = [CrosswalkMapping.model_validate(m) for m in data.get("mappings", [])]
            except (tomllib.TOMLDecodeError, ValidationError) as exc:
                raise TaxonomyError(f"{where}: {exc}") from None
            try:
                walk = Crosswalk(a, b, maps)
            except UnknownCodeError as exc:
                raise TaxonomyError(f"{where}: {exc}") from None
            return walk.inverse() if flip else walk
    raise TaxonomyError(f"no built-in crosswalk between {src.name!r} and {tgt.name!r}")
