"""Helpers shared by the PIP-Net and SBR families: option checks, dtype/device, cross-scheme plan.

Imports no torch at module import time (torch is imported inside the functions that need it).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional

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


def scoring_plan(model_scheme: str, gt_scheme: str, mapping: Optional[str] = "pipnet") -> Dict[str, Any]:
    """How a model's points meet a data set's GT: which side is mapped to 68 and the protocol id.

    * same scheme → scored natively, protocol ``native:<scheme>``;
    * 68-point model, 98-point GT (WFLW-V) → GT mapped 98→68 with ``mapping``;
    * 98-point model, 68-point GT (300-VW) → predictions mapped 98→68 with ``mapping``.
    ``mapping=None`` (or ``"none"``) across schemes raises: there is no implicit mapping.
    """
    if model_scheme == gt_scheme:
        return {"score_scheme": gt_scheme, "map_gt": None, "map_pred": None,
                "protocol": f"native:{gt_scheme}"}
    pair = {model_scheme, gt_scheme}
    if pair != {"wflw98", "ibug68"}:
        raise ValueError(f"no mapping between a {model_scheme} model and {gt_scheme} ground truth; "
                         f"choose a detector trained on {gt_scheme}")
    if mapping is None or str(mapping).lower() == "none":
        raise ValueError(f"a {model_scheme} model cannot be scored on {gt_scheme} ground truth without "
                         f"a 98→68 mapping: pass mapping='pipnet' (wflw98_to_68_pipnet) or 'subset' "
                         f"(wflw98_to_68_subset); 98-point-only metrics are not available for it")
    if mapping not in ("pipnet", "subset"):
        raise ValueError(f"unknown 98→68 mapping {mapping!r}; use 'pipnet' or 'subset'")
    side = "map_gt" if gt_scheme == "wflw98" else "map_pred"
    plan = {"score_scheme": "ibug68", "map_gt": None, "map_pred": None,
            "protocol": f"ibug68:{'gt' if side == 'map_gt' else 'pred'}=wflw98_to_68_{mapping}"}
    plan[side] = mapping
    return plan
