"""Lazy name registries for datasets, detectors, filters and metrics.

Every entry is a ``"package.module:attr"`` string that is imported only on first :meth:`Registry.get`,
so listing (``wflwv ls``) and building (``wflwv build``) never import torch. Unknown names raise a
:class:`KeyError` with "did you mean" suggestions.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional


@dataclass(frozen=True)
class Entry:
    """One registered name: where its object lives and a short description for listings."""

    name: str
    target: str
    summary: str = ""
    meta: Dict[str, Any] = field(default_factory=dict)


class UnknownNameError(KeyError):
    """Raised for a name that no registry entry has; the message carries suggestions."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable.
        return str(self.args[0]) if self.args else ""


class Registry:
    """A name → lazy ``"module:attr"`` map with did-you-mean errors and wildcard listing."""

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: Dict[str, Entry] = {}
        self._loaded: Dict[str, Any] = {}

    def register(self, name: str, target: str, summary: str = "", **meta: Any) -> None:
        """Register ``name`` → ``target`` (``"module:attr"``); re-registering a different target raises."""
        if ":" not in target:
            raise ValueError(f"{self.kind} entry {name!r}: target {target!r} must look like 'module:attr'")
        old = self._entries.get(name)
        if old is not None and old.target != target:
            raise ValueError(f"{self.kind} {name!r} is already registered to {old.target!r}")
        self._entries[name] = Entry(name, target, summary, dict(meta))

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def names(self, pattern: Optional[str] = None) -> List[str]:
        """Sorted registered names, optionally filtered by an fnmatch wildcard such as ``pipnet*``."""
        names = sorted(self._entries)
        return [n for n in names if pattern is None or fnmatch.fnmatch(n, pattern)]

    def entry(self, name: str) -> Entry:
        """The :class:`Entry` for ``name``; unknown names raise with suggestions."""
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self._unknown_message(name)) from None

    def get(self, name: str) -> Any:
        """Import (once) and return the object registered under ``name``."""
        if name in self._loaded:
            return self._loaded[name]
        entry = self.entry(name)
        module_name, _, attr = entry.target.partition(":")
        module = importlib.import_module(module_name)
        obj = module
        for part in attr.split("."):
            obj = getattr(obj, part)
        self._loaded[name] = obj
        return obj

    def suggest(self, name: str, n: int = 3) -> List[str]:
        """Close matches for a misspelt ``name``."""
        return difflib.get_close_matches(name, list(self._entries), n=n, cutoff=0.5)

    def _unknown_message(self, name: str) -> str:
        msg = f"unknown {self.kind} {name!r}."
        close = self.suggest(name)
        if close:
            msg += " Did you mean: " + ", ".join(repr(c) for c in close) + "?"
        msg += f" Run `wflwv ls {self.kind}s` to see all {len(self._entries)} names."
        return msg


DATASETS = Registry("dataset")
DETECTORS = Registry("detector")
FILTERS = Registry("filter")
METRICS = Registry("metric")
PROTOCOLS = Registry("protocol")

REGISTRIES: Dict[str, Registry] = {
    "datasets": DATASETS,
    "detectors": DETECTORS,
    "filters": FILTERS,
    "metrics": METRICS,
    "protocols": PROTOCOLS,
}

# --------------------------------------------------------------------------------------------
# Datasets: builders with a ``build(root, out, **options)`` entry point.
# --------------------------------------------------------------------------------------------
DATASETS.register("wflw-v", "wflwv.datasets.wflw_v:WflwVBuilder",
                  "WFLW-V: 1000 YouTube clips, 98 points, easy/hard (Micaelli et al., CVPR 2023)")
DATASETS.register("300vw", "wflwv.datasets.vw300:Vw300Builder",
                  "300-VW: 114 videos, 68 points, train/A/B/C (Shen et al., ICCVW 2015)")
DATASETS.register("ytc", "wflwv.datasets.ytc:YtcBuilder",
                  "YouTube Celebrities: 1910 clips of 47 people, unlabelled (Kim et al., CVPR 2008)")
