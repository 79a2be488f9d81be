"""Cached predictions → per-frame errors, per-video metrics and per-subset aggregates.

All videos are concatenated into ragged arrays (``offsets``) and scored in one vectorised call of
:func:`wflwv.metrics.ragged_video_metrics` per filter. Conventions:

* **Schemes.** A ``gt``-scheme (simulated) detector shares the index scheme. A WFLW-98 detector on
  an iBUG-68 index is mapped with :func:`wflwv.schemes.to_ibug68` (and vice versa the GT); such
  rows carry ``cross_scheme=True`` and the mapping name. The normaliser pair is the target
  scheme's ``io_pair``.
* **Unreliable frames** (``exclude_unreliable``) are passed as ``valid=False``: they leave NME and
  every flicker difference that touches them, but filters still see the detector output there.
* **Unlabelled indexes** (no GT) get NaN GT metrics and every GT-free column; labelled ones both.
* **Tracks.** Segments (filters restart, jitter differences stop) begin at new track ids, scene cuts
  and after frames without a face, from the box source's track record. On a labelled index a frame
  whose tracked box overlaps the annotated face by IoU < :data:`MIN_GT_IOU` is a missed detection
  (docs/box_sources.md). Unusable timestamps fall back to ``i / fps`` with a warning per video.
* **Aggregates** are macro means over videos (official), FR/AUC@0.10 over all scored frames
  (``per_frame``), a 95 % bootstrap CI over videos, and the lag-aware GT-free columns
  (jitter, lag, distance to the zero-lag reference; docs/gt_free_protocol.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

FR_THRESHOLD = 0.10


@dataclass
class Ragged:
    """Every scored video concatenated: arrays over all frames ``F`` plus ``offsets [V+1]``."""

    video_ids: List[str]
    subsets: List[str]
    pred: np.ndarray            # [F, N, 2] raw detector output, target scheme
    gt: Optional[np.ndarray]    # [F, N, 2]; None on an unlabelled index
    times: np.ndarray           # [F] seconds (container times, or i / fps with a warning)
    valid: np.ndarray           # [F] bool: counted (not excluded) and the detector found a face
    offsets: np.ndarray         # [V + 1]
    scheme: str
    pair: Tuple[int, int]
    cross_scheme: bool = False
    mapping: Optional[str] = None
    notes: Dict[str, Any] = field(default_factory=dict)
    missing: Optional[np.ndarray] = None   # [F] bool: counted frames without a detection (no face)
    breaks: Optional[np.ndarray] = None    # [F] bool: first frame of each segment (track, cut, gap)
    track_id: Optional[np.ndarray] = None  # [F] int32 per-video track id, -1 = no face
    warnings: Dict[str, str] = field(default_factory=dict)   # video_id -> timestamp fallback etc.
    labelled: bool = True                  # GT landmarks present: GT metrics can be computed

    def video(self, i: int) -> slice:
        """Frame slice of video ``i``."""
        return slice(int(self.offsets[i]), int(self.offsets[i + 1]))


def filter_info(f: Any) -> Dict[str, Any]:
    """Id, parameters and causality of a filter instance for the results JSON."""
    params = f.get_params() if hasattr(f, "get_params") else {}
    fid = getattr(f, "id", type(f).__name__)
    return {"id": fid, "name": fid.partition(":")[0], "class": type(f).__name__,
            "causal": bool(getattr(f, "causal", True)), "variant": getattr(f, "variant", None),
            "preset": (getattr(f, "preset", None) or {}).get("id"),
            "preset_tuning": (getattr(f, "preset", None) or {}).get("tuning"),
            "params": {k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
                       for k, v in params.items()}}


def resolve_schemes(det_scheme: str, index_scheme: Optional[str]) -> Tuple[str, Optional[str], Optional[str]]:
    """``(target_scheme, map_pred, map_gt)``: which side is mapped to iBUG-68, if any."""
    if index_scheme is None:
        raise ValueError("the index has no landmark scheme (unlabelled data): NME/NMF need GT; use a "
                         "labelled index or the GT-free jitter metrics")
    if det_scheme in ("gt", index_scheme):
        return index_scheme, None, None
    if det_scheme == "wflw98" and index_scheme == "ibug68":
        return "ibug68", "wflw98", None
    if det_scheme == "ibug68" and index_scheme == "wflw98":
        return "ibug68", None, "wflw98"
    raise ValueError(f"no mapping from detector scheme {det_scheme!r} to index scheme {index_scheme!r}")


#: a tracked box overlapping the annotated face less than this is a missed detection (another face)
MIN_GT_IOU = 0.3


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise IoU of ``[T, 4]`` boxes (0 where either is missing or empty)."""
    iw = np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0])
    ih = np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.where(union > 0, inter / union, 0.0)
    return np.nan_to_num(out, nan=0.0)


