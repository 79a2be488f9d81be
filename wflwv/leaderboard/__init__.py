"""Leaderboards: a view over run ``summary.json`` files plus the published reference rows.

Outputs (``wflwv leaderboard RUNS --out DIR``): ``leaderboard.csv``, ``leaderboard.md``,
``paired.csv`` (paired bootstrap comparisons), PNG plots, and a static site (``index.html`` +
``leaderboard.json``). Rows are grouped into boards by (dataset, subset, protocol, box source,
NME normaliser, crop protocol); see ``docs/leaderboard.md``.
"""

from __future__ import annotations

from wflwv.leaderboard.markdown import render_markdown
from wflwv.leaderboard.reference import REFERENCE_CSV, load_reference
from wflwv.leaderboard.rows import (BOARD_KEY, COLUMNS, LeaderboardError, board_id, board_key, build,
                                    find_summaries, rows_from_summary, short_filter_names)
from wflwv.leaderboard.write import write

__all__ = ["BOARD_KEY", "COLUMNS", "LeaderboardError", "REFERENCE_CSV", "board_id", "board_key", "build",
           "find_summaries", "load_reference", "render_markdown", "rows_from_summary", "short_filter_names",
           "write"]
