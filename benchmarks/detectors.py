"""Throughput of the PIP-Net and SBR detectors through the harness path (``predict_frames``).

For each detector and batch size (default 1 and 64) it times ``predict_frames`` on synthetic RGB
frames (crop + normalise + forward + decode + map back) and, in the same run, the per-frame loop
at batch 1 over the same frames (warmed up first; baseline and batches interleaved, best of
``--repeat``); it prints time per frame, frames/s and the ratio batched / per-frame. The batch-1
row repeats the baseline's work, so its ratio must be ≈ 1: it is the table's sanity check.

Weights are random (seeded) and the meanface synthetic: speed does not depend on the values.
Usage: ``python benchmarks/detectors.py [--device cpu|cuda] [--frames 64] [--loop-frames 8]
[--detectors pipnet_r18,sbr] [--threads N] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.append(str(Path(__file__).resolve().parent))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, Timing, progress  # noqa: E402


def build(name: str, device: str):
    """A detector with random weights: ``pipnet_r18|r50|r101`` (98 points) or ``sbr`` (68)."""
    torch.manual_seed(0)
    if name.startswith("pipnet"):
        from wflwv.detectors.pipnet import config as C
        from wflwv.detectors.pipnet.detector import PipNetDetector
        from wflwv.detectors.pipnet.meanface import tables_from_text
        from wflwv.detectors.pipnet.model import PipNet

        arch = {"pipnet_r18": "resnet18", "pipnet_r50": "resnet50", "pipnet_r101": "resnet101"}[name]
        mf = np.random.default_rng(0).random((98, 2))
        tables = tables_from_text(" ".join(f"{v:.6f}" for v in mf.ravel()))
        return PipNetDetector(C.make_cfg(name, 98), PipNet(arch, 98).eval(), tables,
                              torch.device(device), torch.float32)
    if name == "sbr":
        from wflwv.detectors.sbr import config as C
        from wflwv.detectors.sbr.detector import SBRDetector
        from wflwv.detectors.sbr.model import CPMVGG16

        return SBRDetector(C.make_cfg(name, 68), CPMVGG16(68).eval(), torch.device(device), torch.float32)
    raise SystemExit(f"unknown detector {name!r}: use pipnet_r18, pipnet_r50, pipnet_r101, sbr")


def frames_and_boxes(n: int, seed: int = 0):
    """``n`` random 480×640 RGB frames with a jittered face box each."""
    rng = np.random.default_rng(seed)
    frames = [rng.integers(0, 256, (480, 640, 3), dtype=np.uint8) for _ in range(n)]
    x1 = 200 + rng.integers(-20, 20, n)
    y1 = 120 + rng.integers(-20, 20, n)
    boxes = np.stack([x1, y1, x1 + 220, y1 + 240], axis=1).astype(float)
    return frames, boxes


def run(det, frames, boxes, batch: int, device: str) -> None:
    """``predict_frames`` over ``frames`` in batches of ``batch`` (synchronised on CUDA)."""
    for i in progress(range(0, len(frames), batch), desc=f"b{batch}"):
        det.predict_frames(frames[i:i + batch], boxes[i:i + batch])
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    """Parse arguments, run the timings, print the table, write its JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--frames", type=int, default=64, help="frames per batched measurement")
    ap.add_argument("--loop-frames", type=int, default=8, help="frames for the per-frame baseline and batch 1")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--detectors", default="pipnet_r18,pipnet_r50,pipnet_r101,sbr")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    ap.add_argument("--repeat", type=int, default=2, help="best of N (baseline and batches interleaved)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    batches = [int(b) for b in a.batches.split(",")]
    frames, boxes = frames_and_boxes(max(a.frames, a.loop_frames))
    rep = Report("detectors", "PIP-Net / SBR throughput through predict_frames, batched vs per frame",
                 params={"device": a.device, "torch": torch.__version__, "threads": torch.get_num_threads(),
                         "frames": a.frames, "loop_frames": a.loop_frames, "repeat": a.repeat})
    tab = rep.table(["detector", "batch", "time / frame", "frames/s", "ratio vs per-frame"],
                    baseline="per-frame loop at batch 1, same run")
    with torch.inference_mode():
        for name in a.detectors.split(","):
            name = name.strip()
            det = build(name, a.device)
            for b in sorted(set(batches + [1])):          # warm-up: allocations, kernel selection
                det.predict_frames(frames[:b], boxes[:b])
                det.predict_frames(frames[:b], boxes[:b])
            lf = a.loop_frames
            times = {"loop": []}
            times.update({b: [] for b in batches})
            for _ in range(a.repeat):                     # interleaved, so load hits every row alike
                t0 = time.perf_counter()
                for i in range(lf):                       # the per-frame baseline: one call per frame
                    det.predict_frames(frames[i:i + 1], boxes[i:i + 1])
                if a.device.startswith("cuda"):
                    torch.cuda.synchronize()
                times["loop"].append((time.perf_counter() - t0) / lf)
                for b in batches:
                    n = lf if b == 1 else a.frames
                    t0 = time.perf_counter()
                    run(det, frames[:n], boxes[:n], b, a.device)
                    times[b].append((time.perf_counter() - t0) / n)
            base = Timing(times["loop"])
            tab.row([name, "per-frame", _ms(base), 1 / base.best, 1.0])
            for b in batches:
                t = Timing(times[b])
                ratio = base.best / t.best
                tgt = Target("~", 1.0, tol=0.25) if b == 1 else None
                tab.row([name, b, _ms(t), 1 / t.best, ratio], target=tgt,
                        note="sanity: same work as the baseline" if b == 1 else "")
            del det
    rep.legend("per-frame", "one predict_frames call per frame (the baseline of the ratio column)")
    rep.legend("~ 1 ±0.25", "batch 1 does exactly the baseline's work: a ratio far from 1 means the timings "
                            "were disturbed (load, warm-up), not that batching helped")
    rep.note("Times are per frame, best of the repeats (± = spread). Weights are random: speed only.")
    rep.finish()


def _ms(t: Timing) -> str:
    return f"{t.best * 1e3:.1f} ms" + (f" ±{100 * t.spread:.0f}%" if len(t.times) > 1 else "")


if __name__ == "__main__":
    main()
