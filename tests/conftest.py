"""Shared fixtures: paths into ../shared (research data, never committed) that skip when absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("WFLWV_SHARED", REPO.parent / "shared")).resolve()


def shared_path(*parts: str) -> Path:
    """Path inside ../shared; the calling test is skipped when it does not exist."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available (../shared is local research data)")
    return p


@pytest.fixture
def shared():
    """The ``shared_path`` helper as a fixture."""
    return shared_path
