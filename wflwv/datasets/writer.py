"""Write a built index (Parquet tables, dataset_info.json, validation.csv, README.md card) and read
back the decode results of a previous build for incremental rebuilds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.datasets import integrity
from wflwv.datasets.integrity import read_file_stats, write_file_stats  # noqa: F401 (re-exported)
from wflwv.datasets.index import INDEX_FORMAT
from wflwv.io.atomic import atomic_write_json, atomic_write_parquet, atomic_write_text


def _fixed_list(rows: List[Optional[np.ndarray]], counts: List[int], width: int):
    """A fixed-size float32 list column from per-video ``[T, width]`` arrays (None → null rows)."""
    import pyarrow as pa

    total = int(sum(counts))
    values = np.zeros((total, width), np.float32)
    mask = np.ones(total, bool)
    at = 0
    for arr, n in zip(rows, counts):
        if arr is not None:
            values[at:at + n] = arr.reshape(n, width)
            mask[at:at + n] = False
        at += n
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), width, mask=pa.array(mask))


def frames_table(builder, records: List[Dict[str, Any]]):
    """The ``frames.parquet`` table of the successfully checked videos."""
    import pyarrow as pa

    ok = [r for r in records if r["status"] == "ok"]
    counts, vids, idx, src, times, hashes, unrel, outside = [], [], [], [], [], [], [], []
    lmk_rows, box_rows = [], []
    extra: Dict[str, List[np.ndarray]] = {}
    for r in ok:
        ann, scan = r["ann"], r["scan"]
        n = int(ann.n_frames if ann.n_frames is not None else scan["n_frames"])
        counts.append(n)
        vids.append(np.full(n, r["item"].video_id, dtype=object))
        idx.append(np.arange(n, dtype=np.int32))
        src.append(np.asarray(ann.source_frame if ann.source_frame is not None
                              else [str(i) for i in range(n)], dtype=object))
        if scan["times"] is not None:
            times.append(np.asarray(scan["times"], np.float64))
        else:  # not decoded: nominal times from the container rate
            fps = scan["fps"] if scan["fps"] and scan["fps"] > 0 else float("nan")
            times.append(np.arange(n, dtype=np.float64) / fps)
        hashes.append(np.asarray(scan["hashes"] if scan["hashes"] is not None else [None] * n, dtype=object))
        unrel.append(np.zeros(n, bool) if ann.unreliable is None else np.asarray(ann.unreliable, bool))
        outside.append(r.get("outside_px", np.full(n, np.nan, np.float32)))
        lmk_rows.append(None if ann.landmarks is None else np.asarray(ann.landmarks, np.float32))
        box_rows.append(None if ann.bbox is None else np.asarray(ann.bbox, np.float32)[:, :4])
        for k, v in ann.columns.items():
            extra.setdefault(k, []).append(np.asarray(v))

    def cat(parts, dtype=None):
        if not parts:
            return np.zeros(0, dtype or object)
        return np.concatenate(parts)

    cols = {
        "video_id": pa.array(cat(vids), pa.string()),
        "frame_index": pa.array(cat(idx, np.int32), pa.int32()),
        "source_frame": pa.array(cat(src), pa.string()),
        "time_s": pa.array(cat(times, np.float64), pa.float64()),
        "landmarks": _fixed_list(lmk_rows, counts, 2 * max(builder.num_landmarks, 1)),
        "bbox": _fixed_list(box_rows, counts, 4),
        "unreliable": pa.array(cat(unrel, bool), pa.bool_()),
        "outside_px": pa.array(cat(outside, np.float32), pa.float32()),
        "frame_hash": pa.array(cat(hashes), pa.string()),
    }
    for k, parts in extra.items():
        cols[k] = pa.array(np.concatenate(parts))
    return pa.table(cols)


def videos_table(builder, records: List[Dict[str, Any]]):
    """The ``videos.parquet`` table: one row per video found (failed ones carry their status)."""
    import pandas as pd

    source = builder.info_extra().get("source")
    rows = []
    for r in records:
        it, ann, scan = r["item"], r["ann"], r["scan"]
        n_ann = ann.n_frames if ann is not None else None
        row = {
            "video_id": it.video_id, "subset": it.subset, "path": it.rel_path,
            "n_frames": int(n_ann if n_ann is not None else (scan or {}).get("n_frames") or 0),
            "n_decoded": (scan or {}).get("n_frames"),
            "n_frames_container": (scan or {}).get("n_frames_container"),
            "fps": float((scan or {}).get("fps") or np.nan),
            "width": (scan or {}).get("width"), "height": (scan or {}).get("height"),
            "sha256": r.get("sha256", ""), "sample_sha256": r.get("sample_sha256", ""),
            "size_bytes": r.get("size_bytes"),
            "status": r["status"], "has_gt": bool(builder.has_gt and ann is not None
                                                  and ann.landmarks is not None),
            "decode_backend": (scan or {}).get("backend", ""),
            "decode_backend_version": (scan or {}).get("backend_version", ""),
            "verify_decode": builder.verify_decode if (scan or {}).get("times") is not None else "none",
            "decode_status": r.get("decode_status", "not_decoded" if not (scan or {}).get("times") is not None
                                    else "clean"),
            "decoder_message": r.get("decoder_message", ""),
            "n_decoder_messages": int((scan or {}).get("n_decoder_messages") or 0),
            "n_unreliable": int(np.sum(ann.unreliable)) if ann is not None and ann.unreliable is not None else 0,
        }
        if scan and scan.get("verify_decode"):
            row["verify_decode"] = scan["verify_decode"]
        row.update(it.extra)
        if source is not None:
            row["source"] = str(source)      # per-video provenance (archive, synthetic, ...)
        rows.append(row)
    df = pd.DataFrame(rows)
    for col in ("n_decoded", "n_frames_container", "width", "height", "size_bytes"):
        if col in df:
            df[col] = df[col].astype("Int64")
    return df


def write_index(tmp: Path, builder, records: List[Dict[str, Any]], out_dir: Path) -> Dict[str, Any]:
    """Write all index files of ``records`` into folder ``tmp`` (renamed to ``out_dir`` afterwards)."""
    from wflwv import __version__
    from wflwv.datasets import cards

    videos = videos_table(builder, records)
    frames = frames_table(builder, records)
    atomic_write_parquet(tmp / "videos.parquet", videos)
    atomic_write_parquet(tmp / "frames.parquet", frames)
    atomic_write_text(tmp / "validation.csv", builder.report.to_csv())
    ok = videos[videos["status"] == "ok"]
    subsets = {}
    for name, grp in ok.groupby("subset", sort=True):
        subsets[str(name)] = {"videos": int(len(grp)), "frames": int(grp["n_frames"].sum())}
    subsets["all"] = {"videos": int(len(ok)), "frames": int(ok["n_frames"].sum())}
    decoded = ok[ok["decode_backend"].isin(["opencv", "decord"])]
    info = {
        "dataset": builder.name, "dataset_version": builder.VERSION, "builder_version": builder.VERSION,
        "index_format": INDEX_FORMAT, "root": recorded_root(builder.root, out_dir),
        "landmark_scheme": builder.landmark_scheme,
        "num_landmarks": builder.num_landmarks, "coord_base": builder.coord_base,
        "fingerprint": builder.fingerprint(records), "n_videos": int(len(ok)),
        "n_videos_failed": int(len(videos) - len(ok)), "n_frames": int(ok["n_frames"].sum()),
        "subsets": subsets, "verify_decode": builder.verify_decode,
        "decode_backend": builder.backend if builder.verify_decode != "none" else "none",
        "decode_backend_version": (str(decoded["decode_backend_version"].iloc[0]) if len(decoded) else ""),
        "n_errors": builder.report.n_errors, "n_warnings": builder.report.n_warnings,
        "has_gt": bool(builder.has_gt), "wflwv_version": __version__,
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "incremental": dict(builder.stats),
    }
    info.update(builder.info_extra())
    info = integrity.seal(tmp, info)
    atomic_write_json(tmp / "file_stats.json", file_stats(records))
    atomic_write_json(tmp / "dataset_info.json", info)
    atomic_write_text(tmp / "README.md", cards.render(builder, info, videos, frames))
    return info


def file_stats(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The volatile ``file_stats.json``: size and mtime of each video file when it was checked.

    Kept out of the hashed index files (a rewrite of identical videos changes mtimes only); it
    serves incremental rebuilds and the size+mtime cache of the video identity check.
    """
    return {"videos": {r["item"].video_id: {"size_bytes": r.get("size_bytes"), "mtime_ns": r.get("mtime_ns"),
                                            "sample_sha256": r.get("sample_sha256", "")}
                       for r in records if r.get("size_bytes") is not None}}


