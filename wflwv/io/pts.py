"""iBUG ``.pts`` landmark files (300-W, 300-VW, menpo): strict single-file and fast batch parsers.

Format::

    version: 1            (or "version: 1.0")
    n_points: 68
    {
    <x> <y>               n_points lines
    }

CRLF and LF line endings and a missing final newline are accepted. Values are returned as stored
(nominally 1-based pixels; converting to 0-based is the index loader's job, not the parser's).
The batch parser reads every file with one ``os.read``, validates the header, braces and line count
per file, and parses all coordinates of a video at once with pyarrow's CSV reader; any file that
fails the fast path is re-parsed strictly so that the error names that file and line.
"""

from __future__ import annotations

import io
import os
import re
from typing import List, Sequence

import numpy as np

_NPOINTS = re.compile(rb"n_points\s*:\s*(\d+)")


class PtsError(ValueError):
    """A malformed ``.pts`` file; the message names the file and what is wrong."""


def parse_pts_bytes(raw: bytes, name: str = "<bytes>", n_points: int = 68) -> np.ndarray:
    """Strictly parse one ``.pts`` file's bytes into float64 ``[n_points, 2]``."""
    text = raw.decode("ascii", errors="replace")
    lines = [ln.strip() for ln in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    lines = [ln for ln in lines if ln]
    try:
        open_at, close_at = lines.index("{"), lines.index("}")
    except ValueError:
        raise PtsError(f"{name}: missing '{{' or '}}' line; not an iBUG .pts file") from None
    m = _NPOINTS.search("\n".join(lines[:open_at]).encode())
    if m is None:
        raise PtsError(f"{name}: header has no 'n_points:' line")
    declared = int(m.group(1))
    if declared != n_points:
        raise PtsError(f"{name}: header declares n_points {declared}, expected {n_points}")
    body = lines[open_at + 1:close_at]
    if len(body) != n_points:
        raise PtsError(f"{name}: {len(body)} coordinate lines between braces, expected {n_points}")
    if any(lines[close_at + 1:]):
        raise PtsError(f"{name}: unexpected text after the closing '}}'")
    out = np.empty((n_points, 2), np.float64)
    for k, ln in enumerate(body):
        parts = ln.split()
        if len(parts) != 2:
            raise PtsError(f"{name}: coordinate line {k + 1} {ln!r} does not hold exactly 'x y'")
        try:
            out[k] = float(parts[0]), float(parts[1])
        except ValueError:
            raise PtsError(f"{name}: coordinate line {k + 1} {ln!r} is not numeric") from None
    if not np.isfinite(out).all():
        raise PtsError(f"{name}: non-finite coordinates")
    return out


def read_pts(path, n_points: int = 68) -> np.ndarray:
    """Read one ``.pts`` file strictly into float64 ``[n_points, 2]``."""
    with open(path, "rb") as fh:
        return parse_pts_bytes(fh.read(), str(path), n_points)


def _read_raw(path: str) -> bytes:
    fd = os.open(path, os.O_RDONLY)
    try:
        chunks = []
        while True:
            b = os.read(fd, 1 << 16)
            if not b:
                break
            chunks.append(b)
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_pts_many(paths: Sequence, n_points: int = 68) -> np.ndarray:
    """Read many ``.pts`` files into float64 ``[len(paths), n_points, 2]`` (fast, validated)."""
    paths = [os.fspath(p) for p in paths]
    if not paths:
        return np.zeros((0, n_points, 2), np.float64)
    bodies: List[bytes] = []
    for p in paths:
        raw = _read_raw(p)
        i, j = raw.find(b"{"), raw.rfind(b"}")
        body = raw[i + 1:j] if 0 <= i < j else b""
        m = _NPOINTS.search(raw[:i]) if i >= 0 else None
        ok = (m is not None and int(m.group(1)) == n_points and not raw[j + 1:].strip()
              and body.count(b"\n") == n_points + 1 and body.startswith((b"\r\n", b"\n")))
        if not ok:
            # Slow path: strict parse names the problem, or accepts an unusual but valid layout.
            xy = parse_pts_bytes(raw, p, n_points)
            body = b"\n" + b"\n".join(b"%r %r" % (float(x), float(y)) for x, y in xy) + b"\n"
        bodies.append(body)
    flat = _parse_xy(b"".join(bodies))
    if flat is None or flat.shape[0] != len(paths) * n_points:
        # Unusual spacing (tabs, double spaces) or a bad file: strict per-file parse, which names it.
        return np.stack([parse_pts_bytes(_read_raw(p), p, n_points) for p in paths])
    return flat.reshape(len(paths), n_points, 2)


def _parse_xy(data: bytes):
    """Parse 'x y' lines with pyarrow (C, multithreaded); None when any line is not two numbers."""
    import pyarrow as pa
    import pyarrow.csv as pc

    try:
        table = pc.read_csv(
            io.BytesIO(data),
            read_options=pc.ReadOptions(column_names=["x", "y"], block_size=1 << 24),
            parse_options=pc.ParseOptions(delimiter=" ", ignore_empty_lines=True),
            convert_options=pc.ConvertOptions(column_types={"x": pa.float64(), "y": pa.float64()}))
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    if table.column("x").null_count or table.column("y").null_count:
        return None
    out = np.empty((table.num_rows, 2), np.float64)
    out[:, 0] = table.column("x").to_numpy()
    out[:, 1] = table.column("y").to_numpy()
    if not np.isfinite(out).all():
        return None
    return out


def write_pts(path, xy: np.ndarray, decimals: int = 3, crlf: bool = True) -> None:
    """Write ``xy`` ``[N, 2]`` as an iBUG ``.pts`` file (used by fixtures and benchmarks)."""
    nl = "\r\n" if crlf else "\n"
    lines = ["version: 1", f"n_points:  {len(xy)}", "{"]
    lines += [f"{x:.{decimals}f} {y:.{decimals}f}" for x, y in np.asarray(xy, np.float64)]
    lines += ["}"]
    with open(path, "w", newline="") as fh:
        fh.write(nl.join(lines) + nl)
