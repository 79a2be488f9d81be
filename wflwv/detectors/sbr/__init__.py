"""SBR (Dong et al., CVPR 2018): the CPM-VGG16 detector, evaluated per frame (no LK at inference).

``create(name, weights, device, dtype, pixel_center_fix=False)``: ``name`` is ``sbr.300w`` (the
released 300-W CPM detector) or the bare family name ``sbr`` (any checkpoint in the official
formats: ``detector`` preferred over ``state_dict``, ``module.``/``detector.`` prefixes stripped,
pickled args read through an allow-list). Importing this package does not import torch.
"""

from __future__ import annotations

from typing import Any, Optional

from wflwv.detectors.family_utils import check_options

OPTIONS = ("pixel_center_fix",)


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any):
    """Create an SBR detector (see the module docstring for names and options)."""
    check_options(name, options, OPTIONS)
    from wflwv.detectors.sbr.detector import load

    return load(name, weights, device=device, dtype=dtype, **options)
