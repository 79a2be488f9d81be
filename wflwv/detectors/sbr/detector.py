"""SBR detector: release-format checkpoint loading (no arbitrary unpickling), PIL crop, batched decode."""

from __future__ import annotations

import argparse
import collections
import pathlib
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.detectors.checkpoint import CheckpointError, WeightsRequired, check_state_dict, safe_load, verify_sha256
from wflwv.detectors.crops import _check_box, _sbr_matrix, to_frame
from wflwv.detectors.family_utils import resolve_device, resolve_dtype
from wflwv.detectors.sbr import config as C
from wflwv.detectors.sbr.model import CPMVGG16, expected_shapes, find_peaks

# Globals a release checkpoint needs: the pickled argparse args, MultiStepLR's Counter milestones.
ALLOWED_GLOBALS = (argparse.Namespace, collections.Counter, pathlib.PosixPath, pathlib.WindowsPath)


def sbr_cut(frame: np.ndarray, box, size: int = C.INPUT_SIZE) -> Tuple[np.ndarray, np.ndarray]:
    """SBR crop (``docs/detectors.md`` (SBR)): clipped 0.2-expanded box, Pillow BILINEAR resize to ``size``²."""
    from PIL import Image

    box = _check_box(box)
    A, (r0, r1, c0, c1) = _sbr_matrix(box, frame.shape[:2], size)
    patch = np.ascontiguousarray(frame[r0:r1, c0:c1])
    if patch.ndim != 3 or patch.shape[2] != 3 or patch.dtype != np.uint8:
        raise ValueError(f"SBR needs RGB uint8 frames H×W×3, got {frame.dtype} {frame.shape}")
    crop = np.asarray(Image.fromarray(patch, "RGB").resize((size, size), Image.BILINEAR))
    return crop, A


class SBRDetector(Detector):
    """A loaded SBR CPM detector; ``predict_crops`` returns stage-3 peaks in 256-input pixels."""

    def __init__(self, cfg: DetectorCfg, net: CPMVGG16, device, dtype, pixel_center_fix: bool = False):
        super().__init__(cfg)
        self.net = net.to(device=device, dtype=dtype).eval()
        self.device, self.dtype = device, dtype
        self.pixel_center_fix = pixel_center_fix
        self.last_scores: Optional[torch.Tensor] = None  # stage-3 maxima of the last call [B, N]
        self.weights_path = self.weights_sha256 = None
        self.train_args: Dict[str, Any] = {}

    def forward(self, crops: Any) -> Tuple[torch.Tensor, list]:
        """``(cpm_feature, [stage maps])`` for normalised crops ``[B, 3, 256, 256]``."""
        x = torch.as_tensor(crops).to(device=self.device, dtype=self.dtype)
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2:] != (self.cfg.input_size,) * 2:
            raise ValueError(f"{self.cfg.name}: crops must be [B, 3, {self.cfg.input_size}, "
                             f"{self.cfg.input_size}], got {tuple(x.shape)}")
        with torch.inference_mode():
            return self.net(x)

    def predict_crops(self, crops: Any, state: Any = None) -> Tuple[torch.Tensor, None]:
        """Landmarks ``[B, 68, 2]`` in 256-input pixels (background channel dropped); stateless."""
        _, maps = self.forward(crops)
        with torch.inference_mode():
            locs, scores = find_peaks(maps[-1])
        n = self.cfg.num_landmarks
        self.last_scores = scores[:, :n]
        return locs[:, :n], None

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: np.ndarray, state: Any = None,
                       gt: Optional[np.ndarray] = None, keys=None) -> Tuple[np.ndarray, None]:
        """Frame-pixel landmarks for RGB frames and ``x1 y1 x2 y2`` boxes (SBR's own PIL crop)."""
        crops, mats = zip(*(sbr_cut(f, b, self.cfg.input_size) for f, b in zip(frames, boxes)))
        lm, _ = self.predict_crops(self.normalise(np.stack(crops)))
        lm = lm.detach().cpu().double().numpy()
        mats = np.stack(mats)
        if self.pixel_center_fix:  # x = (x_in + 0.5)·s − 0.5 + cx1 instead of x_in·s + cx1
            lm = lm + 0.5 - 0.5 * np.stack([mats[:, 0, 0], mats[:, 1, 1]], axis=1)[:, None, :]
        return to_frame(lm, mats), None


