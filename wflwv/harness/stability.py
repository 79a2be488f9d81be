"""``wflwv stability``: a shortcut for build clips + evaluate + leaderboard (one pipeline, no side path).

:func:`run_stability` indexes a folder of clips (``wflwv build clips``; a folder that already is an
index is used as it is), evaluates every model with the face detector + tracker every ``k`` frames
(``--boxes detector:hog:every=K``) and every filter through the normal run cache, and writes the
leaderboard of everything under ``runs``. It adds nothing of its own: each step is the command a
user would run by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, List, Optional, Sequence

from wflwv.boxes.detector import DEFAULTS


def ensure_index(clips: Path, runs: Path, progress: bool = True) -> Path:
    """``clips`` itself when it is an index, else a ``clips`` index of it built under ``runs/index``."""
    clips = Path(clips)
    if (clips / "dataset_info.json").is_file():
        return clips
    from wflwv.datasets.clips import ClipsBuilder

    out = Path(runs) / "index"
    ClipsBuilder(clips, on_error="skip", progress=progress).build(out)
    return out


def box_spec(every: int) -> str:
    """``detector:hog`` with detection every ``every`` frames (canonical spec)."""
    return "detector:hog" if int(every) == DEFAULTS["every"] else f"detector:hog:every={int(every)}"


def run_stability(clips: Path, models: Sequence[str], filters: Sequence[str], everys: Sequence[int] = (10,),
                  runs: Path = Path("runs/stability"), out: Optional[Path] = None, progress: bool = True,
                  echo: Callable[[str], None] = print) -> List[dict]:
    """Build (if needed), evaluate each model × ``every``, write the leaderboard to ``out``; summaries."""
    from wflwv.harness.evaluate import EvalConfig, evaluate

    runs = Path(runs)
    index = ensure_index(clips, runs, progress)
    summaries = []
    for model in models:
        for k in everys:
            s = evaluate(EvalConfig(model=model, dataset=str(index), filters=tuple(filters), out=str(runs),
                                    boxes=box_spec(k), progress=progress))
            summaries.append(s)
            echo(f"{model} boxes {s['protocol']['box_source']}: {s['counts']['n_videos_cached']} videos, "
                 f"{s['counts'].get('n_videos_failed', 0)} failed -> {runs / s['run']['dir']}")
    if out is not None:
        from wflwv.leaderboard import build, write

        df = build([str(runs)], reference=False)
        for p in write(df, out, plots=False):
            echo(f"wrote {p}")
    return summaries
