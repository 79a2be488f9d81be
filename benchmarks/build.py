"""300-VW-sized build benchmark: .pts parsing (wflwv vs np.loadtxt per file) and a full index build.

Generates, in a temp dir that is removed afterwards, a synthetic 300-VW-layout release: the 114
official IDs, 218,597 ``annot/%06d.pts`` files (CRLF, 3 decimals) and a 2-frame 640x480 ``vid.avi``
per ID (annotations-only build, ``--verify-decode none``). Prints times and ratios.
Then runs the synthetic ``--preset demo`` build measurement of ``benchmarks/build_synthetic.py``
(issue 4: < 60 s). ``--quick`` skips the 218k-file part; ``--skip-synthetic`` skips the second.
Run: ``python benchmarks/build.py [--frames N] [--quick] [--skip-synthetic]``.
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

sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, Timing, progress  # noqa: E402,F401
from wflwv.datasets.splits import VW300_CATEGORY_OF  # noqa: E402
from wflwv.io.pts import read_pts_many  # noqa: E402


def generate(root: Path, total: int, seed: int = 0) -> list:
    """Write the synthetic release; returns the per-video lists of .pts paths."""
    import cv2

    ids = sorted(VW300_CATEGORY_OF)
    per = np.full(len(ids), total // len(ids))
    per[: total - per.sum()] += 1
    rng = np.random.default_rng(seed)
    tmpl = "version: 1\r\nn_points:  68\r\n{\r\n" + "%.3f %.3f\r\n" * 68 + "}\r\n"
    img = np.zeros((480, 640, 3), np.uint8)
    out = []
    for vid, n in zip(ids, per):
        d = root / vid / "annot"
        d.mkdir(parents=True)
        vw = cv2.VideoWriter(str(root / vid / "vid.avi"), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (640, 480))
        for _ in range(2):
            vw.write(img)
        vw.release()
        xy = rng.uniform(150, 450, (int(n), 136))
        paths = []
        for i in range(int(n)):
            p = d / f"{i + 1:06d}.pts"
            with open(p, "w", newline="") as fh:
                fh.write(tmpl % tuple(xy[i]))
            paths.append(p)
        out.append(paths)
    return out


def synthetic_demo(preset: str = "demo") -> None:
    """Run the measurement of ``benchmarks/build_synthetic.py`` (imported, not duplicated)."""
    sys.path.append(str(REPO / "benchmarks"))
    import build_synthetic

    argv = sys.argv
    sys.argv = [build_synthetic.__file__, "--preset", preset]
    try:
        build_synthetic.main()
    finally:
        sys.argv = argv


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=218_597, help="total .pts files (300-VW: 218,597)")
    ap.add_argument("--quick", action="store_true", help="skip the 300-VW-sized .pts part")
    ap.add_argument("--skip-synthetic", action="store_true", help="skip the synthetic demo build")
    args = ap.parse_args()
    if not args.quick:
        vw300_sized(args.frames)
    if not args.skip_synthetic:
        synthetic_demo()


def vw300_sized(frames: int) -> None:
    """Generate a 300-VW-sized release, time read_pts_many vs np.loadtxt and the index build."""
    tmp = Path(tempfile.mkdtemp(prefix="wflwv-bench-300vw-"))
    try:
        t0 = time.perf_counter()
        per_video = generate(tmp / "rel", frames)
        n = sum(len(v) for v in per_video)
        print(f"generated {n} .pts files in {time.perf_counter() - t0:.1f} s under {tmp}")

        for v in per_video:          # warm the page cache once so neither contender pays cold reads
            for p in v:
                p.read_bytes()
        t0 = time.perf_counter()
        ours = [read_pts_many(v) for v in per_video]
        t_ours = time.perf_counter() - t0
        t0 = time.perf_counter()
        ref = [np.stack([np.loadtxt(p, skiprows=3, max_rows=68) for p in v]) for v in per_video]
        t_lt = time.perf_counter() - t0
        same = all(np.array_equal(a, b) for a, b in zip(ours, ref))
        del ref

        from wflwv.datasets.vw300 import Vw300Builder

        t0 = time.perf_counter()
        idx = Vw300Builder(tmp / "rel", verify_decode="none", progress=False).build(tmp / "index")
        t_build = time.perf_counter() - t0
        rep = Report("build", "300-VW-sized .pts parsing and index build",
                     params={"pts_files": n, "videos": idx.info["n_videos"], "frames": idx.info["n_frames"]})
        tab = rep.table(["step", "time", "us/file", "ratio vs loadtxt"], baseline="np.loadtxt per file")
        tab.row(["np.loadtxt per file (baseline)", Timing([t_lt]), t_lt / n * 1e6, 1.0])
        tab.row(["wflwv read_pts_many", Timing([t_ours]), t_ours / n * 1e6, t_lt / t_ours],
                target=Target(">=", 10), value=t_lt / t_ours)
        tab.row(["full build, 114 videos, --verify-decode none", Timing([t_build]), t_build / n * 1e6, None],
                target=Target("<", 60, unit=" s"), value=t_build)
        tab.row(["parsed values identical to np.loadtxt", None, None, same], target=Target.holds(), value=same)
        rep.legend("ratio vs loadtxt", "time of np.loadtxt over time of the row (higher is faster)")
        rep.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
