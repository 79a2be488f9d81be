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
``videos.parquet`` also records ``source`` (``archive``, ``rebuilt`` or ``synthetic``).

Landmarks in the index are stored as released (e.g. 300-VW keeps its raw 1-based values,
``coord_base = 1``); :meth:`Index.landmarks` converts to 0-based frame pixels in this one place.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.datasets.errors import IndexError_  # noqa: F401 (re-exported)

INDEX_FORMAT = 1


@dataclass
class Index:
    """A built dataset index opened for reading (pandas frames loaded lazily)."""

    path: Path
    info: Dict[str, Any]

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
    def content_sha(self) -> str:
        """``index_content_sha``: SHA-256 of the index content recorded at build (see integrity)."""
        return str(self.info.get("index_content_sha", ""))

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

    @cached_property
    def _rows(self) -> Dict[str, Dict[str, Any]]:
        return {str(r["video_id"]): r for r in self.videos.to_dict("records")}

    def video_row(self, video_id: str) -> Dict[str, Any]:
        """The ``videos.parquet`` row of ``video_id`` as a dict."""
        try:
            return dict(self._rows[video_id])
        except KeyError:
            raise IndexError_(f"video {video_id!r} is not in index {self.path}") from None

    @property
    def any_unreliable(self) -> bool:
        """Whether the dataset flags any frame as unreliable."""
        return bool(self._arrays.unreliable.any())

    def video_path(self, video_id: str) -> Path:
        """Absolute path of the video file of ``video_id``."""
        return self.root / str(self.video_row(video_id)["path"])

    @cached_property
    def _arrays(self) -> "_FrameArrays":
        """Per-frame columns as contiguous numpy arrays plus per-video slices (read once)."""
        return _FrameArrays.read(self.path / "frames.parquet")

    def _slice(self, video_id: str) -> slice:
        try:
            return self._arrays.slices[video_id]
        except KeyError:
            raise IndexError_(f"video {video_id!r} has no frames in index {self.path}") from None

    def landmarks(self, video_id: str) -> Optional[np.ndarray]:
        """GT landmarks ``[T, N, 2]`` float64 in **0-based frame pixels** (None when unlabelled)."""
        sl, a = self._slice(video_id), self._arrays
        if a.landmarks is None or not a.has_landmarks[sl].all():
            return None
        arr = a.landmarks[sl].astype(np.float64).reshape(sl.stop - sl.start, -1, 2)
        return arr - float(self.info.get("coord_base", 0))

    def boxes(self, video_id: str) -> Optional[np.ndarray]:
        """Face boxes ``[T, 4]`` (x1 y1 x2 y2, 0-based frame pixels), or None when absent."""
        sl, a = self._slice(video_id), self._arrays
        if a.bbox is None or not a.has_bbox[sl].all():
            return None
        return a.bbox[sl].astype(np.float64) - float(self.info.get("coord_base", 0))

    def times(self, video_id: str) -> np.ndarray:
        """Presentation times ``[T]`` in seconds."""
        return self._arrays.time_s[self._slice(video_id)].astype(np.float64)

    def frame_indices(self, video_id: str) -> np.ndarray:
        """0-based decode indices ``[T]`` of the indexed frames of ``video_id``."""
        return self._arrays.frame_index[self._slice(video_id)].copy()

    def unreliable(self, video_id: str) -> np.ndarray:
        """Boolean ``[T]`` mask of frames flagged unreliable by the dataset."""
        return self._arrays.unreliable[self._slice(video_id)].copy()


