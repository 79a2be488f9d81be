"""Named evaluation protocols: which clips, frames, boxes, crop, normalisers and metrics a number uses.

A protocol makes two published numbers comparable only when they share it; every result row
names its protocol (``index`` when none was chosen) and boards never mix protocols.

* ``rwr`` — the WFLW-V protocol of RwR (Micaelli et al., CVPR 2023): all 1000 videos, easy/hard,
  the dataset's boxes, the detector's own crop (LDEQ: ``ldeq_square1.2``; QLOT: its crop around
  each frame's box), NME inter-ocular and face-size, NMF.
* ``qlot`` — the WFLW-V protocol of QLOT: the 150-clip test split (75 easy + 75 hard) derived
  from the official seeds (:func:`qlot_test_split`), frames 0–119 of each clip, the GT-landmark
  crop (QLOT crop with padding 0.10 around each frame's GT landmarks: ``--boxes gt``, ``crop=box``),
  face-size NME, NMF and NAD. On any other index the clip set is every clip's first 120 frames,
  and the run says so.

No torch here (``wflwv ls protocols`` stays light).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

QLOT_SEEDS = (191664964, 1662057958, 1405681632)   # split A, validation-clip sampling, split B
QLOT_CLIP_FRAMES = 120


@dataclass(frozen=True)
class ClipSet:
    """The videos and frame window a protocol scores on one index, with a note on how it was chosen."""

    video_ids: Tuple[str, ...]
    frames: Optional[int]          # score frames [0, frames) of each clip; None = every frame
    official: bool                 # the protocol's own clip set (not a stand-in)
    note: str
    missing: Tuple[str, ...] = ()  # clips of the official set the index lacks


@dataclass(frozen=True)
class Protocol:
    """A named protocol: every knob that changes a number (see the module docstring)."""

    name: str
    dataset: str
    clips: str
    box_source: str
    crop: str
    nme: Tuple[str, ...]
    metrics: Tuple[str, ...]
    citation: str
    detector_options: Mapping[str, Mapping[str, object]] = field(default_factory=dict)

    def definition(self) -> Dict[str, object]:
        """Plain-dict definition for summaries and ``wflwv ls protocols``."""
        return {"name": self.name, "dataset": self.dataset, "clips": self.clips, "box_source": self.box_source,
                "crop": self.crop, "nme": list(self.nme), "metrics": list(self.metrics), "citation": self.citation}

    def options_for(self, family: str) -> Dict[str, object]:
        """Detector options this protocol sets for a detector ``family`` (e.g. QLOT's crop mode)."""
        return dict(self.detector_options.get(family, {}))

    def clip_set(self, video_ids: Sequence[str], subsets: Mapping[str, str], dataset: str,
                 available: Optional[Sequence[str]] = None) -> ClipSet:
        """The clips and frame window on an index with these videos (``available`` = decodable ones)."""
        avail = list(video_ids if available is None else available)
        if self.name == "qlot":
            return _qlot_clips(list(video_ids), subsets, dataset, avail)
        if dataset != self.dataset:
            return ClipSet(tuple(avail), None, False, f"protocol {self.name}: index is {dataset!r}, not "
                           f"{self.dataset!r}; every clip, every frame (not the official clip set)")
        return ClipSet(tuple(avail), None, True, f"protocol {self.name}: all {len(avail)} videos, every frame")


def split_ids(ids: Sequence[str], subsets: Mapping[str, str], n_train: int, seed: int) -> Tuple[List[str], List[str]]:
    """QLOT's stratified split: ``(train, valid)`` in the input order (docs/protocols.md).

    ``n_valid = len(ids) − n_train``; ``int(n_valid · #easy / n)`` easy videos and the rest hard go
    to ``valid``, chosen by the first entries of ``default_rng(seed).permutation`` of the easy list
    and then of the hard list.
    """
    easy = [v for v in ids if subsets[v] == "easy"]
    hard = [v for v in ids if subsets[v] == "hard"]
    if len(easy) + len(hard) != len(ids):
        raise ValueError("QLOT split: every video must be easy or hard")
    n_valid = len(ids) - n_train
    n_easy = int(n_valid * (len(easy) / len(ids)))
    rng = np.random.default_rng(seed)
    chosen = {easy[i] for i in rng.permutation(len(easy))[:n_easy]}
    chosen |= {hard[i] for i in rng.permutation(len(hard))[:n_valid - n_easy]}
    return [v for v in ids if v not in chosen], [v for v in ids if v in chosen]


def derive_seeds() -> Tuple[int, int, int]:
    """The three seeds QLOT draws from ``Generator(PCG64(42))`` with ``integers(0, 2**31)``."""
    rng = np.random.Generator(np.random.PCG64(42))
    return tuple(int(rng.integers(0, 2 ** 31)) for _ in range(3))  # type: ignore[return-value]


def qlot_test_split(ids: Sequence[str], subsets: Mapping[str, str]) -> List[str]:
    """The 150-clip QLOT WFLW-V test split (75 easy + 75 hard) of the 1000 official video IDs."""
    seeds = derive_seeds()
    if seeds != QLOT_SEEDS:
        raise RuntimeError(f"numpy's PCG64 stream changed: seeds {seeds} != {QLOT_SEEDS}; the QLOT split "
                           f"cannot be re-derived with this numpy {np.__version__}")
    order = sorted(ids)   # the official code sorts the video paths: one folder, one extension
    _, val200 = split_ids(order, subsets, 800, seeds[0])
    _, test150 = split_ids(val200, subsets, 50, seeds[2])
    return test150


def _qlot_clips(ids: List[str], subsets: Mapping[str, str], dataset: str, avail: List[str]) -> ClipSet:
    n_easy = sum(1 for v in ids if subsets.get(v) == "easy")
    official = dataset == "wflw-v" and len(ids) == 1000 and n_easy == 500 and \
        all(subsets.get(v) in ("easy", "hard") for v in ids)
    if not official:
        return ClipSet(tuple(avail), QLOT_CLIP_FRAMES, False,
                       f"protocol qlot: index {dataset!r} with {len(ids)} videos is not the official WFLW-V "
                       f"release (1000 videos, 500 easy / 500 hard), so the 150-clip test split does not "
                       f"apply: scoring every clip's first {QLOT_CLIP_FRAMES} frames instead")
    test = qlot_test_split(ids, subsets)
    have = set(avail)
    missing = tuple(v for v in test if v not in have)
    kept = tuple(v for v in test if v in have)
    note = (f"protocol qlot: the 150-clip WFLW-V test split re-derived from the official seeds, frames "
            f"0-{QLOT_CLIP_FRAMES - 1}")
    if missing:
        note += f"; {len(missing)} of its clips are missing from this index (results are incomplete)"
    return ClipSet(kept, QLOT_CLIP_FRAMES, True, note, missing)


RWR = Protocol(
    name="rwr", dataset="wflw-v", clips="all 1000 WFLW-V videos (easy 500 / hard 500), every frame",
    box_source="dataset", crop="the detector's own crop around the dataset box (LDEQ: ldeq_square1.2)",
    nme=("io", "fs"), metrics=("video_nme.io", "video_nme.fs", "nmf"),
    citation="Micaelli et al., Recurrence without Recurrence, CVPR 2023",
    detector_options={"qlot": {"crop": "box"}})
QLOT = Protocol(
    name="qlot", dataset="wflw-v",
    clips=(f"150-clip WFLW-V test split (75 easy / 75 hard) derived from the official seeds, frames "
           f"0-{QLOT_CLIP_FRAMES - 1}; other indexes: every clip's first {QLOT_CLIP_FRAMES} frames"),
    box_source="gt", crop="GT-landmark crop: QLOT crop (padding 0.10, Lanczos-4, 224) around each frame's GT",
    nme=("fs",), metrics=("video_nme.fs", "nmf", "nad_1", "nad_4", "nad_16"),
    citation="QLOT (N3xed/qlot-face-landmark-tracking@211b04e), 2026 preprint",
    detector_options={"qlot": {"crop": "box"}})

PROTOCOLS: Dict[str, Protocol] = {p.name: p for p in (RWR, QLOT)}


def summary_line(p: Protocol) -> str:
    """One-line definition for listings."""
    return (f"{p.dataset}: {p.clips}; boxes {p.box_source}; crop {p.crop}; NME {'+'.join(p.nme)}; "
            f"metrics {', '.join(p.metrics)} ({p.citation})")


@dataclass(frozen=True)
class ProtocolPlan:
    """What ``evaluate --protocol`` runs: box source, detector options, clip set (None: the index)."""

    name: str
    boxes: Optional[str]
    options: Dict[str, object]
    clips: Optional[ClipSet] = None
    definition: Optional[Dict[str, object]] = None

    def keep(self, video_ids: Sequence[str]) -> List[str]:
        """``video_ids`` restricted to the clip set, in their order."""
        if self.clips is None:
            return list(video_ids)
        chosen = set(self.clips.video_ids)
        return [v for v in video_ids if v in chosen]

    @property
    def frames(self) -> Optional[int]:
        """Frames scored per clip (None: all)."""
        return None if self.clips is None else self.clips.frames


def plan_protocol(name: Optional[str], index, boxes: Optional[str], model: str,
                  options: Mapping[str, object]) -> ProtocolPlan:
    """Resolve ``--protocol NAME`` on ``index``: refuses a ``--boxes`` or detector option that contradicts it."""
    opts = dict(options)
    if name in (None, "", "index"):
        return ProtocolPlan("index", boxes, opts)
    from wflwv.registry import PROTOCOLS as REG

    proto: Protocol = REG.get(name)
    if boxes is not None and boxes != proto.box_source:
        raise ValueError(f"--boxes {boxes} contradicts --protocol {name}, which uses {proto.box_source!r} boxes; "
                         f"drop --boxes")
    for key, value in proto.options_for(model.partition(".")[0]).items():
        if key in opts and opts[key] != value:
            raise ValueError(f"{model}: option {key}={opts[key]!r} contradicts --protocol {name} ({key}={value!r}); "
                             f"drop the option or the protocol")
        opts[key] = value
    if proto.box_source == "gt" and index.landmark_scheme is None:
        raise ValueError(f"--protocol {name} crops around the GT landmarks, but {index.path} is unlabelled; "
                         f"run without --protocol (self-tracking crop) or use a labelled index")
    v = index.videos
    every = v["video_id"].astype(str).tolist()
    subsets = dict(zip(every, v["subset"].astype(str)))
    clips = proto.clip_set(every, subsets, index.dataset, available=index.video_ids(None))
    return ProtocolPlan(proto.name, proto.box_source, opts, clips, proto.definition())
