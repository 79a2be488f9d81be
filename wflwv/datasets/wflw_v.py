"""WFLW-V builder: ``videos/<ID>.mp4``, ``landmarks/<ID>.npy`` (T,98,2), ``bboxes/<ID>.npy`` (T,>=4).

Split lists ``easy_video_IDs.txt`` / ``hard_video_IDs.txt`` (and optionally ``download_ranges.txt``)
come from the root or ``splits_dir``. With ``official_splits=True`` their SHA-256 must equal the
official values; with ``False`` (custom lists, e.g. the synthetic generator) they are only checked for
format, uniqueness and disjointness. IDs may start with ``-``: they are only ever used in paths.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.datasets import checks, splits
from wflwv.datasets.base import Annotations, DatasetBuilder, VideoItem, digest_arrays
from wflwv.datasets.report import BuildError


class WflwVBuilder(DatasetBuilder):
    """Index the WFLW-V release (1000 clips, 98 points, subsets easy / hard)."""

    name = "wflw-v"
    VERSION = "1.0.0"
    landmark_scheme = "wflw98"
    num_landmarks = 98
    coord_base = 0

    def __init__(self, root, splits_dir=None, official_splits: bool = True, **options: Any):
        super().__init__(root, **options)
        self.splits_dir = Path(splits_dir).resolve() if splits_dir else self.root
        self.official_splits = bool(official_splits)
        self._lists: Dict[str, Dict[str, Any]] = {}
        self._ranges: Dict[str, tuple] = {}

    def layout_hint(self) -> str:
        """Expected release layout."""
        return "videos/<ID>.mp4, landmarks/<ID>.npy, bboxes/<ID>.npy"

    def _read_lists(self) -> Dict[str, List[str]]:
        out = {}
        for subset, fname in splits.WFLW_V_SUBSET_FILES.items():
            path = self.splits_dir / fname
            try:
                ids = splits.read_id_list(path)
                sha = splits.check_official(path) if self.official_splits else None
            except splits.SplitError as exc:
                self.report.error("split_list", str(exc), fatal=True, file=str(path))
            from wflwv.io.atomic import sha256_file

            sha = sha or sha256_file(path)
            self._lists[fname] = {"sha256": sha, "official": sha == splits.WFLW_V_LISTS[fname][1]}
            out[subset] = ids
        both = set(out["easy"]) & set(out["hard"])
        if both:
            self.report.error("split_list", f"easy and hard lists in {self.splits_dir} share {len(both)} IDs, "
                              f"e.g. {sorted(both)[:3]}; the subsets must be disjoint", fatal=True)
        rng = self.splits_dir / "download_ranges.txt"
        if rng.is_file():
            self._read_ranges(rng, out["easy"] + out["hard"])
        return out

    def _read_ranges(self, path: Path, order: List[str]) -> None:
        try:
            sha = splits.check_official(path) if self.official_splits else None
        except splits.SplitError as exc:
            self.report.error("split_list", str(exc), fatal=True, file=str(path))
        from wflwv.io.atomic import sha256_file

        sha = sha or sha256_file(path)
        self._lists[path.name] = {"sha256": sha, "official": sha == splits.WFLW_V_LISTS[path.name][1]}
        ids = []
        for k, line in enumerate(path.read_text().splitlines(), 1):
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 3 or not splits.WFLW_V_ID.match(parts[0]) or not all(p.isdigit() for p in parts[1:]):
                self.report.error("split_list", f"{path} line {k}: {line!r} is not '<id> <start> <end>'",
                                  fatal=True, file=str(path))
            ids.append(parts[0])
            self._ranges[parts[0]] = (int(parts[1]), int(parts[2]))
        if ids != order:
            self.report.error("split_list", f"{path}: IDs differ from easy + hard lists in the same order",
                              fatal=True, file=str(path))

    def split_generators(self) -> List[VideoItem]:
        """Easy then hard videos, plus unknown / extra file problems."""
        lists = self._read_lists()
        items = []
        for subset in ("easy", "hard"):
            for vid in lists[subset]:
                rel = f"videos/{vid}.mp4"
                items.append(VideoItem(vid, subset, self.root / rel, rel,
                                       extra={"window": list(self._ranges.get(vid, (-1, -1)))}))
        known = {it.video_id for it in items}
        for folder, ext in (("videos", ".mp4"), ("landmarks", ".npy"), ("bboxes", ".npy")):
            d = self.root / folder
            if not d.is_dir():
                self.report.error("missing_file", f"{d} is missing; expected layout {self.layout_hint()}",
                                  fatal=True, file=folder)
            for p in sorted(d.iterdir()):
                if p.suffix == ext and p.stem not in known:
                    self.report.error("unknown_id", f"{folder}/{p.name}: ID {p.stem!r} is in neither split list; "
                                      f"remove the file or fix the lists", video_id=p.stem,
                                      file=f"{folder}/{p.name}")
        return items

    def load_annotations(self, item: VideoItem) -> Annotations:
        """Landmarks (T,98,2) and boxes (T,>=4 → x1 y1 x2 y2) of one clip, shape-checked."""
        arrays = {}
        for folder in ("landmarks", "bboxes"):
            p = self.root / folder / f"{item.video_id}.npy"
            if not p.is_file():
                self.fail("missing_file", f"{folder}/{p.name} is missing for video {item.video_id!r}", item,
                          file=f"{folder}/{p.name}")
            try:
                arrays[folder] = np.load(p, allow_pickle=False)
            except (ValueError, OSError) as exc:
                self.fail("bad_file", f"{folder}/{p.name} cannot be read as a numpy array ({exc})", item,
                          file=f"{folder}/{p.name}")
        lmk, box = arrays["landmarks"], arrays["bboxes"]
        if lmk.ndim != 3 or lmk.shape[1:] != (98, 2) or lmk.dtype.kind not in "fiu":
            self.fail("landmarks_shape", f"landmarks/{item.video_id}.npy has shape {lmk.shape} {lmk.dtype}; "
                      f"expected (T, 98, 2) float", item)
        if box.ndim != 2 or box.shape[1] < 4 or box.shape[0] != lmk.shape[0] or box.dtype.kind not in "fiu":
            self.fail("bbox_shape", f"bboxes/{item.video_id}.npy has shape {box.shape}; expected "
                      f"({lmk.shape[0]}, >=4) to match the landmarks", item)
        T = int(lmk.shape[0])
        start, end = self._ranges.get(item.video_id, (None, None))
        if start is not None and end - start + 1 != T:
            self.fail("frame_count", f"{item.video_id}: download_ranges.txt window {start}..{end} has "
                      f"{end - start + 1} frames but the landmarks have {T}", item)
        lmk = lmk.astype(np.float64)
        box4 = box[:, :4].astype(np.float64)
        cols: Dict[str, np.ndarray] = {}
        if np.isfinite(box4).all() and np.isfinite(lmk).all():
            cols = checks.box_vs_landmarks(box4, lmk)
        else:
            cols = {k: np.full(T, np.nan, np.float32) for k in ("bbox_iou_lmk", "bbox_lmk_inside", "bbox_side_ratio")}
        first = start if start is not None else 0
        return Annotations(n_frames=T, source_frame=[str(first + i) for i in range(T)], landmarks=lmk,
                           bbox=box4, columns=cols, digest=digest_arrays(lmk, box))

    def post_checks(self, records: List[Dict[str, Any]]) -> None:
        """Full official release: 1000 clips and the exact frame totals per subset (docs/datasets.md §5)."""
        ok = [r for r in records if r["status"] == "ok"]
        if not self.official_splits or len(ok) != 1000:
            return
        for subset, (nv, nf) in splits.WFLW_V_TOTALS.items():
            got = sum(r["ann"].n_frames for r in ok if subset == "all" or r["item"].subset == subset)
            if got != nf:
                self.report.error("split_totals", f"subset {subset}: {got} frames but the official release "
                                  f"has {nf}; the archive is not the published version")

    def info_extra(self) -> Dict[str, Any]:
        """Split-list hashes and their origin."""
        return {"split_lists": self._lists, "splits_source": "official" if self.official_splits else "custom",
                "source": "archive", "bbox_source": "official", "license": "unspecified, research use"}


__all__ = ["WflwVBuilder", "BuildError"]
