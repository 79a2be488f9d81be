"""Content hashes of an index: recorded at build (:func:`seal`), checked before use (:func:`verify`).

``dataset_info.json`` records the SHA-256 of every content file (``videos.parquet``,
``frames.parquet``, ``validation.csv``) and ``index_content_sha``: one SHA-256 over those hashes
and the content keys of ``dataset_info.json`` itself. Volatile facts (build time, incremental
counters, the location of the release, file modification times kept in ``file_stats.json``) are
left out, so rebuilding the same release with the same seed gives the same hash and cached runs
stay valid. Any changed byte of a content file refuses the index, naming the file and the fix
(docs/verification.md).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict

from wflwv.datasets.errors import IndexError_
from wflwv.io.atomic import sha256_file

CONTENT_FILES = ("videos.parquet", "frames.parquet", "validation.csv")
#: ``dataset_info.json`` keys that are not content (left out of ``index_content_sha``).
VOLATILE_KEYS = ("built_at", "incremental", "root", "wflwv_version", "content_files", "index_content_sha")


class IndexChanged(IndexError_):
    """An index whose files no longer match the hashes recorded when it was built."""


def _info_blob(info: Dict[str, Any]) -> bytes:
    keep = {k: v for k, v in info.items() if k not in VOLATILE_KEYS}
    return json.dumps(keep, sort_keys=True, default=str).encode("utf-8")


def content_sha(info: Dict[str, Any], files: Dict[str, str]) -> str:
    """``index_content_sha`` of ``info`` with content-file hashes ``files`` (name → hex SHA-256)."""
    h = hashlib.sha256(_info_blob(info))
    for name in sorted(files):
        h.update(f"\n{name}:{files[name]}".encode())
    return h.hexdigest()


def seal(index_dir: Path, info: Dict[str, Any]) -> Dict[str, Any]:
    """Add ``content_files`` and ``index_content_sha`` for the files in ``index_dir`` to ``info``."""
    index_dir = Path(index_dir)
    files = {n: sha256_file(index_dir / n) for n in CONTENT_FILES if (index_dir / n).is_file()}
    out = dict(info)
    out["content_files"] = files
    out["index_content_sha"] = content_sha(out, files)
    return out


def rebuild_hint(index_dir: Path, info: Dict[str, Any]) -> str:
    """The command that rebuilds ``index_dir`` (as far as the index knows its inputs)."""
    name = info.get("dataset", "<dataset>")
    if info.get("synthetic") is not None or name == "synthetic":
        return f"rebuild it with `wflwv build synthetic ... --out {index_dir}`"
    return f"rebuild it with `wflwv build {name} --root <release> --out {index_dir}`"


def verify(index_dir: Path, info: Dict[str, Any]) -> str:
    """Check every content file of ``index_dir`` against ``info``; return ``index_content_sha``.

    Raises :class:`IndexChanged` naming the first file that differs, or the missing record.
    """
    index_dir = Path(index_dir)
    files = info.get("content_files")
    if not isinstance(files, dict) or "index_content_sha" not in info:
        raise IndexChanged(f"index {index_dir} records no content hashes (built by an older wflwv), so "
                           f"it cannot be verified; {rebuild_hint(index_dir, info)}")
    for name in CONTENT_FILES:
        if name not in files:
            continue
        path = index_dir / name
        if not path.is_file():
            raise IndexChanged(f"index file {path} is missing; {rebuild_hint(index_dir, info)}")
        if sha256_file(path) != files[name]:
            raise IndexChanged(f"index file {path} changed since the index was built (its SHA-256 differs "
                               f"from dataset_info.json); {rebuild_hint(index_dir, info)}")
    if content_sha(info, files) != info["index_content_sha"]:
        raise IndexChanged(f"index file {index_dir / 'dataset_info.json'} was edited since the index was "
                           f"built (its content hash differs); {rebuild_hint(index_dir, info)}")
    return str(info["index_content_sha"])


class VideoChanged(IndexChanged):
    """A video file that is missing or differs from the one the index was built from."""


def verify_videos(index, video_ids) -> int:
    """Check each video's identity before its frames are used; returns how many were hashed.

    Size must equal the recorded ``size_bytes``; the sample digest (:mod:`wflwv.io.identity`) must
    equal ``sample_sha256``. The digest is skipped when size and mtime equal those cached in the
    index's ``file_stats.json`` for the same digest (written at build, updated here best-effort).
    """
    from wflwv.io.identity import sample_digest

    stats = read_file_stats(index.path)
    hashed = 0
    for vid in video_ids:
        row = index.video_row(vid)
        want, size = str(row.get("sample_sha256") or ""), row.get("size_bytes")
        path = index.video_path(vid)
        fix = f"restore the file the index was built from, or {rebuild_hint(index.path, index.info)}"
        try:
            st = path.stat()
        except FileNotFoundError:
            raise VideoChanged(f"video file {path} (video {vid!r}) is missing; {fix}") from None
        if not want:
            raise VideoChanged(f"index {index.path} records no identity for video {vid!r} (built by an older "
                               f"wflwv); {rebuild_hint(index.path, index.info)}")
        if size is not None and int(size) != st.st_size:
            raise VideoChanged(f"video file {path} (video {vid!r}) is {st.st_size} bytes but the index recorded "
                               f"{int(size)}: it changed since the index was built; {fix}")
        seen = stats.get(vid) or {}
        if (seen.get("size_bytes") == st.st_size and seen.get("mtime_ns") == st.st_mtime_ns
                and seen.get("sample_sha256") == want):
            continue
        hashed += 1
        if sample_digest(path) != want:
            raise VideoChanged(f"video file {path} (video {vid!r}) differs from the one the index was built "
                               f"from (content hash); {fix}")
        stats[vid] = {"size_bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sample_sha256": want}
    if hashed:
        write_file_stats(index.path, stats)
    return hashed


def write_file_stats(index_dir: Path, videos: Dict[str, Dict[str, Any]]) -> bool:
    """Rewrite ``file_stats.json`` (a cache: a read-only index folder is fine, returns False)."""
    from wflwv.io.atomic import atomic_write_json as _atomic_write_json

    try:
        _atomic_write_json(Path(index_dir) / "file_stats.json", {"videos": videos})
        return True
    except OSError:
        return False


def read_file_stats(index_dir: Path) -> Dict[str, Dict[str, Any]]:
    """``{video_id: {size_bytes, mtime_ns, sample_sha256}}`` from ``file_stats.json`` ({} if absent/unreadable)."""
    import json

    try:
        data = json.loads((Path(index_dir) / "file_stats.json").read_text())
        return dict(data.get("videos", {}))
    except (OSError, ValueError, AttributeError):
        return {}
