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
