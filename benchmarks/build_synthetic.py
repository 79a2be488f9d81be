"""Synthetic benchmark build time: the `--preset demo` build must finish in < 60 s on 2 cores.

Measures, in one run (temp folders, removed afterwards):
  baseline   encode the same number of blank frames of the same size with cv2.VideoWriter (mp4v)
  generate   SyntheticBuilder.generate: render + encode the release (no index)
  index      the normal indexer on that release (full decode + checks + Parquet + card)
  build      the complete `SyntheticBuilder(preset).build(out)` (what `make demo` runs)
and prints wall and CPU seconds with ratios to the baseline (target met/missed, JSON written).
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

sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, Timing  # noqa: E402
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
        rep = Report("build_synthetic", f"synthetic --preset {args.preset} build time",
                     params={"videos": c["videos"], "frames": c["frames"], "size": f"{c['width']}x{c['height']}",
                             "layout": c["layout"]})
        tab = rep.table(["stage", "wall", "cpu s", "wall / baseline"], baseline="blank encode")
        for name, w, cpu in rows:
            tgt = Target("<", 60, unit=" s") if name.startswith("full build") else None
            tab.row([name, Timing([w]), cpu, w / w0], target=tgt, value=w if tgt else None)
        n = int(idx.info["n_frames"])
        rep.note(f"full build: {n / w3:.0f} frames/s; one run each (the build is long; rerun to see the noise).")
        rep.legend("wall / baseline", "wall time of the stage over encoding the same number of blank frames")
        rep.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