def wrong_face(track: Any, gt: np.ndarray) -> np.ndarray:
    """``[T]`` bool: frames whose tracked box overlaps the annotated face by IoU < :data:`MIN_GT_IOU`.

    The annotated face is the tight box of the GT landmarks (docs/box_sources.md). Such a frame
    was predicted on another face (or on background), so it is a missed detection, not an error
    of hundreds of percent against the annotated face.
    """
    from wflwv.boxes.fixed import gt_boxes

    found = track.found
    out = np.zeros(len(found), bool)
    if found.any():
        out[found] = box_iou(track.boxes[found], gt_boxes(gt[found])) < MIN_GT_IOU
    return out


def _segment_starts(found: np.ndarray, track: Any) -> np.ndarray:
    """Segment starts from a track record, else from gaps in ``found`` (dataset/GT-box runs)."""
    if track is not None and len(track.track_id) == len(found):
        return track.breaks() & found
    prev = np.concatenate([[False], found[:-1]])
    return found & ~prev


def build_ragged(index, video_ids: Sequence[str], preds: Dict[str, np.ndarray], det_scheme: str,
                 exclude_unreliable: bool, mapping: str = "pipnet",
                 tracks: Optional[Dict[str, Any]] = None, frames: Optional[int] = None) -> Ragged:
    """Concatenate predictions (and GT of a labelled index) of ``video_ids``, mapping schemes when they differ.

    ``frames`` keeps only each video's first ``frames`` frames (a protocol's clip window, e.g. QLOT's
    frames 0-119); the cached predictions of later frames are not scored.

    On an unlabelled index ``gt`` is None and only GT-free metrics can be scored. ``tracks`` are
    the box sources' :class:`wflwv.boxes.TrackRecord` per video (segments break at new tracks and
    cuts); frame times fall back to ``i / fps`` with a warning when the index's are unusable.
    """
    from wflwv.boxes.base import TrackRecord
    from wflwv.datasets.timestamps import checked_times
    from wflwv.schemes import get_scheme, to_ibug68

    labelled = index.landmark_scheme is not None
    if labelled:
        target, map_pred, map_gt = resolve_schemes(det_scheme, index.landmark_scheme)
    else:
        target, map_pred, map_gt = det_scheme, None, None
    tracks = tracks or {}
    P, G, Tm, V, M, B, TI, lens, subs, warn, n_wrong = [], [], [], [], [], [], [], [], [], {}, {}
    vrows = index.videos.set_index(index.videos["video_id"].astype(str))
    for vid in video_ids:
        p = preds[vid]
        gt = None
        if labelled:
            gt = index.landmarks(vid)
            if gt is None:
                raise ValueError(f"video {vid!r} has no GT landmarks in {index.path}; it cannot be scored")
            if len(p) != len(gt):
                raise ValueError(f"video {vid!r}: {len(p)} cached predictions but {len(gt)} GT frames — the "
                                 f"cache is stale; delete the run directory and re-run")
            if map_gt:
                gt = to_ibug68(gt, map_gt, mapping=mapping)
        if map_pred:
            p = to_ibug68(p, map_pred, mapping=mapping)
        if gt is not None and p.shape != gt.shape:
            raise ValueError(f"video {vid!r}: predictions {p.shape} and GT {gt.shape} differ in shape; "
                             f"the detector scheme {det_scheme!r} does not match the index")
        T = len(p)
        found = np.isfinite(p).all(axis=(1, 2))      # all-NaN rows: the detector found no face
        tr = tracks.get(vid)
        if tr is not None and len(tr.track_id) != T:
            tr = None
        if gt is not None and tr is not None and tr.kind is not None \
                and not set(np.unique(tr.kinds()[tr.found])) <= {"dataset", "gt"}:
            wrong = found & wrong_face(tr, index.landmarks(vid))   # index scheme: the GT as annotated
            if wrong.any():                 # another face: a missed detection, never scored
                n_wrong[vid] = int(wrong.sum())
                found = found & ~wrong
                p = np.where(wrong[:, None, None], np.nan, p)
                tr = TrackRecord(tr.boxes, np.where(wrong, -1, tr.track_id).astype(np.int32), tr.cut, tr.kind)
        n = T if frames is None else min(T, int(frames))   # the protocol's clip window
        P.append(p[:n])
        if gt is not None:
            G.append(gt[:n])
        fps = float(vrows.loc[vid, "fps"]) if "fps" in vrows.columns else None
        t, w = checked_times(index.times(vid), T, fps)
        built = str(vrows.loc[vid, "time_warning"]) if "time_warning" in vrows.columns else ""
        if w or (built and built != "nan"):
            warn[vid] = w or f"at build: {built}"
        Tm.append(t[:n])
        counted = ~index.unreliable(vid) if exclude_unreliable else np.ones(T, bool)
        V.append((counted & found)[:n])
        M.append((counted & ~found)[:n])
        B.append(_segment_starts(found, tr)[:n])
        TI.append((tr.track_id if tr is not None else np.where(found, 0, -1))[:n])
        lens.append(n)
        subs.append(str(vrows.loc[vid, "subset"]))
    offsets = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    n = P[0].shape[1] if P else 0
    cat = (lambda xs, shape: np.concatenate(xs) if xs else np.zeros(shape))
    return Ragged(list(video_ids), subs, cat(P, (0, n, 2)), cat(G, (0, n, 2)) if labelled else None,
                  cat(Tm, (0,)), cat(V, (0,)).astype(bool), offsets, target, tuple(get_scheme(target).io_pair),
                  cross_scheme=bool(map_pred or map_gt), mapping=mapping if (map_pred or map_gt) else None,
                  missing=cat(M, (0,)).astype(bool), breaks=cat(B, (0,)).astype(bool),
                  track_id=cat(TI, (0,)).astype(np.int32), warnings=warn, labelled=labelled,
                  notes={"n_wrong_face": n_wrong})


