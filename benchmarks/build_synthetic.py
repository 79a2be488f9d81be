"""Synthetic benchmark build time: the `--preset demo` build must finish in < 60 s on 2 cores.

Measures, in one run (temp folders, removed afterwards):
  baseline   encode the same number of blank frames of the same size with cv2.VideoWriter (mp4v)
  generate   SyntheticBuilder.generate: render + encode the release (no index)
  index      the normal indexer on that release (full decode + checks + Parquet + card)
  build      the complete `SyntheticBuilder(preset).build(out)` (what `make demo` runs)
and prints wall and CPU seconds with ratios to the baseline.
Run: ``python benchmarks/build_synthetic.py [--preset demo]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("WFLWV_NO_TQDM", "1")

from wflwv.datasets.synthetic import SyntheticBuilder  # noqa: E402
from wflwv.datasets.synthetic.builder import _indexer  # noqa: E402


def _timed(fn):
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - t0, time.process_time() - c0


def baseline(tmp: Path, n_videos: int, n_frames: int, w: int, h: int) -> None:
    """Encode blank frames: the floor any generator that writes these videos pays."""
    import cv2

    img = np.full((h, w, 3), 128, np.uint8)
    for v in range(n_videos):
        wr = cv2.VideoWriter(str(tmp / f"b{v}.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 25.0, (w, h))
        for _ in range(n_frames):
            wr.write(img)
        wr.release()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--preset", default="demo")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wflwv-bench-synthetic-"))
    try:
        b = SyntheticBuilder(preset=args.preset, progress=False)
        c = b.cfg
        rows = []
        _, w0, c0 = _timed(lambda: baseline(tmp, int(c["videos"]), int(c["frames"]), int(c["width"]), int(c["height"])))
        rows.append(("baseline (blank encode)", w0, c0))
        _, w1, c1 = _timed(lambda: b.generate(tmp / "rel"))
        rows.append(("generate release", w1, c1))
        ix = _indexer(c["layout"], tmp / "rel", {"bench": True}, progress=False)
        _, w2, c2 = _timed(lambda: ix.build(tmp / "idx"))
        rows.append(("index release (normal builder)", w2, c2))
        idx, w3, c3 = _timed(lambda: SyntheticBuilder(preset=args.preset, progress=False).build(tmp / "full"))
        rows.append(("full build (make demo step)", w3, c3))
        print(f"preset {args.preset}: {c['videos']} videos x {c['frames']} frames, {c['width']}x{c['height']}, "
              f"layout {c['layout']}; {os.cpu_count()} CPUs; load avg {os.getloadavg()[0]:.1f}")
        print(f"{'stage':34s} {'wall s':>8s} {'cpu s':>8s} {'wall/base':>10s}")
        for name, w, cpu in rows:
            print(f"{name:34s} {w:8.2f} {cpu:8.2f} {w / w0:10.1f}")
        n = int(idx.info["n_frames"])
        print(f"full build: {n / w3:.0f} frames/s; target < 60 s wall: {'PASS' if w3 < 60 else 'FAIL'}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
