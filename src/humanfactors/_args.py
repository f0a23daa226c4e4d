"""Checks of argument types at the public surface.

A wrong type given to a public function (``None`` or a number where texts, a path or a
list of codes belong) is refused where it enters, with an :class:`InputError` that names
the function, the argument and what it should be, instead of an ``AttributeError`` or a
``TypeError`` from deep inside. The checks refuse only what could never work, so valid
inputs behave exactly as before.
"""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable, Mapping
from typing import Any

from .exceptions import InputError

__all__ = [
    "check_collection",
    "check_number",
    "check_path",
    "check_strings",
    "check_texts",
    "kind",
]


def kind(value: object) -> str:
    """The type of ``value`` as a message names it."""
    return "None" if value is None else type(value).__name__


def check_texts(value: object, name: str, who: str, what: str = "a list of texts") -> None:
    """Refuse ``value`` unless it can be a sequence of texts (or of other items).

    ``None``, numbers, bytes and other things that are not collections are refused; a
    collection's items are left to the function (it knows what each may be).
    """
    if value is None or isinstance(value, bytes | bytearray) or not isinstance(value, Iterable):
        raise InputError(f"{who}: {name} must be {what}, got {kind(value)}")


def check_strings(value: object, name: str, who: str, what: str = "a list of texts") -> list[Any]:
    """``value`` as a list, refused unless it is a collection (not one str) of strings.

    Items that are :class:`~humanfactors.models.Incident` objects are accepted too.
    """
    from .models import Incident

    check_texts(value, name, who, what)
    if isinstance(value, str | Mapping):
        raise InputError(f"{who}: {name} must be {what}, got one {kind(value)}")
    items: list[Any] = list(value)  # type: ignore[call-overload]
    for i, item in enumerate(items):
        if not isinstance(item, str | Incident):
            raise InputError(f"{who}: {name}[{i}] is {kind(item)}, expected str")
    return items


def check_collection(
    value: object, name: str, who: str, what: str = "a list of codes", *, allow_str: bool = False
) -> None:
    """Refuse ``value`` unless it is a collection of strings (or one string if allowed)."""
    if isinstance(value, str) and allow_str:
        return
    check_texts(value, name, who, what)
    if isinstance(value, str | Mapping):
        raise InputError(f"{who}: {name} must be {what}, got {kind(value)}")
    for item in value:  # type: ignore[attr-defined]
        if not isinstance(item, str):
            raise InputError(f"{who}: {name} must be {what}; it holds a {kind(item)}")


def check_number(value: object, name: str, who: str, *, integer: bool = False) -> None:
    """Refuse ``value`` unless it is a real number (an integer when ``integer``)."""
    wanted = numbers.Integral if integer else numbers.Real
    if not isinstance(value, wanted):
        expected = "an integer" if integer else "a number"
        raise InputError(f"{who}: {name} must be {expected}, got {kind(value)}")


def check_path(value: object, name: str, who: str, what: str = "a path") -> Any:
    """Refuse ``value`` unless it is a ``str`` or path-like object; return it."""
    if not isinstance(value, str | os.PathLike):
        raise InputError(f"{who}: {name} must be {what}, got {kind(value)}")
    return value
