"""Shared test configuration."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

REPO = Path(__file__).resolve().parents[1]
ASRS_DIR = REPO.parent / "shared" / "data" / "asrs"

settings.register_profile(
    "ci", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", max_examples=30, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def asrs_dir() -> Path:
    """The real ASRS data beside the repository, or a skip with the reason."""
    if not (ASRS_DIR / "dev.csv").is_file():
        pytest.skip(f"real ASRS data not found at {ASRS_DIR} (it lives in ../shared/data/asrs)")
    return ASRS_DIR
