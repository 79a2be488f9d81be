"""Named generation presets (``--preset NAME``); explicit CLI options override their values."""

from __future__ import annotations

from typing import Any, Dict

PRESETS: Dict[str, Dict[str, Any]] = {
    # The embedded default used by `make demo` and the harness tests: 10 easy + 10 hard clips.
    "demo": {"layout": "wflw-v", "videos": 20, "frames": 60, "seed": 0, "width": 384, "height": 288},
    # A tiny build for unit tests and smoke checks (seconds).
    "tiny": {"layout": "wflw-v", "videos": 4, "frames": 12, "seed": 0, "width": 192, "height": 144},
}

DEFAULTS: Dict[str, Any] = {"layout": "wflw-v", "videos": 20, "frames": 60, "seed": 0, "width": 480,
                            "height": 360}


def resolve(preset: str | None, **overrides: Any) -> Dict[str, Any]:
    """Settings of ``preset`` (or the defaults) with every non-None override applied."""
    if preset is not None and preset not in PRESETS:
        raise KeyError(f"unknown synthetic preset {preset!r}; known: {', '.join(sorted(PRESETS))}")
    out = dict(PRESETS[preset] if preset else DEFAULTS)
    out.update({k: v for k, v in overrides.items() if v is not None})
    return out