@dataclass
class _FrameArrays:
    """``frames.parquet`` as contiguous arrays (float32 landmarks/boxes) sorted by video, frame.

    Memory is one float32 copy of the columns (no per-row Python objects), so reading an index of
    WFLW-V size (137,730 frames × 196 values) costs about 110 MB rather than several hundred.
    """

    slices: Dict[str, slice]
    frame_index: np.ndarray
    time_s: np.ndarray
    unreliable: np.ndarray
    landmarks: Optional[np.ndarray]
    has_landmarks: np.ndarray
    bbox: Optional[np.ndarray]
    has_bbox: np.ndarray

    @classmethod
    def read(cls, path: Path) -> "_FrameArrays":
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(path, memory_map=True)
        names = set(pf.schema_arrow.names)
        n = pf.metadata.num_rows
        small = pf.read(columns=[c for c in ("video_id", "frame_index", "time_s", "unreliable")
                                 if c in names])
        vids = small["video_id"].to_numpy(zero_copy_only=False).astype(str)

        def column(name, dtype, fill):
            if name not in small.column_names:
                return np.full(n, fill, dtype)
            return small[name].combine_chunks().fill_null(fill).to_numpy(zero_copy_only=False).astype(dtype)

        frame_index = column("frame_index", np.int64, 0)
        lm, has_lm = _read_fixed(pf, "landmarks", n)
        bb, has_bb = _read_fixed(pf, "bbox", n)
        time_s, unreliable = column("time_s", np.float64, np.nan), column("unreliable", bool, False)
        # frames of one video contiguous and sorted by frame_index, videos in first-seen order
        first_pos: Dict[str, int] = {}
        for i, v in enumerate(vids):
            first_pos.setdefault(v, i)
        rank = np.array([first_pos[v] for v in vids], np.int64) if n else np.zeros(0, np.int64)
        order = np.lexsort((frame_index, rank))
        if not np.array_equal(order, np.arange(n)):  # builders write sorted rows: usually no copy
            vids, frame_index, time_s, unreliable = vids[order], frame_index[order], time_s[order], \
                unreliable[order]
            has_lm, has_bb = has_lm[order], has_bb[order]
            lm = lm[order] if lm is not None else None
            bb = bb[order] if bb is not None else None
        slices: Dict[str, slice] = {}
        if n:
            starts = np.flatnonzero(np.r_[True, vids[1:] != vids[:-1]])
            stops = np.r_[starts[1:], n]
            slices = {str(vids[a]): slice(int(a), int(b)) for a, b in zip(starts, stops)}
        del pc
        return cls(slices=slices, frame_index=frame_index, time_s=time_s, unreliable=unreliable,
                   landmarks=lm, has_landmarks=has_lm, bbox=bb, has_bbox=has_bb)


def _read_fixed(pf, name: str, n: int):
    """A fixed-size float list column as ``[n, width]`` float32 + validity, one row group at a time.

    Decoding a nested Parquet column costs several times its size in temporary buffers, so reading
    row group by row group into one preallocated array keeps the peak close to the array itself.
    """
    if name not in pf.schema_arrow.names:
        return None, np.zeros(n, bool)
    typ = pf.schema_arrow.field(name).type
    width = getattr(typ, "list_size", None)
    valid = np.zeros(n, bool)
    if width is None:  # variable-size lists (older writers): per-row conversion
        col = pf.read(columns=[name])[name].combine_chunks()
        valid[:] = ~col.is_null().to_numpy(zero_copy_only=False)
        if not valid.any():
            return None, valid
        vals = np.stack([np.asarray(x, np.float32) for x in col.to_pylist() if x is not None])
        out = np.zeros((n, vals.shape[1]), np.float32)
        out[valid] = vals
        return out, valid
    out = np.zeros((n, width), np.float32)
    pos = 0
    for g in range(pf.num_row_groups):
        col = pf.read_row_group(g, columns=[name])[name].combine_chunks()
        k = len(col)
        valid[pos:pos + k] = ~col.is_null().to_numpy(zero_copy_only=False)
        flat = col.values.to_numpy(zero_copy_only=False)
        out[pos:pos + k] = flat[col.offset * width:(col.offset + k) * width].reshape(k, width)
        pos += k
        del col, flat
    if not valid.any():
        return None, valid
    return out, valid


def load_index(path, verify: bool = True) -> Index:
    """Open the index in folder ``path``; raise :class:`IndexError_` with the fix when unusable.

    With ``verify`` (the default) every content file is checked against the SHA-256 recorded at
    build; a changed, truncated or unsealed index raises
    :class:`~wflwv.datasets.integrity.IndexChanged` naming the file and the fix.
    """
    from wflwv.datasets import integrity
    from wflwv.io.errors import UnreadableFile, read_json

    path = Path(path)
    info_path = path / "dataset_info.json"
    if not info_path.is_file():
        raise IndexError_(f"{path} is not a wflwv index (no dataset_info.json); build one with "
                          f"`wflwv build <dataset> --root ... --out {path}`")
    try:
        info = read_json(info_path, f"the index is damaged: rebuild it with "
                                    f"`wflwv build <dataset> --root ... --out {path}`")
    except UnreadableFile as exc:
        raise IndexError_(f"index file {exc}") from None
    fmt = int(info.get("index_format", 0))
    if fmt > INDEX_FORMAT:
        raise IndexError_(f"index {path} has format {fmt}, newer than this wflwv reads "
                          f"({INDEX_FORMAT}); upgrade wflwv or rebuild the index")
    for name in ("videos.parquet", "frames.parquet"):
        if not (path / name).is_file():
            raise IndexError_(f"index {path} is incomplete: {name} is missing; rebuild it")
    if verify:
        integrity.verify(path, info)
    return Index(path=path, info=info)
