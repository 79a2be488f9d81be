"""Decode speed per backend and clip on ../shared/realdata/videos (frames/s, ratio vs opencv).

Backends: ``opencv`` (wflwv default), ``decord`` as wflwv uses it (fault_tol=0 + lock-step OpenCV
count check), and ``decord-raw`` (fault_tol=0, unchecked; reference only — it duplicates frames on
3ddfa_obama.mp4). Every frame is decoded to RGB uint8. Run: ``python benchmarks/decode.py [DIR]``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wflwv.io.video import VideoError, iter_frames  # noqa: E402


def decord_raw(path):
    """Unchecked decord (fault_tol=0): yields whatever decord returns."""
    import decord

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0), fault_tol=0)
    for _ in range(len(vr)):
        yield vr.next().asnumpy()


def timed(fn, path):
    t0 = time.perf_counter()
    n = 0
    try:
        for _ in fn(path):
            n += 1
    except VideoError:
        return n, time.perf_counter() - t0, "raised"
    return n, time.perf_counter() - t0, ""


def main(folder: Path) -> None:
    clips = sorted(p for p in folder.rglob("*") if p.suffix.lower() in (".mp4", ".avi", ".wmv"))
    if not clips:
        raise SystemExit(f"no clips under {folder}")
    runs = {"opencv": lambda p: iter_frames(p, "opencv"), "decord": lambda p: iter_frames(p, "decord"),
            "decord-raw": decord_raw}
    totals = {k: [0, 0.0] for k in runs}
    print(f"{'clip':<36} {'frames':>6} " + " ".join(f"{k + ' fps':>15}" for k in runs))
    for clip in clips:
        cells, n_ref = [], None
        for name, fn in runs.items():
            n, dt, note = timed(fn, clip)
            n_ref = n if name == "opencv" else n_ref
            totals[name][0] += n
            totals[name][1] += dt
            tag = note or ("" if n == n_ref else f"n={n}!")
            cells.append(f"{n / dt:9.0f} {tag:>5}")
        print(f"{clip.name:<36} {n_ref:>6} " + " ".join(f"{c:>15}" for c in cells))
    base = totals["opencv"][0] / totals["opencv"][1]
    print("\noverall (frames / total seconds), ratio vs opencv:")
    for name, (n, dt) in totals.items():
        print(f"  {name:<11} {n:7d} frames {dt:7.2f} s {n / dt:8.0f} fps  x{(n / dt) / base:5.2f}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared" / "realdata" / "videos")
