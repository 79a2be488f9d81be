"""Helpers shared by the PIP-Net and SBR families: option checks, dtype and device resolution.

Imports no torch at module import time (torch is imported inside the functions that need it).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable

_DTYPES = {"float32": "float32", "float": "float32", "fp32": "float32",
           "float64": "float64", "double": "float64", "fp64": "float64"}


def resolve_dtype(dtype: Any):
    """``None``/``"float32"``/``torch.float32`` → torch dtype (float32 or float64 only)."""
    import torch

    if dtype is None:
        return torch.float32
    if isinstance(dtype, torch.dtype):
        if dtype in (torch.float32, torch.float64):
            return dtype
        raise ValueError(f"dtype {dtype} is not supported: use torch.float32 or torch.float64")
    key = _DTYPES.get(str(dtype).lower().replace("torch.", ""))
    if key is None:
        raise ValueError(f"dtype {dtype!r} is not supported: use 'float32' or 'float64'")
    return getattr(torch, key)


def resolve_device(device: Any):
    """A torch device; a CUDA device without CUDA raises a clear error instead of falling back."""
    import torch

    dev = torch.device(device or "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} requested but CUDA is not available; use device='cpu'")
    return dev


def check_options(name: str, options: Dict[str, Any], allowed: Iterable[str]) -> None:
    """Raise for an option the detector does not know (typos must not be ignored)."""
    allowed = sorted(allowed)
    bad = sorted(set(options) - set(allowed))
    if bad:
        raise ValueError(f"detector {name!r} does not take option(s) {bad}; valid options: {allowed}")

