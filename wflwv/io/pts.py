"""Bulk reader for iBUG ``.pts`` landmark files (300-VW has ~218k of them).

:func:`wflwv.schemes.parse_pts_bytes` is the one canonical single-file parser and validator; this
module only adds the fast path for many files of one landmark count:

1. read each file's bytes (one ``os.read``), check the header against a small cache of headers
   already accepted by the canonical parser, find ``{`` / ``}`` and check the line count between
   them (``N + 1`` newlines) — cheap bytes operations;
2. concatenate the numeric bodies of a chunk of files, check with a few vectorised byte passes that
   every coordinate line holds exactly two tokens and the brace lines none, and convert the whole
   chunk with one ``np.fromstring(..., sep=" ")`` call (C ``strtod``: correctly rounded, so values
   are identical to ``np.loadtxt`` and to the canonical parser);
3. any file that fails a check is parsed by :func:`wflwv.schemes.parse_pts_bytes`, which either
   accepts an unusual but valid layout (CR-only line ends, blank lines, …) or raises
   :class:`~wflwv.schemes.PtsFormatError` naming the file and the 1-based line.

Values are returned as stored (nominally 1-based pixels; the index loader converts to 0-based).
"""

from __future__ import annotations

import os
from typing import Dict, List, Sequence, Tuple

import numpy as np

from wflwv.schemes import PtsFormatError, parse_pts_bytes

#: Old name of the error class; the bulk reader raises :class:`wflwv.schemes.PtsFormatError`.
PtsError = PtsFormatError

CHUNK = 4096                      # files per vectorised conversion
_HEADERS: Dict[Tuple[bytes, int], bool] = {}   # header bytes before '{' accepted by the canonical parser


def _read(path: str) -> bytes:
    """All bytes of ``path`` (one ``os.read`` for files below 64 KiB)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        data = os.read(fd, 1 << 16)
        if len(data) < 1 << 16:
            return data
        parts = [data]
        while True:
            b = os.read(fd, 1 << 20)
            if not b:
                return b"".join(parts)
            parts.append(b)
    finally:
        os.close(fd)


def _header_ok(header: bytes, n_points: int) -> bool:
    """Whether the canonical parser accepts ``header`` (the bytes before ``{``) for ``n_points``."""
    key = (header, n_points)
    ok = _HEADERS.get(key)
    if ok is None:
        probe = header + b"{\n" + b"0 0\n" * n_points + b"}\n"
        try:
            parse_pts_bytes(probe, "<header>", n_points)
            ok = True
        except PtsFormatError:
            ok = False
        if len(_HEADERS) < 256:
            _HEADERS[key] = ok
    return ok


def _body(raw: bytes, n_points: int):
    """The bytes between ``{`` and ``}`` when the cheap per-file checks pass, else None."""
    i = raw.find(b"{")
    j = raw.rfind(b"}")
    if i < 0 or j < i or not _header_ok(raw[:i], n_points):
        return None
    body = raw[i + 1:j]
    if body.count(b"\n") != n_points + 1 or (j + 1 < len(raw) and raw[j + 1:].strip()):
        return None
    return body


def _bad_layout(chunk: bytes, n_files: int, n_points: int) -> np.ndarray:
    """Per file: True unless every coordinate line holds exactly two tokens and brace lines none.

    ``chunk`` is the concatenation of ``n_files`` bodies that each hold ``n_points + 1`` newlines.
    Bytes <= 32 count as separators here; a control character inside a number still makes the
    conversion fail, so nothing odd is accepted silently.
    """
    a = np.frombuffer(chunk, np.uint8)
    tok = a > 32
    start = np.empty(len(a), np.uint8)
    start[0] = tok[0]
    np.greater(tok[1:], tok[:-1], out=start[1:])            # token starts: non-space after space
    cuts = np.flatnonzero(a == 10)
    counts = np.add.reduceat(start, np.concatenate(([0], cuts)), dtype=np.int32)
    want = np.full(n_points + 1, 2, np.int32)
    want[0] = 0                                             # rest of the '{' line (+ previous '}' line)
    bad = (counts[:-1].reshape(n_files, n_points + 1) != want).any(axis=1)
    bad[-1] |= counts[-1] != 0                               # text before the last file's '}'
    return bad


def _convert(chunk: bytes, n_files: int, n_points: int):
    """``[F, N, 2]`` values of well-laid-out bodies, or None when a token is not a finite number."""
    try:
        v = np.fromstring(chunk, dtype=np.float64, sep=" ")
    except ValueError:
        return None
    if v.size != n_files * n_points * 2 or not np.isfinite(v).all():
        return None
    return v.reshape(n_files, n_points, 2)


def read_pts_many(paths: Sequence, n_points: int = 68) -> np.ndarray:
    """Read many ``.pts`` files into float64 ``[len(paths), n_points, 2]``, values exactly as stored.

    Accepts what :func:`wflwv.schemes.parse_pts_bytes` accepts (CRLF/LF, ``version: 1``/``1.0``,
    missing final newline); a malformed file raises :class:`~wflwv.schemes.PtsFormatError` naming
    that file and line. ``OSError`` propagates for unreadable files.
    """
    paths = [os.fspath(p) for p in paths]
    n_points = int(n_points)
    out = np.empty((len(paths), n_points, 2), np.float64)
    for c0 in range(0, len(paths), CHUNK):
        _read_chunk(paths[c0:c0 + CHUNK], n_points, out[c0:c0 + CHUNK])
    return out


def _read_chunk(paths: List[str], n_points: int, out: np.ndarray) -> None:
    """Fill ``out[k]`` with the values of ``paths[k]`` (fast path, canonical parser for the rest)."""
    raws = [_read(p) for p in paths]
    bodies = [_body(r, n_points) for r in raws]
    fast = [k for k, b in enumerate(bodies) if b is not None]
    for k in sorted(set(range(len(paths))) - set(fast)):   # unusual layout or malformed file
        out[k] = parse_pts_bytes(raws[k], paths[k], n_points)
    if not fast:
        return
    chunk = b"".join([bodies[k] for k in fast])
    bad = _bad_layout(chunk, len(fast), n_points)
    if bad.any():
        for k in np.flatnonzero(bad):
            out[fast[k]] = parse_pts_bytes(raws[fast[k]], paths[fast[k]], n_points)
        fast = [fast[k] for k in np.flatnonzero(~bad)]
        if not fast:
            return
        chunk = b"".join([bodies[k] for k in fast])
    vals = _convert(chunk, len(fast), n_points)
    if vals is None:                 # a token fromstring cannot read: the canonical parser names it
        for k in fast:
            out[k] = parse_pts_bytes(raws[k], paths[k], n_points)
        return
    out[fast] = vals


def write_pts(path, xy: np.ndarray, decimals: int = 3, crlf: bool = True) -> None:
    """Write ``xy`` ``[N, 2]`` as an iBUG ``.pts`` file with CRLF or LF ends (test fixtures, benchmarks).

    Releases and user-facing writes use :func:`wflwv.schemes.write_pts` (atomic, CRLF only).
    """
    nl = "\r\n" if crlf else "\n"
    lines = ["version: 1", f"n_points:  {len(xy)}", "{"]
    lines += [f"{x:.{decimals}f} {y:.{decimals}f}" for x, y in np.asarray(xy, np.float64)]
    lines += ["}"]
    with open(path, "wb") as fh:      # plain write: fixtures write thousands of small files
        fh.write((nl.join(lines) + nl).encode("ascii"))


__all__ = ["CHUNK", "PtsError", "PtsFormatError", "read_pts_many", "write_pts"]