def apply_filter(filt, rg: Ragged) -> np.ndarray:
    """Run filter ``filt`` (fresh state per video) over every video of ``rg``; ``[F, N, 2]``."""
    if getattr(filt, "id", None) == "none" or type(filt).__name__ == "Identity":
        return rg.pred
    from wflwv.filters import apply_segments

    out = np.empty_like(rg.pred)
    for i, vid in enumerate(rg.video_ids):
        s = rg.video(i)
        br = None if rg.breaks is None else rg.breaks[s].copy()
        if br is not None and not br[1:].any():
            br = None                       # one segment: the filter sees the whole video
        y = apply_segments(filt, rg.pred[s], rg.times[s], br)
        y = np.asarray(y, dtype=np.float64)
        found = np.isfinite(rg.pred[s]).all(axis=(1, 2))   # filters may leave no-face frames NaN
        if y.shape != rg.pred[s].shape or not np.isfinite(y[found]).all():
            raise ValueError(f"filter {getattr(filt, 'id', filt)!r} returned shape {y.shape} or non-finite "
                             f"values on video {vid!r}; that is a filter bug")
        out[s] = y
    return out


def stability_reference(rg: Ragged):
    """The zero-lag reference (and GT) every filter of ``rg`` is compared with (docs/gt_free_protocol.md)."""
    from wflwv.metrics.lag_scores import make_reference

    if rg.notes.get("stability_ref") is None:
        rg.notes["stability_ref"] = make_reference(rg.pred, rg.offsets, rg.valid, rg.times,
                                                   breaks=getattr(rg, "breaks", None), gt=rg.gt)
    return rg.notes["stability_ref"]


def track_columns(rg: Ragged) -> Dict[str, np.ndarray]:
    """Per-video ``n_tracks`` (distinct track ids) and ``coverage`` (counted frames with a face)."""
    V, F = len(rg.video_ids), len(rg.valid)
    tid = rg.track_id if rg.track_id is not None else np.zeros(F, np.int32)
    miss = rg.missing if rg.missing is not None else np.zeros(F, bool)
    cnt = rg.valid | miss
    n_tracks, cover = np.zeros(V, np.int64), np.full(V, np.nan)
    for i in range(V):
        s = rg.video(i)
        n_tracks[i] = len(np.unique(tid[s][tid[s] >= 0]))
        if cnt[s].any():
            cover[i] = rg.valid[s].sum() / cnt[s].sum()
    return {"n_tracks": n_tracks, "coverage": cover}