DATASETS.register("clips", "wflwv.datasets.clips:ClipsBuilder",
                  "any folder of video clips (recursive, every container OpenCV reads), unlabelled")
DATASETS.register("synthetic", "wflwv.datasets.synthetic:SyntheticBuilder",
                  "procedural / semi-synthetic annotated face video (the embedded default)")

# --------------------------------------------------------------------------------------------
# Detectors: ``family.tag`` names; targets are factories ``f(name, weights, device, dtype, **options)``.
# --------------------------------------------------------------------------------------------
_SIM = "wflwv.detectors.simulated:create"
DETECTORS.register("oracle", _SIM, "SIMULATED: returns the ground truth (NME 0, NMF 0)", simulated=True)
DETECTORS.register("noisy", _SIM, "SIMULATED: GT + i.i.d. Gaussian jitter in face-size units (seeded)",
                   simulated=True)
DETECTORS.register("bimodal", _SIM, "SIMULATED: per frame one of two plausible offsets (flicker)",
                   simulated=True)
_LDEQ = "wflwv.detectors.ldeq:create"
DETECTORS.register("ldeq", _LDEQ, "LDEQ, any official checkpoint (config from its stored args)")
DETECTORS.register("ldeq.wflw", _LDEQ, "LDEQ released WFLW weights (Anderson, beta 0.3)")
DETECTORS.register("ldeq.wflw_v", _LDEQ, "LDEQ released WFLW-V weights (FPI, beta 0.4) with RwR")
_PIP = "wflwv.detectors.pipnet:create"
DETECTORS.register("pipnet", _PIP, "PIP-Net, any official checkpoint (backbone/landmarks from keys)")
DETECTORS.register("pipnet_r18.wflw", _PIP, "PIP-Net ResNet-18, released WFLW (98 points)")
DETECTORS.register("pipnet_r50.wflw", _PIP, "PIP-Net ResNet-50, released WFLW (98 points)")
DETECTORS.register("pipnet_r101.wflw", _PIP, "PIP-Net ResNet-101, released WFLW (98 points)")
DETECTORS.register("pipnet_r18.300w", _PIP, "PIP-Net ResNet-18, released 300W (68 points)")
DETECTORS.register("pipnet_r101.300w", _PIP, "PIP-Net ResNet-101, released 300W (68 points)")
DETECTORS.register("pipnet_r18.300w_celeba", _PIP,
                   "PIP-Net ResNet-18 GSSL 300W+CelebA (68 points), official video-demo model")
DETECTORS.register("pipnet_r18.300w_cofw_wflw", _PIP, "PIP-Net ResNet-18 GSSL 300W+COFW+WFLW (68 points)")
_SBR = "wflwv.detectors.sbr:create"
DETECTORS.register("sbr", _SBR, "SBR CPM-VGG16, any official checkpoint")
DETECTORS.register("sbr.300w", _SBR, "SBR CPM-VGG16 released 300-W weights (68 points)")
_QLOT = "wflwv.detectors.qlot:create"
DETECTORS.register("qlot", _QLOT, "QLOT tracker, any official-layout checkpoint (query set from the file)")
DETECTORS.register("qlot.wflw_v", _QLOT, "QLOT-final released weights, WFLW-V queries (98 points), tracker")
DETECTORS.register("qlot.300w", _QLOT, "QLOT-final released weights, iBUG queries (68 points), tracker")
DETECTORS.register("dlib68", "wflwv.detectors.dlib68:create",
                   "dlib 68-point ERT predictor (extra [dlib]), real pretrained")
DETECTORS.register("mediapipe468", "wflwv.detectors.mediapipe468:create",
                   "MediaPipe FaceMesh 468 points, APPROXIMATE 68-point mapping (extra [mediapipe])")
DETECTORS.register("mediapipe468.static", "wflwv.detectors.mediapipe468:create",
                   "MediaPipe FaceMesh static_image_mode, APPROXIMATE 68-pt map mp468_to_ibug68@1 "
                   "(extra [mediapipe])")
