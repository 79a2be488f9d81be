"""Common dataset-builder machinery: discover → load annotations → decode → check → write.

A builder subclass provides :meth:`DatasetBuilder.split_generators` (the videos, their subsets and
dataset-level checks) and :meth:`DatasetBuilder.load_annotations` (per-video arrays). ``build()``
decodes each video in a worker process with a timeout, runs the checks of ``docs/datasets.md`` §5, and
writes the index (see :mod:`wflwv.datasets.index`) into a temp folder that replaces ``out_dir`` only
when everything succeeded; an unchanged video (size, mtime, SHA-256) is not decoded again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

from wflwv.datasets import checks
from wflwv.datasets.report import BuildError, Problem, Report, VideoFailed
from wflwv.io.atomic import sha256_file
from wflwv.io.identity import sample_digest

log = logging.getLogger(__name__)
VERIFY_MODES = ("full", "sample", "none")
_RANK = {"none": 0, "sample": 1, "full": 2}


@dataclass
class VideoItem:
    """One video a builder found: ID, subset, absolute and root-relative path, extra columns."""

    video_id: str
    subset: str
    path: Path
    rel_path: str
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Annotations:
    """Per-video annotations (``landmarks`` [T,N,2] as released, ``bbox`` [T,4], stems, flags)."""

    n_frames: Optional[int]
    source_frame: Optional[List[str]] = None
    landmarks: Optional[np.ndarray] = None
    bbox: Optional[np.ndarray] = None
    unreliable: Optional[np.ndarray] = None
    columns: Dict[str, np.ndarray] = field(default_factory=dict)
    digest: str = ""


class DatasetBuilder:
    """Base class of the WFLW-V, 300-VW and YTC builders (``VERSION``, ``name``, ``build``)."""

    name = ""
    VERSION = "1.0.0"
    landmark_scheme: Optional[str] = None
    num_landmarks = 0
    coord_base = 0
    has_gt = True
    #: Data-card template path (relative: beside the builder's module); None → see datasets.cards.
    card_template: Optional[str] = None

    def __init__(self, root, *, verify_decode: str = "full", on_error: str = "raise",
                 backend: str = "auto", progress: bool = True, timeout_s: Optional[float] = 600.0,
                 outside_tol: float = 0.05, outside_max_frac: float = 0.5, sample_every: int = 25,
                 video_ids: Optional[List[str]] = None, outside_margin: float = 1.0):
        from wflwv.io.video import resolve_backend

        if verify_decode not in VERIFY_MODES:
            raise ValueError(f"verify_decode must be one of {VERIFY_MODES}, got {verify_decode!r}")
        self.root = Path(root).resolve()
        if not self.root.is_dir():
            raise BuildError(f"{self.name} release root {self.root} is not a folder; pass --root DIR "
                             f"pointing at the unpacked release ({self.layout_hint()})")
        self.verify_decode = verify_decode
        self.on_error = on_error
        self.backend = resolve_backend(backend)
        self.progress = progress
        self.timeout_s = timeout_s
        self.outside_tol = float(outside_tol)
        self.outside_max_frac = float(outside_max_frac)
        if not outside_margin >= 0:
            raise ValueError(f"--landmark-margin must be >= 0 face sizes, got {outside_margin!r}")
        self.outside_margin = float(outside_margin)
        self.sample_every = int(sample_every)
        self.video_ids = list(video_ids) if video_ids else None
        self.report = Report(on_error)
        self.stats: Dict[str, int] = {}

    # ---- subclass hooks ------------------------------------------------------------------------
    def layout_hint(self) -> str:
        """One line describing the expected release layout (used in error messages)."""
        return ""

    def split_generators(self) -> List[VideoItem]:
        """Videos of the release with their subsets; record dataset-level problems in ``self.report``."""
        raise NotImplementedError

    def load_annotations(self, item: VideoItem) -> Annotations:
        """Annotations of one video; raise :class:`VideoFailed` for a bad file."""
        raise NotImplementedError

    def info_extra(self) -> Dict[str, Any]:
        """Extra keys for ``dataset_info.json`` (split-list hashes, sources)."""
        return {}

    def post_checks(self, records: List[Dict[str, Any]]) -> None:
        """Dataset-level checks after every video was processed (e.g. split totals)."""

    def fail(self, check: str, message: str, item: Optional[VideoItem] = None, **where) -> None:
        """Fail the current video with a named problem."""
        raise VideoFailed(Problem("error", check, message, video_id=item.video_id if item else "",
                                  **where))

    # ---- build ---------------------------------------------------------------------------------
    def build(self, out_dir) -> "Any":
        """Validate and index the release into ``out_dir`` atomically; return the opened Index."""
        from wflwv.datasets import writer
        from wflwv.datasets.index import load_index
        from wflwv.io.atomic import atomic_dir

        out_dir = Path(out_dir).resolve()
        items = self.split_generators()
        items = self._dedupe(items)
        if self.video_ids is not None:
            known = {it.video_id for it in items}
            unknown = [v for v in self.video_ids if v not in known]
            if unknown:
                self.report.error("unknown_id", f"requested --video-id {unknown} not in the {self.name} "
                                  f"release at {self.root}", fatal=True)
            items = [it for it in items if it.video_id in set(self.video_ids)]
        previous = writer.load_previous(out_dir, self)
        self.stats = {"decoded": 0, "reused": 0, "failed": 0}
        records: List[Dict[str, Any]] = []
        worker = None
        if self.verify_decode != "none" and self.timeout_s is not None:
            from wflwv.io.worker import DecodeWorker

            worker = DecodeWorker(self.timeout_s)
        try:
            for item in _progress(items, self.progress, f"build {self.name}"):
                records.append(self._one(item, previous, worker))
        finally:
            if worker is not None:
                worker.close()
        self.post_checks(records)
        keep = writer.nested_root(self.root, out_dir)   # e.g. INDEX_DIR/release/ (synthetic builds)
        with atomic_dir(out_dir) as tmp:
            writer.write_index(tmp, self, records, out_dir)
            if keep is not None:      # last step: the release moves into the folder that replaces out_dir
                os.replace(keep, tmp / keep.name)
        return load_index(out_dir)

    def _dedupe(self, items: List[VideoItem]) -> List[VideoItem]:
        seen: Dict[str, VideoItem] = {}
        out = []
        for it in items:
            if it.video_id in seen:
                self.report.error("duplicate_id", f"video ID {it.video_id!r} appears twice ({seen[it.video_id].rel_path} "
                                  f"and {it.rel_path}); remove the duplicate", video_id=it.video_id,
                                  file=it.rel_path)
                continue
            seen[it.video_id] = it
            out.append(it)
        return out

    def _one(self, item: VideoItem, previous, worker) -> Dict[str, Any]:
        rec: Dict[str, Any] = {"item": item, "status": "ok", "ann": None, "scan": None}
        try:
            if not item.path.is_file():
                self.fail("missing_file", f"{self.name}: video file {item.path} is missing for ID "
                          f"{item.video_id!r}; restore it or remove the ID", item, file=item.rel_path)
            st = item.path.stat()
            rec["size_bytes"], rec["mtime_ns"] = int(st.st_size), int(st.st_mtime_ns)
            rec["sha256"] = sha256_file(item.path)
            rec["sample_sha256"] = sample_digest(item.path)
            ann = self.load_annotations(item)
            rec["ann"] = ann
            rec["scan"] = self._scan(item, rec, previous, worker)
            self._check(item, ann, rec)
        except VideoFailed as vf:
            p = vf.problem
            self.report.problems.append(p)
            if self.on_error == "raise":
                raise BuildError(p.message, [p]) from None
            rec["status"] = f"failed: {p.check}"
            self.stats["failed"] += 1
        return rec

    def _scan(self, item: VideoItem, rec, previous, worker) -> Dict[str, Any]:
        from wflwv.io import video

        old = previous.get(item.video_id) if previous else None
        if (old is not None and old["size_bytes"] == rec["size_bytes"] and old["mtime_ns"] == rec["mtime_ns"]
                and old["sha256"] == rec["sha256"] and old["backend"] == self.backend
                and _RANK[old["verify_decode"]] >= _RANK[self.verify_decode]):
            self.stats["reused"] += 1
            return old["scan"]
        if self.verify_decode == "none":
            try:
                info = video.probe(item.path)
            except video.VideoError as exc:
                self.fail("decode", str(exc), item, file=item.rel_path)
            return {"n_frames": None, "width": info.width, "height": info.height, "fps": info.fps,
                    "n_frames_container": info.n_frames_container, "times": None, "hashes": None,
                    "backend": "none", "backend_version": ""}
        try:
            if worker is not None:
                scan = worker.call(video.scan_video, str(item.path), self.backend, self.verify_decode,
                                   self.sample_every, what=str(item.path))
            else:
                scan = video.scan_video(item.path, self.backend, self.verify_decode, self.sample_every)
        except Exception as exc:  # decoder errors, timeouts, worker crashes
            self.fail("decode", f"{item.rel_path}: {exc}", item, file=item.rel_path)
        self.stats["decoded"] += 1
        return dict(scan, verify_decode=self.verify_decode)

    def _check(self, item: VideoItem, ann: Annotations, rec: Dict[str, Any]) -> None:
        scan = rec["scan"]
        W, H = scan["width"], scan["height"]
        n_dec = scan["n_frames"]
        if ann.n_frames is not None and n_dec is not None and n_dec != ann.n_frames:
            self.fail("frame_count", f"{item.rel_path}: {n_dec} frames decode ({scan['backend']}) but "
                      f"the annotations have {ann.n_frames} (container says {scan['n_frames_container']}); "
                      f"the video and its annotations do not belong together", item, file=item.rel_path)
        self._check_decode(item, ann, rec)
        if ann.landmarks is not None:
            lmk = ann.landmarks
            bad = ~np.isfinite(lmk).all(axis=(1, 2))
            if bad.any():
                self.fail("landmarks_nonfinite", f"{item.video_id}: landmarks of frame {int(np.argmax(bad))} "
                          f"are not finite", item, frame=int(np.argmax(bad)))
            out = checks.outside_distance(lmk - self.coord_base, W, H)
            rec["outside_px"] = out.astype(np.float32)
            face = checks.face_size(lmk)
            far = out > self.outside_margin * face
            if far.any():
                f = int(np.argmax(out))
                self.fail("landmarks_outside", f"{item.video_id}: a landmark of frame {f} lies {out[f]:.1f} px outside "
                          f"the {W}x{H} frame, more than the margin of {self.outside_margin:g} face size(s) "
                          f"({self.outside_margin * face:.1f} px; {int(far.sum())} such frames). Fix the annotation "
                          f"file of that frame, or widen --landmark-margin", item, frame=f)
            clearly = out > self.outside_tol * max(W, H)
            if clearly.mean() > self.outside_max_frac:
                self.fail("landmarks_outside", f"{item.video_id}: landmarks lie clearly outside the "
                          f"{W}x{H} frame in {int(clearly.sum())} of {len(out)} frames (max {out.max():.1f} px); "
                          f"the video was probably re-encoded at another resolution", item,
                          frame=int(np.argmax(clearly)))
            if clearly.any():
                self.report.warn("landmarks_outside", f"{item.video_id}: {int(clearly.sum())} frames have "
                                 f"landmarks outside the frame (max {out.max():.1f} px; faces cut by the edge)",
                                 video_id=item.video_id, frame=int(np.argmax(clearly)))
        if ann.bbox is not None:
            badb = checks.bad_boxes(ann.bbox - self.coord_base, W, H)
            if badb.any():
                f = int(np.argmax(badb))
                self.fail("bbox", f"{item.video_id}: box of frame {f} {ann.bbox[f].tolist()} is not a sane "
                          f"x1 y1 x2 y2 box inside the {W}x{H} frame ({int(badb.sum())} bad frames)",
                          item, frame=f)

    def _check_decode(self, item: VideoItem, ann: Annotations, rec: Dict[str, Any]) -> None:
        """Container frame count vs decoded count, and decoder error messages.

        Where per-frame annotations (landmarks or boxes) must align with the decoded frames,
        decoder errors fail the video; elsewhere (unlabelled clips) both are recorded as a warning
        and in the ``decode_status`` column.
        """
        scan = rec["scan"]
        n_dec, n_box = scan.get("n_frames"), scan.get("n_frames_container")
        n_msg = int(scan.get("n_decoder_messages") or 0)
        first = (scan.get("decoder_messages") or [""])[0]
        status = []
        if n_dec is not None and n_box and n_box > 0 and n_box != n_dec:
            status.append("container_count")
            self.report.warn("container_count", f"{item.rel_path}: the container says {n_box} frames but {n_dec} "
                             f"decode; only decoded frames are indexed (re-download the file if it was cut short)",
                             video_id=item.video_id, file=item.rel_path)
        if n_msg:
            status.append("decoder_errors")
            if ann.landmarks is not None or ann.bbox is not None:
                self.fail("decoder_errors", f"{item.rel_path}: the decoder reported {n_msg} error(s) (first: "
                          f"{first!r}); frames may be damaged where annotations must match them: re-download "
                          f"or re-extract the file", item, file=item.rel_path)
            self.report.warn("decoder_errors", f"{item.rel_path}: the decoder reported {n_msg} error(s) (first: "
                             f"{first!r}); the clip is indexed as decoded (re-download it to be sure)",
                             video_id=item.video_id, file=item.rel_path)
        rec["decode_status"] = "+".join(status) or "clean"
        rec["decoder_message"] = first

    def fingerprint(self, records: List[Dict[str, Any]]) -> str:
        """SHA-256 over builder version, options, extra info and each video's file and annotation digests."""
        h = hashlib.sha256()
        h.update(json.dumps({"dataset": self.name, "version": self.VERSION, "extra": self.info_extra()},
                            sort_keys=True, default=str).encode())
        for r in records:
            ann = r["ann"]
            h.update(f"{r['item'].video_id}|{r.get('sha256', '')}|{ann.digest if ann else ''}\n".encode())
        return h.hexdigest()


def digest_arrays(*arrays: Any) -> str:
    """SHA-256 of the bytes of the given arrays / strings (annotation fingerprint)."""
    h = hashlib.sha256()
    for a in arrays:
        if a is None:
            h.update(b"\0none")
        elif isinstance(a, np.ndarray):
            h.update(str(a.dtype).encode() + str(a.shape).encode())
            h.update(np.ascontiguousarray(a).tobytes())
        else:
            h.update(str(a).encode())
    return h.hexdigest()


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=desc, unit="video", disable=not enabled or os.environ.get("WFLWV_NO_TQDM") == "1")
