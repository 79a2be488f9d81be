"""NME / NMF of cached real-detector runs on labelled clips (semi-synthetic ``--from-images`` videos).

``wflwv stability INDEX/release --gt-index INDEX`` runs the detectors on the index's video files
with the same box source as on unlabelled clips (HOG every k + tracking, or the model's own
detector), then scores them here against the index GT: video NME (io and fs, percent, frames with a
prediction), coverage, and NMF over transitions inside one segment (``metrics.md`` §4, §7), with
filters on and off. MediaPipe runs (native 468 points) are mapped with ``mp468_to_ibug68@1`` and
flagged ``approx_map``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np


def _points68(run: Dict[str, Any], x: np.ndarray) -> np.ndarray:
    if x.shape[1] == 468:
        from wflwv.detectors.mediapipe468 import to_ibug68

        return to_ibug68(x)
    return x


def gt_tables(collected: List[Dict[str, Any]], index_dir: Path, clips_root: Path,
              filters: Sequence[str]):
    """``(videos_df, board_df)``: per (model, filter, video) NME/NMF rows and their macro means."""
    import pandas as pd

    from wflwv.datasets.index import load_index
    from wflwv.metrics.ragged import ragged_video_metrics
    from wflwv.realvideo.run import clip_id
    from wflwv.realvideo.stability import _timestamps, apply_filter, segment_breaks

    ix = load_index(index_dir)
    by_clip = {clip_id(ix.video_path(v), clips_root): v for v in ix.video_ids()}
    rows = []
    for run in collected:
        vid = by_clip.get(run["meta"]["clip"])
        res = run.get("res")
        if vid is None or res is None:
            continue
        gt = ix.landmarks(vid)
        found = res["found"].astype(bool)
        if gt is None or len(gt) != len(found):
            raise ValueError(f"video {vid!r}: {len(found)} decoded frames but GT for "
                             f"{None if gt is None else len(gt)}; rerun `wflwv stability`")
        if gt.shape[1] != 68:
            raise ValueError(f"index {index_dir} has {gt.shape[1]}-point GT; the real-model board "
                             f"scores 68-point (iBUG) clips")
        breaks = segment_breaks(found, res["cut"], res["new_track"])
        t = _timestamps(res.get("time_s"), len(found))
        for spec in filters:
            x = _points68(run, apply_filter(spec, res["pred"], t, found, breaks))
            base = {"model": run["model"], "filter": spec, "video": vid,
                    "approx_map": bool(x is not res["pred"] and res["pred"].shape[1] == 468),
                    "n_frames": len(found), "coverage": float(found.mean())}
            if not found.any():
                rows.append({**base, "nme_io": np.nan, "nme_fs": np.nan, "nmf": np.nan})
                continue
            m = ragged_video_metrics(np.where(found[:, None, None], x, 0.0), gt, [0, len(found)],
                                     pair=(36, 45), valid=found, breaks=breaks)
            rows.append({**base, "nme_io": float(m["nme_io"][0]), "nme_fs": float(m["nme_fs"][0]),
                         "nmf": float(m["nmf"][0])})
    videos = pd.DataFrame(rows)
    if videos.empty:
        raise ValueError(f"no cached run matches a video of {index_dir}; run the models on "
                         f"{clips_root} first")
    board = (videos.groupby(["model", "filter"], sort=False)
             .agg(videos=("video", "count"), coverage=("coverage", "mean"),
                  nme_io=("nme_io", "mean"), nme_fs=("nme_fs", "mean"), nmf=("nmf", "mean"),
                  approx_map=("approx_map", "any"))
             .reset_index().sort_values(["nme_io", "model"], kind="stable").reset_index(drop=True))
    return videos, board