def score(rg: Ragged, filtered: np.ndarray) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """``(per_video, per_frame)`` column dicts for one filtered prediction array.

    GT metrics (NME, NMF, FR/AUC, lag) on a labelled index, NaN on an unlabelled one; the GT-free
    jitter, coverage and track counts always.
    """
    from wflwv.metrics import ragged_video_metrics
    from wflwv.metrics.lag_scores import video_stability

    valid = rg.valid & np.isfinite(filtered).all(axis=(1, 2))
    V, F = len(rg.video_ids), len(valid)
    lens = np.diff(rg.offsets)
    if rg.labelled:
        m = ragged_video_metrics(filtered, rg.gt, rg.offsets, pair=rg.pair, valid=valid)
        per_video = {k: np.asarray(m[k]) for k in ("nme_io", "nme_fs", "nmf", "n_frames", "n_valid",
                                                   "n_transitions", "skipped")}
        per_frame = {"nme_io": np.asarray(m["frame_nme_io"]), "nme_fs": np.asarray(m["frame_nme_fs"]),
                     "flicker": np.asarray(m["frame_flicker"])}
    else:
        nan_v, nan_f = np.full(V, np.nan), np.full(F, np.nan)
        per_video = {"nme_io": nan_v, "nme_fs": nan_v.copy(), "nmf": nan_v.copy(),
                     "n_frames": lens.astype(np.int64),
                     "n_valid": np.add.reduceat(valid.astype(np.int64), rg.offsets[:-1]) if F else np.zeros(V, int),
                     "n_transitions": np.zeros(V, np.int64), "skipped": np.ones(V, bool)}
        per_frame = {"nme_io": nan_f, "nme_fs": nan_f.copy(), "flicker": nan_f.copy()}
    per_video.update(video_stability(stability_reference(rg), filtered))
    per_video.update(track_columns(rg))
    per_video.update(nad_columns(rg, filtered, valid))
    return per_video, per_frame


NAD_CURVE_M = 64   # the NAD-vs-m curve is kept for m = 1..64 (QLOT's 120-frame clips reach 60)


