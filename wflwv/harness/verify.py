"""Checks that a run's numbers still describe the index they claim: summaries and indexes.

``leaderboard`` and ``tune-filter`` read run summaries; :func:`load_summary` names a damaged
file with the fix, and :func:`check_summary_index` refuses a summary whose index was changed or
rebuilt with other content since the run was scored (docs/verification.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

from wflwv.io.errors import read_json


class StaleRun(ValueError):
    """A run scored on an index whose content differs from the index now at that path."""


def load_summary(path) -> Dict[str, Any]:
    """A run's ``summary.json``; unreadable JSON raises naming the file and the fix."""
    path = Path(path)
    return read_json(path, f"re-run the `wflwv evaluate` command of run {path.parent} to rewrite it "
                           f"(or delete that run directory)")


_VERIFIED: Dict[str, str] = {}   # index path -> verified content sha (one hash per index per process)


def verified_content_sha(index_dir) -> str:
    """``index_content_sha`` of ``index_dir`` after checking its files (memoised per process)."""
    from wflwv.datasets.index import load_index

    key = str(Path(index_dir).resolve())
    if key not in _VERIFIED:
        _VERIFIED[key] = load_index(index_dir).content_sha
    return _VERIFIED[key]


def check_summary_index(summary: Dict[str, Any], path: Optional[Path] = None) -> Optional[str]:
    """Verify the index a summary was scored on, when that index is present; returns its sha.

    A summary without an index on this machine (runs copied elsewhere) is accepted as recorded.
    """
    ds = summary.get("dataset") or {}
    index_path, recorded = ds.get("index_path"), ds.get("index_sha")
    if not index_path or not (Path(index_path) / "dataset_info.json").is_file():
        return recorded
    current = verified_content_sha(index_path)
    if recorded is not None and recorded != current:
        where = f"run {Path(path).parent}" if path else "this run"
        raise StaleRun(f"{where} was scored on another build of index {index_path} (content "
                       f"{str(recorded)[:12]}, now {current[:12]}); re-run `wflwv evaluate` on the current "
                       f"index, or delete that run directory")
    return current
