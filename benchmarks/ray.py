"""Benchmark: ``--executor ray`` vs local processes on the same evaluate workload (one run).

Workload: ``evaluate`` of a CPU detector (default ``dlib68``, the real pretrained 68-point
predictor; ``noisy`` when dlib is not installed) over the first ``--videos`` clips of the
synthetic demo preset (built into a temp folder unless ``--index`` is given), decoding every
frame. Each configuration writes a fresh run directory; the detect stage (decode + inference +
commits, the part an executor distributes) is timed, best of ``--repeat`` runs, configurations
interleaved so that load from other users of the machine hits all of them alike:

    local 1     inline in this process (``--jobs 1``)
    local 2     two spawned worker processes (``--executor local --jobs 2``)
    ray 1 / 2   one / two Ray actors of a local Ray instance (``--executor ray --jobs N``),
                started once before the timings (its start-up is reported on its own row)

Every run's predictions are compared byte for byte with the ``local 1`` run. Targets (2 cores):
Ray 2 workers ≥ 1.7× Ray 1 worker; Ray ≤ 15 % slower than local processes at the same worker
count (ratio ≥ 0.85). Run: ``python benchmarks/ray.py [--videos 8] [--repeat 2] [--model dlib68]``.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
_HERE = Path(__file__).resolve().parent
# this file is named ray.py: its folder must never shadow the ray package, so it goes last
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]
sys.path.insert(0, str(REPO))

from benchtable import Report, Target, Timing  # noqa: E402


def default_model() -> str:
    """``dlib68`` when dlib is importable (real CPU work per frame), else ``noisy``."""
    try:
        import dlib  # noqa: F401
    except ImportError:
        return "noisy"
    return "dlib68"


def run_once(index: Path, out: Path, model: str, videos: int, executor) -> dict:
    """One fresh ``evaluate``; returns its summary."""
    from wflwv.harness.evaluate import EvalConfig, evaluate

    return evaluate(EvalConfig(model=model, dataset=str(index), filters=("none",), out=str(out), limit=videos,
                               decode="always", progress=False, executor=executor))


def main() -> None:
    """Parse arguments, time the four configurations, print the table, write its JSON."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--index", type=Path, default=None, help="index to evaluate (default: demo preset in a temp dir)")
    ap.add_argument("--model", default=None, help="CPU detector (default dlib68, else noisy)")
    ap.add_argument("--videos", type=int, default=20,
                    help="first N videos of the index (20 = the whole demo preset; with fewer, actor and "
                         "process start-up dominate the detect stage)")
    ap.add_argument("--repeat", type=int, default=2, help="best of N per configuration")
    ap.add_argument("--workers", type=int, default=2, help="the larger worker count (2 on this machine)")
    a = ap.parse_args()
    import ray

    from wflwv.harness.executor import LocalExecutor
    from wflwv.harness.ray_executor import RayExecutor

    model = a.model or default_model()
    tmp = Path(tempfile.mkdtemp(prefix="wflwv-bench-ray-"))
    try:
        index = a.index
        if index is None:
            from wflwv.datasets.synthetic import SyntheticBuilder

            index = SyntheticBuilder(preset="demo", progress=False).build(tmp / "demo").path
        n = a.workers
        rep = Report("ray", f"Ray executor vs local processes ({model}, {a.videos} videos)",
                     params={"model": model, "videos": a.videos, "repeat": a.repeat, "ray": ray.__version__})
        t0 = time.perf_counter()
        ray_tmp = tempfile.mkdtemp(prefix="rb-", dir="/tmp")
        ray.init(num_cpus=n, include_dashboard=False, logging_level="warning", log_to_driver=False,
                 _temp_dir=ray_tmp)
        t_init = time.perf_counter() - t0
        configs = {"local 1": lambda: LocalExecutor(1), f"local {n}": lambda: LocalExecutor(n),
                   "ray 1": lambda: RayExecutor(workers=1), f"ray {n}": lambda: RayExecutor(workers=n)}
        times = {k: [] for k in configs}
        frames, ref, same = 0, None, {k: True for k in configs}
        try:
            for r in range(a.repeat):
                for name, make in configs.items():
                    out = tmp / f"runs-{name.replace(' ', '')}-{r}"
                    s = run_once(index, out, model, a.videos, make())
                    times[name].append(s["timings_s"]["detect_s"])
                    frames = s["detect"]["frames"]
                    pred = (out / s["run"]["dir"] / "predictions.parquet").read_bytes()
                    ref = pred if ref is None else ref
                    same[name] &= pred == ref
        finally:
            ray.shutdown()
            shutil.rmtree(ray_tmp, ignore_errors=True)
        t = {k: Timing(v) for k, v in times.items()}
        fps = {k: v.rate(frames) for k, v in t.items()}
        tab = rep.table(["configuration", "detect stage", "frames/s", "ratio", "same bytes"],
                        baseline="see each row's ratio")
        tab.row(["local 1 (inline)", t["local 1"], fps["local 1"], 1.0, same["local 1"]])
        tab.row([f"local {n} processes vs local 1", t[f"local {n}"], fps[f"local {n}"],
                 fps[f"local {n}"] / fps["local 1"], same[f"local {n}"]])
        tab.row(["ray 1 worker vs local 1", t["ray 1"], fps["ray 1"], fps["ray 1"] / fps["local 1"], same["ray 1"]],
                target=Target(">=", 0.85))
        tab.row([f"ray {n} workers vs local {n} processes", t[f"ray {n}"], fps[f"ray {n}"],
                 fps[f"ray {n}"] / fps[f"local {n}"], same[f"ray {n}"]], target=Target(">=", 0.85))
        tab.row([f"ray {n} workers vs ray 1 worker", t[f"ray {n}"], fps[f"ray {n}"],
                 fps[f"ray {n}"] / fps["ray 1"], same[f"ray {n}"]], target=Target(">=", 1.7))
        tab.row(["ray.init (local instance, once per CLI call)", Timing([t_init]), None, None, None])
        rep.legend("ratio", "frames/s of the row divided by frames/s of the configuration it names "
                            "(0.85 = at most 15 % Ray overhead)")
        rep.legend("same bytes", "predictions.parquet identical to the local 1 run in every repeat")
        rep.note(f"{frames} frames per run; detect stage only (index, filters and scoring are identical in all "
                 f"configurations). Actor start-up (a fresh worker imports wflwv and builds the detector) is "
                 f"inside the detect stage, like process spawn for local {n}.")
        rep.extra = {"detect_s": times, "frames": frames, "ray_init_s": t_init}
        rep.finish()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
