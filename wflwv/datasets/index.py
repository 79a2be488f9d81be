"""The index format that every builder writes and every later stage reads.

An index is a folder::

    INDEX_DIR/
      videos.parquet      one row per video
      frames.parquet      one row per frame
      dataset_info.json   builder version, counts, fingerprint, root, scheme
      validation.csv      one row per problem found (may be empty)

``videos.parquet`` columns (at least): ``video_id`` (str), ``subset`` (str), ``path`` (str, relative
to the root), ``n_frames`` (int, decoded), ``fps`` (float), ``width``, ``height`` (int), ``sha256``
(str), ``size_bytes`` (int), ``mtime_ns`` (int), ``status`` (``"ok"`` or ``"failed: <reason>"``),
``has_gt`` (bool).

``frames.parquet`` columns (at least): ``video_id``, ``frame_index`` (int, 0-based decode index),
``source_frame`` (str, e.g. the ``.pts`` stem), ``time_s`` (float), ``landmarks`` (fixed-size float32
list, x y interleaved, ``2·N`` long; null when unlabelled), ``bbox`` (fixed-size float32 list of 4:
x1 y1 x2 y2; null when none), ``unreliable`` (bool).

``dataset_info.json`` keys (at least): ``dataset``, ``builder_version``, ``index_format``, ``root``
(absolute, or relative to INDEX_DIR), ``landmark_scheme``, ``num_landmarks``, ``coord_base``,
``fingerprint`` (SHA-256 over the inputs), ``n_videos``, ``n_frames``, ``subsets`` (name → counts).

Landmarks in the index are stored as released (e.g. 300-VW keeps its raw 1-based values,
``coord_base = 1``); :meth:`Index.landmarks` converts to 0-based frame pixels in this one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

INDEX_FORMAT = 1


class IndexError_(ValueError):
    """An index folder that is missing, incomplete, or written by a newer builder."""


@dataclass
class Index:
    """A built dataset index opened for reading (pandas frames loaded lazily)."""

    path: Path
    info: Dict[str, Any]
    _frames_by_video: Dict[str, Any] = field(default_factory=dict, repr=False)

    # ---- metadata ------------------------------------------------------------------------------
    @property
    def dataset(self) -> str:
        """Dataset name, e.g. ``"wflw-v"``."""
        return str(self.info["dataset"])

    @property
    def fingerprint(self) -> str:
        """SHA-256 fingerprint of the inputs the index was built from."""
        return str(self.info["fingerprint"])

    @property
    def landmark_scheme(self) -> Optional[str]:
        """``"wflw98"``, ``"ibug68"``, or None for unlabelled datasets."""
        return self.info.get("landmark_scheme")

    @property
    def root(self) -> Path:
        """Folder that video ``path`` values are relative to."""
        root = Path(self.info["root"])
        return root if root.is_absolute() else (self.path / root)

    @cached_property
    def videos(self):
        """The ``videos.parquet`` table as a pandas DataFrame."""
        import pandas as pd

        return pd.read_parquet(self.path / "videos.parquet")

    @cached_property
    def frames(self):
        """The ``frames.parquet`` table as a pandas DataFrame."""
        import pandas as pd

        return pd.read_parquet(self.path / "frames.parquet")

    # ---- selection -----------------------------------------------------------------------------
    def subsets(self) -> List[str]:
        """Subset names present in the index."""
        return sorted(self.videos["subset"].astype(str).unique())

    def video_ids(self, subset: Optional[str] = None, only_ok: bool = True) -> List[str]:
        """Video IDs of ``subset`` (``None`` or ``"all"`` = every video), in index order."""
        v = self.videos
        if only_ok and "status" in v:
            v = v[v["status"] == "ok"]
        if subset not in (None, "all"):
            if subset not in set(v["subset"]):
                raise IndexError_(f"index {self.path} has no subset {subset!r}; it has "
                                  f"{self.subsets()}")
            v = v[v["subset"] == subset]
        return v["video_id"].astype(str).tolist()

    def video_row(self, video_id: str) -> Dict[str, Any]:
        """The ``videos.parquet`` row of ``video_id`` as a dict."""
        rows = self.videos[self.videos["video_id"] == video_id]
        if rows.empty:
            raise IndexError_(f"video {video_id!r} is not in index {self.path}")
        return rows.iloc[0].to_dict()

    def video_path(self, video_id: str) -> Path:
        """Absolute path of the video file of ``video_id``."""
        return self.root / str(self.video_row(video_id)["path"])

    def _video_frames(self, video_id: str):
        if not self._frames_by_video:
            for vid, grp in self.frames.groupby("video_id", sort=False):
                self._frames_by_video[str(vid)] = grp.sort_values("frame_index")
        try:
            return self._frames_by_video[video_id]
        except KeyError:
            raise IndexError_(f"video {video_id!r} has no frames in index {self.path}") from None

    def landmarks(self, video_id: str) -> Optional[np.ndarray]:
        """GT landmarks ``[T, N, 2]`` float64 in **0-based frame pixels** (None when unlabelled)."""
        f = self._video_frames(video_id)
        col = f["landmarks"]
        if col.isna().all():
            return None
        arr = np.stack(col.to_numpy()).astype(np.float64)
        arr = arr.reshape(len(f), -1, 2)
        return arr - float(self.info.get("coord_base", 0))

    def boxes(self, video_id: str) -> Optional[np.ndarray]:
        """Face boxes ``[T, 4]`` (x1 y1 x2 y2, 0-based frame pixels), or None when absent."""
        f = self._video_frames(video_id)
        if "bbox" not in f or f["bbox"].isna().any():
            return None
        return np.stack(f["bbox"].to_numpy()).astype(np.float64) - float(self.info.get("coord_base", 0))

    def times(self, video_id: str) -> np.ndarray:
        """Presentation times ``[T]`` in seconds."""
        return self._video_frames(video_id)["time_s"].to_numpy(np.float64)

    def unreliable(self, video_id: str) -> np.ndarray:
        """Boolean ``[T]`` mask of frames flagged unreliable by the dataset."""
        f = self._video_frames(video_id)
        if "unreliable" not in f:
            return np.zeros(len(f), bool)
        return f["unreliable"].fillna(False).to_numpy(bool)


def load_index(path) -> Index:
    """Open the index in folder ``path``; raise :class:`IndexError_` with the fix when unusable."""
    path = Path(path)
    info_path = path / "dataset_info.json"
    if not info_path.is_file():
        raise IndexError_(f"{path} is not a wflwv index (no dataset_info.json); build one with "
                          f"`wflwv build <dataset> --root ... --out {path}`")
    info = json.loads(info_path.read_text())
    fmt = int(info.get("index_format", 0))
    if fmt > INDEX_FORMAT:
        raise IndexError_(f"index {path} has format {fmt}, newer than this wflwv reads "
                          f"({INDEX_FORMAT}); upgrade wflwv or rebuild the index")
    for name in ("videos.parquet", "frames.parquet"):
        if not (path / name).is_file():
            raise IndexError_(f"index {path} is incomplete: {name} is missing; rebuild it")
    return Index(path=path, info=info)
