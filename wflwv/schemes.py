"""Landmark schemes (WFLW-98, iBUG-68), the WFLW-98 → 68 maps and the iBUG ``.pts`` format.

Scheme metadata lives as data in ``wflwv/data/schemes/<name>.json`` (groups, flip permutation,
inter-ocular pair, pupil definition, paper); :func:`get_scheme` loads and validates it. All
indices are 0-based.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping, Optional, Tuple, Union

import numpy as np

from wflwv.io.atomic import atomic_write_bytes

_DATA = Path(__file__).resolve().parent / "data" / "schemes"
SCHEMES = ("wflw98", "ibug68")


@dataclass(frozen=True)
class Scheme:
    """A landmark scheme: point count, named groups, mirror permutation, normaliser points.

    ``io_pair`` are the outer eye corners (inter-ocular normaliser); each entry of ``pupils`` is
    the index set whose mean is that pupil (a single index when the scheme has pupil points).
    ``flip_perm[i]`` is the point that point ``i`` becomes after a horizontal mirror.
    """

    name: str
    num_points: int
    groups: Mapping[str, Tuple[int, ...]] = field(hash=False)
    flip_perm: Tuple[int, ...]
    io_pair: Tuple[int, int]
    pupils: Tuple[Tuple[int, ...], Tuple[int, ...]]
    paper: str

    def __post_init__(self) -> None:
        n = self.num_points
        where = f"landmark scheme {self.name!r}"
        if sorted(self.flip_perm) != list(range(n)):
            raise ValueError(f"{where}: flip_perm is not a permutation of 0..{n - 1}")
        perm = np.asarray(self.flip_perm)
        if not np.array_equal(perm[perm], np.arange(n)):
            raise ValueError(f"{where}: flip_perm is not an involution (flipping twice must be identity)")
        used = [i for g in self.groups.values() for i in g] + list(self.io_pair)
        used += [i for p in self.pupils for i in p]
        if any(not 0 <= i < n for i in used):
            raise ValueError(f"{where}: an index in groups/io_pair/pupils is outside 0..{n - 1}")
        if self.io_pair[0] == self.io_pair[1] or len(self.pupils) != 2:
            raise ValueError(f"{where}: io_pair needs two distinct points and pupils two index sets")

    def _check(self, points: np.ndarray) -> np.ndarray:
        points = np.asarray(points, dtype=np.float64)
        if points.ndim < 2 or points.shape[-2:] != (self.num_points, 2):
            raise ValueError(f"scheme {self.name!r} expects points of shape [..., {self.num_points}, 2], "
                             f"got {points.shape}")
        return points

    def io_distance(self, points: np.ndarray) -> np.ndarray:
        """Outer-eye-corner distance ``[...]`` (same units as ``points``, float64)."""
        p = self._check(points)
        a, b = self.io_pair
        return np.sqrt(((p[..., a, :] - p[..., b, :]) ** 2).sum(-1))

    def pupil_points(self, points: np.ndarray) -> np.ndarray:
        """Left and right pupil positions ``[..., 2, 2]`` (mean of each pupil index set)."""
        p = self._check(points)
        return np.stack([p[..., list(ix), :].mean(-2) for ix in self.pupils], axis=-2)

    def ip_distance(self, points: np.ndarray) -> np.ndarray:
        """Inter-pupil distance ``[...]`` (the ``ip`` normaliser of docs/metrics.md §1)."""
        pp = self.pupil_points(points)
        return np.sqrt(((pp[..., 0, :] - pp[..., 1, :]) ** 2).sum(-1))

    def flip(self, points: np.ndarray) -> np.ndarray:
        """Re-order the points of mirrored landmarks (coordinates are not changed here)."""
        return self._check(points)[..., list(self.flip_perm), :]


@lru_cache(maxsize=None)
def get_scheme(name: str) -> Scheme:
    """The :class:`Scheme` called ``name`` (``"wflw98"`` or ``"ibug68"``), loaded from its JSON."""
    if isinstance(name, Scheme):
        return name
    path = _DATA / f"{name}.json"
    if name not in SCHEMES or not path.is_file():
        raise KeyError(f"unknown landmark scheme {name!r}; known: {', '.join(SCHEMES)}")
    d = json.loads(path.read_text(encoding="utf-8"))
    return Scheme(name=d["name"], num_points=int(d["num_points"]),
                  groups={k: tuple(int(i) for i in v) for k, v in d["groups"].items()},
                  flip_perm=tuple(int(i) for i in d["flip_perm"]),
                  io_pair=(int(d["io_pair"][0]), int(d["io_pair"][1])),
                  pupils=tuple(tuple(int(i) for i in p) for p in d["pupils"]),
                  paper=str(d["paper"]))


def _scheme(scheme: Union[str, Scheme]) -> Scheme:
    return scheme if isinstance(scheme, Scheme) else get_scheme(scheme)


# ------------------------------------------------------------------------------------------------
# WFLW-98 → iBUG-68 (docs/detectors.md (PIP-Net, scheme maps); registered names wflw98_to_68_subset / _pipnet)
# ------------------------------------------------------------------------------------------------
#: Index-subset map ``wflw98_to_68_subset``: ibug68 point k = WFLW point WFLW98_TO_IBUG68[k].
WFLW98_TO_IBUG68 = np.array(
    list(range(0, 33, 2)) + list(range(33, 38)) + list(range(42, 47)) + list(range(51, 60))
    + [60, 61, 63, 64, 65, 67, 68, 69, 71, 72, 73, 75] + list(range(76, 96)), dtype=np.int64)
WFLW98_TO_IBUG68.setflags(write=False)
MAPPINGS = ("pipnet", "subset")


def _pipnet_terms() -> Tuple[np.ndarray, ...]:
    """(ia, ib, wa, wb) per 68-point and axis: out[k, c] = wa·W[ia, c] + wb·W[ib, c] (float64)."""
    ia = np.repeat(WFLW98_TO_IBUG68[:, None], 2, axis=1)
    ib, wa, wb = ia.copy(), np.ones((68, 2)), np.zeros((68, 2))
    for k, (a, b) in zip(range(18, 22), [(34, 41), (35, 40), (36, 39), (37, 38)]):
        ia[k] = a, a; ib[k] = a, b; wa[k] = 1.0, 0.5; wb[k] = 0.0, 0.5
    for k, (a, b) in zip(range(22, 26), [(42, 50), (43, 49), (44, 48), (45, 47)]):
        ia[k] = a, a; ib[k] = a, b; wa[k] = 1.0, 0.5; wb[k] = 0.0, 0.5
    for k, (a, b) in {37: (61, 62), 38: (63, 62), 40: (65, 66), 41: (67, 66),
                      43: (69, 70), 44: (71, 70), 46: (73, 74), 47: (75, 74)}.items():
        ia[k] = a; ib[k] = b; wa[k] = 0.666; wb[k] = 0.333   # weights sum to 0.999, as released
    return ia, ib, wa, wb


_PIP_IA, _PIP_IB, _PIP_WA, _PIP_WB = _pipnet_terms()


def to_ibug68(points: np.ndarray, scheme: Union[str, Scheme] = "wflw98", mapping: str = "pipnet") -> np.ndarray:
    """Map ``[..., 98, 2]`` WFLW points to ``[..., 68, 2]`` iBUG-68 (identity copy for ibug68).

    ``mapping="pipnet"`` is PIP-Net's ``convert_wflw`` (brow y averaged over upper/lower edge, eye
    lids 0.666/0.333 blends; bit-identical in float64); ``"subset"`` picks
    :data:`WFLW98_TO_IBUG68`. Record which map a comparison used.
    """
    s = _scheme(scheme)
    p = s._check(points)
    if s.name == "ibug68":
        return p.copy()
    if s.name != "wflw98":
        raise ValueError(f"no map from scheme {s.name!r} to ibug68")
    if mapping == "subset":
        return p[..., WFLW98_TO_IBUG68, :]
    if mapping != "pipnet":
        raise ValueError(f"unknown 98→68 mapping {mapping!r}; use one of {MAPPINGS}")
    ax = np.array([0, 1])
    return _PIP_WA * p[..., _PIP_IA, ax] + _PIP_WB * p[..., _PIP_IB, ax]


# ------------------------------------------------------------------------------------------------
# iBUG .pts (docs/datasets.md §2.2)
# ------------------------------------------------------------------------------------------------
class PtsFormatError(ValueError):
    """A malformed ``.pts`` file; the message names the file and the 1-based line."""


def _fail(source: str, line: int, msg: str) -> PtsFormatError:
    return PtsFormatError(f"{source}:{line}: {msg} (expected iBUG .pts: 'version: 1', 'n_points: N', "
                          "'{', N lines 'x y', '}')")


def parse_pts_bytes(data: bytes, source: str = "<bytes>", n_points: Optional[int] = 68) -> np.ndarray:
    """Parse the bytes of an iBUG ``.pts`` file into raw ``(N, 2)`` float64 values.

    The values are returned exactly as written (nominally 1-based pixels; no −1 here). Accepts
    CRLF or LF, a missing final newline, ``version: 1`` or ``version: 1.0``, trailing blank lines.
    Strict on the header, the braces, the point count (``n_points``; ``None`` accepts the header's
    count) and on every coordinate line holding exactly two finite numbers.
    """
    lines = data.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if len(lines) < 4:
        raise _fail(source, len(lines) + 1, "file ends before the header and braces")
    key, _, val = lines[0].partition(b":")
    try:
        ok = key.strip() == b"version" and float(val) == 1.0
    except ValueError:
        ok = False
    if not ok:
        raise _fail(source, 1, f"bad version line {lines[0][:40]!r}")
    key, _, val = lines[1].partition(b":")
    try:
        n = int(val) if key.strip() == b"n_points" else -1
    except ValueError:
        n = -1
    if n <= 0:
        raise _fail(source, 2, f"bad n_points line {lines[1][:40]!r}")
    if n_points is not None and n != n_points:
        raise _fail(source, 2, f"header says n_points {n}, expected {n_points}")
    if lines[2].strip() != b"{":
        raise _fail(source, 3, f"expected '{{', got {lines[2][:40]!r}")
    if lines[-1].strip() != b"}":
        raise _fail(source, len(lines), f"expected closing '}}', got {lines[-1][:40]!r}")
    body = lines[3:-1]
    if len(body) != n:
        raise _fail(source, 4 + min(len(body), n), f"{len(body)} coordinate lines, header says {n}")
    try:
        vals = [float(t) for ln in body for t in ln.split()]
    except ValueError:
        vals = []
    if len(vals) != 2 * n or any(len(ln.split()) != 2 for ln in body):
        for i, ln in enumerate(body):
            toks = ln.split()
            try:
                [float(t) for t in toks]
            except ValueError:
                toks = []
            if len(toks) != 2:
                raise _fail(source, 4 + i, f"expected two numbers 'x y', got {ln[:40]!r}")
    out = np.array(vals, dtype=np.float64).reshape(n, 2)
    if not math.isfinite(float(out.sum())):
        i = int(np.flatnonzero(~np.isfinite(out).all(1))[0])
        raise _fail(source, 4 + i, f"non-finite coordinate {body[i][:40]!r}")
    return out


def read_pts(path: Union[str, Path], n_points: Optional[int] = 68) -> np.ndarray:
    """Read an iBUG ``.pts`` file into raw ``(N, 2)`` float64 values, exactly as in the file.

    The file holds 1-based pixel coordinates (menpo subtracts 1, SBR/mmpose do not); this reader
    does **not** subtract 1 — the one conversion to 0-based happens in the index loader.
    """
    path = Path(path)
    return parse_pts_bytes(path.read_bytes(), source=str(path), n_points=n_points)


def write_pts(path: Union[str, Path], points: np.ndarray, decimals: Optional[int] = None) -> Path:
    """Write ``(N, 2)`` points as an iBUG ``.pts`` file atomically, CRLF line ends like the release.

    ``decimals=None`` writes the shortest exact repr so :func:`read_pts` returns the same values;
    ``decimals=3`` mimics the 300-VW release. Values are written raw (no ±1).
    """
    p = np.asarray(points, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] != 2 or len(p) == 0:
        raise ValueError(f"write_pts({path}): points must be (N, 2), got {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"write_pts({path}): non-finite coordinate at point "
                         f"{int(np.flatnonzero(~np.isfinite(p).all(1))[0])}")
    fmt = repr if decimals is None else (lambda v: f"{v:.{int(decimals)}f}")
    rows = [f"{fmt(float(x))} {fmt(float(y))}" for x, y in p]
    text = "\r\n".join(["version: 1", f"n_points: {len(p)}", "{", *rows, "}"]) + "\r\n"
    return atomic_write_bytes(path, text.encode("ascii"))


__all__ = ["MAPPINGS", "PtsFormatError", "SCHEMES", "Scheme", "WFLW98_TO_IBUG68", "get_scheme",
           "parse_pts_bytes", "read_pts", "to_ibug68", "write_pts"]
