"""Tiny wflwv indexes for harness tests (written in the documented index format).

``make_index(tmp, lengths={"easy": [12, 7], "hard": [9]})`` writes videos (MJPG .avi, 96×72) and
``videos.parquet`` / ``frames.parquet`` / ``dataset_info.json`` with a moving 98-point face.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq


def face_template(n: int = 98, seed: int = 7) -> np.ndarray:
    """A plausible ``[n, 2]`` face shape about 1 unit wide with eye corners at 60 / 72 (WFLW)."""
    rng = np.random.default_rng(seed)
    ang = np.linspace(0, 2 * np.pi, n, endpoint=False)
    pts = np.stack([0.5 * np.cos(ang), 0.6 * np.sin(ang)], axis=1) * rng.uniform(0.3, 1.0, (n, 1))
    if n == 98:
        pts[60] = (-0.35, -0.15)
        pts[72] = (0.35, -0.15)
    else:  # ibug68
        pts[36] = (-0.35, -0.15)
        pts[45] = (0.35, -0.15)
    return pts


def track(T: int, seed: int, n: int = 98, size: float = 40.0, centre=(48.0, 36.0),
          speed: float = 1.0) -> np.ndarray:
    """``[T, n, 2]`` landmarks of a face that drifts, zooms and wobbles (frame pixels; ``speed`` scales time)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None] * float(speed)
    base = face_template(n)[None]
    scale = size * (1 + 0.15 * np.sin(2 * np.pi * t / max(T, 2) + rng.uniform(0, 6)))
    shift = np.concatenate([6 * np.sin(t * 0.2 + rng.uniform(0, 6)), 4 * np.cos(t * 0.15)], axis=2)
    return base * scale + np.asarray(centre) + shift


def _sample(path: Path) -> str:
    from wflwv.io.identity import sample_digest

    return sample_digest(path)


def _write_video(path: Path, T: int, w: int = 96, h: int = 72, fps: float = 25.0) -> None:
    import cv2

    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for i in range(T):
        img = np.full((h, w, 3), (i * 9) % 255, np.uint8)
        cv2.circle(img, (w // 2 + (i % 7), h // 2), 12, (255, 200, 150), -1)
        vw.write(img)
    vw.release()


def make_index(root: Path, lengths: Optional[Dict[str, List[int]]] = None, n: int = 98,
               dataset: str = "tiny", fps: float = 25.0, write_videos: bool = True,
               unreliable: Optional[Dict[str, List[int]]] = None, builder_version: str = "test-1",
               index_format: int = 1, tracks: Optional[Dict[str, List[np.ndarray]]] = None,
               boxes: bool = True, labelled: bool = True,
               times: Optional[Dict[str, np.ndarray]] = None,
               seal: bool = True) -> Path:
    """Write a tiny index under ``root/index`` (media under ``root/media``); returns the index dir.

    ``tracks`` (subset -> list of ``[T, n, 2]`` arrays) replaces the generated landmarks;
    ``boxes=False`` writes no ``bbox`` column, ``labelled=False`` no landmarks (and no scheme);
    ``times`` (video_id -> ``[T]``) replaces the frame times of that video.
    """
    if tracks is not None:
        lengths = {s: [len(a) for a in arrs] for s, arrs in tracks.items()}
        n = int(next(iter(tracks.values()))[0].shape[1])
    lengths = lengths or {"easy": [12, 7], "hard": [9]}
    unreliable = unreliable or {}
    root = Path(root)
    media, out = root / "media", root / "index"
    media.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    vrows, frows = [], {"video_id": [], "frame_index": [], "source_frame": [], "time_s": [],
                        "landmarks": [], "bbox": [], "unreliable": []}
    k = 0
    for subset, lens in lengths.items():
        for j, T in enumerate(lens):
            vid = f"{subset}_{k:02d}"
            rel = f"{vid}.avi"
            if write_videos:
                _write_video(media / rel, T, fps=fps)
            data = (media / rel).read_bytes() if write_videos else b""
            vrows.append({"video_id": vid, "subset": subset, "path": rel, "n_frames": T, "fps": fps,
                          "width": 96, "height": 72, "sha256": hashlib.sha256(data).hexdigest(),
                          "sample_sha256": _sample(media / rel) if write_videos else "",
                          "size_bytes": len(data), "mtime_ns": 0, "status": "ok", "has_gt": labelled})
            lm = (tracks[subset][j] if tracks is not None else track(T, seed=k, n=n)).astype(np.float32)
            lo, hi = lm.min(1), lm.max(1)
            for i in range(T):
                frows["video_id"].append(vid)
                frows["frame_index"].append(i)
                frows["source_frame"].append(f"{i:06d}")
                frows["time_s"].append(float(times[vid][i]) if times and vid in times else i / fps)
                frows["landmarks"].append(lm[i].reshape(-1))
                frows["bbox"].append(np.concatenate([lo[i] - 2, hi[i] + 2]).astype(np.float32))
                frows["unreliable"].append(i in unreliable.get(vid, []))
            k += 1
    vt = pa.Table.from_pylist(vrows)
    pq.write_table(vt, out / "videos.parquet", row_group_size=8192)  # as the builders write
    lm_flat = np.concatenate(frows["landmarks"]).astype(np.float32)
    bb_flat = np.concatenate(frows["bbox"]).astype(np.float32)
    cols = {
        "video_id": pa.array(frows["video_id"]), "frame_index": pa.array(frows["frame_index"], pa.int32()),
        "source_frame": pa.array(frows["source_frame"]), "time_s": pa.array(frows["time_s"]),
        "landmarks": pa.FixedSizeListArray.from_arrays(pa.array(lm_flat), 2 * n),
        "bbox": pa.FixedSizeListArray.from_arrays(pa.array(bb_flat), 4),
        "unreliable": pa.array(frows["unreliable"]),
    }
    if not boxes:
        del cols["bbox"]
    if not labelled:
        del cols["landmarks"]
    ft = pa.table(cols)
    pq.write_table(ft, out / "frames.parquet", row_group_size=8192)
    info = {"dataset": dataset, "builder_version": builder_version, "index_format": index_format,
            "root": str(media), "landmark_scheme": (("wflw98" if n == 98 else "ibug68") if labelled else None),
            "num_landmarks": n,
            "coord_base": 0, "fingerprint": hashlib.sha256(json.dumps(lengths).encode()).hexdigest(),
            "n_videos": len(vrows), "n_frames": len(frows["video_id"]),
            "subsets": {s: len(v) for s, v in lengths.items()}}
    if seal:
        from wflwv.datasets.integrity import seal as seal_info
        from wflwv.datasets.report import Report

        (out / "validation.csv").write_text(Report("raise").to_csv())

        info = seal_info(out, info)
    (out / "dataset_info.json").write_text(json.dumps(info, indent=2))
    return out
