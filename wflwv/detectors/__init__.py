"""Detectors: registry-created models behind one contract (see :mod:`wflwv.detectors.base`).

``create(name, weights=None, device="cpu", dtype=None, **options)`` resolves ``name`` in
:data:`wflwv.registry.DETECTORS` (a ``"name:key=value"`` spec is accepted too) and returns a
:class:`~wflwv.detectors.base.Detector`. Importing this package does not import torch.
"""

from __future__ import annotations

from typing import Any, Optional

from wflwv.detectors.base import Detector, DetectorCfg, parse_options

__all__ = ["Detector", "DetectorCfg", "create", "parse_options"]


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any) -> Detector:
    """Create the detector registered as ``name`` (e.g. ``"ldeq.wflw_v"`` or ``"ldeq:rwr=false"``)."""
    from wflwv.registry import DETECTORS

    base, spec_opts = parse_options(name)
    spec_opts.update(options)
    factory = DETECTORS.get(base)
    return factory(base, weights=weights, device=device, dtype=dtype, **spec_opts)
