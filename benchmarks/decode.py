"""Decode speed per backend and clip on ../shared/realdata/videos (frames/s, ratio vs opencv).

Backends: ``opencv`` (wflwv default), ``decord`` as wflwv uses it (fault_tol=0 + lock-step OpenCV
count check), and ``decord-raw`` (fault_tol=0, unchecked; reference only — it duplicates frames on
3ddfa_obama.mp4). Every frame is decoded to RGB uint8, best of ``--repeat`` passes per clip.
A checked backend that refuses a clip (frame counts disagree) is marked ``refused``; a backend that
returns a different number of frames than OpenCV is marked ``n=<count>≠``. The overall rows
carry the targets: the checked ``decord`` path must never return a different frame count
(it refuses instead), and is reported against OpenCV's speed.
Run: ``python benchmarks/decode.py [DIR] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, Timing  # noqa: E402
from wflwv.io.video import VideoError, iter_frames  # noqa: E402


def decord_raw(path):
    """Unchecked decord (fault_tol=0): yields whatever decord returns."""
    import decord

    vr = decord.VideoReader(str(path), ctx=decord.cpu(0), fault_tol=0)
    for _ in range(len(vr)):
        yield vr.next().asnumpy()


def timed(fn, path, repeat: int):
    """``(frames, Timing, refused)`` of decoding ``path`` ``repeat`` times."""
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = 0
        try:
            for _ in fn(path):
                n += 1
        except VideoError:
            return n, Timing([time.perf_counter() - t0]), True
        times.append(time.perf_counter() - t0)
    return n, Timing(times), False


def main() -> None:
    """Parse arguments, decode every clip with every backend, print the tables, write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", type=Path, default=REPO.parent / "shared" / "realdata" / "videos")
    ap.add_argument("--repeat", type=int, default=2, help="best of N passes per clip and backend")
    a = ap.parse_args()
    clips = sorted(p for p in a.folder.rglob("*") if p.suffix.lower() in (".mp4", ".avi", ".wmv"))
    if not clips:
        raise SystemExit(f"no clips under {a.folder}: give a folder of .mp4/.avi/.wmv clips")
    runs = {"opencv": lambda p: iter_frames(p, "opencv"), "decord": lambda p: iter_frames(p, "decord"),
            "decord-raw": decord_raw}
    rep = Report("decode", "decode speed per backend (RGB uint8, every frame)",
                 params={"clips": len(clips), "repeat": a.repeat, "folder": a.folder})
    per_clip = rep.table(["clip", "frames"] + [f"{k} fps" for k in runs], title="per clip (frames/s)")
    totals = {k: [0, 0.0] for k in runs}
    wrong_count = {k: 0 for k in runs}
    refused = {k: 0 for k in runs}
    for clip in clips:
        cells, n_ref = [], None
        for name, fn in runs.items():
            n, t, was_refused = timed(fn, clip, a.repeat)
            n_ref = n if name == "opencv" else n_ref
            if was_refused:
                refused[name] += 1
                cells.append("refused")
                continue
            totals[name][0] += n
            totals[name][1] += t.best
            tag = "" if n == n_ref else f" n={n}≠"
            wrong_count[name] += bool(tag)
            cells.append(f"{t.rate(n):.0f}{tag}")
        per_clip.row([clip.name, n_ref] + cells)
    base = totals["opencv"][0] / totals["opencv"][1]
    tab = rep.table(["backend", "frames", "seconds", "frames/s", "ratio vs opencv", "clips refused",
                     "clips with another frame count"], title="overall (frames / total best seconds)",
                    baseline="opencv")
    for name, (n, dt) in totals.items():
        fps = n / dt if dt else float("nan")
        tgt = Target("<=", 0) if name == "decord" else None
        tab.row([name, n, dt, fps, fps / base, refused[name], wrong_count[name]], target=tgt,
                value=float(wrong_count[name]) if tgt else None,
                note="reference only, unchecked" if name == "decord-raw" else "")
    rep.legend("refused", "the checked backend raised VideoError (its frame count disagreed with OpenCV's): "
                          "wflwv refuses such a clip rather than return misaligned frames")
    rep.legend("n=K≠", "the backend returned K frames where OpenCV returned the 'frames' column")
    rep.note("Target (decord row): 0 clips with another frame count — wflwv's checked decord either agrees "
             "with OpenCV frame for frame or refuses. Refused clips are excluded from the speed totals.")
    rep.finish()


if __name__ == "__main__":
    main()
