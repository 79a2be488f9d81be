"""dlib68 speed: HOG on every frame vs detect-every-k tracking (same run), and its NME cost.

1. **fps** on the real clips of ``../shared/realdata/videos`` (or ``--clips DIR``): each clip is run
   with HOG on every frame (k=1, the baseline) and with detection every k frames + tracking from the
   previous landmarks, back to back; the table prints fps, the detect/predict split and the ratio.
2. **NME change** of tracking on semi-synthetic real-face clips (``wflwv build synthetic
   --from-images``; built into a temp folder from ``images_annotated/helen_300w_dxy`` unless
   ``--semi INDEX`` is given): NME (iBUG 36/45, frames predicted in both runs) for k=1 vs k.

Target (issue 8): ≥ 2× fps with ≤ 5 % relative NME change. Run:
``python benchmarks/real_models.py [--every 10] [--roi 0.4] [--max-clips N]``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wflwv.detectors import create  # noqa: E402
from wflwv.realvideo.run import clip_id, find_clips, run_clip  # noqa: E402

SHARED = REPO.parent / "shared" / "realdata"
ROI = [0.4]


def bench_fps(det, clips, root, k):
    """Print and return per-clip fps rows for k=1 and k=``k``."""
    print(f"\n## dlib68 fps: HOG every frame (k=1, baseline) vs detect every {k} + tracking\n")
    print(f"| clip | frames | found k=1 | found k={k} | fps k=1 | ms det k=1 | ms pred k=1 | "
          f"fps k={k} | ms det k={k} | ratio |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    rows = []
    for path in clips:
        try:
            a = run_clip(path, det, every=1)
            b = run_clip(path, det, every=k, roi=ROI[0])
        except Exception as exc:  # noqa: BLE001 — report and continue
            print(f"| {clip_id(path, root)} | error: {exc} |")
            continue
        ma, mb = a["meta"], b["meta"]
        ratio = mb["fps"] / ma["fps"]
        rows.append((ma["n_frames"], ma["fps"], mb["fps"]))
        print(f"| {clip_id(path, root)} | {ma['n_frames']} | {int(a['found'].sum())} | "
              f"{int(b['found'].sum())} | {ma['fps']:.1f} | {ma['ms_detect']:.1f} | "
              f"{ma['ms_predict']:.2f} | {mb['fps']:.1f} | {mb['ms_detect']:.1f} | {ratio:.2f}x |")
    if rows:
        n = np.array([r[0] for r in rows], float)
        t1 = sum(r[0] / r[1] for r in rows)
        tk = sum(r[0] / r[2] for r in rows)
        print(f"| **all** | {int(n.sum())} | | | {n.sum() / t1:.1f} | | | {n.sum() / tk:.1f} | | "
              f"**{t1 / tk:.2f}x** |")
    return rows


def build_semi(out: Path, images: Path, videos: int, frames: int) -> Path:
    """Build a semi-synthetic real-face index with the synthetic builder (``--from-images``)."""
    from wflwv.datasets.synthetic.builder import SyntheticBuilder

    SyntheticBuilder(from_images=images, videos=videos, frames=frames, seed=8,
                     progress=False).build(out)
    return out


def bench_nme(det, index_dir: Path, k):
    """Print NME (iBUG 36/45) of k=1 vs k=``k`` on every video of a semi-synthetic index."""
    from wflwv.datasets.index import load_index
    from wflwv.metrics.image import image_nme

    ix = load_index(index_dir)
    print(f"\n## NME change of tracking on semi-synthetic clips ({index_dir})\n")
    print(f"| video | frames | both found | NME k=1 | NME k={k} | rel. change |")
    print("|---|---|---|---|---|---|")
    tot = {1: [], k: []}
    for vid in ix.video_ids():
        gt = ix.landmarks(vid)
        res = {e: run_clip(ix.video_path(vid), det, every=e, roi=ROI[0]) for e in (1, k)}
        both = res[1]["found"] & res[k]["found"]
        if not both.any():
            print(f"| {vid} | {len(gt)} | 0 | — | — | — |")
            continue
        nm = {e: image_nme(res[e]["pred"][both], gt[both], (36, 45)) for e in (1, k)}
        for e in (1, k):
            tot[e].append(nm[e])
        a, b = nm[1].mean(), nm[k].mean()
        print(f"| {vid} | {len(gt)} | {int(both.sum())} | {a:.4f} | {b:.4f} | {100 * (b - a) / a:+.1f} % |")
    if tot[1]:
        a, b = np.concatenate(tot[1]).mean(), np.concatenate(tot[k]).mean()
        print(f"| **all** (frame mean) | | {sum(len(x) for x in tot[1])} | {a:.4f} | {b:.4f} | "
              f"**{100 * (b - a) / a:+.1f} %** |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=Path, default=SHARED / "videos")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--roi", type=float, default=0.4, help="ROI growth for in-between detection; 0 = off")
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--semi", type=Path, default=None, help="existing semi-synthetic index")
    ap.add_argument("--semi-images", type=Path, default=SHARED / "images_annotated" / "helen_300w_dxy")
    ap.add_argument("--semi-videos", type=int, default=6)
    ap.add_argument("--semi-frames", type=int, default=60)
    args = ap.parse_args()
    ROI[0] = args.roi or None
    det = create("dlib68")
    clips = find_clips(args.clips)[: args.max_clips]
    t0 = time.perf_counter()
    bench_fps(det, clips, args.clips, args.every)
    if args.semi is not None:
        bench_nme(det, args.semi, args.every)
    elif args.semi_images.exists():
        with tempfile.TemporaryDirectory() as tmp:
            bench_nme(det, build_semi(Path(tmp) / "semi", args.semi_images, args.semi_videos,
                                      args.semi_frames), args.every)
    print(f"\n(total {time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
