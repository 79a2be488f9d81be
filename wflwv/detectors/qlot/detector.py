"""The QLOT tracker behind the detector contract: per-video state, two crop modes, loading.

State (:class:`QlotState`) holds, per video, the hidden state and the previous returned
prediction (crop pixels, as the official evaluation loop carries them) plus the previous
landmarks in frame pixels (for the self-tracking crop). The harness keeps one slice per video
and passes ``state=None`` for a video's first frame, after a missing detection or a scene cut:
that frame runs ``iters_first`` iterations from the canonical queries, later frames
``iters_next`` iterations from the carried state.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
import torch

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.detectors.checkpoint import WeightsRequired, verify_sha256
from wflwv.detectors.crops import qlot_cut, to_frame
from wflwv.detectors.family_utils import resolve_device, resolve_dtype
from wflwv.detectors.qlot import config as C
from wflwv.detectors.qlot.backbone import fold_batchnorm
from wflwv.detectors.qlot.loading import check_weights, pick_queries, read_checkpoint
from wflwv.detectors.qlot.model import QLOT, Prediction, expected_shapes


MIN_TRACK_SIDE = 8.0   # px: a tracked landmark box smaller than this has collapsed


@dataclass
class QlotState:
    """Batched tracker state (first axis = video)."""

    pred: Prediction            # previous returned prediction (crop pixels) and hidden state
    frame_lm: np.ndarray        # [B, N, 2] previous landmarks in frame pixels (float64)

    def __len__(self) -> int:
        return int(self.frame_lm.shape[0])


class QlotDetector(Detector):
    """A loaded QLOT network with its query set; ``predict_frames`` runs one tracker step per video."""

    def __init__(self, cfg: DetectorCfg, net: QLOT, queries: torch.Tensor, device, dtype,
                 crop: str = "track", iters_first: int = C.ITERS_FIRST, iters_next: int = C.ITERS_NEXT):
        super().__init__(cfg)
        # BN folded after the dtype cast (exact up to rounding; the parity tests run this network)
        self.net = fold_batchnorm(net.to(device=device, dtype=dtype).eval())
        self.device, self.dtype = device, dtype
        self.queries = queries.to(device=device, dtype=dtype)
        self.crop_mode, self.iters_first, self.iters_next = crop, iters_first, iters_next
        with torch.inference_mode():
            self._enc = self.net.encode_queries(self.queries)
        self.weights_path = self.weights_sha256 = None
        self.query_set = ""
        self.track_restarts = 0     # self-tracking: videos restarted from the box source (track lost)

    # ---- state protocol -----------------------------------------------------------------------
    def split_state(self, state: Any, n: int) -> List[Any]:
        """One :class:`QlotState` per video."""
        if state is None:
            return [None] * n
        p = state.pred
        return [QlotState(Prediction(p.mean[i:i + 1], p.cov[i:i + 1], p.delta[i:i + 1], p.hidden[i:i + 1]),
                          state.frame_lm[i:i + 1]) for i in range(n)]

    def stack_state(self, states: Sequence[Any]) -> Any:
        """Concatenate per-video states (all non-None) into one batch."""
        if not states or states[0] is None:
            return None
        cat = lambda key: torch.cat([getattr(s.pred, key) for s in states], dim=0)  # noqa: E731
        return QlotState(Prediction(cat("mean"), cat("cov"), cat("delta"), cat("hidden")),
                         np.concatenate([s.frame_lm for s in states], axis=0))

    # ---- inference ----------------------------------------------------------------------------
    def normalise(self, crops_u8: np.ndarray) -> torch.Tensor:
        """``[B, S, S, 3]`` RGB uint8 → ``[B, 3, S, S]`` in [0, 1] (the network normalises inside)."""
        t = torch.from_numpy(np.ascontiguousarray(crops_u8)).permute(0, 3, 1, 2)
        return t.to(device=self.device, dtype=self.dtype) / 255.0

    def step(self, x: torch.Tensor, prev: Optional[Prediction]) -> Prediction:
        """One tracker step on ``[B, 3, 224, 224]`` RGB in [0, 1]; ``prev`` None = first frame."""
        iters = self.iters_first if prev is None else self.iters_next
        with torch.inference_mode():
            return self.net(x, self.queries, iters, prefill=prev, enc=self._enc)

    def predict_crops(self, crops: Any, state: Any = None) -> Tuple[torch.Tensor, Any]:
        """Landmarks ``[B, N, 2]`` in crop pixels for crops in [0, 1]; ``state`` a :class:`QlotState`."""
        x = torch.as_tensor(crops).to(device=self.device, dtype=self.dtype)
        S = self.cfg.input_size
        if x.ndim != 4 or x.shape[1] != 3 or tuple(x.shape[2:]) != (S, S):
            raise ValueError(f"{self.cfg.name}: crops must be [B, 3, {S}, {S}], got {tuple(x.shape)}")
        out = self.step(x, None if state is None else state.pred)
        lm = np.zeros(tuple(out.mean.shape)) if state is None else state.frame_lm
        return out.mean, QlotState(out, lm)

    def crop_boxes(self, boxes: np.ndarray, state: Optional[QlotState]) -> np.ndarray:
        """Boxes the crops are cut around: the given boxes, or (self-tracking) the previous landmarks'."""
        boxes = np.asarray(boxes, dtype=np.float64)
        if state is None or self.crop_mode == "box":
            return boxes
        lm = state.frame_lm
        return np.concatenate([lm.min(axis=1), lm.max(axis=1)], axis=1)

    @staticmethod
    def track_lost(box: np.ndarray, frame_hw: Tuple[int, int]) -> bool:
        """A self-tracking box that no longer frames a face: degenerate, far larger than the frame, or off it."""
        H, W = frame_hw
        w, h = box[2] - box[0], box[3] - box[1]
        cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
        return bool(not np.isfinite(box).all() or min(w, h) < MIN_TRACK_SIDE or max(w, h) > max(H, W)
                    or not (0 <= cx < W and 0 <= cy < H))

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: np.ndarray, state: Any = None,
                       gt: Optional[np.ndarray] = None, keys=None) -> Tuple[np.ndarray, QlotState]:
        """Frame-pixel landmarks for RGB frames; crops per ``crop`` mode (see the module docstring).

        Self-tracking: a video whose tracked box is lost (:meth:`track_lost`) restarts from this
        frame's box-source box with fresh state, as at a new video; ``track_restarts`` counts them.
        """
        boxes = np.asarray(boxes, dtype=np.float64)
        crop_boxes = self.crop_boxes(boxes, state)
        fresh = np.full(len(frames), state is None)
        if state is not None and self.crop_mode == "track":
            for i, f in enumerate(frames):
                if self.track_lost(crop_boxes[i], f.shape[:2]):
                    fresh[i], crop_boxes[i] = True, boxes[i]
            self.track_restarts += int(fresh.sum())
        crops, mats = zip(*(qlot_cut(f, b, self.cfg.input_size) for f, b in zip(frames, crop_boxes)))
        x, mats = self.normalise(np.stack(crops)), np.stack(mats)
        if fresh.all() or not fresh.any():
            out = self.step(x, None if fresh.all() else state.pred)
        else:                                   # some videos restart: two calls, merged in order
            idx_f, idx_c = np.flatnonzero(fresh), np.flatnonzero(~fresh)
            part = self.split_state(state, len(frames))
            a = self.step(x[idx_f], None)
            b = self.step(x[idx_c], self.stack_state([part[i] for i in idx_c]).pred)
            order = torch.as_tensor(np.argsort(np.concatenate([idx_f, idx_c])), device=x.device)
            out = Prediction(*(torch.cat([getattr(a, k), getattr(b, k)])[order]
                               for k in ("mean", "cov", "delta", "hidden")))
        lm = to_frame(out.mean.detach().cpu().double().numpy(), mats)
        return lm, QlotState(out, lm)


