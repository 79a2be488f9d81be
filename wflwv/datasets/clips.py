"""``clips`` builder: any folder of videos (recursive, every container OpenCV reads) as an index.

Unlabelled clips are an index like any other: ``wflwv build clips --root DIR --out idx/mine`` then
``wflwv evaluate`` (the default box source of such an index is the face detector + tracker) and
``wflwv leaderboard`` (GT-free section). Video IDs are the paths below ``--root`` without the
extension, ``/`` replaced by ``__``; the subset is the first folder below the root (``all`` for
files directly in it). Frame counts and timestamps come from decoding; a clip whose container
timestamps are missing, zero or not increasing gets ``i / fps`` with a warning recorded for that
clip (validation.csv and the ``time_warning`` column of ``videos.parquet``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List

from wflwv.datasets.base import Annotations, DatasetBuilder, VideoItem
from wflwv.datasets.report import BuildError

#: extensions of the containers OpenCV's FFmpeg backend reads
VIDEO_EXTS = (".avi", ".mp4", ".wmv", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".flv", ".3gp",
              ".ogv", ".ts", ".mts", ".m2ts", ".asf", ".vob", ".mjpeg", ".y4m")


def find_videos(root: Path) -> List[Path]:
    """Video files under ``root`` (recursive, sorted, hidden folders skipped)."""
    root = Path(root)
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_EXTS
                  and not any(part.startswith(".") for part in p.relative_to(root).parts))


def clip_id(path: Path, root: Path) -> str:
    """Stable ID: the path relative to ``root`` without extension, ``/`` → ``__``."""
    return "__".join(Path(path).relative_to(root).with_suffix("").parts)


def check_timestamps(builder: DatasetBuilder, item: VideoItem, rec: Dict[str, Any]) -> None:
    """Replace unusable decoded timestamps by ``i / fps`` and record the warning for this clip."""
    from wflwv.datasets.timestamps import checked_times

    scan = rec["scan"]
    times, warning = checked_times(scan.get("times"), scan["n_frames"] or 0, scan.get("fps"))
    item.extra["time_warning"] = warning or ""
    if warning:
        rec["scan"] = dict(scan, times=times)
        builder.report.warn("timestamps", f"{item.rel_path}: {warning}", video_id=item.video_id,
                            file=item.rel_path)


def unlabelled_check(builder: DatasetBuilder, item: VideoItem, ann: Annotations, rec: Dict[str, Any]) -> None:
    """Frame count from decoding, timestamps checked (the ``_check`` of unlabelled builders)."""
    n = rec["scan"]["n_frames"]
    ann.n_frames = n
    ann.source_frame = [f"{i + 1:05d}" for i in range(n)]
    check_timestamps(builder, item, rec)


class ClipsBuilder(DatasetBuilder):
    """Index any folder of video clips (unlabelled; GT-free metrics)."""

    name = "clips"
    VERSION = "1.0.0"
    landmark_scheme = None
    num_landmarks = 0
    has_gt = False

    def __init__(self, root, **options: Any):
        super().__init__(root, **options)
        if self.verify_decode == "none":
            raise BuildError("clips have no annotations to count frames from: use --verify-decode full or "
                             "sample (frame counts and timestamps come only from decoding)")

    def layout_hint(self) -> str:
        """Expected layout."""
        return f"any folder holding video files ({', '.join(VIDEO_EXTS[:6])}, ...), nested folders allowed"

    def split_generators(self) -> List[VideoItem]:
        """Every video file below the root; subset = first folder level."""
        paths = find_videos(self.root)
        if not paths:
            self.report.error("missing_file", f"no video files under {self.root}; {self.layout_hint()}",
                              fatal=True)
        items = []
        for p in paths:
            rel = p.relative_to(self.root)
            subset = rel.parts[0] if len(rel.parts) > 1 else "all"
            items.append(VideoItem(clip_id(p, self.root), subset, p, rel.as_posix(),
                                   extra={"gt": "none", "container": p.suffix.lower().lstrip(".")}))
        return items

    def load_annotations(self, item: VideoItem) -> Annotations:
        """No annotations: frame counts come from decoding."""
        return Annotations(n_frames=None, digest="unlabelled")

    def _check(self, item: VideoItem, ann: Annotations, rec: Dict[str, Any]) -> None:
        unlabelled_check(self, item, ann, rec)
        super()._check(item, ann, rec)

    def info_extra(self) -> Dict[str, Any]:
        """Unlabelled folder of clips."""
        return {"gt": "none", "source": "folder"}
