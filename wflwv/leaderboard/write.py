"""Write a leaderboard folder: CSV, Markdown, paired comparisons, PNG plots and the static site."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

from wflwv.io.atomic import atomic_write_text


def write(df, out_dir, plots: bool = True, site: bool = True, copy_runs: bool = False,
          n_boot: Optional[int] = None, seed: Optional[int] = None) -> List[Path]:
    """Write ``leaderboard.csv``, ``leaderboard.md``, ``paired.csv``, plots and (optionally) the site.

    ``paired.csv`` holds the paired bootstrap comparisons (:mod:`wflwv.leaderboard.paired`); the
    filtered-vs-unfiltered deltas are also added to ``df`` as ``d*_vs_unfiltered`` columns.
    With ``site``, ``index.html`` and ``leaderboard.json`` (:mod:`wflwv.leaderboard.site`);
    with ``copy_runs``, each run's ``summary.json`` and Parquet tables are copied under
    ``run_files/`` in ``out_dir`` so the site's links work wherever the folder is moved.
    """
    from wflwv.leaderboard.markdown import render_markdown
    from wflwv.leaderboard.paired import attach_vs_unfiltered, paired_table
    from wflwv.metrics.paired import N_BOOT, SEED

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paired = paired_table(df, n_boot=n_boot or N_BOOT, seed=SEED if seed is None else seed)
    attach_vs_unfiltered(df, paired)
    files = [atomic_write_text(out / "leaderboard.csv", df.to_csv(index=False)),
             atomic_write_text(out / "leaderboard.md", render_markdown(df)),
             atomic_write_text(out / "paired.csv", paired.to_csv(index=False))]
    if site or plots:
        from wflwv.leaderboard.site import write_site

        files += write_site(df, paired, out, html=site, png=plots, copy_runs=copy_runs)
    return files
