"""Published reference rows (``wflwv/data/reference.csv``, shipped as package data).

Each row carries ``source``: ``paper`` (as printed in the paper, or read off one of its figures),
``release`` (released weights run with the official code, or the numbers its README states),
``derived`` (computed by us from published relative numbers, e.g. an abstract's percentages; never
drawn like a measurement); a ``citation``; and ``second_hand`` when the number was read from
another paper's or site's table rather than from the original. See ``docs/leaderboard.md``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

from wflwv.leaderboard.columns import BOOL_COLUMNS, COLUMNS, LeaderboardError

REFERENCE_CSV = Path(__file__).resolve().parents[1] / "data" / "reference.csv"
REFERENCE_SOURCES = ("paper", "release", "derived")
REQUIRED = ("source", "second_hand", "citation", "dataset", "subset", "model", "filter", "nme_normaliser")


def load_reference(path: Optional[Path] = None):
    """The published rows as a DataFrame with :data:`COLUMNS` (bad files raise LeaderboardError)."""
    import pandas as pd

    path = Path(path) if path else REFERENCE_CSV
    if not path.is_file():
        raise LeaderboardError(f"reference rows {path} not found; pass --no-reference or --reference-file FILE")
    ref = pd.read_csv(path)
    missing = [c for c in REQUIRED if c not in ref.columns]
    if missing:
        raise LeaderboardError(f"{path}: missing column(s) {missing}; see wflwv/data/reference.csv for the format")
    bad = set(ref["source"]) - set(REFERENCE_SOURCES)
    if bad:
        raise LeaderboardError(f"{path}: source must be one of {'/'.join(REFERENCE_SOURCES)}, found {sorted(bad)}")
    nocite = ref["citation"].isna() | (ref["citation"].astype(str).str.strip() == "")
    if nocite.any():
        raise LeaderboardError(f"{path}: row {int(nocite.to_numpy().argmax()) + 2} has no citation; every "
                               "published number needs one")
    ref["simulated"] = False
    ref["filter_id"] = ref["filter"]
    ref = ref.reindex(columns=COLUMNS)
    for col in BOOL_COLUMNS:  # NaN would read as True
        ref[col] = ref[col].map(lambda v: str(v).strip().lower() in ("true", "1", "yes")).astype(bool)
    return ref
