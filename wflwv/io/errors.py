"""One-line descriptions of environment faults (``OSError``) and unreadable files, with the fix.

The CLI turns any ``OSError`` into :func:`describe_os_error`'s line (exit status 1; ``--debug``
shows the traceback). Readers of Parquet / JSON files use :func:`read_parquet` and
:func:`read_json`, which raise :class:`UnreadableFile` naming the file and what to do.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path
from typing import Any, Optional

_FIXES = {
    errno.EROFS: "the file system is read-only: pass an --out folder on a writable disk",
    errno.ENOSPC: "no space left on the device: free some space or pass an --out folder on another disk",
    errno.EDQUOT: "the disk quota is exceeded: free some space or pass an --out folder on another disk",
    errno.EACCES: "permission denied: fix the permissions of that path or pass another folder",
    errno.EPERM: "operation not permitted: fix the permissions of that path or pass another folder",
    errno.ENOENT: "it does not exist: check the path (and the dataset root of the index)",
    errno.ENOTDIR: "a part of that path is a file, not a folder: check the path",
    errno.EISDIR: "it is a folder where a file was expected: check the path",
    errno.EMFILE: "too many open files: raise `ulimit -n` or use fewer --jobs",
    errno.EIO: "the device reported an input/output error: check the disk",
}


class UnreadableFile(ValueError):
    """A Parquet or JSON file that cannot be parsed; the message names the file and the fix."""


def describe_os_error(exc: OSError) -> str:
    """``"<path>: <reason>; <fix>"`` for an ``OSError`` (its ``filename`` when set)."""
    path = exc.filename if exc.filename is not None else None
    if exc.filename2 is not None:
        path = f"{exc.filename} -> {exc.filename2}"
    reason = exc.strerror or str(exc) or type(exc).__name__
    fix = _FIXES.get(exc.errno or -1, "check the path, its permissions and the free disk space")
    where = f"{path}: " if path else ""
    if not path:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else reason
    return f"{where}{reason} ({fix})"


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def read_parquet(path, fix: str, **kwargs: Any):
    """``pyarrow.parquet.read_table(path, **kwargs)``; a damaged file raises :class:`UnreadableFile`."""
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path, **kwargs)
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as exc:  # pyarrow: ArrowInvalid (ValueError), ArrowIOError (OSError)
        raise UnreadableFile(f"{path} is not a readable Parquet file ({_first_line(exc)}); {fix}") from None


def read_json(path, fix: str, kind: Optional[type] = dict) -> Any:
    """Parsed JSON of ``path``; invalid JSON (or not a ``kind``) raises :class:`UnreadableFile`."""
    path = Path(path)
    try:
        obj = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFile(f"{path} is not valid JSON ({_first_line(exc)}); {fix}") from None
    if kind is not None and not isinstance(obj, kind):
        raise UnreadableFile(f"{path} holds a JSON {type(obj).__name__}, not an object; {fix}")
    return obj
