"""Assemble docs/benchmarks.md from the per-area pages in docs/benchmarks/.

    python tools/assemble_benchmarks.py

Each area's benchmark writes its figures, with the command that made them, to
docs/benchmarks/<area>.md; this page gathers them in one place.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ORDER = ["pipeline", "default-model", "sentence_model", "classifier", "rules", "redaction",
         "loaders", "store", "research", "corpus"]

HEADER = """# Benchmarks

Figures measured on the project's development machine (2 cores, 24 GiB, Python 3.11),
each with the command that produced it. Speed and memory targets are checked by these
benchmark scripts in `benchmarks/`, not by timed tests. This page is assembled from
`docs/benchmarks/*.md` by `python tools/assemble_benchmarks.py`.
"""


_LINK = re.compile(r"(\]\()([^)\s#:]+)((?:#[^)\s]*)?\))")


def _relink(text: str) -> str:
    """Links relative to docs/benchmarks/ made relative to docs/, where this page lives."""
    return _LINK.sub(
        lambda m: m.group(1) + posixpath.normpath("benchmarks/" + m.group(2)) + m.group(3), text
    )


def main() -> int:
    parts = [HEADER]
    folder = ROOT / "docs" / "benchmarks"
    pages = {p.stem: p for p in folder.glob("*.md")}
    for name in [*ORDER, *sorted(set(pages) - set(ORDER))]:
        page = pages.get(name)
        if page is None:
            continue
        text = _relink(page.read_text(encoding="utf-8").strip())
        lines = text.splitlines()
        if lines and lines[0].startswith("# "):  # demote the page title to a section
            lines[0] = "#" + lines[0]
        body = "\n".join(
            ("#" + ln) if ln.startswith("## ") or ln.startswith("### ") else ln
            for ln in lines[1:]
        )
        parts.append(lines[0] + "\n" + body)
    (ROOT / "docs" / "benchmarks.md").write_text(
        "\n\n".join(parts).rstrip() + "\n", encoding="utf-8"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
