"""The LDEQ detector: harness contract, RwR warm start as released, speed options.

RwR (``docs/detectors.md`` (LDEQ)): every frame runs ``max_iters = 1`` FPI step from the previous frame's final
heatmaps plus the extra step (2 cell evaluations); ``state=None`` starts from zeros (video start).
The returned state is that final heatmap tensor ``[B, 98, 64, 64]`` (batch first), so the harness
can split/stack it per video and batch any mix of video lengths. ``rwr=False`` is the baseline:
zeros every frame, the checkpoint's solver (up to 5 FPI iterations + 1).

Batch coupling: the released solvers stop on the batch-mean residual. The harness batches frames
of unrelated videos, so by default (``stop="sample"``) each frame stops/selects on its own residual
— exactly the released sequential evaluator (one video, batch 1), independent of batching.
``stop="batch"`` reproduces the batched reference on a given batch; ``deterministic_batch=True``
sets the tolerance to 0 (never stop early). With RwR nothing can stop early, so all agree.
"""

from __future__ import annotations

import contextlib
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.detectors.crops import crop_matrix, to_frame
from wflwv.detectors.ldeq.config import LdeqConfig, with_overrides
from wflwv.detectors.ldeq.model import LDEQ

OPTION_DEFAULTS: Dict[str, Any] = {
    "rwr": None,               # None → True for ldeq.wflw_v / ldeq, False for ldeq.wflw
    "rwr_max_iters": 1,
    "stop": "sample",          # "sample" | "batch"
    "deterministic_batch": False,
    "max_iters": None,         # override the checkpoint's max_iters (baseline only)
    "channels_last": None,     # None → True on CUDA
    "precision": "fp32",       # "fp32" | "tf32" | "bf16" (CUDA; see benchmarks/ldeq.py report)
    "compile": False,          # False | True | a torch.compile mode ("reduce-overhead" = CUDA graphs)
    "gpu_crops": None,         # None → True on CUDA: crops cut with grid_sample on the device
}


def resolve_device(device: Any) -> torch.device:
    """``torch.device`` for ``device`` (:func:`wflwv.detectors.device.resolve_device`)."""
    from wflwv.detectors.device import resolve_device as _resolve

    return _resolve(device)


def resolve_dtype(dtype: Any) -> torch.dtype:
    """Accept a torch dtype, None (float32) or a name like ``"float64"`` (float32/float64 only)."""
    from wflwv.detectors.device import dtype_name

    try:
        name = dtype_name(dtype)
    except ValueError:
        name = None
    if name not in ("float32", "float64"):
        raise ValueError(f"LDEQ dtype {dtype!r} is not supported; use float32 or float64 "
                         f"(bf16/TF32 are chosen with the option precision=bf16|tf32)")
    return getattr(torch, name)


