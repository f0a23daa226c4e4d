"""Write docs/taxonomy.md from the built-in taxonomy files, so the reference cannot drift.

    python tools/gen_taxonomy_docs.py          # rewrite docs/taxonomy.md
    python tools/gen_taxonomy_docs.py --check  # exit 1 if docs/taxonomy.md is stale
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from humanfactors.taxonomy import list_taxonomies, load_crosswalk, load_taxonomy  # noqa: E402

TARGET = ROOT / "docs" / "taxonomy.md"


def render() -> str:
    out = [
        "# Taxonomy reference",
        "",
        "Generated from the taxonomy files in `src/humanfactors/taxonomies/` by",
        "`python tools/gen_taxonomy_docs.py`; a test fails if this page is stale.",
        "Codes are a stable public contract: other systems store them.",
        "",
    ]
    names = ["safeguarding", *[n for n in list_taxonomies() if n != "safeguarding"]]
    for name in names:
        tax = load_taxonomy(name)
        out += [f"## `{name}` — {tax.title}", ""]
        out += [f"Version {tax.version}. {tax.description.strip()}", ""]
        out += ["| code | name | level |", "| --- | --- | --- |"]
        out += [f"| `{f.code}` | {f.name} | {f.level} |" for f in tax]
        out.append("")
        for f in tax:
            out += [f"### `{f.code}` — {f.name}", "", f.definition.strip(), ""]
            if f.examples:
                out.append("Examples: " + "; ".join(f"“{e}”" for e in f.examples) + ".")
                out.append("")
            if f.aliases:
                out.append("Aliases: " + ", ".join(f"`{a}`" for a in f.aliases) + ".")
                out.append("")
            if f.sources:
                out.append("Sources: " + "; ".join(f.sources) + ".")
                out.append("")
    out += ["## Crosswalks", ""]
    for a, b in (("asrs", "safeguarding"), ("hfacs", "safeguarding"), ("asrs", "hfacs")):
        walk = load_crosswalk(a, b)
        out += [
            f"### `{a}` → `{b}`", "", "| from | to | relation | note |", "| --- | --- | --- | --- |"
        ]
        out += [f"| `{m.source}` | `{m.target}` | {m.relation} | {m.note} |" for m in walk.mappings]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def main() -> int:
    text = render()
    if "--check" in sys.argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print("docs/taxonomy.md is stale: run python tools/gen_taxonomy_docs.py")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
