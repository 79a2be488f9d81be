"""Run a real detector over unlabelled clips: per-frame landmarks, face found, cuts, timings.

Two kinds of detector are driven:

- **box** detectors (``dlib68``: have ``face_detector`` and ``predict_box``) get their boxes from a
  :class:`wflwv.facebox.BoxTracker` (HOG every ``every`` frames, tracking in between);
- **self-detecting** detectors (``mediapipe468``) see whole frames and report ``last_found``; they
  are reset at scene cuts.

Each clip is written as ``<out>/<clip_id>.npz`` atomically once it is finished, so a crash or a
bad clip never loses finished clips, and a rerun skips clips whose stored config matches.
A clip that cannot be decoded is recorded as ``status="error"`` with the message.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from wflwv.boxes.cut import GreyHistCut
from wflwv.boxes.hog import to_grey
from wflwv.boxes.tracker import BoxTracker

VIDEO_EXTS = (".avi", ".mp4", ".wmv", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg")
FORMAT_VERSION = 3


def find_clips(root: Path) -> List[Path]:
    """Video files under ``root`` (recursive, sorted); ``root`` may also be a single file."""
    root = Path(root)
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise FileNotFoundError(f"clip folder {root} does not exist")
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in VIDEO_EXTS and p.is_file())


def clip_id(path: Path, root: Path) -> str:
    """Stable id: the path relative to ``root`` without extension, ``/`` → ``__``."""
    path, root = Path(path), Path(root)
    rel = path.relative_to(root) if root.is_dir() else Path(path.name)
    return "__".join(rel.with_suffix("").parts)


def _frames(path: Path, backend: str):
    from wflwv.io.video import iter_frames

    return iter_frames(path, backend=backend)


def run_clip(path: Path, detector: Any, every: int = 10, cut_threshold: float = 0.30,
             backend: str = "opencv", progress: bool = False, roi: Optional[float] = 0.4
             ) -> Dict[str, Any]:
    """Predict every frame of one clip; returns arrays (``pred``, ``found``, ``cut``, …) and meta."""
    box_mode = hasattr(detector, "predict_box") and hasattr(detector, "face_detector")
    cut_det = GreyHistCut(threshold=cut_threshold)
    tracker = BoxTracker(detector.face_detector, every=every, cut_detector=cut_det, roi=roi) \
        if box_mode else None
    if hasattr(detector, "reset"):
        detector.reset()
    preds, found, cut, new, src, times = [], [], [], [], [], []
    t_dec = t_det = t_pred = 0.0
    n_land = detector.cfg.num_landmarks
    it = iter(_frames(path, backend))
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(desc=Path(path).name, unit="f", leave=False)
    while True:
        t0 = time.perf_counter()
        fr = next(it, None)
        t1 = time.perf_counter()
        t_dec += t1 - t0
        if fr is None:
            break
        grey = to_grey(fr.image)
        lm = None
        if box_mode:
            fb = tracker.propose(fr.image, grey)
            t2 = time.perf_counter()
            t_det += t2 - t1
            if fb.found:
                lm = detector.predict_box(grey, fb.box)
            if not tracker.observe(lm):           # tracked landmarks drifted: detect again
                t3 = time.perf_counter()
                fb = tracker.redetect(grey)
                t_det += time.perf_counter() - t3
                lm = detector.predict_box(grey, fb.box) if fb.found else None
                tracker.observe(lm)
            t_pred += time.perf_counter() - t2
            c, nt, s = fb.cut, fb.new_track, fb.source
        else:
            c, _ = cut_det.step(grey)
            c = bool(c) and fr.index > 0
            if c:
                detector.reset()
            out, _ = detector.predict_frames([fr.image], None, keys=[(str(path), fr.index)])
            t_pred += time.perf_counter() - t1
            lm = out[0] if detector.last_found[0] else None
            nt, s = c, "self"
        preds.append(np.full((n_land, 2), np.nan) if lm is None else lm)
        found.append(lm is not None)
        cut.append(c)
        new.append(bool(nt))
        src.append(s if lm is not None else "none")
        times.append(fr.time_s)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    T = len(preds)
    return {
        "pred": np.stack(preds) if T else np.zeros((0, n_land, 2)),
        "found": np.array(found, bool), "cut": np.array(cut, bool),
        "new_track": np.array(new, bool), "source": np.array(src, dtype="U6"),
        "time_s": np.array(times, np.float64),
        "meta": {"n_frames": T, "ms_decode": 1e3 * t_dec / max(T, 1),
                 "ms_detect": 1e3 * t_det / max(T, 1), "ms_predict": 1e3 * t_pred / max(T, 1),
                 "fps": T / max(t_dec + t_det + t_pred, 1e-9),
                 "box_source": tracker.config() if tracker else {"self": detector.cfg.name},
                 "n_redetect": tracker.n_redetect_ if tracker else 0,
                 "cut_detector": cut_det.config()},
    }


def _save(path: Path, res: Dict[str, Any]) -> None:
    from wflwv.io.atomic import atomic_write_bytes

    buf = io.BytesIO()
    arrays = {k: v for k, v in res.items() if isinstance(v, np.ndarray)}
    np.savez(buf, meta=np.array(json.dumps(res["meta"], default=str)), **arrays)
    atomic_write_bytes(path, buf.getvalue())


def load_clip(path: Path) -> Dict[str, Any]:
    """Read a cached clip ``.npz`` back (arrays + ``meta`` dict)."""
    with np.load(path, allow_pickle=False) as z:
        res = {k: z[k] for k in z.files if k != "meta"}
        res["meta"] = json.loads(str(z["meta"]))
    return res


def run_folder(root: Path, detector: Any, out: Path, every: int = 10, cut_threshold: float = 0.30,
               backend: str = "opencv", progress: bool = True, config: Optional[Dict] = None,
               roi: Optional[float] = 0.4) -> Iterable[Dict[str, Any]]:
    """Run ``detector`` on every clip under ``root``; yields each clip's meta (cached when current)."""
    from wflwv.io.atomic import atomic_write_json

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = {"format": FORMAT_VERSION, "detector": detector.cfg.name,
           "options": {k: v for k, v in detector.cfg.options.items()}, "every": every,
           "cut_threshold": cut_threshold, "backend": backend, "roi": roi, **(config or {})}
    clips = find_clips(root)
    if not clips:
        raise FileNotFoundError(f"no video files ({', '.join(VIDEO_EXTS)}) under {root}")
    for path in clips:
        cid = clip_id(path, root)
        npz, err = out / f"{cid}.npz", out / f"{cid}.error.json"
        if npz.exists():
            res = load_clip(npz)
            if res["meta"].get("config") == json.loads(json.dumps(cfg, default=str)):
                yield {"clip": cid, **res["meta"]}
                continue
        try:
            res = run_clip(path, detector, every, cut_threshold, backend, progress, roi)
        except Exception as exc:  # noqa: BLE001 — one bad clip must not lose the others
            info = {"clip": cid, "status": "error", "error": f"{type(exc).__name__}: {exc}",
                    "path": str(path), "config": cfg}
            atomic_write_json(err, info)
            yield info
            continue
        n_found = int(res["found"].sum())
        res["meta"].update(clip=cid, path=str(path), config=cfg, n_found=n_found,
                           status="ok" if n_found else "no_face")
        if err.exists():
            err.unlink()
        _save(npz, res)
        yield {"clip": cid, **res["meta"]}