DETECTORS.register("mediapipe468.track", "wflwv.detectors.mediapipe468:create",
                   "MediaPipe FaceMesh tracking mode (online tracked), APPROXIMATE 68-pt map "
                   "mp468_to_ibug68@1 (extra [mediapipe])")

# --------------------------------------------------------------------------------------------
# Filters: classes whose instances are callables ``f(x[T,N,2], t[T]) -> [T,N,2]``.
# --------------------------------------------------------------------------------------------
FILTERS.register("none", "wflwv.filters.identity:Identity", "unfiltered (identity)")
FILTERS.register("one-euro", "wflwv.filters.one_euro:OneEuro",
                 "One-Euro (casiez current variant), causal")
FILTERS.register("kalman", "wflwv.filters.kalman:KalmanCV",
                 "constant-velocity Kalman filter, causal")
FILTERS.register("kalman-rts", "wflwv.filters.kalman:KalmanRTS",
                 "constant-velocity Kalman + RTS smoother, offline")
FILTERS.register("ema", "wflwv.filters.ema:EMA", "exponential moving average, causal")
FILTERS.register("savgol", "wflwv.filters.savgol:SavitzkyGolay",
                 "Savitzky-Golay, centred (offline) or end-of-window (causal=True)")

# --------------------------------------------------------------------------------------------
# Metrics: metric descriptors (id, version, units, direction, normaliser, aggregation).
# --------------------------------------------------------------------------------------------
_M = "wflwv.metrics.catalog:"
METRICS.register("nme", _M + "IMAGE_NME", "still-image NME per image (fraction), pair from scheme")
METRICS.register("fr@0.10", _M + "FR_010", "failure rate at 0.10 (percent)")
METRICS.register("fr@0.08", _M + "FR_008", "failure rate at 0.08 (percent)")
METRICS.register("auc@0.10", _M + "AUC_010", "AUC at 0.10, Simpson on the 1e-4 grid (fraction)")
METRICS.register("auc@0.08", _M + "AUC_008", "AUC at 0.08, trapezoid on 2000 points (fraction)")
METRICS.register("auc_exact@0.10", _M + "AUC_EXACT_010", "exact AUC at 0.10 (fraction)")
METRICS.register("video_nme.io", _M + "VIDEO_NME_IO", "video NME, inter-ocular (percent, macro over videos)")
METRICS.register("video_nme.fs", _M + "VIDEO_NME_FS", "video NME, face-size sqrt(w*h) (percent)")
METRICS.register("nmf", _M + "NMF", "normalised mean flicker (official video_NMJ)")
METRICS.register("nad@1", _M + "NAD_1", "normalised Allan deviation at m=1 (x10^3, QLOT; slope reading in docs/nad.md)")
METRICS.register("nad@4", _M + "NAD_4", "normalised Allan deviation at m=4 (x10^3)")
METRICS.register("nad@16", _M + "NAD_16", "normalised Allan deviation at m=16 (x10^3)")
METRICS.register("d1", _M + "D1", "GT-free mean displacement / face size (fraction)")
METRICS.register("d2", _M + "D2", "GT-free mean second difference / face size (fraction)")

# --------------------------------------------------------------------------------------------
# Protocols: named evaluation protocols (clip set, boxes, crop, normalisers, metrics).
# --------------------------------------------------------------------------------------------
PROTOCOLS.register("rwr", "wflwv.protocols:RWR",
                   "WFLW-V (RwR): all 1000 videos easy/hard, every frame; dataset boxes; the detector's own crop "
                   "(LDEQ ldeq_square1.2); NME inter-ocular + face size; NMF")
PROTOCOLS.register("qlot", "wflwv.protocols:QLOT",
                   "WFLW-V (QLOT): 150-clip test split (75/75) derived from the official seeds, frames 0-119 "
                   "(other indexes: every clip's first 120 frames); GT-landmark crop (pad 0.10, Lanczos-4, 224); "
                   "NME face size; NMF; NAD(1/4/16)")