def load(name: str, weights: Optional[str], device="cpu", dtype=None, crop: str = "track",
         iters_first: int = C.ITERS_FIRST, iters_next: int = C.ITERS_NEXT,
         queries: Optional[str] = None) -> QlotDetector:
    """Build a :class:`QlotDetector` for ``qlot.wflw_v``, ``qlot.300w`` or bare ``qlot``."""
    release = C.RELEASES.get(name)
    if name != "qlot" and release is None:
        raise ValueError(f"unknown QLOT tag {name!r}; known: {sorted(C.RELEASES)} or 'qlot'")
    if crop not in C.CROP_MODES:
        raise ValueError(f"{name}: crop={crop!r} is not a crop mode; use one of {list(C.CROP_MODES)}")
    for key, val in (("iters_first", iters_first), ("iters_next", iters_next)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 1:
            raise ValueError(f"{name}: {key} must be an integer >= 1, got {val!r}")
    if weights is None:
        raise WeightsRequired(name, hint="Download qlot-final.pth from the GitHub release of "
                                         "N3xed/qlot-face-landmark-tracking (Apache-2.0)")
    weights = str(Path(weights).expanduser())
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    digest = verify_sha256(weights, release.sha256 if release else None, what=f"{name} checkpoint")
    if release is not None and release.sha256 is None:
        warnings.warn(f"{name}: UNVERIFIED — no SHA-256 of qlot-final.pth is pinned; {weights} loaded with "
                      f"strict key/shape checks only (sha256 {digest} recorded)", stacklevel=3)
    state, qsets = read_checkpoint(weights)
    check_weights(state, expected_shapes(), weights)
    set_name, pts = pick_queries(qsets, queries if queries is not None else
                                 (release.query_set if release else None), weights)
    if release is not None and pts.shape[0] != release.num_landmarks:
        raise ValueError(f"{name}: query set {set_name!r} of {weights} has {pts.shape[0]} points, "
                         f"expected {release.num_landmarks}")
    net = QLOT()
    net.load_state_dict(state, strict=True)
    opts = {"crop": crop, "iters_first": iters_first, "iters_next": iters_next, "queries": set_name,
            "dtype": str(dt).replace("torch.", "")}
    det = QlotDetector(C.make_cfg(name, int(pts.shape[0]), release, opts), net, pts, dev, dt,
                       crop=crop, iters_first=iters_first, iters_next=iters_next)
    det.weights_path, det.weights_sha256, det.query_set = weights, digest, set_name
    return det
