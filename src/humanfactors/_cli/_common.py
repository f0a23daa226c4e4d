"""Helpers shared by the subcommands: input lines, error records, safe JSON, output."""

from __future__ import annotations

import errno
import json
import math
import os
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..exceptions import InputError

#: Longest record id copied into an error record; a longer one is left out.
MAX_ID_CHARS = 256


def is_regular_output(path: str | os.PathLike[str]) -> bool:
    """False for an output path that exists and is not a regular file (a device, FIFO)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except FileNotFoundError:
        return True
    except OSError:
        return False


def output_error(path: str | os.PathLike[str], exc: OSError) -> InputError:
    """One-line error for an output that cannot be written, naming the path."""
    return InputError(f"cannot write {os.fspath(path)}: {exc.strerror or type(exc).__name__}")


def check_output_path(path: str | os.PathLike[str]) -> None:
    """Refuse, before any work, an output whose folder is missing or that is a folder."""
    target = Path(path)
    if target.is_dir():
        raise InputError(f"cannot write {os.fspath(path)}: is a directory")
    folder = target.parent
    if not folder.is_dir():
        raise InputError(f"cannot write {os.fspath(path)}: folder {folder} does not exist")


def fsync_quietly(fd: int) -> None:
    """Flush ``fd`` to disk when it is a regular file; devices, pipes and FIFOs cannot be."""
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
            raise


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new, never half.

    A path that is not a regular file (``/dev/stdout``, a FIFO) cannot be replaced and is
    written in place. A missing folder or any other failure to write raises
    :class:`~humanfactors.exceptions.InputError` naming ``path``.
    """
    target = Path(path)
    if not is_regular_output(target):
        try:
            with open(target, "w", encoding="utf-8", newline="") as fh:
                fh.write(text)
        except OSError as exc:
            raise output_error(target, exc) from None
        return
    try:
        fd, tmp = tempfile.mkstemp(
            prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or "."
        )
    except OSError as exc:
        raise output_error(target, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            fsync_quietly(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise output_error(target, exc) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_input_lines(name: str) -> tuple[Iterator[Any], Callable[[], None]]:
    """The physical lines of a path, or of stdin for ``-``, and a function closing the file.

    The lines come from the reader behind :func:`humanfactors.io.iter_records`, so every
    command reads input the same way: UTF-8 with a leading byte-order mark dropped, and a
    line that does not decode or is over the length limit given as an item with
    ``text=None`` and a ``problem`` (which never quotes the line), numbered like the rest.
    Each item has ``number`` (1-based), ``text`` (with its line end) and ``problem``.

    Raises
    ------
    OSError
        The file cannot be opened.
    InputError
        The input is UTF-16 or UTF-32 (raised by the first step of the iterator).
    """
    from ..io import _open_lines

    if name == "-":
        return _open_lines("-", "utf-8")
    fh = open(name, "rb")  # noqa: SIM115 - closed by the caller
    try:
        lines, _ = _open_lines(fh, "utf-8")
    except BaseException:
        fh.close()
        raise
    return lines, fh.close


def safe_id(value: object) -> str | None:
    """A record's id fit for an error record: a short string that encodes as UTF-8."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_CHARS:
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return None
    return value


def error_json(error: Any, **dump: Any) -> str:
    """A :class:`~humanfactors.models.RecordError` as one JSON line.

    An id that cannot be written as UTF-8 (a lone surrogate from a ``\\ud800`` escape) is
    left out rather than letting the error record itself fail.
    """
    try:
        return str(error.model_dump_json(**dump))
    except ValueError:
        return str(error.model_copy(update={"id": None}).model_dump_json(**dump))


def _finite(value: Any) -> Any:
    """``value`` with every infinite or NaN float replaced by None (iteratively: deep input)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if not isinstance(value, dict | list):
        return value
    root = [value]
    stack: list[tuple[Any, Any]] = [(root, 0)]
    while stack:
        parent, key = stack.pop()
        item = parent[key]
        if isinstance(item, float) and not math.isfinite(item):
            parent[key] = None
        elif isinstance(item, dict):
            stack.extend((item, k) for k in item)
        elif isinstance(item, list):
            stack.extend((item, i) for i in range(len(item)))
    return root[0]


def strict_json(value: Any) -> str:
    """``value`` as one line of strict JSON: infinite and NaN numbers become ``null``.

    This is what the records written by ``humanfactors analyse`` do (pydantic's default),
    so every command writes JSON that any parser reads. ``value`` may be changed in place.

    Raises
    ------
    ValueError
        ``value`` holds a string that cannot be written as UTF-8 (a lone surrogate).
    RecursionError
        ``value`` is nested too deeply to write.
    """
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite(value), ensure_ascii=False, allow_nan=False)
    text.encode("utf-8")  # a lone surrogate fails here, not when the line is written
    return text
