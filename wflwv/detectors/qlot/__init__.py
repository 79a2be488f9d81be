"""QLOT (2026): a query-based recurrent face-landmark tracker, clean-room from its description.

Registry names: ``qlot.wflw_v`` (the released ``qlot-final.pth`` with its WFLW-V queries, 98
points), ``qlot.300w`` (same file, iBUG-68 queries) and the bare ``qlot`` (any checkpoint in the
official layout; the query set is the only one it holds, or ``queries=NAME``). Options:
``crop=track|box`` (self-tracking crop, or the QLOT crop around each frame's box — the
GT-landmark crop with ``--boxes gt``), ``iters_first`` (4), ``iters_next`` (1), ``queries``.
See docs/qlot.md. Importing this package does not import torch.
"""

from __future__ import annotations

from typing import Any, Optional

from wflwv.detectors.family_utils import check_options

OPTIONS = ("crop", "iters_first", "iters_next", "queries")


def create(name: str, weights: Optional[str] = None, device: str = "cpu", dtype: Any = None,
           **options: Any):
    """Create a QLOT tracker (see the module docstring for names and options)."""
    check_options(name, options, OPTIONS)
    from wflwv.detectors.qlot.detector import load

    return load(name, weights, device=device, dtype=dtype, **options)
