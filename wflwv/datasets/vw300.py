"""300-VW builder: ``<id>/vid.avi`` + ``<id>/annot/%06d.pts`` (1-based stems, CRLF or LF).

Frames are keyed by their 6-digit stem: stems must be exactly ``1..N`` and ``N`` must equal the
decoded count. Unreliable frames come from ``extra/<id>.mat`` (variable ``error``) or ``extra.zip``
in the root, else from a user CSV (``video_id,frame_1b``), else none are marked (with a warning).
Pickles (mmpose's ``broken_frames.npy``) are never loaded.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Set

import numpy as np

from wflwv.datasets import splits
from wflwv.datasets.base import Annotations, DatasetBuilder, VideoItem, digest_arrays
from wflwv.io.pts import read_pts_many
from wflwv.schemes import PtsFormatError

_STEM = re.compile(r"^\d{6}$")


class Vw300Builder(DatasetBuilder):
    """Index the 300-VW release (114 videos, 68 points, categories train / A / B / C)."""

    name = "300vw"
    VERSION = "1.0.0"
    landmark_scheme = "ibug68"
    num_landmarks = 68
    coord_base = 1

    def __init__(self, root, unreliable_csv=None, official_ids: bool = True, allow_partial: bool = False,
                 **options: Any):
        super().__init__(root, **options)
        self.unreliable_csv = Path(unreliable_csv) if unreliable_csv else None
        self.official_ids = bool(official_ids)
        self.allow_partial = bool(allow_partial)
        self.unreliable_source = "none"
        self._unreliable: Dict[str, Set[int]] = {}
        self._unreliable_src: Dict[str, str] = {}

    def layout_hint(self) -> str:
        """Expected release layout."""
        return "<id>/vid.avi and <id>/annot/000001.pts ... (300VW_Dataset_2015_12_14)"

    def _categories(self) -> Dict[str, str]:
        if self.official_ids:
            return dict(splits.VW300_CATEGORY_OF)
        path = self.root / "categories.csv"
        if not path.is_file():
            return dict(splits.VW300_CATEGORY_OF)
        out = {}
        with open(path, newline="") as fh:
            for k, row in enumerate(csv.DictReader(fh), 2):
                vid, cat = (row.get("video_id") or "").strip(), (row.get("category") or "").strip()
                if not splits.VW300_ID.match(vid) or not cat:
                    self.report.error("categories", f"{path} line {k}: need video_id (3 digits) and category",
                                      fatal=True, file="categories.csv")
                out[vid] = cat
        return out

    def split_generators(self) -> List[VideoItem]:
        """One item per ``<id>/`` folder; unknown, missing and malformed IDs are reported."""
        cats = self._categories()
        found = []
        for d in sorted(p for p in self.root.iterdir() if p.is_dir() and p.name != "extra"):
            if not splits.VW300_ID.match(d.name):
                self.report.error("unknown_id", f"{d.name}/ is not a 3-digit 300-VW video folder; remove it",
                                  file=d.name)
                continue
            if self.official_ids and d.name not in splits.VW300_CATEGORY_OF:
                self.report.error("unknown_id", f"{d.name}/ is not one of the 114 official 300-VW IDs",
                                  video_id=d.name, file=d.name)
                continue
            if d.name not in cats:
                self.report.error("unknown_id", f"{d.name}/ has no category (add it to categories.csv)",
                                  video_id=d.name, file=d.name)
                continue
            found.append(d.name)
        if self.official_ids:
            missing = sorted(set(splits.VW300_CATEGORY_OF) - set(found))
            if missing:
                msg = (f"{len(missing)} of the 114 official 300-VW IDs have no folder in {self.root} "
                       f"(e.g. {missing[:5]}); the release is incomplete")
                if self.allow_partial:
                    self.report.warn("missing_ids", msg)
                else:
                    self.report.error("missing_ids", msg + " (pass --allow-partial to index a subset)")
        self._load_unreliable()
        return [VideoItem(v, cats[v], self.root / v / "vid.avi", f"{v}/vid.avi", extra={"category": cats[v]})
                for v in found]

    # ---- unreliable frames ---------------------------------------------------------------------
    def _load_unreliable(self) -> None:
        extra_dir, extra_zip = self.root / "extra", self.root / "extra.zip"
        if extra_dir.is_dir():
            self.unreliable_source = "extra_mat"
            for p in sorted(extra_dir.glob("*.mat")):
                self._unreliable[p.stem] = self._mat_frames(p.read_bytes(), f"extra/{p.name}")
        elif extra_zip.is_file():
            self.unreliable_source = "extra_mat"
            with zipfile.ZipFile(extra_zip) as zf:
                for name in zf.namelist():
                    stem = Path(name).stem
                    if name.endswith(".mat") and splits.VW300_ID.match(stem):
                        self._unreliable[stem] = self._mat_frames(zf.read(name), f"extra.zip:{name}")
        elif self.unreliable_csv is not None:
            self.unreliable_source = "user_csv"
            with open(self.unreliable_csv, newline="") as fh:
                for k, row in enumerate(csv.DictReader(fh), 2):
                    try:
                        vid, f = row["video_id"].strip().zfill(3), int(row["frame_1b"])
                    except (KeyError, ValueError, AttributeError):
                        self.report.error("unreliable_csv", f"{self.unreliable_csv} line {k}: need columns "
                                          f"video_id,frame_1b", fatal=True, file=str(self.unreliable_csv))
                    self._unreliable.setdefault(vid, set()).add(f)
        else:
            self.report.warn("unreliable", "no extra/ folder, extra.zip or --unreliable-frames CSV: no frame "
                             "is marked unreliable")

    def _mat_frames(self, data: bytes, name: str) -> Set[int]:
        from scipy.io import loadmat

        try:
            mat = loadmat(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 - any unreadable .mat
            self.report.error("unreliable_mat", f"{name} cannot be read as MATLAB ({exc})", fatal=True, file=name)
        if "error" not in mat:
            self.report.error("unreliable_mat", f"{name} has no variable 'error' (has {sorted(k for k in mat if not k.startswith('__'))})",
                              fatal=True, file=name)
        try:
            vals = np.asarray(mat["error"], np.float64).ravel()
        except (TypeError, ValueError):
            self.report.error("unreliable_mat", f"{name}: variable 'error' is not numeric; restore the file "
                              f"from the release", fatal=True, file=name)
        bad = [v for v in vals if not (np.isfinite(v) and float(v).is_integer())]
        if bad:
            self.report.error("unreliable_mat", f"{name}: unreliable-frame value {bad[0]!r} is not a whole frame "
                              f"number ({len(bad)} such values); restore the file from the release",
                              fatal=True, file=name)
        self._unreliable_src[Path(name).stem] = name
        return {int(v) for v in vals}

    # ---- per video -----------------------------------------------------------------------------
    def load_annotations(self, item: VideoItem) -> Annotations:
        """Raw 1-based landmarks of ``annot/%06d.pts`` with stems checked to be exactly 1..N."""
        annot = self.root / item.video_id / "annot"
        if not annot.is_dir():
            self.fail("missing_file", f"{item.video_id}/annot/ is missing", item, file=f"{item.video_id}/annot")
        files = sorted(p for p in annot.iterdir() if p.suffix == ".pts")
        stems = [p.stem for p in files]
        bad = [s for s in stems if not _STEM.match(s)]
        if bad:
            self.fail("pts_stems", f"{item.video_id}/annot/{bad[0]}.pts is not a 6-digit 1-based stem", item)
        nums = np.array([int(s) for s in stems], np.int64)
        if len(nums) == 0 or not np.array_equal(nums, np.arange(1, len(nums) + 1)):
            gap = next((k + 1 for k, v in enumerate(nums) if v != k + 1), len(nums) + 1)
            self.fail("pts_stems", f"{item.video_id}/annot/: stems are not exactly 000001..{len(nums):06d} "
                      f"(first missing or extra: {gap:06d}); frames are never aligned by position", item)
        try:
            lmk = read_pts_many(files, 68)
        except (PtsFormatError, OSError) as exc:
            self.fail("pts_format", str(exc), item)
        T = len(files)
        flagged = self._unreliable.get(item.video_id, set())
        unrel = np.zeros(T, bool)
        if flagged:
            idx = np.array(sorted(flagged), np.int64)
            outside = idx[(idx < 1) | (idx > T)]
            if len(outside):
                src = self._unreliable_src.get(item.video_id, str(self.unreliable_csv or "the unreliable list"))
                self.fail("unreliable_range", f"{src}: unreliable frame number {int(outside[0])} is outside the "
                          f"clip's frames 1..{T} ({len(outside)} such values); restore the file from the "
                          f"release or fix the list", item, file=src)
            unrel[idx - 1] = True
        box = np.concatenate([lmk.min(axis=1), lmk.max(axis=1)], axis=1)
        return Annotations(n_frames=T, source_frame=stems, landmarks=lmk, bbox=box, unreliable=unrel,
                           columns={"frame_idx_1b": nums.astype(np.int32)}, digest=digest_arrays(lmk, unrel))

    def post_checks(self, records: List[Dict[str, Any]]) -> None:
        """Compare totals with the unconfirmed third-party figures (warning only, never fails)."""
        ok = [r for r in records if r["status"] == "ok"]
        if len(ok) != 114:
            return
        for cat, want in splits.VW300_TOTALS_UNCONFIRMED.items():
            got = sum(r["ann"].n_frames for r in ok if cat == "all" or r["item"].subset == cat)
            if got != want:
                self.report.warn("split_totals", f"category {cat}: {got} frames; third-party figure "
                                 f"(unconfirmed) is {want}")

    def info_extra(self) -> Dict[str, Any]:
        """Unreliable-frame source, ID protocol, box source."""
        return {"unreliable_source": self.unreliable_source,
                "ids": "official" if self.official_ids else "custom", "bbox_source": "gt_landmarks_tight",
                "source": "archive", "pts_minus_one": False,
                "license": "iBUG 300-VW, research only (assumed, unconfirmed)"}
