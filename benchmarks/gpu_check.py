"""One command that runs every GPU path of wflwv once against CPU float64 on the same inputs.

For each path it prints the largest landmark difference (frame pixels) from a CPU float64 run of
the same weights on the same frames and boxes, whether every output is finite, and frames/s;
then it runs ``evaluate`` through ``--executor ray`` (``--gpus-per-worker 1`` on CUDA) and checks
that its predictions are byte-identical to an in-process run on the same device. One JSON report
(``gpu_check.json`` in ``--out``, default ``$WFLWV_BENCH_DIR``) holds every row.

Paths (CUDA; ``--device cpu`` runs the ones that exist on a CPU):
  LDEQ + RwR, shared small checkpoint (../shared/parity/ldeq/model_small_wflwv.pth.tar) and the
  full-size released config filled by ../shared/parity/fill.py: fp32 with device crops and
  channels-last (the CUDA defaults), fp32 with cv2 crops/NCHW, TF32, bf16, torch.compile, and
  torch.compile(mode="reduce-overhead") (CUDA graphs); PIP-Net ResNet-18/50 (98 points) and SBR:
  fp32, channels-last, torch.compile. Weights are seeded or filled, never trained: the LDEQ cell
  is chaotic with such weights (../shared/parity/ldeq/README.md §0), so LDEQ differences are
  reported, not judged; PIP-Net/SBR (feed-forward) must agree within 0.05 px in fp32/TF32-free
  modes. ``--smoke`` shrinks everything (a few frames, small LDEQ only, no compile) so CI runs
  ``python benchmarks/gpu_check.py --device cpu --smoke`` in well under a minute.

Device crops are compared with cv2.warpAffine crops in grey levels.

Exit status 1 when a judged row is missed (non-finite output, disagreement, Ray bytes differ).
Budget on one GPU: under 5 minutes. Run: ``python benchmarks/gpu_check.py [--device cuda]``.
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
_HERE = Path(__file__).resolve().parent
# benchmarks/ray.py must never shadow the ray package: this folder goes last on the path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE] + [str(_HERE)]
sys.path.insert(0, str(REPO))

from benchtable import Report, Target, Timing  # noqa: E402

SHARED = REPO.parent / "shared"
SMALL_CKPT = SHARED / "parity" / "ldeq" / "model_small_wflwv.pth.tar"
PIXEL_TOL = 0.05      # px: feed-forward detectors, fp32 vs float64


SIZE = [(360, 480)]   # frame height, width (smaller with --smoke)


def frames_and_boxes(n: int, seed: int = 0):
    """``n`` textured RGB frames with a drifting face box each (the same for every path)."""
    h, w = SIZE[0]
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = (127 + 60 * np.sin(0.05 * xx)[..., None] * np.cos(0.03 * yy)[..., None]).repeat(3, 2)
    frames = [np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8) for _ in range(n)]
    t = np.arange(n)
    cx, cy, s = w / 2 + 6 * np.sin(t / 5), h / 2 + 4 * np.cos(t / 7), 0.55 * h
    return frames, np.stack([cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2], 1).astype(np.float64)


def _fill():
    """``fill_state_dict`` from ../shared/parity/fill.py, or None when ../shared is absent."""
    path = SHARED / "parity" / "fill.py"
    if not path.is_file():
        return None
    spec = importlib.util.spec_from_file_location("parity_fill", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.fill_state_dict


# ---- models (built once on CPU; every path gets a deep copy) --------------------------------------
def ldeq_models(smoke: bool) -> Dict[str, Any]:
    """``{"ldeq small": model, "ldeq full": model}`` (full only without --smoke)."""
    from wflwv.detectors.ldeq.config import RELEASED, LdeqConfig
    from wflwv.detectors.ldeq.model import LDEQ

    out: Dict[str, Any] = {}
    if SMALL_CKPT.is_file():
        from wflwv.detectors.ldeq.loading import load_model

        out["ldeq small (shared ckpt)"] = load_model("ldeq", SMALL_CKPT)[0]
    else:
        torch.manual_seed(0)
        out["ldeq small (seeded)"] = LDEQ(LdeqConfig(injection_width=24, cell_base_width=24,
                                                     cell_width_increment=8)).eval()
    if not smoke:
        model = LDEQ(RELEASED["ldeq.wflw_v"]).eval()
        fill = _fill()
        if fill is not None:
            model.load_state_dict(fill(model.state_dict(), seed=0), strict=True)
        out["ldeq full (" + ("fill.py" if fill else "seeded") + ")"] = model
    return out


def ff_models(smoke: bool) -> Dict[str, Callable[[Any, torch.dtype], Any]]:
    """Builders ``(device, dtype) -> detector`` of PIP-Net and SBR with identical seeded weights."""
    from detectors import build  # benchmarks/detectors.py: seeded random PIP-Net / SBR

    def make(name):
        def b(device, dtype):
            det = build(name, "cpu")
            det.net = det.net.to(device=device, dtype=dtype)
            det.device, det.dtype = torch.device(device), dtype
            if hasattr(det, "_r1"):
                det._r1, det._r2 = det._r1.to(device), det._r2.to(device)
            return det
        return b

    names = ["pipnet_r18", "sbr"] if smoke else ["pipnet_r18", "pipnet_r50", "pipnet_r101", "sbr"]
    return {n: make(n) for n in names}


# ---- running a path -------------------------------------------------------------------------------
def run_rwr(det, frames, boxes, clips: int) -> np.ndarray:
    """RwR over ``clips`` parallel clips of len(frames)//clips frames: ``[clips, T, N, 2]``."""
    T = len(frames) // clips
    state, out = None, []
    for t in range(T):
        idx = [c * T + t for c in range(clips)]
        lm, state = det.predict_frames([frames[i] for i in idx], boxes[idx], state)
        out.append(lm)
    return np.stack(out, 1)


