"""Loading a QLOT checkpoint in the official layout without arbitrary unpickling.

The official training loop saves ``{model_state_dict, optimizer_state_dict, global_step, config,
scheduler_state_dict, query_points, ...}`` where ``config`` may be an instance of the project's
``Config`` dataclass. It is read with ``torch.load(weights_only=True)`` and an allow-list holding
only a harmless stand-in registered under that class's qualified name plus numpy's scalar
reconstructor and dtypes; anything else is refused (see docs/qlot.md, "Checkpoint").
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from wflwv.detectors.checkpoint import CheckpointError, check_state_dict, safe_load

OLD_PREFIX, NEW_PREFIX = "update_predictor.bypass_attention.", "update_predictor.mixer."


class ConfigStub:
    """Inert stand-in for the official ``utils.torch.misc.Config``: keeps its fields, runs nothing."""

    def __setstate__(self, state: Any) -> None:
        self.__dict__.update(state if isinstance(state, dict) else {"state": state})


def allowed_globals():
    """The allow-list: the Config stand-in and numpy scalar/dtype reconstruction only."""
    out = [(ConfigStub, "utils.torch.misc.Config"), np.dtype]
    try:
        from numpy._core.multiarray import scalar
    except ImportError:  # numpy < 2
        from numpy.core.multiarray import scalar  # type: ignore
    out.append(scalar)
    for name in ("Float32DType", "Float64DType", "Int64DType"):
        cls = getattr(getattr(np, "dtypes", None), name, None)
        if cls is not None:
            out.append(cls)
    return out


def read_checkpoint(path: str) -> Tuple[Dict[str, torch.Tensor], Dict[str, torch.Tensor]]:
    """``(model_state_dict, query sets)`` of an official-layout file; query sets keyed ``WFLW_V`` etc."""
    obj = safe_load(path, allowed_globals())
    if isinstance(obj, dict) and "model_state_dict" in obj:
        raw, qp = obj["model_state_dict"], obj.get("query_points") or {}
    elif isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
        raw, qp = obj, {}
    else:
        keys = sorted(obj)[:8] if isinstance(obj, dict) else type(obj).__name__
        raise CheckpointError(f"checkpoint {path} has no 'model_state_dict' (found {keys}); is it a "
                              f"QLOT training checkpoint (qlot-final.pth)?")
    if not isinstance(raw, dict) or not all(torch.is_tensor(v) for v in raw.values()):
        raise CheckpointError(f"checkpoint {path}: 'model_state_dict' is not a dict of tensors")
    state = {(NEW_PREFIX + k[len(OLD_PREFIX):] if k.startswith(OLD_PREFIX) else k): v for k, v in raw.items()}
    if not isinstance(qp, dict) or not all(torch.is_tensor(v) for v in qp.values()):
        raise CheckpointError(f"checkpoint {path}: 'query_points' is not a dict of tensors")
    queries = {k.partition("queries.")[2] or k: v for k, v in qp.items()}
    return state, queries


def check_weights(state: Dict[str, torch.Tensor], expected: Dict[str, tuple], path: str) -> None:
    """Strict keys and shapes, and every tensor finite."""
    check_state_dict(state, expected, path)
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"checkpoint {path}: tensor {k} holds NaN/Inf; download it again")


def pick_queries(queries: Dict[str, torch.Tensor], wanted: Optional[str], path: str) -> Tuple[str, torch.Tensor]:
    """The query set to evaluate with: ``wanted`` (a set name or an ``.npy`` file of ``[N, 3]`` points)."""
    if wanted is not None and str(wanted).endswith(".npy"):
        p = Path(str(wanted)).expanduser()
        if not p.is_file():
            raise CheckpointError(f"query file {p} does not exist; pass queries=SET or an existing .npy")
        pts = torch.from_numpy(np.load(p, allow_pickle=False).astype(np.float32))
        name = p.stem
    elif wanted is not None:
        if wanted not in queries:
            raise CheckpointError(f"checkpoint {path} has no query set {wanted!r}; it holds "
                                  f"{sorted(queries) or 'none'}")
        name, pts = wanted, queries[wanted]
    elif len(queries) == 1:
        name, pts = next(iter(queries.items()))
    else:
        raise CheckpointError(
            f"checkpoint {path} holds query sets {sorted(queries) or 'none'}: choose one with "
            f"queries=NAME (e.g. qlot:queries=WFLW_V) or a release tag (qlot.wflw_v, qlot.300w)")
    if pts.ndim != 2 or pts.shape[1] != 3 or not bool(torch.isfinite(pts).all()):
        raise CheckpointError(f"query set {name!r} of {path} must be finite [N, 3] points, got "
                              f"{tuple(pts.shape)}")
    return name, pts
