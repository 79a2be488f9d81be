"""The detector contract: a typed config per ``family.tag`` and the batch/state interface.

A detector sees **crops** (``predict_crops``) or, when it needs more than pixels of a crop,
whole frames (``predict_frames``; simulated detectors read GT, dlib reads the frame). The harness
drives both through :meth:`Detector.predict_frames`, which by default cuts crops with the config's
crop protocol, normalises them, calls :meth:`Detector.predict_crops` and maps the landmarks back
to frame pixels.

State: a stateful detector (LDEQ with RwR) returns a per-sample state whose first axis is the
batch. The harness keeps one slice per video (:meth:`split_state`), re-stacks the slices of the
videos in the next batch (:meth:`stack_state`), and calls ``predict_crops`` with ``state=None``
for videos that start (fresh) and with the stacked state for videos that continue — never a mix
in one call. This module imports no torch at import time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

from wflwv.detectors.crops import PROTOCOLS, CropProtocol, cut_crop, to_frame

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class DetectorCfg:
    """Everything needed to run and cite one released detector (timm-style pretrained cfg)."""

    name: str                          # registry name, e.g. "ldeq.wflw_v"
    family: str                        # "ldeq" | "pipnet" | "sbr" | "dlib68" | "simulated" ...
    landmark_scheme: str               # "wflw98" | "ibug68" | "mediapipe468"
    num_landmarks: int
    input_size: int = 256
    crop_protocol: str = "ldeq_square1.2"   # key of wflwv.detectors.crops.PROTOCOLS, or "none"
    color_order: str = "RGB"           # channel order the network expects
    mean: Tuple[float, float, float] = IMAGENET_MEAN
    std: Tuple[float, float, float] = IMAGENET_STD
    weights_sha256: Optional[str] = None   # full hex digest; checked when known
    weights_bytes: Optional[int] = None
    weights_license: str = ""
    paper: str = ""
    origin_repo: str = ""              # "owner/repo@commit"
    stateful: bool = False
    simulated: bool = False
    needs_gt: bool = False             # reads ground truth (simulated detectors only)
    may_miss: bool = False             # returns all-NaN rows for frames where no face was found
    finds_faces: bool = False          # finds the face in the whole frame itself (default box source: frame)
    requires_gpu: bool = False
    extra: str = ""                    # pip extra that installs its dependencies
    notes: str = ""
    options: Dict[str, Any] = field(default_factory=dict)  # resolved runtime options

    def to_dict(self) -> Dict[str, Any]:
        """Plain-dict form for results JSON and leaderboards."""
        return asdict(self)

    @property
    def crop(self) -> Optional[CropProtocol]:
        """The :class:`CropProtocol` object (None for detectors that take whole frames)."""
        return PROTOCOLS.get(self.crop_protocol)


class Detector:
    """Base class: subclasses implement :meth:`predict_crops` (or override :meth:`predict_frames`)."""

    cfg: DetectorCfg

    def __init__(self, cfg: DetectorCfg):
        self.cfg = cfg

    # ---- per-sample state -------------------------------------------------------------------
    def split_state(self, state: Any, n: int) -> List[Any]:
        """Split a batched state into ``n`` per-sample states (None for stateless detectors)."""
        if state is None:
            return [None] * n
        return [state[i:i + 1] for i in range(n)]

    def stack_state(self, states: Sequence[Any]) -> Any:
        """Re-stack per-sample states (all non-None) into one batched state."""
        if not states or states[0] is None:
            return None
        first = states[0]
        if hasattr(first, "new_empty"):  # torch tensor, without importing torch here
            import torch

            return torch.cat(list(states), dim=0)
        return np.concatenate(list(states), axis=0)

    # ---- inference ----------------------------------------------------------------------------
    def predict_crops(self, crops: Any, state: Any = None) -> Tuple[Any, Any]:
        """Landmarks ``[B, N, 2]`` in crop pixels for normalised crops ``[B, 3, S, S]``, and state."""
        raise NotImplementedError(f"{type(self).__name__} does not take crops")

    def normalise(self, crops_u8: np.ndarray) -> Any:
        """``[B, S, S, 3]`` RGB uint8 crops → the ``[B, 3, S, S]`` tensor this detector expects."""
        import torch

        x = crops_u8
        if self.cfg.color_order == "BGR":
            x = x[..., ::-1]
        t = torch.from_numpy(np.ascontiguousarray(x)).permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.cfg.mean).view(1, 3, 1, 1)
        std = torch.tensor(self.cfg.std).view(1, 3, 1, 1)
        return (t - mean) / std

    def predict_frames(self, frames: Sequence[np.ndarray], boxes: np.ndarray, state: Any = None,
                       gt: Optional[np.ndarray] = None,
                       keys: Optional[Sequence[Tuple[str, int]]] = None) -> Tuple[np.ndarray, Any]:
        """Landmarks ``[B, N, 2]`` (float64, frame pixels) for RGB frames and their face boxes.

        ``gt`` (``[B, N, 2]`` frame pixels) is passed only to detectors with ``needs_gt``;
        ``keys`` are ``(video_id, frame_index)`` pairs (seeding for simulated detectors).
        """
        protocol = self.cfg.crop
        if protocol is None:
            raise NotImplementedError(f"{type(self).__name__} must override predict_frames")
        crops, mats = [], []
        for frame, box in zip(frames, boxes):
            crop, A = cut_crop(frame, protocol, box)
            crops.append(crop)
            mats.append(A)
        x = self.normalise(np.stack(crops))
        lm, state = self.predict_crops(x, state)
        lm = lm.detach().cpu().double().numpy() if hasattr(lm, "detach") else np.asarray(lm, float)
        return to_frame(lm, np.stack(mats)), state

    def reset(self) -> None:
        """Forget any internal state (per-video state lives with the caller)."""


def parse_options(spec: str) -> Tuple[str, Dict[str, Any]]:
    """Split ``"name:key=value,key=value"`` into ``(name, options)`` with typed values.

    Values parse as bool (true/false), int, float, or stay strings. Example:
    ``parse_options("ldeq:rwr=false")`` → ``("ldeq", {"rwr": False})``.
    """
    name, _, rest = spec.partition(":")
    opts: Dict[str, Any] = {}
    if rest:
        for item in rest.split(","):
            if not item:
                continue
            key, eq, value = item.partition("=")
            if not eq or not key:
                raise ValueError(f"option {item!r} in {spec!r} must look like key=value")
            opts[key.strip()] = _typed(value.strip())
    return name.strip(), opts


def _typed(value: str) -> Any:
    low = value.lower()
    if low in ("true", "yes", "on"):
        return True
    if low in ("false", "no", "off"):
        return False
    if low in ("none", "null"):
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value
