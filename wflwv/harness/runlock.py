"""One writer per run directory: an ``fcntl`` lock on ``RUN_DIR/.lock``.

A second ``evaluate`` (or ``tune-filter``) on the same run directory prints one line saying it
waits for the holder, then waits up to ``WFLWV_LOCK_TIMEOUT`` seconds (default 3600) and refuses
with :class:`RunLocked` naming the directory. The lock is released when the holder closes it or
its process ends (also after ``kill -9``: the kernel drops ``flock`` locks of dead processes).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Optional


class RunLocked(RuntimeError):
    """Another process holds the run directory's writer lock for longer than the timeout."""


class RunLock:
    """An exclusive ``flock`` on ``<run_dir>/.lock`` held through an open file descriptor."""

    def __init__(self, path: Path, fd: int):
        self.path = path
        self.fd: Optional[int] = fd

    @classmethod
    def acquire(cls, run_dir, timeout_s: Optional[float] = None, poll_s: float = 0.2) -> "RunLock":
        """Lock ``run_dir`` (created if needed); wait with a message, refuse after ``timeout_s``."""
        import fcntl

        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        path = run_dir / ".lock"
        if timeout_s is None:
            timeout_s = float(os.environ.get("WFLWV_LOCK_TIMEOUT", "3600"))
        fd = os.open(str(path), os.O_RDWR | os.O_CREAT, 0o666)
        deadline, told = time.monotonic() + timeout_s, False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise RunLocked(f"run directory {run_dir} is being written by another wflwv process "
                                    f"({_holder(path)}); wait for it to finish or use another --out") from None
                if not told:
                    print(f"wflwv: waiting for another wflwv process writing {run_dir} ({_holder(path)})",
                          file=sys.stderr, flush=True)
                    told = True
                time.sleep(poll_s)
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()}\n".encode())
        return cls(path, fd)

    def release(self) -> None:
        """Drop the lock (idempotent)."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __del__(self) -> None:  # the kernel also drops it at process exit
        try:
            self.release()
        except OSError:
            pass


def _holder(path: Path) -> str:
    try:
        text = path.read_text().strip()
    except OSError:
        text = ""
    return text or "pid unknown"
