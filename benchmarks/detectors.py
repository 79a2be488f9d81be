"""Throughput of the PIP-Net and SBR detectors through the harness path (``predict_frames``).

For each detector and batch size (default 1 and 64) it times ``predict_frames`` on synthetic RGB
frames (crop + normalise + forward + decode + map back) and, in the same run, the per-frame loop
at batch 1 over the same frames; it prints frames/s and the ratio batched / per-frame.

Weights are random (seeded) and the meanface synthetic: speed does not depend on the values.
Usage: ``python benchmarks/detectors.py [--device cpu|cuda] [--frames 64] [--loop-frames 8]
[--detectors pipnet_r18,sbr] [--threads N]``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from tqdm import tqdm


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


def timed(det, frames, boxes, batch: int, device: str, progress: bool) -> float:
    """Frames/s of ``predict_frames`` over ``frames`` in batches of ``batch``."""
    det.predict_frames(frames[:1], boxes[:1])  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for i in tqdm(range(0, len(frames), batch), disable=not progress, leave=False, desc=f"b{batch}"):
        det.predict_frames(frames[i:i + batch], boxes[i:i + batch])
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - t0)


def main() -> None:
    """Parse arguments, run the timings, print the table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--frames", type=int, default=64, help="frames per batched measurement")
    ap.add_argument("--loop-frames", type=int, default=8, help="frames for the per-frame baseline")
    ap.add_argument("--batches", default="1,64")
    ap.add_argument("--detectors", default="pipnet_r18,pipnet_r50,pipnet_r101,sbr")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: leave default)")
    ap.add_argument("--no-progress", action="store_true")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.device.startswith("cuda"):
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
    batches = [int(b) for b in a.batches.split(",")]
    frames, boxes = frames_and_boxes(max(a.frames, a.loop_frames))
    print(f"device={a.device} torch={torch.__version__} threads={torch.get_num_threads()} "
          f"frames={a.frames} loop_frames={a.loop_frames}")
    print(f"{'detector':<12} {'batch':>5} {'frames/s':>10} {'per-frame fps':>14} {'ratio':>7}")
    with torch.inference_mode():
        for name in a.detectors.split(","):
            det = build(name.strip(), a.device)
            base = timed(det, frames[:a.loop_frames], boxes[:a.loop_frames], 1, a.device,
                         not a.no_progress)
            for b in batches:
                n = a.loop_frames if b == 1 else a.frames
                fps = timed(det, frames[:n], boxes[:n], b, a.device, not a.no_progress)
                print(f"{name:<12} {b:>5} {fps:>10.2f} {base:>14.2f} {fps / base:>7.2f}", flush=True)


if __name__ == "__main__":
    main()
