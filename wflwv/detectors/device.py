"""Device and dtype resolution for every detector family and the harness — the one place.

Imports no torch at module import time. A CUDA device requested on a machine without CUDA raises
(never a silent CPU fallback); dtypes are named (``float32``, ``float64``, ``bfloat16``) on the
command line and torch dtypes inside the detectors.
"""

from __future__ import annotations

from typing import Any, Iterable, Optional

_NAMES = {"float32": "float32", "float": "float32", "fp32": "float32",
          "float64": "float64", "double": "float64", "fp64": "float64",
          "bfloat16": "bfloat16", "bf16": "bfloat16"}


def dtype_name(dtype: Any) -> str:
    """Canonical name (``float32`` | ``float64`` | ``bfloat16``) of a dtype name or torch dtype."""
    if dtype is None:
        return "float32"
    key = _NAMES.get(str(dtype).lower().replace("torch.", ""))
    if key is None:
        raise ValueError(f"dtype {dtype!r} is not supported: use float32, float64 or bfloat16")
    return key


def torch_dtype(dtype: Any):
    """The torch dtype for a name (None and ``float32`` give None: the detector's default)."""
    name = dtype_name(dtype)
    if name == "float32":
        return None
    import torch

    return getattr(torch, name)


def resolve_dtype(dtype: Any, allowed: Optional[Iterable[str]] = ("float32", "float64")):
    """``None``/name/torch dtype → torch dtype, refusing names outside ``allowed`` (None: any)."""
    import torch

    name = dtype_name(dtype)
    if allowed is not None and name not in tuple(allowed):
        raise ValueError(f"dtype {dtype!r} is not supported here: use {' or '.join(allowed)}")
    return getattr(torch, name)


def resolve_device(device: Any):
    """A ``torch.device``; CUDA requested but absent raises with the fix (``--device cpu``)."""
    import torch

    dev = torch.device(device or "cpu")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {device!r} was requested but this machine has no usable CUDA device "
                           f"(torch {torch.__version__}); run with --device cpu")
    return dev


def device_type(device: Any) -> str:
    """``"cpu"`` / ``"cuda"`` part of a device spec (part of the run cache key)."""
    return str(device or "cpu").partition(":")[0]
