"""dlib68 through the harness: detect-every-1 vs every-k fps, harness vs decode, NME cost of tracking.

1. **fps** on the real clips of ``../shared/realdata/videos`` (or ``--clips DIR``): every clip goes
   through the harness's detection engine (:func:`wflwv.harness.clip.predict_clip`: decode → box
   source → dlib68) with ``detector:hog:every=1`` (HOG on every frame, the baseline) and with the
   default ``detector:hog`` (HOG every k frames, tracked in between), interleaved, best of
   ``--repeat``. Target: >= 90 fps at k = 10 (measured before on 2 cores) and >= 2x over k = 1.
2. **harness vs decode**: ``wflwv evaluate`` end to end (fresh run directory, 3 filters, scoring and
   files included) on an index of the same clips, against decoding the same frames alone.
3. **NME change** of tracking on semi-synthetic real-face clips (``wflwv build synthetic
   --from-images``; built in a temp folder from ``images_annotated/helen_300w_dxy`` unless
   ``--semi INDEX``): NME (iBUG 36/45, frames predicted in both runs) for k = 1 vs k.

Run: ``python benchmarks/real_models.py [--every 10] [--repeat 2] [--max-clips N]``.
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
sys.path.insert(0, str(REPO / "benchmarks"))

from benchtable import Report, Target, progress  # noqa: E402
from wflwv.datasets.clips import clip_id, find_videos  # noqa: E402
from wflwv.detectors import create  # noqa: E402
from wflwv.harness.clip import predict_clip  # noqa: E402

SHARED = REPO.parent / "shared" / "realdata"


def spec(k: int) -> str:
    """Box-source spec for detection every ``k`` frames."""
    return "detector:hog" if k == 10 else f"detector:hog:every={k}"


def bench_fps(rep: Report, det, clips, root: Path, k: int, repeat: int) -> None:
    """Per-clip fps of k=1 vs k through the harness engine (best of ``repeat``, interleaved)."""
    tab = rep.table(["clip", "frames", "found k=1", f"found k={k}", "fps k=1", "ms boxes k=1",
                     "ms dlib k=1", f"fps k={k}", f"ms boxes k={k}", "ratio"],
                    title=f"dlib68 fps through the harness: HOG every frame vs detect every {k} + tracking",
                    baseline="k=1 (HOG on every frame), same run")
    tot = {1: 0.0, k: 0.0}
    n_all = 0
    for path in progress(clips, desc="clips"):
        best = {}
        try:
            for _ in range(repeat):
                for e in (1, k):
                    pred, t = predict_clip(det, path, spec(e))
                    if e not in best or t.total_s < best[e][1].total_s:
                        best[e] = (pred, t)
        except Exception as exc:  # noqa: BLE001 — report and continue
            tab.row([clip_id(path, root), 0, 0, 0, float("nan"), float("nan"), float("nan"), float("nan"),
                     float("nan"), float("nan")], note=f"error: {exc}")
            continue
        (p1, t1), (pk, tk) = best[1], best[k]
        n = t1.n_frames
        n_all += n
        tot[1] += t1.total_s
        tot[k] += tk.total_s
        tab.row([clip_id(path, root), n, int(p1.track.found.sum()), int(pk.track.found.sum()), t1.fps,
                 1e3 * t1.boxes_s / n, 1e3 * t1.detect_s / n, tk.fps, 1e3 * tk.boxes_s / n, tk.fps / t1.fps])
    if n_all:
        fps1, fpsk = n_all / tot[1], n_all / tot[k]
        tab.row(["all (fps)", n_all, "", "", fps1, "", "", fpsk, "", fpsk / fps1],
                target=Target(">=", 2.0, unit="x"), value=fpsk / fps1, note="ratio k vs k=1")
        tab.row([f"all: fps at k={k}", n_all, "", "", "", "", "", fpsk, "", ""],
                target=Target(">=", 90.0, unit=" fps"), value=fpsk, note="measured >= 90 before (2 cores)")


def bench_harness_vs_decode(rep: Report, root: Path, repeat: int) -> None:
    """``wflwv evaluate`` end to end against decoding alone, on the same clips."""
    from wflwv.datasets.clips import ClipsBuilder
    from wflwv.harness.evaluate import EvalConfig, evaluate
    from wflwv.io.video import iter_frames

    with tempfile.TemporaryDirectory() as tmp:
        idx = ClipsBuilder(root, progress=False, on_error="skip").build(Path(tmp) / "idx")
        paths = [idx.video_path(v) for v in idx.video_ids()]
        n = int(idx.videos["n_frames"].sum())
        dec = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            for p in paths:
                for _fr in iter_frames(p, backend="opencv"):
                    pass
            dec.append(time.perf_counter() - t0)
        ev = []
        for r in range(repeat):
            t0 = time.perf_counter()
            s = evaluate(EvalConfig(model="dlib68", dataset=str(idx.path), filters=("none", "one-euro", "kalman"),
                                    out=str(Path(tmp) / f"runs{r}"), progress=False))
            ev.append(time.perf_counter() - t0)
        tab = rep.table(["path", "videos", "frames", "seconds", "fps", "decode / harness"],
                        title="wflwv evaluate (dlib68, default boxes detector:hog, 3 filters) vs decoding alone",
                        baseline="decoding the same frames (OpenCV)")
        tab.row(["decode only", len(paths), n, min(dec), n / min(dec), 1.0])
        tab.row(["wflwv evaluate", len(paths), n, min(ev), n / min(ev), min(dec) / min(ev)],
                note=f"boxes {s['protocol']['box_source']}, {s['counts'].get('n_videos_failed', 0)} failed")


def bench_nme(rep: Report, det, index_dir: Path, k: int) -> None:
    """NME (iBUG 36/45) of k=1 vs k=``k`` on every video of a semi-synthetic index."""
    from wflwv.datasets.index import load_index
    from wflwv.metrics.image import image_nme

    ix = load_index(index_dir)
    tab = rep.table(["video", "frames", "both found", "NME k=1", f"NME k={k}", "rel. change %"],
                    title=f"NME change of tracking on semi-synthetic clips ({index_dir.name})",
                    baseline="k=1 (HOG on every frame)")
    tot = {1: [], k: []}
    for vid in ix.video_ids():
        gt = ix.landmarks(vid)
        res = {e: predict_clip(det, ix.video_path(vid), spec(e))[0] for e in (1, k)}
        both = res[1].track.found & res[k].track.found
        if not both.any():
            tab.row([vid, len(gt), 0, float("nan"), float("nan"), float("nan")])
            continue
        nm = {e: image_nme(res[e].landmarks[both], gt[both], (36, 45)) for e in (1, k)}
        for e in (1, k):
            tot[e].append(nm[e])
        a, b = nm[1].mean(), nm[k].mean()
        tab.row([vid, len(gt), int(both.sum()), a, b, 100 * (b - a) / a])
    if tot[1]:
        a, b = np.concatenate(tot[1]).mean(), np.concatenate(tot[k]).mean()
        tab.row(["all (frame mean)", "", sum(len(x) for x in tot[1]), a, b, 100 * (b - a) / a],
                target=Target("<=", 5.0, unit=" %"), value=abs(100 * (b - a) / a))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clips", type=Path, default=SHARED / "videos")
    ap.add_argument("--every", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=2, help="best of N (interleaved k=1 / k)")
    ap.add_argument("--max-clips", type=int, default=None)
    ap.add_argument("--skip-harness", action="store_true", help="skip the evaluate-vs-decode table")
    ap.add_argument("--semi", type=Path, default=None, help="existing semi-synthetic index")
    ap.add_argument("--semi-images", type=Path, default=SHARED / "images_annotated" / "helen_300w_dxy")
    ap.add_argument("--semi-videos", type=int, default=6)
    ap.add_argument("--semi-frames", type=int, default=60)
    args = ap.parse_args()
    if not args.clips.exists():
        print(f"{args.clips} not found: pass --clips DIR (a folder of videos)")
        return
    rep = Report("real_models", "dlib68 through the harness (real clips)",
                 params={"every": args.every, "repeat": args.repeat, "clips": str(args.clips)})
    det = create("dlib68")
    clips = find_videos(args.clips)[: args.max_clips]
    bench_fps(rep, det, clips, args.clips, args.every, args.repeat)
    if not args.skip_harness:
        bench_harness_vs_decode(rep, args.clips, args.repeat)
    if args.semi is not None:
        bench_nme(rep, det, args.semi, args.every)
    elif args.semi_images.exists():
        from wflwv.datasets.synthetic.builder import SyntheticBuilder

        with tempfile.TemporaryDirectory() as tmp:
            SyntheticBuilder(from_images=args.semi_images, videos=args.semi_videos, frames=args.semi_frames,
                             seed=8, progress=False).build(Path(tmp) / "semi")
            bench_nme(rep, det, Path(tmp) / "semi", args.every)
    rep.legend("ratio", "fps at k divided by fps at k=1 (same clip, same run)")
    rep.legend("ms boxes", "box source per frame: HOG detection, ROI re-detection, tracking, cut detection")
    rep.finish()


if __name__ == "__main__":
    main()
