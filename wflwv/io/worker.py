"""Run decoding in a spawned worker process with a per-call timeout.

Native decoders (decord #373, some FFmpeg demuxers) can spin forever while holding the GIL, so a
thread cannot interrupt them. :class:`DecodeWorker` keeps one ``spawn``ed process (decoders are
opened inside it, never inherited) and sends it picklable ``fn(*args)`` calls; a call that does not
answer within ``timeout_s`` kills the process, raises :class:`DecodeTimeout` naming the video, and
the next call starts a fresh process.
"""

from __future__ import annotations

import multiprocessing as mp
import pickle
import traceback
from typing import Any, Callable, Optional


class DecodeTimeout(RuntimeError):
    """A decode call ran past its timeout; the worker process was killed."""


class WorkerError(RuntimeError):
    """An exception raised in the worker that could not be sent back as itself."""


def _serve(conn) -> None:
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, args, kwargs = msg
        try:
            result = ("ok", fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - forwarded to the parent
            tb = traceback.format_exc()
            try:
                pickle.loads(pickle.dumps(exc))
                result = ("err", exc, tb)
            except Exception:  # noqa: BLE001
                result = ("err", WorkerError(f"{type(exc).__name__}: {exc}"), tb)
        conn.send(result)


class DecodeWorker:
    """One reusable spawned process that runs calls with a timeout (context manager)."""

    def __init__(self, timeout_s: float = 600.0):
        self.timeout_s = float(timeout_s)
        self._proc: Optional[mp.process.BaseProcess] = None
        self._conn = None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(target=_serve, args=(child,), daemon=True, name="wflwv-decode")
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent

    def call(self, fn: Callable[..., Any], *args: Any, what: str = "", **kwargs: Any) -> Any:
        """Run ``fn(*args, **kwargs)`` in the worker; raise :class:`DecodeTimeout` after ``timeout_s``."""
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send((fn, args, kwargs))
        if not self._conn.poll(self.timeout_s):
            self.close(kill=True)
            raise DecodeTimeout(f"decoding {what or fn.__name__} took longer than {self.timeout_s:g} s; "
                                f"the worker was killed. Re-encode the file, raise --timeout, or try "
                                f"another --backend")
        try:
            msg = self._conn.recv()
        except (EOFError, OSError):
            self.close(kill=True)
            raise WorkerError(f"the decode worker died while decoding {what or fn.__name__} "
                              f"(native crash); re-encode the file or try another --backend") from None
        if msg[0] == "ok":
            return msg[1]
        exc = msg[1]
        raise exc

    def close(self, kill: bool = False) -> None:
        """Stop the worker (``kill`` for a hung one)."""
        if self._proc is None:
            return
        if kill:
            self._proc.kill()
        else:
            try:
                self._conn.send(None)
            except (OSError, BrokenPipeError):
                pass
        self._proc.join(timeout=5)
        if self._proc.is_alive():
            self._proc.kill()
            self._proc.join(timeout=5)
        self._conn.close()
        self._proc, self._conn = None, None

    def __enter__(self) -> "DecodeWorker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def decode_in_worker(fn: Callable[..., Any], *args: Any, timeout_s: float = 600.0, **kwargs: Any) -> Any:
    """Run one ``fn(*args, **kwargs)`` (e.g. ``scan_video, path``) in a fresh worker with a timeout."""
    with DecodeWorker(timeout_s) as w:
        return w.call(fn, *args, what=str(args[0]) if args else "", **kwargs)
