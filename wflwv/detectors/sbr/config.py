"""SBR release tags: the :class:`DetectorCfg` of the CPM-VGG16 detector (no torch here).

Only the 300-W-trained CPM detector ``cpm_vgg16-epoch-049-050.pth`` was released (``docs/detectors.md`` (SBR));
no SHA-256 has been published, so ``sbr.300w`` checks keys/shapes/args strictly and records the
file's actual hash (pin it in :data:`RELEASES` once a golden test with the real file passes).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

from wflwv.detectors.base import DetectorCfg

PAPER = ("X. Dong, S.-I. Yu, X. Weng, S.-E. Wei, Y. Yang, Y. Sheikh, Supervision-by-Registration: An "
         "Unsupervised Approach to Improve the Precision of Facial Landmark Detectors, CVPR 2018")
ORIGIN = "facebookresearch/supervision-by-registration@4e7fced"
LICENSE = "CC-BY-NC-4.0; weights trained on 300-W (research only)"
INPUT_SIZE = 256
PRE_CROP_EXPAND = 0.2


@dataclass(frozen=True)
class Release:
    """One released SBR checkpoint."""

    tag: str
    num_landmarks: int
    sha256: Optional[str]
    size: Optional[int]
    filename: str
    notes: str = ""


RELEASES: Dict[str, Release] = {r.tag: r for r in (
    Release("sbr.300w", 68, None, None, "cpm_vgg16-epoch-049-050.pth",
            "300-W-trained CPM detector (~3K images), weak on profile faces; SHA-256 not yet pinned"),
)}


def make_cfg(name: str, num_landmarks: int, release: Optional[Release] = None,
             options: Optional[dict] = None) -> DetectorCfg:
    """The :class:`DetectorCfg` for ``sbr.300w`` or the bare family name ``sbr``."""
    scheme = "ibug68" if num_landmarks == 68 else f"custom{num_landmarks}"
    notes = ("per-frame, no LK/tracking at inference (docs/detectors.md (SBR)); PIL bilinear (antialiased) "
             "non-square resize; decode = argmax + 9x9 soft-argmax, 8x+3.5")
    if release is not None and release.notes:
        notes += "; " + release.notes
    return DetectorCfg(
        name=name, family="sbr", landmark_scheme=scheme, num_landmarks=num_landmarks,
        input_size=INPUT_SIZE, crop_protocol="sbr_pad0.2", color_order="RGB",
        weights_sha256=release.sha256 if release else None,
        weights_bytes=release.size if release else None,
        weights_license=LICENSE, paper=PAPER, origin_repo=ORIGIN, notes=notes,
        options=dict(options or {}))
