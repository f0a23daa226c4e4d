"""Report-quality checks (placeholder replaced below)."""
from __future__ import annotations
CHECK_CODES: tuple[str, ...] = ()
def check(text_or_incident: object, *, taxonomy: object = None) -> list[object]:
    return []