class LdeqDetector(Detector):
    """LDEQ behind the detector contract (``predict_crops`` / ``predict_frames``)."""

    def __init__(self, cfg: DetectorCfg, model: LDEQ, device: torch.device, dtype: torch.dtype,
                 opts: Dict[str, Any]):
        super().__init__(cfg)
        self.model, self.device, self.dtype, self.opts = model, device, dtype, opts
        self.rwr = bool(opts["rwr"])
        base = model.cfg
        if opts["max_iters"] is not None:
            base = with_overrides(base, max_iters=int(opts["max_iters"]))
        if opts["deterministic_batch"]:
            base = with_overrides(base, rel_diff_target=0.0, abs_diff_target=0.0)
        self.solver_cfg: LdeqConfig = (with_overrides(base, max_iters=int(opts["rwr_max_iters"]),
                                                      take_one_less_inference_step=False)
                                       if self.rwr else base)
        self.per_sample = opts["stop"] == "sample"
        self.channels_last = bool(opts["channels_last"])
        self.precision = opts["precision"]
        if self.channels_last:
            self.model.to(memory_format=torch.channels_last)
        self.model.cell.float_norm = self.precision == "bf16"
        self._cell = None
        if opts["compile"]:
            mode = opts["compile"] if isinstance(opts["compile"], str) else None
            self._cell = torch.compile(self.model.cell, mode=mode, dynamic=False)
        self.last_info: Dict[str, Any] = {}

    # ------------------------------------------------------------------------------------------
    def _precision_ctx(self):
        if self.device.type != "cuda":
            if self.precision == "bf16":
                return torch.autocast("cpu", dtype=torch.bfloat16)
            return contextlib.nullcontext()
        stack = contextlib.ExitStack()
        tf32 = self.precision == "tf32"
        old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
        torch.backends.cuda.matmul.allow_tf32 = tf32      # "fp32" really is fp32 (cudnn defaults
        torch.backends.cudnn.allow_tf32 = tf32            # to TF32 convolutions otherwise)
        stack.callback(_restore_tf32, old)
        if self.precision == "bf16":
            stack.enter_context(torch.autocast("cuda", dtype=torch.bfloat16))
        return stack

    def predict_crops(self, crops: Any, state: Any = None) -> Tuple[torch.Tensor, Any]:
        """Landmarks ``[B,98,2]`` in crop pixels (0..256) and the RwR state (None without RwR)."""
        x = torch.as_tensor(crops)
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"LDEQ predict_crops expects normalised crops [B,3,256,256], got "
                             f"{tuple(x.shape)}")
        x = x.to(self.device, self.dtype, non_blocking=True)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        z0 = None
        if state is not None:
            if not self.rwr:
                raise ValueError("LDEQ without RwR is stateless: call predict_crops with state=None")
            K, hm = self.model.cfg.n_keypoints, self.model.cfg.heatmap_size
            if not torch.is_tensor(state) or tuple(state.shape) != (x.shape[0], K, hm, hm):
                got = tuple(state.shape) if hasattr(state, "shape") else type(state).__name__
                raise ValueError(f"LDEQ RwR state must be the previous call's [B,{K},{hm},{hm}] "
                                 f"heatmaps for the same B={x.shape[0]} videos, got {got}")
            z0 = state.to(self.device)
        with self._precision_ctx():
            out = self.model.infer(x, z0=z0, cfg=self.solver_cfg, per_sample=self.per_sample,
                                   cell_fn=self._cell)
        self.last_info = dict(out["info"], uncertainty=out["uncertainty"])
        z = out["z_star"]
        if not bool(torch.isfinite(z).all()):
            raise FloatingPointError(f"LDEQ produced non-finite heatmaps (precision "
                                     f"{self.precision}, dtype {self.dtype}); rerun with precision=fp32")
        lm = out["keypoints"] * float(self.model.cfg.im_size)
        return lm, (z if self.rwr else None)

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: np.ndarray, state: Any = None,
                       gt: Optional[np.ndarray] = None,
                       keys: Optional[Sequence[Tuple[str, int]]] = None) -> Tuple[np.ndarray, Any]:
        """Frame-pixel landmarks for RGB frames; with ``gpu_crops`` the crops are cut on the device."""
        if not self.opts["gpu_crops"]:
            return super().predict_frames(frames, boxes, state, gt, keys)
        from wflwv.detectors.ldeq.gpu_crops import normalise_on_device, warp_crops

        protocol = self.cfg.crop
        boxes = np.asarray(boxes, dtype=np.float64)
        if len(frames) != len(boxes):
            raise ValueError(f"LDEQ predict_frames: {len(frames)} frames but {len(boxes)} boxes")
        mats = np.stack([crop_matrix(protocol, b, tuple(f.shape[:2])) for f, b in zip(frames, boxes)])
        crops = warp_crops(frames, mats, protocol.size, self.device)
        if self.cfg.color_order == "BGR":
            crops = crops.flip(1)
        x = normalise_on_device(crops, self.cfg.mean, self.cfg.std)
        lm, state = self.predict_crops(x, state)
        return to_frame(lm.detach().double().cpu().numpy(), mats), state


def _restore_tf32(old) -> None:
    torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


def resolve_options(name: str, device: torch.device, dtype: torch.dtype,
                    options: Dict[str, Any]) -> Dict[str, Any]:
    """Validate user options against :data:`OPTION_DEFAULTS` and fill device-dependent defaults."""
    unknown = sorted(set(options) - set(OPTION_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {name}; known: {sorted(OPTION_DEFAULTS)}")
    opts = dict(OPTION_DEFAULTS, **options)
    if opts["rwr"] is None:
        opts["rwr"] = name != "ldeq.wflw"
    if opts["stop"] not in ("sample", "batch"):
        raise ValueError(f"{name}: stop={opts['stop']!r}; use stop=sample or stop=batch")
    if opts["precision"] not in ("fp32", "tf32", "bf16"):
        raise ValueError(f"{name}: precision={opts['precision']!r}; use fp32, tf32 or bf16")
    if opts["precision"] != "fp32" and dtype != torch.float32:
        raise ValueError(f"{name}: precision={opts['precision']} needs dtype float32, got {dtype}")
    if int(opts["rwr_max_iters"]) < 1:
        raise ValueError(f"{name}: rwr_max_iters must be >= 1")
    cuda = device.type == "cuda"
    for key in ("channels_last", "gpu_crops"):
        if opts[key] is None:
            opts[key] = cuda
    return opts


def build_detector(name: str, model: LDEQ, device: Any = "cpu", dtype: Any = None,
                   sha256: Optional[str] = None, **options: Any) -> LdeqDetector:
    """Wrap an already-built :class:`LDEQ` (weights loaded) as a detector named ``name``."""
    from wflwv.detectors.ldeq.config import detector_cfg

    dev, dt = resolve_device(device), resolve_dtype(dtype)
    opts = resolve_options(name, dev, dt, options)
    model = model.to(device=dev, dtype=dt).eval()
    cfg = detector_cfg(name, opts["rwr"], options=dict(opts, solver=model.cfg.to_dict()),
                       sha256=sha256)
    return LdeqDetector(cfg, model, dev, dt, opts)
