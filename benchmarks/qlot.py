"""Benchmark: QLOT tracker frames/s at batch 1 vs video-parallel batch 16, in one run.

Workload: seeded synthetic clips (640×360 frames from a textured bank, face boxes drifting), the
real tracker loop through :func:`wflwv.harness.batching.run_video_parallel` — QLOT crop (Lanczos-4
to 224) per frame, first frame 4 iterations, later frames 1, state split/stacked per video. The
network has the released architecture with a seeded random fill (speed does not depend on the
values) and 98 queries, unless ``--weights`` is given.

Prints frames/s of (a) batch 1 (one video at a time) and (b) video-parallel batch 16, the ratio,
the measured GFLOP per tracked frame (torch's FLOP counter on one 1-iteration step; convs,
matmuls, attention; grid sampling not counted) and the achieved GFLOP/s. Target: (b) ≥ 25
frames/s on 2 CPU threads. The CPU load at start is recorded (other jobs distort timings).

    python benchmarks/qlot.py                     # 2 threads, 16 clips x 24 frames
    python benchmarks/qlot.py --device cuda --videos 256 --batch 256
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchtable import Report, Target, best_of  # noqa: E402

from wflwv.detectors.qlot import config as C  # noqa: E402
from wflwv.detectors.qlot.detector import QlotDetector  # noqa: E402
from wflwv.detectors.qlot.model import QLOT  # noqa: E402
from wflwv.harness.batching import VideoJob, run_video_parallel  # noqa: E402


def make_workload(n_videos: int, n_frames: int, width: int, height: int, seed: int = 0):
    """``(bank of frames, per-video boxes [T, 4])``."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    bank = []
    for _ in range(8):
        f = np.stack([127 + 60 * np.sin(rng.uniform(0.01, 0.08) * xx + rng.uniform(0, 6.3))
                      * np.cos(rng.uniform(0.01, 0.08) * yy) for _ in range(3)], -1)
        bank.append(np.clip(f + rng.normal(0, 20, f.shape), 0, 255).astype(np.uint8))
    boxes = []
    for _ in range(n_videos):
        side = rng.uniform(0.3, 0.6) * height
        c0 = rng.uniform([side / 2, side / 2], [width - side / 2, height - side / 2])
        t = np.arange(n_frames)[:, None]
        c = c0 + 5 * np.sin(0.1 * t + rng.uniform(0, 6.3, 2))
        boxes.append(np.concatenate([c - side / 2, c + side / 2], axis=1))
    return bank, boxes


def run(det, bank, boxes, batch: int):
    """Track every clip; returns the number of frames."""
    jobs = (VideoJob(f"v{i}", len(b), iter((t, bank[(i + t) % len(bank)]) for t in range(len(b))), b)
            for i, b in enumerate(boxes))
    out = run_video_parallel(det, jobs, batch_size=batch)
    return sum(len(v) for v in out.values())


def build(weights, device, n_points: int = 98) -> QlotDetector:
    """A folded float32 QLOT detector (crop mode ``box``) on ``device``."""
    if weights:
        from wflwv.detectors import create

        return create("qlot:crop=box", weights=weights, device=device)
    torch.manual_seed(0)
    net = QLOT().eval()
    queries = torch.rand(n_points, 3) * 1.6 - 0.8
    return QlotDetector(C.make_cfg("qlot", n_points, None, {"crop": "box"}), net, queries,
                        torch.device(device), torch.float32, crop="box")


def gflop_per_frame(det: QlotDetector, iters: int = 1) -> float:
    """FLOPs of one tracked frame at ``iters`` iterations (batch 1), in GFLOP."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.rand(1, 3, 224, 224, device=det.device)
    with torch.inference_mode(), FlopCounterMode(display=False) as fc:
        det.net(x, det.queries, iters, enc=det._enc)
    return fc.get_total_flops() / 1e9


def main() -> None:
    """Parse arguments, time both paths, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--weights", default=None, help="checkpoint (default: seeded random fill)")
    ap.add_argument("--videos", type=int, default=16)
    ap.add_argument("--frames", type=int, default=24, help="frames per clip")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    if a.device == "cpu":
        torch.set_num_threads(a.threads)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    det = build(a.weights, a.device)
    bank, boxes = make_workload(a.videos, a.frames, 640, 360)
    run(det, bank, boxes[:2], 2)  # warm-up
    gf1, gf4 = gflop_per_frame(det, 1), gflop_per_frame(det, 4)
    gf = (gf4 + (a.frames - 1) * gf1) / a.frames          # 4 iterations on frame 0, then 1
    n = a.videos * a.frames
    t1 = best_of(lambda: run(det, bank, boxes, 1), repeat=a.repeat)
    tb = best_of(lambda: run(det, bank, boxes, a.batch), repeat=a.repeat)
    fps1, fpsb = t1.rate(n), tb.rate(n)
    where = (torch.cuda.get_device_name(0) if a.device.startswith("cuda")
             else f"CPU, {torch.get_num_threads()} threads, load {load:.1f} at start")
    rep = Report("qlot", f"QLOT tracker frames/s ({where})",
                 params={"videos": a.videos, "frames": a.frames, "batch": a.batch, "device": a.device,
                         "threads": a.threads, "load_at_start": load, "gflop_i1": gf1, "gflop_i4": gf4})
    tab = rep.table(["path", "batch", "frames", "seconds", "frames/s", "ratio", "GFLOP/frame", "GFLOP/s"],
                    baseline="batch 1")
    tab.row(["one video at a time", 1, n, t1.cell(), fps1, 1.0, gf, fps1 * gf])
    target = Target(">=", 25.0, unit="frames/s") if a.device == "cpu" else None
    tab.row([f"video-parallel", a.batch, n, tb.cell(), fpsb, fpsb / fps1, gf, fpsb * gf],
            target=target, value=fpsb if target else None)
    rep.note(f"GFLOP per tracked frame: {gf1:.3f} at 1 iteration, {gf4:.3f} at 4 (98 points, batch 1; "
             f"paper: 0.649 / 0.873 GMAC). Crops (Lanczos-4) and state handling are inside the timing.")
    rep.note("No GPU was available for this run." if a.device == "cpu" else f"device {a.device}")
    rep.finish()


if __name__ == "__main__":
    main()
