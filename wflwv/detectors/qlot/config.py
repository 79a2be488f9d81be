"""QLOT release tags and their :class:`DetectorCfg` (no torch here).

The released ``qlot-final.pth`` (GitHub release asset of the official repository, Apache-2.0)
holds one network and several learned query sets; a release tag picks the set. No SHA-256 of the
release has been published or checked here, so the tags load with strict key/shape checks and
record the file's actual hash (pin it in :data:`RELEASES` once a golden test with the real file
passes). The spec's open doubts are carried in :data:`LIMITATIONS` and printed in ``cfg.notes``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

from wflwv.detectors.base import IMAGENET_MEAN, IMAGENET_STD, DetectorCfg

PAPER = ("QLOT: Queried Learned Optimization for face landmark Tracking (2026 preprint; paper text "
         "CC BY 4.0)")
ORIGIN = "N3xed/qlot-face-landmark-tracking@211b04e"
LICENSE = "Apache-2.0 (code and released weights)"
INPUT_SIZE = 224
CROP_PROTOCOL = "qlot_pad0.10"
ITERS_FIRST, ITERS_NEXT = 4, 1
CROP_MODES = ("track", "box")

LIMITATIONS = (
    "unverified: no SHA-256 of qlot-final.pth is pinned; its extra checkpoint keys (optimizer, "
    "scheduler, rng state) are inferred from the official code, not inspected",
    "the WFLW-V 150-clip test split is re-derived from the official seeds (numpy PCG64 streams "
    "assumed unchanged since numpy 2.3.3, and a videos/ folder of exactly the 1000 ID-named files); "
    "it was not compared with the authors' clip lists",
    "the backbone follows timm 1.0.26's HGNetV2 (the lowest version the project allows); later "
    "timm versions were not checked",
)


@dataclass(frozen=True)
class Release:
    """One release tag: the checkpoint file and the learned query set it evaluates with."""

    tag: str
    query_set: str
    num_landmarks: int
    sha256: Optional[str]
    size: Optional[int]
    filename: str
    notes: str = ""


RELEASES: Dict[str, Release] = {r.tag: r for r in (
    Release("qlot.wflw_v", "WFLW_V", 98, None, None, "qlot-final.pth",
            "QLOT-final (ablation A4, mean-only Write-Mix-Read), WFLW-V learned queries"),
    Release("qlot.300w", "Ibug", 68, None, None, "qlot-final.pth",
            "QLOT-final (ablation A4, mean-only Write-Mix-Read), 300-W (iBUG 68) learned queries"),
)}

SCHEME_OF = {98: "wflw98", 68: "ibug68"}


def make_cfg(name: str, num_landmarks: int, release: Optional[Release] = None,
             options: Optional[dict] = None) -> DetectorCfg:
    """The :class:`DetectorCfg` for a release tag or the bare family name ``qlot``."""
    scheme = SCHEME_OF.get(num_landmarks)
    if scheme is None:
        raise ValueError(f"{name}: a {num_landmarks}-point query set has no landmark scheme in wflwv "
                         f"(supported: 98 = wflw98, 68 = ibug68); pick another set with queries=NAME")
    notes = ("tracker: 4 iterations on a video's first frame, 1 on later frames, hidden state and "
             "previous estimate carried per video (reset at a new video, scene cut or missing "
             "detection); crop 'box' = QLOT test crop around each frame's box (GT-landmark crop with "
             "--boxes gt), 'track' = self-tracking crop from the previous prediction (restarted from the box "
             "source when the tracked box is lost: under 8 px, larger than the frame, or centred off it); RGB in [0, 1], "
             "ImageNet mean/std applied inside the network")
    if release is not None and release.notes:
        notes += "; " + release.notes
    notes += "; LIMITATIONS: " + " | ".join(LIMITATIONS)
    return DetectorCfg(
        name=name, family="qlot", landmark_scheme=scheme, num_landmarks=num_landmarks,
        input_size=INPUT_SIZE, crop_protocol=CROP_PROTOCOL, color_order="RGB",
        mean=IMAGENET_MEAN, std=IMAGENET_STD,
        weights_sha256=release.sha256 if release else None,
        weights_bytes=release.size if release else None,
        weights_license=LICENSE, paper=PAPER, origin_repo=ORIGIN, stateful=True, notes=notes,
        options=dict(options or {}))
