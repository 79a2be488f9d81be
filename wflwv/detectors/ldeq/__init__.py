"""LDEQ (Micaelli et al., CVPR 2023) with Recurrence-without-Recurrence, clean-room.

Registry names: ``ldeq.wflw`` (Anderson, β 0.3), ``ldeq.wflw_v`` (FPI, β 0.4, RwR on by default) and
the bare ``ldeq`` (configuration rebuilt from any official checkpoint's stored args). Weights are
a user download (NVIDIA non-commercial licence); pass them with ``weights=PATH`` / ``--weights``.

This package imports torch only inside :func:`create` (``import wflwv.detectors.ldeq.config`` is
light). Submodules: ``config`` (no torch), ``model``, ``solvers``, ``loading``, ``rwr`` (the
detector), ``gpu_crops``.
"""

from __future__ import annotations

from typing import Any, Optional

__all__ = ["create"]


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any):
    """Build the LDEQ detector ``name`` from checkpoint ``weights`` (options: see ``rwr.OPTION_DEFAULTS``)."""
    from wflwv.detectors.ldeq.config import RELEASED_SHA256
    from wflwv.detectors.ldeq.loading import load_model
    from wflwv.detectors.ldeq.rwr import (build_detector, resolve_device, resolve_dtype,
                                         resolve_options)

    if name not in ("ldeq", "ldeq.wflw", "ldeq.wflw_v"):
        raise KeyError(f"unknown LDEQ detector {name!r}; use ldeq, ldeq.wflw or ldeq.wflw_v")
    if weights is None:
        from wflwv.detectors.checkpoint import WeightsRequired

        raise WeightsRequired(name, hint="Download final.pth.tar from the LDEQ_RwR README's Google Drive "
                                         "links (NVIDIA non-commercial licence)")
    if str(dtype).replace("torch.", "") in ("bfloat16", "bf16"):   # --dtype bfloat16: fp32 weights,
        dtype = None                                               # bf16 autocast (precision=bf16)
        options.setdefault("precision", "bf16")
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    resolve_options(name, dev, dt, dict(options))  # fail on bad options before reading the file
    model, digest = load_model(name, weights, sha256=RELEASED_SHA256.get(name), device="cpu", dtype=dt)
    return build_detector(name, model, dev, dt, sha256=digest, **options)
