"""Safe checkpoint loading: allow-listed unpickling, SHA-256 and strict key/shape checks.

Official checkpoints are pickles (``torch.save``). They are read with ``torch.load(...,
weights_only=True)`` plus an explicit allow-list of the globals a format needs (for example
``argparse.Namespace`` for LDEQ's ``{'args', 'state_dict'}``), so no arbitrary code can run; any
other global raises :class:`CheckpointError` naming the file and the offending global.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping, Optional

from wflwv.io.atomic import sha256_file


class CheckpointError(ValueError):
    """A checkpoint that cannot be used as-is: unreadable, wrong hash, wrong keys or shapes."""


class WeightsRequired(CheckpointError):
    """A detector that needs a checkpoint file was created without ``weights`` (``--weights``)."""

    def __init__(self, name: str, hint: str = ""):
        msg = (f"detector {name!r} needs its checkpoint: pass --weights PATH (Python: "
               f"create({name!r}, weights=PATH))")
        super().__init__(msg + (f". {hint}" if hint else ""))


def verify_sha256(path: str | os.PathLike, expected: Optional[str], what: str = "checkpoint") -> str:
    """Hash ``path``; raise :class:`CheckpointError` if ``expected`` is given and differs."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{what} {path} does not exist; pass the downloaded file with --weights")
    digest = sha256_file(path)
    if expected is not None and digest != expected.lower():
        raise CheckpointError(
            f"{what} {path} has SHA-256 {digest}, but {expected} was expected. It is not the released "
            f"file (truncated or re-saved?): download it again, or use the bare family name to load "
            f"an arbitrary checkpoint without the release check.")
    return digest


def safe_load(path: str | os.PathLike, allowed_globals: Iterable[Any] = ()) -> Any:
    """``torch.load`` with ``weights_only=True`` and only ``allowed_globals`` permitted, on CPU."""
    import pickle

    import torch

    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    check_format(path)
    try:
        with torch.serialization.safe_globals(list(allowed_globals)):
            return torch.load(str(path), map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise CheckpointError(
            f"checkpoint {path} asks to unpickle something outside the allow-list, which wflwv refuses "
            f"to execute ({_first_line(exc)}). Re-save only the state_dict, or check that this is the "
            f"official file.") from None
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} cannot be read ({_first_line(exc)}); the file is "
                              f"truncated or not a PyTorch checkpoint: download it again.") from None


def check_format(path: str | os.PathLike) -> None:
    """Raise unless ``path`` starts like a PyTorch checkpoint (``torch.save`` zip or legacy pickle)."""
    import zipfile

    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head == b"PK\x03\x04" or zipfile.is_zipfile(path):   # a zip (possibly truncated: torch.load names it)
        return
    if len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= 5:   # pickle protocol 2..5 (legacy torch.save)
        return
    raise CheckpointError(f"{path} is not a PyTorch checkpoint (neither a torch.save zip archive nor a "
                          f"pickle; {path.stat().st_size} bytes): pass the .pth / .pth.tar file of the "
                          f"release with --weights")


def check_pin(path: str | os.PathLike, pinned: Optional[str]) -> Optional[str]:
    """Verify ``path`` against a user-pinned SHA-256 (``--weights-sha256``); returns the digest or None."""
    if pinned is None:
        return None
    pinned = pinned.strip().lower()
    if len(pinned) != 64 or any(c not in "0123456789abcdef" for c in pinned):
        raise CheckpointError(f"--weights-sha256 {pinned!r} is not a 64-digit hex SHA-256")
    return verify_sha256(path, pinned, what="checkpoint (--weights-sha256)")


def weights_verified(published: Optional[str], weights: Optional[str], pinned: Optional[str]) -> bool:
    """Whether the weights a run used are checked against a known SHA-256.

    True when the detector loads no checkpoint of the user's, when the release publishes a SHA-256
    (checked at load) or when the user pinned one with ``--weights-sha256`` (checked by
    :func:`check_pin`); False for a user checkpoint of a release without a published hash.
    """
    if pinned is not None or published is not None:
        return True
    return weights is None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def check_state_dict(state: Mapping[str, Any], expected: Mapping[str, Any], path: str = "") -> None:
    """Raise unless ``state`` has exactly the keys of ``expected`` with identical shapes.

    ``expected`` maps key → shape tuple (or a tensor, whose ``.shape`` is used).
    """
    where = f" in {path}" if path else ""
    got, want = set(state), set(expected)
    missing, extra = sorted(want - got), sorted(got - want)
    if missing or extra:
        raise CheckpointError(
            f"state_dict{where} does not match the model: {len(missing)} missing key(s) "
            f"{missing[:5]}{'...' if len(missing) > 5 else ''}, {len(extra)} unexpected key(s) "
            f"{extra[:5]}{'...' if len(extra) > 5 else ''}. Is this checkpoint for another "
            f"architecture or configuration?")
    bad: Dict[str, Any] = {}
    for key, shape in expected.items():
        want_shape = tuple(getattr(shape, "shape", shape))
        got_shape = tuple(state[key].shape)
        if got_shape != want_shape:
            bad[key] = (got_shape, want_shape)
    if bad:
        first = list(bad.items())[:5]
        desc = "; ".join(f"{k}: {g} (model wants {w})" for k, (g, w) in first)
        raise CheckpointError(f"state_dict{where} has {len(bad)} tensor(s) with wrong shapes: {desc}")