def recorded_root(root: Path, out_dir: Path) -> str:
    """``root`` as written to ``dataset_info.json``: relative (POSIX) when inside ``out_dir``, else absolute."""
    root, out_dir = Path(root).resolve(), Path(out_dir).resolve()
    try:
        rel = root.relative_to(out_dir)
    except ValueError:
        return str(root)
    if not rel.parts:
        raise ValueError(f"the release root {root} is the index folder itself; pass another --out")
    return rel.as_posix()


def nested_root(root: Path, out_dir: Path) -> Optional[Path]:
    """The top folder of ``out_dir`` that holds ``root`` (kept across the atomic rename), or None."""
    rel = recorded_root(root, out_dir)
    return None if Path(rel).is_absolute() else Path(out_dir).resolve() / Path(rel).parts[0]


def load_previous(out_dir: Path, builder) -> Dict[str, Dict[str, Any]]:
    """Decode results of an earlier build of the same dataset and builder version in ``out_dir``."""
    import json

    import pyarrow.parquet as pq

    info_path = out_dir / "dataset_info.json"
    if not info_path.is_file():
        return {}
    try:
        info = json.loads(info_path.read_text())
        if info.get("dataset") != builder.name or info.get("builder_version") != builder.VERSION:
            return {}
        videos = pq.read_table(out_dir / "videos.parquet").to_pandas()
        frames = pq.read_table(out_dir / "frames.parquet",
                               columns=["video_id", "frame_index", "time_s", "frame_hash"]).to_pandas()
    except (OSError, ValueError, KeyError):
        return {}  # unreadable old index: rebuild everything
    stats = read_file_stats(out_dir)
    videos = videos[(videos["status"] == "ok") & videos["n_decoded"].notna()]
    by_video = {str(k): g for k, g in frames.groupby("video_id", sort=False)}
    out: Dict[str, Dict[str, Any]] = {}
    for row in videos.itertuples(index=False):
        g = by_video.get(str(row.video_id))
        if g is None or len(g) != int(row.n_decoded):
            continue
        g = g.sort_values("frame_index")
        out[str(row.video_id)] = {
            "size_bytes": int(row.size_bytes), "sha256": row.sha256,
            "mtime_ns": (stats.get(str(row.video_id)) or {}).get("mtime_ns",
                                                                getattr(row, "mtime_ns", None)),
            "backend": row.decode_backend, "verify_decode": row.verify_decode,
            "scan": {"n_frames": int(row.n_decoded), "width": int(row.width), "height": int(row.height),
                     "fps": float(row.fps), "n_frames_container": int(row.n_frames_container),
                     "times": g["time_s"].to_numpy(np.float64), "hashes": g["frame_hash"].tolist(),
                     "backend": row.decode_backend, "backend_version": row.decode_backend_version,
                     "verify_decode": row.verify_decode,
                     "n_decoder_messages": int(getattr(row, "n_decoder_messages", 0) or 0),
                     "decoder_messages": [str(getattr(row, "decoder_message", "") or "")]},
        }
    return out
