"""PIP-Net (Jin et al., IJCV 2021): ResNet-18/50/101 stride-32 models with neighbour-merged decoding.

``create(name, weights, device, dtype, meanface=None, merge=True)``: ``name`` is a release tag of
:data:`wflwv.detectors.pipnet.config.RELEASES` (SHA-256 checked when published, meanface hash
checked) or the bare family name ``pipnet`` (any official-format checkpoint; backbone, landmark
count and neighbour count inferred from the keys and checked). The meanface file is required: next
to the checkpoint (``meanface.txt``) or given as ``meanface=PATH``. Importing this package does
not import torch.
"""

from __future__ import annotations

from typing import Any, Optional

from wflwv.detectors.family_utils import check_options

OPTIONS = ("meanface", "merge")


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any):
    """Create a PIP-Net detector (see the module docstring for names and options)."""
    check_options(name, options, OPTIONS)
    from wflwv.detectors.pipnet.detector import load

    return load(name, weights, device=device, dtype=dtype, **options)