def run_ff(det, frames, boxes, batch: int) -> np.ndarray:
    """Stateless detector over every frame in batches: ``[n, N, 2]``."""
    return np.concatenate([det.predict_frames(frames[i:i + batch], boxes[i:i + batch])[0]
                           for i in range(0, len(frames), batch)])


def _sync(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


WARMUP = [1]


def measure(fn: Callable[[], np.ndarray], n_frames: int, device: str, repeat: int):
    """``WARMUP`` untimed calls, then ``repeat`` timed calls: ``(output, Timing)``."""
    out = None
    for _ in range(WARMUP[0]):
        out = fn()
    _sync(device)
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        _sync(device)
        times.append(time.perf_counter() - t0)
    return out, Timing(times)


def ldeq_variants(device: str, smoke: bool) -> List[Dict[str, Any]]:
    """Option sets of the LDEQ detector to check on ``device``."""
    cuda = device.startswith("cuda")
    v = [{"label": "fp32, device crops, channels-last", "opts": {"gpu_crops": True, "channels_last": True}},
         {"label": "fp32, cv2 crops, NCHW", "opts": {"gpu_crops": False, "channels_last": False}}]
    if cuda:
        v += [{"label": "tf32", "opts": {"precision": "tf32"}},
              {"label": "bf16", "opts": {"precision": "bf16"}}]
    if cuda and not smoke:
        v += [{"label": "fp32 + torch.compile", "opts": {"compile": True}},
              {"label": "fp32 + compile reduce-overhead (CUDA graphs)", "opts": {"compile": "reduce-overhead"}}]
    return v


def check_ldeq(rep: Report, tab, device: str, smoke: bool, repeat: int) -> None:
    """Every LDEQ model x variant vs the CPU float64 run of the same weights."""
    from wflwv.detectors.ldeq.rwr import build_detector

    for mname, model in ldeq_models(smoke).items():
        # the float64 CPU reference of the full config costs ~73 GFLOP/frame: keep its chains short
        clips, T = (1, 3) if smoke else ((2, 3) if mname.startswith("ldeq full") else (4, 8))
        frames, boxes = frames_and_boxes(clips * T)
        ref_det = build_detector("ldeq", copy.deepcopy(model), "cpu", torch.float64, gpu_crops=False,
                                 channels_last=False)
        ref = run_rwr(ref_det, frames, boxes, clips)
        del ref_det
        for v in ldeq_variants(device, smoke):
            try:
                det = build_detector("ldeq", copy.deepcopy(model), device, torch.float32, **v["opts"])
                got, t = measure(lambda: run_rwr(det, frames, boxes, clips), clips * T, device, repeat)
            except Exception as exc:  # noqa: BLE001 — one broken path must not hide the others
                tab.row([mname, v["label"], None, None, None, False], target=Target.holds(), value=False,
                        note=f"error: {type(exc).__name__}: {str(exc)[:90]}")
                continue
            d = np.abs(got - ref)
            finite = bool(np.isfinite(got).all())
            tab.row([mname, v["label"], float(d[:, 0].max()), float(d.max()), t.rate(clips * T), finite],
                    target=Target.holds(), value=finite, note="RwR chain: reported, not judged")
            del det
    rep.note("LDEQ: RwR over parallel clips (small: 4 x 8 frames, full: 2 x 3; --smoke: 1 x 3); 'frame 0' = "
             "first frame of each clip (one solve from zeros), 'all' = every frame of the chains.")


def check_crops(rep: Report, device: str, smoke: bool) -> None:
    """Device crops (affine_grid/grid_sample) vs cv2.warpAffine crops, in grey levels."""
    from wflwv.detectors.crops import PROTOCOLS, crop_matrix, cut_crop
    from wflwv.detectors.ldeq.gpu_crops import warp_crops

    n = 4 if smoke else 64
    frames, boxes = frames_and_boxes(n, seed=2)
    proto = PROTOCOLS["ldeq_square1.2"]
    ref = np.stack([cut_crop(f, proto, b)[0] for f, b in zip(frames, boxes)]).astype(np.float64)
    mats = np.stack([crop_matrix(proto, b, f.shape[:2]) for f, b in zip(frames, boxes)])
    got, t = measure(lambda: warp_crops(frames, mats, proto.size, device).permute(0, 2, 3, 1).cpu().numpy(),
                     n, device, 1)
    d = np.abs(got.astype(np.float64) - ref)
    tab = rep.table(["crops", "frames", "max diff (grey levels)", "pixels differing", "frames/s", "finite"],
                    title="device crops vs cv2.warpAffine (LDEQ square 1.2 crop, 256 px)")
    fin = bool(np.isfinite(got).all())
    tab.row([f"warp_crops on {device}", n, float(d.max()), f"{100 * float((d > 0).mean()):.2f} %", t.rate(n), fin],
            target=Target.holds(), value=fin,
            note="OpenCV uses 1/32-px fixed-point coordinates: a few grey levels differ")


def check_ff(rep: Report, tab, device: str, smoke: bool, repeat: int) -> None:
    """PIP-Net / SBR: fp32 (+ channels-last, compile on CUDA) vs CPU float64, same weights."""
    n, batch = (1, 1) if smoke else (16, 16)
    frames, boxes = frames_and_boxes(n, seed=1)
    cuda = device.startswith("cuda")
    for name, make in ff_models(smoke).items():
        with torch.inference_mode():
            ref = run_ff(make("cpu", torch.float64), frames, boxes, batch)
        variants = [("fp32", None)] + ([] if smoke else [("fp32, channels-last", "cl")])
        if cuda and not smoke:
            variants.append(("fp32 + torch.compile", "compile"))
        for label, kind in variants:
            try:
                det = make(device, torch.float32)
                if kind == "cl":
                    det.net = det.net.to(memory_format=torch.channels_last)
                elif kind == "compile":
                    det.net = torch.compile(det.net)
                with torch.inference_mode():
                    got, t = measure(lambda: run_ff(det, frames, boxes, batch), n, device, repeat)
            except Exception as exc:  # noqa: BLE001
                tab.row([name, label, None, None, None, False], target=Target.holds(), value=False,
                        note=f"error: {type(exc).__name__}: {str(exc)[:90]}")
                continue
            d = float(np.abs(got - ref).max())
            ok = bool(np.isfinite(got).all()) and d <= PIXEL_TOL
            tab.row([name, label, d, d, t.rate(n), bool(np.isfinite(got).all())], target=Target.holds(),
                    value=ok, note=f"finite and within {PIXEL_TOL} px")


def check_ray(rep: Report, device: str, smoke: bool) -> None:
    """``evaluate`` of LDEQ (small ckpt) in process vs ``--executor ray`` on ``device``: same bytes."""
    tab = rep.table(["run", "workers", "detect frames/s", "same bytes"], title="evaluate through Ray")
    try:
        import ray
    except ImportError:
        rep.note("Ray path skipped: Ray is not installed (pip install -e '.[ray]').")
        return
    if not SMALL_CKPT.is_file():
        rep.note(f"Ray path skipped: {SMALL_CKPT} not available (../shared).")
        return
    from wflwv.datasets.synthetic import SyntheticBuilder
    from wflwv.harness.evaluate import EvalConfig, evaluate
    from wflwv.harness.executor import make_executor

    tmp = Path(tempfile.mkdtemp(prefix="wflwv-gpucheck-"))
    ray_tmp = tempfile.mkdtemp(prefix="rg-", dir="/tmp")
    try:
        v, f = (2, 4) if smoke else (8, 30)
        index = SyntheticBuilder(videos=v, frames=f, width=256, height=192, seed=3, progress=False).build(tmp / "i")
        dev = "cuda" if device.startswith("cuda") else "cpu"
        n_gpu = torch.cuda.device_count() if dev == "cuda" else 0
        workers = max(1, n_gpu) if dev == "cuda" else (1 if smoke else 2)

        def run(out, executor):
            # batch_size=1: every batch holds one video whatever the sharding, so float32 results
            # cannot depend on which videos share a batch (they do at larger batches)
            s = evaluate(EvalConfig(model="ldeq", weights=str(SMALL_CKPT), dataset=str(index.path), out=str(out),
                                    device=dev, progress=False, executor=executor, batch_size=1))
            fps = s["detect"]["frames"] / max(s["timings_s"]["detect_s"], 1e-9)
            return (out / s["run"]["dir"] / "predictions.parquet").read_bytes(), fps

        ref, fps0 = run(tmp / "inline", None)
        tab.row([f"in process ({dev})", 1, fps0, True])
        ray.init(num_cpus=max(2, workers), num_gpus=n_gpu, include_dashboard=False, logging_level="warning",
                 log_to_driver=False, _temp_dir=ray_tmp)
        try:
            ex = make_executor("ray", workers, None, 1.0 if dev == "cuda" else None, dev)
            got, fps1 = run(tmp / "ray", ex)
        finally:
            ray.shutdown()
        same = got == ref
        tab.row([f"--executor ray --gpus-per-worker {1 if dev == 'cuda' else 0}", workers, fps1, same],
                target=Target.holds(), value=same)
        rep.extra["ray"] = {"version": ray.__version__, "workers": workers, "gpus": n_gpu}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def main() -> int:
    """Parse arguments, run every check, print the tables, write the JSON; 1 when a row is missed."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, small LDEQ, no compile (CI)")
    ap.add_argument("--repeat", type=int, default=None, help="timed runs per path (default 2, smoke 1)")
    ap.add_argument("--out", type=Path, default=None, help="folder of gpu_check.json (default $WFLWV_BENCH_DIR)")
    ap.add_argument("--no-ray", action="store_true", help="skip the evaluate-through-Ray check")
    a = ap.parse_args()
    if a.device.startswith("cuda") and not torch.cuda.is_available():
        print(f"gpu_check: --device {a.device} but torch {torch.__version__} sees no CUDA device; "
              f"run on a GPU machine, or use --device cpu --smoke to check the script itself", file=sys.stderr)
        return 2
    repeat = a.repeat or (1 if a.smoke else 2)
    if a.smoke:
        WARMUP[0], SIZE[0] = 0, (144, 192)
    torch.manual_seed(0)
    name = torch.cuda.get_device_name(0) if a.device.startswith("cuda") else f"CPU ({torch.get_num_threads()} threads)"
    rep = Report("gpu_check", f"GPU paths vs CPU float64 on {name}",
                 params={"device": a.device, "smoke": a.smoke, "torch": torch.__version__,
                         "cuda": torch.version.cuda, "repeat": repeat})
    t0 = time.perf_counter()
    tab = rep.table(["model", "path", "max diff frame 0 (px)", "max diff all (px)", "frames/s", "finite"],
                    title="every path vs CPU float64 (same weights, frames, boxes)")
    spent: Dict[str, float] = {}
    t1 = time.perf_counter()
    check_crops(rep, a.device, a.smoke)
    spent["crops"] = time.perf_counter() - t1
    for part, fn in (("ldeq", check_ldeq), ("pipnet/sbr", check_ff)):
        t1 = time.perf_counter()
        fn(rep, tab, a.device, a.smoke, repeat)
        spent[part] = time.perf_counter() - t1
    if not a.no_ray:
        t1 = time.perf_counter()
        check_ray(rep, a.device, a.smoke)
        spent["ray"] = time.perf_counter() - t1
    rep.extra["seconds"] = spent
    rep.legend("must hold", "LDEQ rows: every output finite; PIP-Net/SBR rows: finite and within "
                            f"{PIXEL_TOL} px of float64; Ray row: predictions byte-identical")
    rep.legend("frames/s", "best of the timed runs after one warm-up (compile time excluded)")
    rep.note(f"total {time.perf_counter() - t0:.0f} s (" + ", ".join(f"{k} {v:.0f} s" for k, v in spent.items()) + ")")
    rep.finish(a.out)
    return 1 if any(r["status"] == "missed" for r in rep.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
