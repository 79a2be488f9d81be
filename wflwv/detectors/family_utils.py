"""Helpers shared by the PIP-Net and SBR families: option checks (device/dtype: :mod:`~wflwv.detectors.device`).

Imports no torch at module import time (torch is imported inside the functions that need it).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable

from wflwv.detectors.device import resolve_device, resolve_dtype  # noqa: F401 (the one place)


def check_options(name: str, options: Dict[str, Any], allowed: Iterable[str]) -> None:
    """Raise for an option the detector does not know (typos must not be ignored)."""
    allowed = sorted(allowed)
    bad = sorted(set(options) - set(allowed))
    if bad:
        raise ValueError(f"detector {name!r} does not take option(s) {bad}; valid options: {allowed}")

