"""Load an official LDEQ ``final.pth.tar`` safely and build the model (``docs/detectors.md`` (LDEQ)).

The file is ``{'args': argparse.Namespace, 'state_dict': {...}}``. It is unpickled through
:func:`wflwv.detectors.checkpoint.safe_load` with ``argparse.Namespace`` as the only extra allowed
global (tensors and ordered dicts are allowed by torch's ``weights_only`` loader itself), so no
code in the pickle can run. The key set and every shape are checked strictly, every tensor must be
finite, and the SHA-256 is checked when known.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import torch

from wflwv.detectors.checkpoint import CheckpointError, check_state_dict, safe_load, verify_sha256
from wflwv.detectors.ldeq.config import (RELEASED, LdeqConfig, LdeqConfigError, check_released,
                                         config_from_args, state_dict_shapes)
from wflwv.detectors.ldeq.model import LDEQ

ALLOWED_GLOBALS = (argparse.Namespace,)


def read_checkpoint(path: str | os.PathLike, sha256: Optional[str] = None
                    ) -> Tuple[Optional[Dict[str, Any]], Dict[str, torch.Tensor], str]:
    """``(args dict or None, state_dict, sha256)`` of an LDEQ checkpoint, without running pickle code."""
    path = Path(path)
    digest = verify_sha256(path, sha256, what="LDEQ checkpoint")
    obj = safe_load(path, ALLOWED_GLOBALS)
    if isinstance(obj, dict) and "state_dict" in obj:
        state, args = obj["state_dict"], obj.get("args")
        extra = sorted(set(obj) - {"state_dict", "args"})
        if extra:
            raise CheckpointError(f"LDEQ checkpoint {path} has unexpected top-level entries {extra}; "
                                  f"the official format holds only 'args' and 'state_dict'")
    elif isinstance(obj, dict) and obj and all(torch.is_tensor(v) for v in obj.values()):
        state, args = obj, None          # a bare state_dict (allowed for the released tags)
    else:
        raise CheckpointError(f"LDEQ checkpoint {path} is a {type(obj).__name__}, not the official "
                              f"{{'args', 'state_dict'}} dict; pass the final.pth.tar file")
    if args is not None:
        if isinstance(args, argparse.Namespace):
            args = vars(args)
        elif not isinstance(args, dict):
            raise CheckpointError(f"LDEQ checkpoint {path}: 'args' is a {type(args).__name__}, expected "
                                  f"argparse.Namespace")
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise CheckpointError(f"LDEQ checkpoint {path}: 'state_dict' must map names to tensors")
    return args, dict(state), digest


def resolve_config(name: str, args: Optional[Dict[str, Any]], path: str) -> LdeqConfig:
    """The config for registry ``name``: the release for tags (args must agree), the args for ``ldeq``."""
    if name in RELEASED:
        if args is None:
            return RELEASED[name]
        try:
            cfg = config_from_args(args, source=f"LDEQ checkpoint {path}")
        except LdeqConfigError as exc:
            raise CheckpointError(str(exc)) from None
        try:
            check_released(cfg, name, path)
        except LdeqConfigError as exc:
            raise CheckpointError(str(exc)) from None
        return cfg
    if name != "ldeq":
        raise KeyError(f"unknown LDEQ detector {name!r}; use ldeq, ldeq.wflw or ldeq.wflw_v")
    if args is None:
        raise CheckpointError(f"LDEQ checkpoint {path} has no stored 'args', so `ldeq` cannot know its "
                              f"configuration: use --model ldeq.wflw or ldeq.wflw_v for a bare "
                              f"state_dict of a released model")
    try:
        return config_from_args(args, source=f"LDEQ checkpoint {path}")
    except LdeqConfigError as exc:
        raise CheckpointError(str(exc)) from None


def check_tensors(state: Dict[str, torch.Tensor], cfg: LdeqConfig, path: str) -> None:
    """Strict key/shape check against ``cfg``; floating weights must be floating and finite."""
    check_state_dict(state, state_dict_shapes(cfg), path=path)
    for key, t in state.items():
        if key.endswith("num_batches_tracked"):
            continue
        if not t.is_floating_point():
            raise CheckpointError(f"{path}: tensor {key} has dtype {t.dtype}, expected floating point")
        if not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{path}: tensor {key} contains NaN/inf; the file is corrupt — "
                                  f"download it again")


def load_model(name: str, path: str | os.PathLike, sha256: Optional[str] = None,
               device: str = "cpu", dtype: torch.dtype = torch.float32) -> Tuple[LDEQ, str]:
    """Build and load the model of ``name`` from checkpoint ``path``; returns ``(model, sha256)``."""
    path = str(path)
    args, state, digest = read_checkpoint(path, sha256)
    cfg = resolve_config(name, args, path)
    check_tensors(state, cfg, path)
    model = LDEQ(cfg)
    model.load_state_dict(state, strict=True)
    model.eval().to(device=device, dtype=dtype)
    return model, digest
