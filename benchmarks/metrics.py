"""Benchmark: whole-split video metrics (ragged call) vs a per-video/per-frame Python loop.

WFLW-V-sized synthetic workload (1000 videos, 120–151 frames, 98 points, seeded). The baseline is
written straight from the formula like the official code (Python loops over videos and frames).
Prints a table (seconds, frames/s, ratio to the loop, targets met/missed) and the agreement, and
writes its JSON (benchmarks/benchtable.py); asserts nothing.
Target: the ragged pass < 0.5 s and ≥ 5× the loop.

    python benchmarks/metrics.py [--videos 1000] [--repeat 3] [--dtype float64]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.append(str(Path(__file__).resolve().parent))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, best_of  # noqa: E402
from wflwv.metrics import ragged_video_metrics, video_nme, video_nmf  # noqa: E402


def make_workload(n_videos: int, seed: int = 0, dtype=np.float64):
    """Seeded random GT/pred for ``n_videos`` clips of 120–151 frames (concatenated + offsets)."""
    rng = np.random.default_rng(seed)
    lens = rng.integers(120, 152, size=n_videos)
    off = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    F = int(off[-1])
    template = rng.uniform(-1, 1, size=(98, 2)) * [80, 100]
    template[60], template[72] = (-45, -20), (45, -20)
    vid = np.repeat(np.arange(n_videos), lens)
    t = (np.arange(F) - off[vid])[:, None]
    centre = rng.uniform(200, 400, size=(n_videos, 2))[vid] + 0.5 * t
    scale = rng.uniform(0.8, 1.5, size=n_videos)[vid][:, None, None]
    gt = centre[:, None, :] + scale * template[None]
    pred = gt + rng.normal(0.0, 2.0, size=gt.shape)
    return pred.astype(dtype), gt.astype(dtype), off


def official_loop(pred, gt, off):
    """Per-video, per-frame Python loop from the formula (as LDEQ's video_NME / video_NMJ)."""
    nmes, nmfs = [], []
    for v in range(len(off) - 1):
        p, g = pred[off[v]:off[v + 1]], gt[off[v]:off[v + 1]]
        T = len(g)
        acc = 0.0
        for t in range(T):
            iod = np.linalg.norm(g[t, 60] - g[t, 72])
            acc += np.mean(np.linalg.norm(g[t] - p[t], axis=1) / iod * 100)
        nmes.append(acc / T)
        sizes = []
        for t in range(T):
            w = g[t, :, 0].max() - g[t, :, 0].min()
            h = g[t, :, 1].max() - g[t, :, 1].min()
            sizes.append(np.sqrt(w * h / 256 ** 2))
        acc = 0.0
        for t in range(1, T):
            f = 100 * np.linalg.norm((g[t] - p[t]) - (g[t - 1] - p[t - 1]), axis=1) / sizes[t]
            acc += np.mean(f ** 2)
        nmfs.append(np.sqrt(acc / (T - 1)))
    return np.array(nmes), np.array(nmfs)


def per_video_vectorised(pred, gt, off):
    """Loop over videos only, each video vectorised (wflwv.metrics.video)."""
    n = len(off) - 1
    return (np.array([video_nme(pred[off[v]:off[v + 1]], gt[off[v]:off[v + 1]]) for v in range(n)]),
            np.array([video_nmf(pred[off[v]:off[v + 1]], gt[off[v]:off[v + 1]]) for v in range(n)]))


def main() -> None:
    """Run the benchmark, print the table, write its JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--videos", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    args = ap.parse_args()
    pred, gt, off = make_workload(args.videos, dtype=np.dtype(args.dtype))
    F = int(off[-1])
    rep = Report("metrics", "whole-split video metrics vs a per-frame Python loop",
                 params={"videos": args.videos, "frames": F, "points": 98, "dtype": args.dtype,
                         "repeat": args.repeat})
    t_loop = best_of(lambda: official_loop(pred, gt, off), 1)
    t_vec = best_of(lambda: per_video_vectorised(pred, gt, off), args.repeat)
    t_rag = best_of(lambda: ragged_video_metrics(pred, gt, off), args.repeat)
    nme_l, nmf_l = t_loop.result
    nme_v, nmf_v = t_vec.result
    r = t_rag.result
    tab = rep.table(["method", "time", "frames/s", "speed-up"], baseline="python loop")
    tab.row(["python loop (baseline)", t_loop, t_loop.rate(F), 1.0])
    tab.row(["per-video vectorised", t_vec, t_vec.rate(F), t_loop.best / t_vec.best])
    tab.row(["ragged (one call): speed-up", t_rag, t_rag.rate(F), t_loop.best / t_rag.best],
            target=Target(">=", 5, unit="x"))
    tab.row(["ragged (one call): wall time", t_rag, t_rag.rate(F), None], target=Target("<", 0.5, unit=" s"),
            value=t_rag.best)
    rel = lambda a, b: float(np.max(np.abs(a / b - 1)))  # noqa: E731
    agree = rep.table(["method", "metric", "max rel. diff vs loop"], title="agreement with the loop")
    for name, nme, nmf in (("ragged", r["nme_io"], r["nmf"]), ("per-video", nme_v, nmf_v)):
        agree.row([name, "NME", rel(nme, nme_l)], target=Target("<=", 1e-9))
        agree.row([name, "NMF", rel(nmf, nmf_l)], target=Target("<=", 1e-9))
    rep.finish()


if __name__ == "__main__":
    main()
