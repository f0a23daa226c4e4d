"""Helpers shared by the subcommands: input opening, atomic output."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path
from typing import IO


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new, never half."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def open_text_input(name: str) -> IO[str]:
    """Open a path, or stdin for ``-``, as UTF-8 text with replacement of bad bytes."""
    if name == "-":
        return sys.stdin
    return open(name, encoding="utf-8", errors="strict", newline="")