def nad_columns(rg: Ragged, filtered: np.ndarray, valid: np.ndarray) -> Dict[str, np.ndarray]:
    """Per-video NAD(1/4/16) (fractions of the face size) and the NAD-vs-m curve ``[V, 64]`` (docs/nad.md).

    NaN for an unlabelled index, a video with a frame not scored (no face, unreliable) and every
    ``m`` above the video's ``L/2``: NAD needs an unbroken clip of at least ``2m`` frames.
    """
    from wflwv.metrics.nad import BOARD_MS, clip_nad

    V = len(rg.video_ids)
    curves = np.full((V, NAD_CURVE_M), np.nan)
    for i in range(V):
        s = rg.video(i)
        M = min((s.stop - s.start) // 2, NAD_CURVE_M)
        if rg.labelled and M >= 1 and valid[s].all():
            curves[i, :M] = clip_nad(filtered[s], rg.gt[s], range(1, M + 1), video=i)
    out = {f"nad_{m}": curves[:, m - 1].copy() for m in BOARD_MS}
    out["nad_curve"] = curves
    return out


def bootstrap_ci(values: np.ndarray, seed: int = 0) -> Tuple[float, float]:
    """95 % percentile bootstrap CI over videos (:func:`wflwv.metrics.bootstrap_ci`); NaN for < 2 videos."""
    from wflwv.metrics import bootstrap_ci as _boot

    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if len(v) < 2:
        return float("nan"), float("nan")
    return _boot(v, seed=seed)


def aggregate(per_video: Dict[str, np.ndarray], per_frame: Dict[str, np.ndarray], rg: Ragged,
              videos: np.ndarray, seed: int = 0) -> Dict[str, Any]:
    """Aggregate metrics over the video positions ``videos`` (indices into ``rg.video_ids``)."""
    from wflwv.metrics import fr_auc
    from wflwv.metrics.lag_scores import aggregate_stability

    videos = np.asarray(videos, dtype=np.int64)
    frame_sel = np.concatenate([np.arange(rg.offsets[i], rg.offsets[i + 1]) for i in videos]) \
        if len(videos) else np.zeros(0, np.int64)
    frame_sel = frame_sel[rg.valid[frame_sel]]
    nme_io = per_video["nme_io"][videos]
    nme_fs = per_video["nme_fs"][videos]
    nme_io, nme_fs = nme_io[np.isfinite(nme_io)], nme_fs[np.isfinite(nme_fs)]
    ok = ~per_video["skipped"][videos].astype(bool)
    nmf = per_video["nmf"][videos][ok]
    fnme = per_frame["nme_io"][frame_sel] / 100.0
    fnme = fnme[np.isfinite(fnme)]
    n_missing = int(rg.missing[np.concatenate([np.arange(rg.offsets[i], rg.offsets[i + 1])
                                               for i in videos])].sum()) \
        if (rg.missing is not None and len(videos)) else 0
    fr, auc = fr_auc(fnme, FR_THRESHOLD) if len(fnme) else (float("nan"), float("nan"))
    if n_missing and len(fnme):  # docs/metrics.md §7: a frame without a face is a failure (its CED is 0)
        n_all = len(fnme) + n_missing
        fr = (fr * len(fnme) + n_missing) / n_all
        auc = auc * len(fnme) / n_all
    out = {
        "video_nme.io": float(np.mean(nme_io)) if len(nme_io) else float("nan"),
        "video_nme.io_ci": bootstrap_ci(nme_io, seed),
        "video_nme.fs": float(np.mean(nme_fs)) if len(nme_fs) else float("nan"),
        "video_nme.fs_ci": bootstrap_ci(nme_fs, seed),
        "nmf": float(np.mean(nmf)) if len(nmf) else float("nan"),
        "nmf_ci": bootstrap_ci(nmf, seed),
        "fr@0.10": 100.0 * fr,
        "auc@0.10": auc,
        "n_videos": int(len(videos)),
        "n_frames": int(per_video["n_frames"][videos].sum()),
        "n_valid_frames": int(per_video["n_valid"][videos].sum()),
        "n_skipped_nmf": int((~ok).sum()),
        "n_missing_frames": n_missing,
        "coverage": float(len(frame_sel) / (len(frame_sel) + n_missing)) if (len(frame_sel) + n_missing)
        else float("nan"),
        "n_tracks": int(per_video["n_tracks"][videos].sum()),
        "n_videos_no_face": int((per_video["coverage"][videos] == 0).sum()),
        "n_wrong_face_frames": int(sum(rg.notes.get("n_wrong_face", {}).get(rg.video_ids[i], 0) for i in videos)),
    }
    out.update(aggregate_stability(per_video, videos))
    out.update(aggregate_nad(per_video, videos))
    return out


def aggregate_nad(per_video: Dict[str, np.ndarray], videos: np.ndarray) -> Dict[str, Any]:
    """``nad_1/4/16`` (×10³, mean over the videos where defined), their skip count and the mean curve.

    The curve runs up to the largest ``m`` every video with NAD(1) defines.
    """
    from wflwv.metrics.nad import BOARD_MS

    out: Dict[str, Any] = {}
    if "nad_curve" not in per_video:
        return out
    for m in BOARD_MS:
        v = per_video[f"nad_{m}"][videos]
        v = v[np.isfinite(v)]
        out[f"nad_{m}"] = 1e3 * float(v.mean()) if len(v) else float("nan")
    curves = per_video["nad_curve"][videos]
    curves = curves[np.isfinite(curves[:, 0])] if len(curves) else curves
    out["n_skipped_nad"] = int(len(videos) - len(curves))
    L = int(np.isfinite(curves).all(axis=0).sum()) if len(curves) else 0
    out["nad_curve"] = [1e3 * float(x) for x in curves[:, :L].mean(axis=0)] if L else []
    return out


def metric_meta() -> Dict[str, Dict[str, Any]]:
    """Id, version, direction, units, normaliser and aggregation of every aggregate column.

    Taken from :mod:`wflwv.metrics.catalog`; FR/AUC are aggregated here over all scored frames of
    the videos (``micro_frame``); the lag-aware GT-free columns are described in docs/gt_free_protocol.md.
    """
    from wflwv.metrics import catalog

    specs = {"video_nme.io": (catalog.VIDEO_NME_IO, None), "video_nme.fs": (catalog.VIDEO_NME_FS, None),
             "nmf": (catalog.NMF, None), "fr@0.10": (catalog.FR_010, "micro_frame"),
             "auc@0.10": (catalog.AUC_010, "micro_frame"), "nad_1": (catalog.NAD_1, None),
             "nad_4": (catalog.NAD_4, None), "nad_16": (catalog.NAD_16, None)}
    out: Dict[str, Dict[str, Any]] = {}
    for key, (spec, agg) in specs.items():
        out[key] = {"id": spec.id, "version": spec.version, "higher_is_better": spec.higher_is_better,
                    "units": spec.units, "normaliser": spec.normaliser, "aggregation": agg or spec.aggregation,
                    "coord_space": "frame_px"}
    from wflwv.metrics.lag_scores import stability_meta

    out.update(stability_meta())
    return out
