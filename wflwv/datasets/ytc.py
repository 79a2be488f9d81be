"""YouTube Celebrities builder: a flat folder of ``NNNN_NN_NNN_<first>_<last>.avi`` or the tarball.

Person and the three numeric fields (kept as strings ``f0``, ``f1``, ``f2``) are parsed from the
file name. The first-frame init state ``Init_State/<clip>.mat`` (variable ``gp``, 6 numbers) is
recorded when present. Without annotations the videos are indexed unlabelled (``has_gt = false``),
for GT-free stability metrics; an annotation folder ``<clip>/frame_%05d.pts`` (68 points, frame
number 1-based as extracted by ffmpeg — an assumption, the private layout is undocumented) marks the
index ``gt=private``.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.datasets.base import Annotations, DatasetBuilder, VideoItem, digest_arrays
from wflwv.datasets.report import BuildError
from wflwv.io.atomic import sha256_file

_NAME = re.compile(r"^(\d{4})_(\d{2})_(\d{3})_([A-Za-z0-9_.'-]+)$")
_FRAME = re.compile(r"^frame_(\d+)$")


class YtcBuilder(DatasetBuilder):
    """Index YouTube Celebrities clips (unlabelled unless private annotations are given)."""

    name = "ytc"
    VERSION = "1.0.0"
    landmark_scheme = None
    num_landmarks = 68
    coord_base = 1

    def __init__(self, root, annotations=None, init_dir=None, extract_dir=None, **options: Any):
        root = Path(root)
        self.archive = None
        if root.is_file():
            root = self._extract(root, Path(extract_dir) if extract_dir else None)
        super().__init__(root, **options)
        if self.verify_decode == "none":
            raise BuildError("ytc has no annotations to count frames from: use --verify-decode full or sample "
                             "(frame counts come only from decoding)")
        self.annotations = Path(annotations).resolve() if annotations else None
        self.has_gt = self.annotations is not None
        self.landmark_scheme = "ibug68" if self.has_gt else None
        self.init_dir = Path(init_dir) if init_dir else None

    def _extract(self, tar_path: Path, extract_dir: Optional[Path]) -> Path:
        """Extract the ``.avi`` (and ``.mat``) members of the tarball; returns the folder of the clips."""
        if not tarfile.is_tarfile(tar_path):
            raise BuildError(f"{tar_path} is neither a folder nor a tar archive; pass the ytcelebrity.tar "
                             f"tarball or the folder of .avi clips")
        self.archive = {"path": str(tar_path), "sha256": sha256_file(tar_path)}
        out = extract_dir or tar_path.with_name(tar_path.name + ".extracted")
        out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tar_path) as tf:
            members = [m for m in tf.getmembers() if m.isfile() and m.name.endswith((".avi", ".mat"))]
            for m in members:
                target = out / Path(m.name).name if m.name.endswith(".avi") else out / m.name
                if target.is_file() and target.stat().st_size == m.size:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                src = tf.extractfile(m)
                with open(target, "wb") as fh:
                    fh.write(src.read())
        return out

    def layout_hint(self) -> str:
        """Expected release layout."""
        return "a flat folder of NNNN_NN_NNN_<first>_<last>.avi (or ytcelebrity.tar)"

    def _init_state(self, stem: str) -> Optional[List[float]]:
        from scipy.io import loadmat

        for d in [self.init_dir, self.root / "ytcelebrity_init" / "Init_State", self.root / "Init_State"]:
            if d is None:
                continue
            hits = list(d.rglob(f"{stem}.mat")) if d.is_dir() else []
            if hits:
                mat = loadmat(hits[0])
                if "gp" not in mat or np.asarray(mat["gp"]).size < 4:
                    self.report.warn("init_state", f"{hits[0]} has no 6-number variable 'gp'", video_id=stem)
                    return None
                return [float(v) for v in np.asarray(mat["gp"], np.float64).ravel()]
        return None

    def split_generators(self) -> List[VideoItem]:
        """Every ``.avi`` in the folder; names that do not follow the convention are errors."""
        items = []
        clips = sorted(self.root.glob("*.avi"))
        if not clips:
            self.report.error("missing_file", f"no .avi clips in {self.root}; {self.layout_hint()}", fatal=True)
        for p in clips:
            m = _NAME.match(p.stem)
            if not m:
                self.report.error("bad_name", f"{p.name} does not follow NNNN_NN_NNN_<first>_<last>.avi; "
                                  f"rename or remove it", video_id=p.stem, file=p.name)
                continue
            f0, f1, f2, person = m.groups()
            init = self._init_state(p.stem)
            items.append(VideoItem(p.stem, "all", p, p.name, extra={
                "person": person, "f0": f0, "f1": f1, "f2": f2, "init_gp": init,
                "gt": "private" if self.has_gt else "none"}))
        return items

    def load_annotations(self, item: VideoItem) -> Annotations:
        """Unlabelled (count from decoding) or private ``frame_%05d.pts`` annotations."""
        if self.annotations is None:
            return Annotations(n_frames=None, digest="unlabelled")
        d = self.annotations / item.video_id
        files = sorted(d.glob("frame_*.pts")) if d.is_dir() else []
        if not files:
            self.fail("missing_file", f"{d} has no frame_%05d.pts annotations for {item.video_id}", item)
        return Annotations(n_frames=None, digest=str(len(files)), columns={"_pts_files": files})

    def _check(self, item: VideoItem, ann: Annotations, rec: Dict[str, Any]) -> None:
        from wflwv.datasets.clips import unlabelled_check

        files = ann.columns.pop("_pts_files", None)
        unlabelled_check(self, item, ann, rec)      # frame count from decoding, timestamps checked
        n = ann.n_frames
        if files is not None:
            from wflwv.io.pts import read_pts_many
            from wflwv.schemes import PtsFormatError

            lmk = np.full((n, 68, 2), np.nan)
            ks = []
            for f in files:
                k = int(_FRAME.match(f.stem).group(1)) - 1 if _FRAME.match(f.stem) else -1
                if not 0 <= k < n:
                    self.fail("frame_count", f"{f} names frame {k + 1} but {n} frames decode", item)
                ks.append(k)
            try:
                lmk[ks] = read_pts_many(files, 68)
            except (PtsFormatError, OSError) as exc:
                self.fail("pts_format", str(exc), item)
            ann.landmarks = lmk
            ann.digest = digest_arrays(lmk)
            labelled = np.isfinite(lmk).all(axis=(1, 2))
            ann.columns["labelled"] = labelled
            sub = Annotations(n_frames=n, landmarks=lmk[labelled])
            super()._check(item, sub, rec)
            out = np.full(n, np.nan, np.float32)
            out[labelled] = rec.get("outside_px", out[labelled])
            rec["outside_px"] = out
        else:
            super()._check(item, ann, rec)

    def info_extra(self) -> Dict[str, Any]:
        """Archive hash, annotation status."""
        return {"archive": self.archive, "gt": "private" if self.has_gt else "none", "source": "archive",
                "license": "no licence text found; research use assumed (unconfirmed)"}