def extract_state_dict(obj: Any, path: str = "") -> Tuple[Dict[str, torch.Tensor], Any]:
    """Tensors of a release checkpoint: ``detector`` over ``state_dict``; strip ``module.``, ``detector.``.

    Returns ``(state, args)``; a bare state_dict is accepted too (``args`` is then None).
    """
    if not isinstance(obj, dict) or not obj:
        raise CheckpointError(f"checkpoint {path} is not an SBR checkpoint (expected a dict)")
    args = None
    if all(torch.is_tensor(v) for v in obj.values()):
        raw = obj
    else:
        key = "detector" if "detector" in obj else "state_dict" if "state_dict" in obj else None
        if key is None:
            raise CheckpointError(f"checkpoint {path} has neither 'detector' nor 'state_dict' (keys: "
                                  f"{sorted(obj)[:8]}); is it an SBR cpm_vgg16 checkpoint?")
        raw, args = obj[key], obj.get("args")
        arch = obj.get("arch")
        if arch is not None and arch != "cpm_vgg16":
            raise CheckpointError(f"checkpoint {path} is arch {arch!r}; wflwv supports SBR cpm_vgg16")
        if not isinstance(raw, dict) or not all(torch.is_tensor(v) for v in raw.values()):
            raise CheckpointError(f"checkpoint {path}: '{key}' is not a state_dict of tensors")
    state = {}
    for k, v in raw.items():
        k = k[len("module."):] if k.startswith("module.") else k
        k = k[len("detector."):] if k.startswith("detector.") else k
        state[k] = v
    return state, args


def _check_args(args: Any, num_pts: int, path: str) -> Dict[str, Any]:
    """Check the pickled training args against the evaluation protocol wflwv implements."""
    if args is None:
        return {}
    got = {k: getattr(args, k, None) for k in ("pre_crop_expand", "crop_width", "crop_height",
                                                "num_pts", "data_indicator")}
    want = {"pre_crop_expand": C.PRE_CROP_EXPAND, "crop_width": C.INPUT_SIZE,
            "crop_height": C.INPUT_SIZE, "num_pts": num_pts}
    bad = {k: (got[k], v) for k, v in want.items() if got[k] is not None and got[k] != v}
    if bad:
        desc = ", ".join(f"{k}={g!r} (wflwv implements {w!r})" for k, (g, w) in bad.items())
        raise CheckpointError(f"checkpoint {path} was trained with {desc}; its evaluation protocol "
                              f"differs from sbr_pad0.2 at 256 px")
    return {k: v for k, v in got.items() if v is not None}


def load(name: str, weights: Optional[str], device="cpu", dtype=None,
         pixel_center_fix: bool = False) -> SBRDetector:
    """Build an :class:`SBRDetector` for ``sbr.300w`` or bare ``sbr`` from a checkpoint file."""
    release = C.RELEASES.get(name)
    if name != "sbr" and release is None:
        raise ValueError(f"unknown SBR tag {name!r}; known: {sorted(C.RELEASES)} or 'sbr'")
    if weights is None:
        raise WeightsRequired(name, hint=(
            "Use cpm_vgg16-epoch-049-050.pth (SBR Google Drive folder 1ylMoVuUaNPqP7GSeWS3yE-wfU9JEJSSu)"))
    weights = str(Path(weights).expanduser())
    digest = verify_sha256(weights, release.sha256 if release else None, what=f"{name} checkpoint")
    if release is not None and release.sha256 is None:
        warnings.warn(f"{name}: no published SHA-256 for the released SBR weights; {weights} loaded "
                      f"with strict key/shape/args checks only (sha256 {digest} recorded on the "
                      f"detector)", stacklevel=3)
    state, args = extract_state_dict(safe_load(weights, ALLOWED_GLOBALS), weights)
    last = "stages.0.10.weight"
    if last not in state:
        raise CheckpointError(f"checkpoint {weights} has no CPM stage-1 output conv ({last}); is it an "
                              f"SBR cpm_vgg16 checkpoint? keys start {sorted(state)[:4]}")
    num_pts = int(state[last].shape[0]) - 1
    if release is not None and num_pts != release.num_landmarks:
        raise CheckpointError(f"checkpoint {weights} predicts {num_pts} points, {name} expects "
                              f"{release.num_landmarks}")
    check_state_dict(state, expected_shapes(num_pts), weights)
    for k, v in state.items():
        if not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"checkpoint {weights}: tensor {k} holds NaN/Inf; download it again")
    used = _check_args(args, num_pts, weights)
    net = CPMVGG16(num_pts)
    net.load_state_dict(state, strict=True)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    # cfg.options holds only what changes the output (it enters the harness cache key)
    opts = {"pixel_center_fix": pixel_center_fix, "dtype": str(dt).replace("torch.", ""),
            "crop_resize": "PIL bilinear (antialiased)"}
    det = SBRDetector(C.make_cfg(name, num_pts, release, opts), net, dev, dt, pixel_center_fix)
    det.weights_path, det.weights_sha256, det.train_args = weights, digest, used
    return det

