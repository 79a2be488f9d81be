"""Benchmark: evaluation-harness overhead, re-filter time and memory scaling (ratios in one run).

1. **Decode-bound throughput.** Raw sequential decode of every clip of the demo set (opencv, the
   default backend) vs ``evaluate --model oracle --decode always`` on the same clips (fresh run
   directory): the detect stage (decode + batching + cache commits) and the whole call.
   Target: harness ≥ 0.8× the raw decode rate.
2. **Re-filter a cached run** of the demo set with the six demo filters (no video touched).
   Target: < 2 s (in-process, interpreter start-up excluded).
3. **Peak RSS vs number of videos**: ``evaluate --model oracle`` on N and 10·N videos of a
   generated index (fresh subprocess each; detection + chunked scoring). Target: ratio ≈ 1.

4. **Cost of the checks** (issue 12: index content hashes, video identity, shard validation,
   run-directory lock): ``evaluate`` with the checks on vs switched off in-process, on the demo
   index, interleaved best of N. Targets: fresh run ≤ 1.10×, re-run from cache ≤ 1.05×. One more
   row times the video identity check with a cold cache (every video's sampled-range hash).

The vectorised-filter speed target (≥ 100× a per-scalar loop) is measured by
``benchmarks/filters.py``. Prints the tables with targets met/missed and writes its JSON; asserts nothing.

    python benchmarks/harness.py [--index build/demo] [--repeat 2]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/ray.py must not shadow ray

from benchtable import Report, Target, Timing  # noqa: E402
DEMO_FILTERS = ("none", "one-euro", "kalman", "kalman-rts", "ema", "savgol")


def build_demo(tmp: Path) -> Path:
    """Build the synthetic demo index into ``tmp`` (the `make demo` data set)."""
    out = tmp / "demo"
    subprocess.run([sys.executable, "-m", "wflwv", "build", "synthetic", "--preset", "demo", "--out", str(out),
                    "--no-progress"], check=True, capture_output=True)
    return out


def raw_decode(index_dir: Path) -> tuple:
    """Seconds and frames for a sequential decode of every clip (default backend)."""
    from wflwv.datasets.index import load_index
    from wflwv.io.video import iter_frames

    index = load_index(index_dir)
    t = time.perf_counter()
    n = 0
    for vid in index.video_ids():
        for _ in iter_frames(index.video_path(vid)):
            n += 1
    return time.perf_counter() - t, n


def harness_oracle(index_dir: Path, out: Path, filters=("none",)) -> dict:
    """One in-process ``evaluate`` of the oracle; returns its summary."""
    from wflwv.harness.evaluate import EvalConfig, evaluate

    return evaluate(EvalConfig(model="oracle", dataset=str(index_dir), filters=filters, out=str(out),
                               decode="always", progress=False))


# VmHWM (peak RSS) resets on exec, unlike ru_maxrss, which a child inherits from its parent.
_RSS_CODE = """
import sys
def hwm():
    return [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM")][0]
import wflwv.harness.evaluate, wflwv.harness.report, wflwv.filters, wflwv.metrics, pandas, pyarrow
if {mode!r} == "index":
    from wflwv.datasets.index import load_index
    index = load_index({index!r})
    for v in index.video_ids():
        index.landmarks(v), index.boxes(v), index.times(v)
else:
    from wflwv.harness.evaluate import EvalConfig, evaluate
    evaluate(EvalConfig(model="oracle", dataset={index!r}, filters=("none", "ema"), out={out!r},
                        decode="never", progress=False))
print(hwm())
"""


def rss_run(n_videos: int, tmp: Path) -> tuple:
    """Peak RSS (MiB) of fresh processes on an index of ``n_videos`` clips of 120 frames.

    Returns ``(index_only, evaluate, frames)``: reading the index (wflwv.datasets.index) alone,
    and a whole ``evaluate`` (index + detection + chunked scoring + writing).
    """
    sys.path.insert(0, str(REPO / "tests"))
    from harness_factory import make_index, track

    root = tmp / f"rss{n_videos}"
    idx = make_index(root, tracks={"easy": [track(120, seed=i, speed=0.2) for i in range(n_videos)]},
                     write_videos=False)
    out = []
    for mode in ("index", "evaluate"):
        code = _RSS_CODE.format(mode=mode, index=str(idx), out=str(root / "runs"))
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        out.append(int(res.stdout.split()[-1]) / 1024.0)
    return out[0], out[1], 120 * n_videos


@contextlib.contextmanager
def checks_off():
    """Switch the issue-12 verification off in this process (benchmark only; no user knob)."""
    from wflwv.datasets import integrity
    from wflwv.harness import cache
    from wflwv.harness import evaluate as ev

    saved = integrity.verify, ev.verify_videos, cache.RunDir._shard_ok, cache._record_sha
    integrity.verify = lambda path, info: str(info.get("index_content_sha", ""))
    ev.verify_videos = lambda index, ids: 0
    cache.RunDir._shard_ok = lambda self, p, v: True
    cache._record_sha = lambda shard: None
    try:
        yield
    finally:
        integrity.verify, ev.verify_videos, cache.RunDir._shard_ok, cache._record_sha = saved


def _evaluate_timed(index: Path, out: Path, filters, checks: bool) -> float:
    from wflwv.harness import shard

    shard._INDEXES.clear()        # each call opens (and, with checks, verifies) the index again
    t = time.perf_counter()
    with (contextlib.nullcontext() if checks else checks_off()):
        harness_oracle(index, out, filters)
    return time.perf_counter() - t


def checks_cost(rep, index: Path, tmp: Path, repeat: int) -> None:
    """Table 4: evaluate with and without the checks, fresh and from cache."""
    fresh = {True: [], False: []}
    cached = {True: [], False: []}
    for i in range(repeat):               # interleaved: the machine is shared
        for on in (True, False):
            out = tmp / f"chk{i}-{int(on)}"
            fresh[on].append(_evaluate_timed(index, out, DEMO_FILTERS, on))
            cached[on].append(_evaluate_timed(index, out, DEMO_FILTERS, on))
    tab = rep.table(["evaluate (demo index, oracle, decode always)", "checks off", "checks on", "ratio"],
                    title="cost of the checks (index hashes, video identity, shard validation, lock)",
                    baseline="the same call with the checks switched off")
    for name, d, bound in (("fresh run", fresh, 1.10), ("re-run from cache", cached, 1.05)):
        off, on = Timing(d[False]), Timing(d[True])
        tab.row([name, off, on, on.best / off.best], target=Target("<=", bound), value=on.best / off.best)
    from wflwv.datasets.index import load_index
    from wflwv.datasets.integrity import verify_videos

    idx = load_index(index)
    (index / "file_stats.json").unlink(missing_ok=True)   # cold identity cache: hash every video
    t = time.perf_counter()
    n = verify_videos(idx, idx.video_ids())
    cold = time.perf_counter() - t
    tab.row([f"video identity, cold cache ({n} sampled-range hashes)", None, f"{cold * 1e3:.1f} ms",
             cold / Timing(fresh[True]).best])
    rep.legend("ratio", "checks-on time over checks-off time (identity row: share of a fresh run)")
    rep.extra = dict(rep.extra or {}, checks={"fresh_ratio": Timing(fresh[True]).best / Timing(fresh[False]).best,
                                              "cached_ratio": Timing(cached[True]).best / Timing(cached[False]).best,
                                              "identity_cold_s": cold})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--index", default=None, help="demo index (default: build one in a temp folder)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N for the timed parts")
    ap.add_argument("--rss-videos", type=int, default=40, help="N for the RSS comparison (N vs 10N)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wflwv-bench-"))
    try:
        index = Path(args.index) if args.index else build_demo(tmp)
        rep = Report("harness", "evaluation-harness overhead, re-filter time and memory scaling",
                     params={"repeat": args.repeat, "rss_videos": args.rss_videos})
        raw_decode(index)  # warm the page cache and the decoder once
        decs, dets, tots, best = [], [], [], None
        for i in range(args.repeat):  # alternate raw and harness runs: the machine is shared
            decs.append(raw_decode(index))
            s = harness_oracle(index, tmp / f"runs{i}")
            dets.append(s["timings_s"]["detect_s"])
            tots.append(s["timings_s"]["total_s"])
            best = s
        n_dec = decs[0][1]
        t_dec, t_det, t_tot = Timing([d[0] for d in decs]), Timing(dets), Timing(tots)
        raw_fps = t_dec.rate(n_dec)
        n = best["counts"]["n_frames_cached"]
        tab = rep.table(["case", "time", "frames/s", "ratio"], title="throughput and re-filter",
                        baseline="raw sequential decode")
        tab.row(["raw sequential decode", t_dec, raw_fps, 1.0])
        tab.row(["harness oracle: detect stage", t_det, t_det.rate(n), t_det.rate(n) / raw_fps],
                target=Target(">=", 0.8))
        tab.row(["harness oracle: whole evaluate", t_tot, t_tot.rate(n), t_tot.rate(n) / raw_fps])
        refilter = []
        for _ in range(args.repeat):
            t = time.perf_counter()
            s = harness_oracle(index, tmp / "runs0", DEMO_FILTERS)
            refilter.append(time.perf_counter() - t)
            assert s["counts"]["n_videos_detected_now"] == 0
        rf = Timing(refilter)
        tab.row([f"re-filter cached run ({len(DEMO_FILTERS)} filters)", rf, rf.rate(n), None],
                target=Target("<", 2.0, unit=" s"), value=rf.best)
        rep.legend("ratio", "frames/s over the raw decode's frames/s")
        i_small, small, f_small = rss_run(args.rss_videos, tmp)
        i_large, large, f_large = rss_run(10 * args.rss_videos, tmp)
        mem = rep.table(["peak RSS (MiB)", f"{args.rss_videos} videos", f"{10 * args.rss_videos} videos",
                         "growth", "ratio"], title="peak RSS vs number of videos (fresh processes)")
        mem.row(["index only", i_small, i_large, i_large - i_small, i_large / i_small])
        mem.row(["whole evaluate", small, large, large - small, large / small], target=Target("~", 1.0, tol=0.25))
        own = (large - i_large) - (small - i_small)
        mem.row(["harness beyond the index", None, None, own, None])
        rep.note(f"harness beyond index: growth {own:.0f} MiB for {f_large - f_small} more frames (ideal ~0).")
        checks_cost(rep, index, tmp, args.repeat)
        rep.extra = dict(rep.extra or {}, **{"raw_decode_fps": raw_fps, "detect_ratio": t_det.rate(n) / raw_fps, "refilter_s": rf.best,
                     "rss_mib": {"index": [i_small, i_large], "evaluate": [small, large]}})
        rep.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
