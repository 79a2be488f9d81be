"""PIP-Net meanface: parsing, hash check, neighbour and reverse indices (``docs/detectors.md`` (PIP-Net); numpy only)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import numpy as np

from wflwv.detectors.checkpoint import CheckpointError
from wflwv.io.atomic import sha256_file

MEANFACE_NAMES = ("meanface.txt",)


@dataclass(frozen=True)
class NeighbourTables:
    """Meanface (N,2), forward neighbours (N,K) and the cyclically padded reverse index."""

    meanface: np.ndarray
    nb: np.ndarray
    reverse_index1: np.ndarray
    reverse_index2: np.ndarray
    max_len: int
    sha256: str = ""
    path: str = ""


def parse_meanface(text: str, where: str = "meanface") -> np.ndarray:
    """``x0 y0 x1 y1 …`` (whitespace separated) → float64 ``(N, 2)``; malformed text raises."""
    try:
        vals = np.array([float(t) for t in text.split()], dtype=np.float64)
    except ValueError as exc:
        raise CheckpointError(f"{where} is not a PIP-Net meanface (non-numeric token: {exc})") from None
    if vals.size == 0 or vals.size % 2 or not np.all(np.isfinite(vals)):
        raise CheckpointError(f"{where} must hold 2N finite floats 'x0 y0 x1 y1 …', got {vals.size} "
                              f"values")
    return vals.reshape(-1, 2)


def neighbour_indices(meanface: np.ndarray, num_nb: int = 10) -> np.ndarray:
    """``nb[i]`` = indices of the ``num_nb`` nearest meanface points (float64 squared distance)."""
    mf = np.asarray(meanface, dtype=np.float64)
    n = mf.shape[0]
    if not 0 < num_nb < n:
        raise CheckpointError(f"num_nb={num_nb} needs a meanface with more than {num_nb} points, got {n}")
    d2 = np.sum((mf[:, None, :] - mf[None, :, :]) ** 2, axis=2)
    order = np.stack([np.argsort(d2[i]) for i in range(n)])  # numpy default sort, as the reference
    return order[:, 1:1 + num_nb].astype(np.int64)


def reverse_indices(nb: np.ndarray):
    """``(reverse_index1, reverse_index2, max_len)``: sources/slots voting for each landmark, padded.

    Each landmark's (i, j) list is repeated cyclically to ``max_len`` (the votes are duplicated,
    never de-duplicated, as the official code). A landmark with no source raises.
    """
    n, k = nb.shape
    flat = nb.reshape(-1)
    src = np.repeat(np.arange(n), k)
    slot = np.tile(np.arange(k), n)
    lists = [np.nonzero(flat == t)[0] for t in range(n)]  # i-major, j-minor order
    empty = [t for t, lst in enumerate(lists) if lst.size == 0]
    if empty:
        raise CheckpointError(f"meanface gives no neighbour votes for landmark(s) {empty[:10]}: the "
                              f"neighbour merge is undefined; use the model's own meanface file")
    max_len = max(lst.size for lst in lists)
    pos = np.concatenate([np.resize(lst, max_len) for lst in lists])  # np.resize repeats cyclically
    return src[pos].astype(np.int64), slot[pos].astype(np.int64), int(max_len)


def tables_from_text(text: str, num_nb: int = 10, where: str = "meanface") -> NeighbourTables:
    """All neighbour tables for a meanface given as text."""
    mf = parse_meanface(text, where)
    nb = neighbour_indices(mf, num_nb)
    r1, r2, max_len = reverse_indices(nb)
    return NeighbourTables(mf, nb, r1, r2, max_len)


def load_meanface(path: str | os.PathLike, num_landmarks: int, num_nb: int = 10,
                  expected_sha256: Optional[str] = None) -> NeighbourTables:
    """Read, hash-check and count-check a meanface file; return its neighbour tables."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"meanface file {path} does not exist; pass the official meanface.txt of "
                              f"the model's data set with meanface=PATH (--meanface)")
    digest = sha256_file(path)
    if expected_sha256 is not None and digest != expected_sha256:
        raise CheckpointError(
            f"meanface {path} has SHA-256 {digest}, expected {expected_sha256}: a model must be paired "
            f"with its own data set's meanface.txt (the neighbour slot order depends on it)")
    tables = tables_from_text(path.read_text(), num_nb, where=str(path))
    n = tables.meanface.shape[0]
    if n != num_landmarks:
        raise CheckpointError(f"meanface {path} has {n} points but the checkpoint predicts "
                              f"{num_landmarks}: use the meanface of the model's data set")
    return NeighbourTables(tables.meanface, tables.nb, tables.reverse_index1, tables.reverse_index2,
                           tables.max_len, digest, str(path))


def find_meanface(weights: str | os.PathLike, data_name: Optional[str] = None) -> Optional[Path]:
    """A meanface next to the checkpoint: ``meanface.txt`` or ``meanface_<data>.txt``, else None."""
    folder = Path(weights).resolve().parent
    names = list(MEANFACE_NAMES)
    if data_name:
        short = data_name.replace("data_", "")
        names += [f"meanface_{data_name}.txt", f"meanface_{short}.txt"]
    for name in names:
        if (folder / name).is_file():
            return folder / name
    return None
