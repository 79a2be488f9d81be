"""Frame-exact sequential video reading with two backends (``opencv``, ``decord``).

The number of frames of a video is what actually decodes, never the container's claim:
``3ddfa_obama.mp4`` says 158 frames and 55 decode; ``changeLighting.wmv`` says 90 and 88 decode.

* ``opencv``: ``cv2.VideoCapture`` read sequentially until ``read()`` fails. Presentation time is
  ``CAP_PROP_POS_MSEC`` of the frame just read.
* ``decord``: ``decord.VideoReader(..., fault_tol=0)`` read with ``next()``. decord trusts the
  container's frame count and, even with ``fault_tol=0``, returns the last good frame again for
  every missing one (measured on the obama clip: 55 real frames then 103 copies of frame 54).
  Every decord stream is therefore checked in lock-step against an independent sequential OpenCV
  decode (``grab()`` only); any difference in count raises :class:`FrameCountMismatch`. decord is
  never trusted alone.

Frames are streamed one at a time (:class:`VideoFrame`, RGB uint8, 0-based decode index, time in
seconds); no function here returns a whole-video array. Native decoders can hang while holding the
GIL, so :mod:`wflwv.io.worker` runs decoding in a spawned process with a per-video timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np

BACKENDS: Tuple[str, ...] = ("opencv", "decord")


class VideoError(RuntimeError):
    """A video that cannot be opened or decoded exactly; the message names the file and the fix."""


class FrameCountMismatch(VideoError):
    """Two independent sequential decodes of one file disagree on the number of frames."""


@dataclass(frozen=True)
class VideoFrame:
    """One decoded frame: 0-based decode ``index``, presentation ``time_s``, ``image`` HxWx3 RGB uint8."""

    index: int
    time_s: float
    image: np.ndarray


@dataclass(frozen=True)
class VideoInfo:
    """Container metadata of a video (``n_frames_container`` is untrusted; count by decoding)."""

    path: str
    n_frames_container: int
    fps: float
    width: int
    height: int
    codec: str
    backend: str
    backend_version: str


def backend_version(backend: str) -> str:
    """Version string of ``backend`` (``opencv`` → cv2 version, ``decord`` → decord version)."""
    _check_backend(backend)
    if backend == "opencv":
        import cv2

        return str(cv2.__version__)
    import decord

    return str(decord.__version__)


def default_backend() -> str:
    """The backend ``"auto"`` resolves to: ``opencv``.

    Chosen by measurement (``python benchmarks/decode.py``: 14 clips of ``../shared/realdata/videos``,
    4252 frames, 2-core x86-64 shared with other jobs, opencv 4.14.0, decord 0.6.0): opencv 668 fps
    overall; decord as used here (fault_tol=0 + lock-step count check) 232 fps (×0.35); unchecked
    decord 338 fps (×0.51) and it returns 158 frames (103 duplicates) for ``3ddfa_obama.mp4``.
    opencv was faster on every clip and is exact on its own.
    """
    return "opencv"


def resolve_backend(backend: str) -> str:
    """Map ``"auto"`` to :func:`default_backend` and validate the name."""
    if backend == "auto":
        return default_backend()
    _check_backend(backend)
    return backend


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"unknown video backend {backend!r}; choose one of {list(BACKENDS)} or 'auto'")


def _open_cv(path: str):
    import cv2

    if not os.path.isfile(path):
        raise VideoError(f"video file {path} does not exist; check the dataset root")
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise VideoError(f"OpenCV cannot open {path}; the file is corrupt or its codec is unsupported "
                         f"by this opencv build (`wflwv env` prints versions)")
    return cap


def probe(path, backend: str = "opencv") -> VideoInfo:
    """Container metadata of ``path`` (frame count untrusted: use :func:`count_frames` for truth)."""
    import cv2

    path = str(path)
    cap = _open_cv(path)
    try:
        fourcc = int(cap.get(cv2.CAP_PROP_FOURCC))
        codec = "".join(chr((fourcc >> (8 * i)) & 0xFF) for i in range(4)).strip("\x00 ")
        info = VideoInfo(path=path, n_frames_container=int(cap.get(cv2.CAP_PROP_FRAME_COUNT)),
                         fps=float(cap.get(cv2.CAP_PROP_FPS)), width=int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)),
                         height=int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT)), codec=codec,
                         backend="opencv", backend_version=backend_version("opencv"))
    finally:
        cap.release()
    return info


def _raw_opencv(path: str, want) -> Iterator[Tuple[int, float, Optional[np.ndarray]]]:
    """Yield (index, time_s, RGB image or None) for every frame; image only where ``want(i)``."""
    import cv2

    cap = _open_cv(path)
    try:
        i = 0
        while cap.grab():
            t = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            img = None
            if want(i):
                ok, bgr = cap.retrieve()
                if not ok or bgr is None:
                    raise VideoError(f"{path}: OpenCV grabbed frame {i} but cannot retrieve it; "
                                     f"the file is damaged there")
                img = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
            yield i, t, img
            i += 1
    finally:
        cap.release()


def _raw_decord(path: str, want) -> Iterator[Tuple[int, float, Optional[np.ndarray]]]:
    """decord (fault_tol=0) in lock-step with an independent OpenCV grab count; mismatch raises."""
    import decord

    if not os.path.isfile(path):
        raise VideoError(f"video file {path} does not exist; check the dataset root")
    try:
        vr = decord.VideoReader(path, ctx=decord.cpu(0), fault_tol=0)
    except decord.DECORDError as exc:
        raise VideoError(f"decord cannot open {path}: {exc}; use --backend opencv") from exc
    check = _open_cv(path)
    try:
        n_claim = len(vr)
        for i in range(n_claim):
            if not check.grab():
                raise FrameCountMismatch(
                    f"{path}: decord claims {n_claim} frames but an independent sequential decode ends "
                    f"after {i}; decord would return duplicated frames here. Use --backend opencv")
            try:
                if want(i):
                    img = vr.next().asnumpy()
                else:
                    vr.skip_frames(1)
                    img = None
            except (decord.DECORDError, StopIteration) as exc:
                raise VideoError(f"{path}: decord failed at frame {i} with fault tolerance off ({exc}); "
                                 f"use --backend opencv") from exc
            t = float(vr.get_frame_timestamp(i)[0])
            yield i, t, img
        if check.grab():
            raise FrameCountMismatch(f"{path}: decord stops after {n_claim} frames (the container count) "
                                     f"but more frames decode sequentially; use --backend opencv")
    finally:
        check.release()
        del vr


def _raw(path, backend: str, want) -> Iterator[Tuple[int, float, Optional[np.ndarray]]]:
    backend = resolve_backend(backend)
    fn = _raw_opencv if backend == "opencv" else _raw_decord
    return fn(str(path), want)


def iter_frames(path, backend: str = "auto", stride: int = 1) -> Iterator[VideoFrame]:
    """Stream frames ``0, stride, 2·stride, …`` of ``path`` in decode order (RGB uint8).

    Every frame is decoded (skipped ones are not colour-converted); ``index`` is the true 0-based
    decode index. A decoder that cannot decode exactly raises :class:`VideoError`.
    """
    if stride < 1:
        raise ValueError(f"stride must be >= 1, got {stride}")
    for i, t, img in _raw(path, backend, lambda k: k % stride == 0):
        if img is not None:
            yield VideoFrame(index=i, time_s=t, image=img)


def count_frames(path, backend: str = "auto") -> int:
    """Number of frames of ``path`` counted by a full sequential decode (never the container)."""
    n = 0
    for _ in _raw(path, backend, lambda k: False):
        n += 1
    return n


def frame_hash(image: np.ndarray) -> str:
    """16-hex-digit hash of the 16×16 area-downsampled grey frame (detects decoder drift)."""
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA)
    return hashlib.blake2b(small.tobytes(), digest_size=8).hexdigest()


_FFMPEG_LINE = re.compile(r"^\[[\w.,-]+ @ 0x[0-9a-f]+\] ")


@contextlib.contextmanager
def decoder_messages() -> Iterator[List[str]]:
    """Collect what native decoders print on file descriptor 2 (FFmpeg: ``[mpeg4 @ 0x..] ...``).

    The yielded list is filled on exit with the FFmpeg lines; everything captured is written back
    to the real stderr, so nothing is hidden from the user.
    """
    import sys
    import tempfile

    found: List[str] = []
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):   # no usable fd 2 (embedded interpreters): nothing to capture
        yield found
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield found
        finally:
            try:
                sys.stderr.flush()
            except (OSError, ValueError):
                pass
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("utf-8", "replace")
            if text:
                os.write(2, text.encode("utf-8"))
            found.extend(line.strip() for line in text.splitlines() if _FFMPEG_LINE.match(line.strip()))


def scan_video(path, backend: str = "auto", mode: str = "full", sample_every: int = 25) -> Dict[str, Any]:
    """Decode ``path`` once and summarise it for an index (runs well inside a worker process).

    ``mode="full"`` hashes every frame; ``"sample"`` still decodes (counts) every frame but converts
    and hashes only every ``sample_every``-th frame. Returns ``n_frames``,
    ``width``, ``height``, ``fps`` (container rate), ``times`` (float64 [T]), ``hashes`` (list, None
    where not hashed), ``backend``, ``backend_version``.
    """
    if mode not in ("full", "sample"):
        raise ValueError(f"scan mode must be 'full' or 'sample', got {mode!r}")
    with decoder_messages() as messages:
        out = _scan(path, backend, mode, sample_every)
    out["decoder_messages"] = list(messages[:20])
    out["n_decoder_messages"] = len(messages)
    return out


def _scan(path, backend: str, mode: str, sample_every: int) -> Dict[str, Any]:
    backend = resolve_backend(backend)
    info = probe(path)
    times: List[float] = []
    hashes: List[Optional[str]] = []
    shape: Optional[Tuple[int, int]] = None
    every = 1 if mode == "full" else max(1, int(sample_every))
    for i, t, img in _raw(path, backend, lambda k: k % every == 0):
        times.append(t)
        if img is None:
            hashes.append(None)
            continue
        if shape is None:
            shape = img.shape[:2]
        elif img.shape[:2] != shape:
            raise VideoError(f"{path}: frame {i} is {img.shape[1]}x{img.shape[0]} but frame 0 is "
                             f"{shape[1]}x{shape[0]}; variable-size streams are not supported")
        hashes.append(frame_hash(img))
    if not times:
        raise VideoError(f"{path}: no frame decodes with backend {backend!r}; the file is empty or corrupt")
    return {"n_frames": len(times), "width": int(shape[1]), "height": int(shape[0]), "fps": info.fps,
            "n_frames_container": info.n_frames_container, "times": np.asarray(times, np.float64),
            "hashes": hashes, "backend": backend, "backend_version": backend_version(backend),
            "path": str(Path(path))}
