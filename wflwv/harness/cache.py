"""Run directories: the prediction cache, resume, and the record format of every run file.

A run directory lives in ``RUNS_DIR/<dataset>-<model>-<key12>`` where ``key`` is the SHA-256 of
the **cache key fields** (detector name + resolved options, weights SHA-256, crop protocol, box
source, landmark scheme, index fingerprint, run format)::

    config.json            the key fields, the full detector cfg and the index SHA (written once)
    shards/<video>.parquet raw predictions of one video, committed atomically when it finishes,
                           with the box source's track (box, track_id, cut per frame)
    failed/<video>.json    why a video failed (decode, box source, detector); retried on rerun
    predictions.parquet    all cached videos: video_id, frame_index, landmarks (float32 list, x y)
    frame_errors.parquet   per (filter, video, frame) errors        } rewritten by every
    video_metrics.parquet  per (filter, video) metrics              } evaluate call, from
    summary.json / .md     provenance + per subset x filter metrics  } the cache alone

A rerun of the same configuration skips videos whose shard exists (resume after a kill). A
directory whose recorded configuration does not hash to its key, or whose index SHA differs
from the index being evaluated (the index was rebuilt), raises :class:`RunDirError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from wflwv.harness.runlock import RunLock
from wflwv.io.atomic import _UMASK as atomic_umask, atomic_write_json, atomic_write_parquet
from wflwv.io.errors import UnreadableFile, read_json

RUN_FORMAT = 1
KEY_FIELDS = ("run_format", "dataset", "index_fingerprint", "index_content_sha", "detector", "detector_options",
              "weights_sha256", "crop_protocol", "box_source", "landmark_scheme", "device_type",
              "dtype")


class RunDirError(ValueError):
    """A run directory that is inconsistent with its key or with the index being evaluated."""


class CorruptShard(RunDirError):
    """A cached shard that cannot be read; it has been removed and will be predicted again."""


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _sha_path(shard: Path) -> Path:
    return Path(shard).with_suffix(".sha256")


def _record_sha(shard: Path) -> None:
    """Write ``<shard>.sha256`` (atomic); a failure only costs a full read at the next check."""
    from wflwv.io.atomic import atomic_write_text, sha256_file

    atomic_write_text(_sha_path(shard), sha256_file(shard) + "\n")


def cache_key(fields: Dict[str, Any]) -> str:
    """Full hex SHA-256 over the canonical JSON of the :data:`KEY_FIELDS` of ``fields``."""
    missing = [k for k in KEY_FIELDS if k not in fields]
    if missing:
        raise RunDirError(f"cache key fields missing: {missing}")
    blob = json.dumps({k: fields[k] for k in KEY_FIELDS}, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")[:60] or "x"


def run_name(fields: Dict[str, Any]) -> str:
    """Directory name ``<dataset>-<detector>-<key[:12]>`` for the key ``fields``."""
    return f"{_slug(str(fields['dataset']))}-{_slug(str(fields['detector']))}-{cache_key(fields)[:12]}"


def index_sha(index_dir: Path) -> str:
    """The ``index_content_sha`` recorded in an index's ``dataset_info.json``.

    Content only (see :mod:`wflwv.datasets.integrity`): a rebuild of the same release with the
    same seed gives the same value. Callers open the index with ``load_index`` first, which checks
    the files against it.
    """
    from wflwv.datasets.index import load_index

    return load_index(index_dir, verify=False).content_sha


def shard_file_name(video_id: str) -> str:
    """A file-system-safe, collision-free file name for one video's shard."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", video_id)
    if safe != video_id or safe.startswith("."):
        safe = f"{safe}-{hashlib.sha256(video_id.encode()).hexdigest()[:8]}"
    return safe + ".parquet"


def predictions_table(video_ids: List[str], frame_index: List[np.ndarray], landmarks: List[np.ndarray],
                      tracks: Optional[List[Any]] = None):
    """A pyarrow table (video_id, frame_index, landmarks float32[2N]) for ragged predictions.

    With ``tracks`` (:class:`wflwv.boxes.TrackRecord` per video) it also holds ``box`` (float32[4],
    NaN = no face), ``track_id`` (int32, -1 = no face), ``cut`` (bool) and ``box_kind`` (how the box
    was obtained: dataset, gt, frame, detect, roi, track, none) per frame.
    """
    import pyarrow as pa

    if not landmarks:
        return pa.table({"video_id": pa.array([], pa.string()), "frame_index": pa.array([], pa.int32()),
                         "landmarks": pa.array([], pa.list_(pa.float32()))})
    n2 = int(landmarks[0].shape[1] * 2)
    vid = np.concatenate([np.full(len(lm), v, dtype=object) for v, lm in zip(video_ids, landmarks)])
    fi = np.concatenate(frame_index).astype(np.int32)
    flat = np.concatenate([lm.reshape(len(lm), -1) for lm in landmarks]).astype(np.float32)
    lm_arr = pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), n2)
    cols = {"video_id": pa.array(vid, pa.string()), "frame_index": pa.array(fi), "landmarks": lm_arr}
    if tracks is not None:
        boxes = np.concatenate([np.asarray(t.boxes, np.float32).reshape(-1) for t in tracks])
        cols["box"] = pa.FixedSizeListArray.from_arrays(pa.array(boxes), 4)
        cols["track_id"] = pa.array(np.concatenate([t.track_id for t in tracks]).astype(np.int32))
        cols["cut"] = pa.array(np.concatenate([t.cut for t in tracks]).astype(bool))
        cols["box_kind"] = pa.array(np.concatenate([t.kinds() for t in tracks]).astype(str).tolist(), pa.string())
    return pa.table(cols)


def read_tracks(path: Path) -> Dict[str, Any]:
    """``{video_id: TrackRecord}`` from a shard/predictions file (empty when it has no track columns)."""
    import pyarrow.parquet as pq

    from wflwv.boxes.base import TrackRecord

    table = pq.read_table(path)
    if "track_id" not in table.column_names or table.num_rows == 0:
        return {}
    vids = table.column("video_id").to_numpy(zero_copy_only=False)
    box = table.column("box").combine_chunks().values.to_numpy(zero_copy_only=False).astype(np.float64)
    box = box.reshape(-1, 4)
    tid = table.column("track_id").to_numpy().astype(np.int32)
    cut = table.column("cut").to_numpy(zero_copy_only=False).astype(bool)
    kind = (np.asarray(table.column("box_kind").to_pylist(), dtype="U7") if "box_kind" in table.column_names
            else None)
    out: Dict[str, Any] = {}
    change = np.flatnonzero(vids[1:] != vids[:-1]) + 1
    for a, b in zip(np.concatenate([[0], change]), np.concatenate([change, [len(vids)]])):
        out[str(vids[a])] = TrackRecord(box[a:b], tid[a:b], cut[a:b], None if kind is None else kind[a:b])
    return out


def read_predictions(path: Path) -> Dict[str, np.ndarray]:
    """``{video_id: [T, N, 2] float64}`` from a predictions Parquet file (frames in file order)."""
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    if table.num_rows == 0:
        return {}
    col = table.column("landmarks").combine_chunks()
    n2 = col.type.list_size
    flat = col.values.to_numpy(zero_copy_only=False).astype(np.float64).reshape(-1, n2 // 2, 2)
    vids = table.column("video_id").to_numpy(zero_copy_only=False)
    out: Dict[str, np.ndarray] = {}
    change = np.flatnonzero(vids[1:] != vids[:-1]) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [len(vids)]])
    for s, e in zip(starts, ends):
        out[str(vids[s])] = flat[s:e]
    return out


class RunDir:
    """One run directory: open (checking it) or create, commit videos, read the cache."""

    def __init__(self, path: Path, config: Dict[str, Any], lock: "RunLock | None" = None):
        self.path = Path(path)
        self.config = config
        self.lock = lock

    def close(self) -> None:
        """Release the writer lock (also released when the process ends)."""
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    @property
    def key(self) -> str:
        """The full cache key of this run."""
        return self.config["key"]

    @classmethod
    def open(cls, runs_dir, fields: Dict[str, Any], extra: Dict[str, Any]) -> "RunDir":
        """Open ``runs_dir/<run_name>`` for ``fields`` (creating it); ``extra`` must match if present.

        ``extra`` holds facts that are not part of the key but must not change under a cached run
        (``index_sha``); a mismatch raises :class:`RunDirError` before anything is written.
        """
        key = cache_key(fields)
        path = Path(runs_dir) / run_name(fields)
        cfg_path = path / "config.json"
        lock = RunLock.acquire(path)      # one writer per run directory (waits, then refuses)
        try:
            return cls._open_locked(path, cfg_path, key, fields, extra, lock)
        except BaseException:
            lock.release()
            raise

    @classmethod
    def _open_locked(cls, path: Path, cfg_path: Path, key: str, fields: Dict[str, Any],
                     extra: Dict[str, Any], lock: RunLock) -> "RunDir":
        if cfg_path.is_file():
            run = cls.load(path)
            run.lock = lock
            stored = run.config
            if stored.get("key") != key:
                raise RunDirError(f"run directory {path} was recorded for another configuration "
                                  f"(key {str(stored.get('key'))[:12]} != {key[:12]}); delete it or use "
                                  f"another --out")
            for name, value in extra.items():
                if stored.get(name) != value:
                    raise RunDirError(
                        f"run directory {path} recorded {name}={stored.get(name)!r} but the current "
                        f"value is {value!r}: the index was rebuilt since these predictions were "
                        f"cached. Delete {path} (or use another --out) to re-run from scratch.")
            return run
        config = {"run_format": RUN_FORMAT, "key": key, "key_fields": {k: fields[k] for k in KEY_FIELDS}}
        config.update(extra)
        (path / "shards").mkdir(parents=True, exist_ok=True)
        atomic_write_json(cfg_path, config)
        run = cls(path, config, lock)
        run.fresh = True
        return run

    fresh = False   # created by this process (removed again by :meth:`abandon` if nothing was committed)

    def abandon(self) -> None:
        """After a failed call: remove a run directory this process created if no video was committed."""
        import shutil

        shards = self.path / "shards"
        if self.fresh and not any(shards.glob("*.parquet")):
            self.close()
            shutil.rmtree(self.path, ignore_errors=True)
        else:
            self.close()

    def merged_filters(self, filters: List[Any], specs: Iterable[str]) -> List[Any]:
        """Filters of earlier calls of this run (``filters.json``) plus ``filters``, each id once.

        Scores of every filter set asked for on this run directory are written together, so a
        second ``evaluate`` with another ``--filter`` set never drops the first one's rows.
        """
        import sys

        from wflwv.filters import create

        out, have = [], set()
        for spec in self.filter_specs():
            try:
                f = create(spec)
            except (KeyError, ValueError) as exc:
                print(f"wflwv: filter {spec!r} recorded in {self.path / 'filters.json'} is no longer known "
                      f"({exc}); its scores are dropped from this run", file=sys.stderr)
                continue
            if f.id not in have:
                out.append(f)
                have.add(f.id)
        for f in filters:
            if f.id not in have:
                out.append(f)
                have.add(f.id)
        self.record_filter_specs(specs)
        return out

    @classmethod
    def load(cls, path) -> "RunDir":
        """Open an existing run directory and verify that its config hashes to its recorded key."""
        path = Path(path)
        cfg_path = path / "config.json"
        if not cfg_path.is_file():
            raise RunDirError(f"{path} is not a wflwv run directory (no config.json)")
        try:
            config = read_json(cfg_path, f"the run directory is damaged: delete {path} and re-run `wflwv evaluate`")
        except UnreadableFile as exc:
            raise RunDirError(f"run file {exc}") from None
        fmt = int(config.get("run_format", 0))
        if fmt > RUN_FORMAT:
            raise RunDirError(f"run {path} has format {fmt}, newer than this wflwv reads ({RUN_FORMAT}); "
                              f"upgrade wflwv")
        fields = config.get("key_fields", {})
        if "key" not in config or cache_key(fields) != config["key"] or \
                not path.name.endswith(config["key"][:12]):
            raise RunDirError(f"run directory {path}: its recorded configuration does not match its key "
                              f"(config.json edited or the directory renamed); delete it and re-run")
        return cls(path, config)

    # ---- the prediction cache -------------------------------------------------------------------
    def shard_path(self, video_id: str) -> Path:
        """Shard file of ``video_id``."""
        return self.path / "shards" / shard_file_name(video_id)

    def done(self, video_ids: Iterable[str]) -> List[str]:
        """The subset of ``video_ids`` whose predictions are committed and readable.

        Each shard is read once per process (a damaged Parquet page fails to decode); one that is
        corrupt is reported on stderr and removed, so its video is predicted again instead of
        blocking every rerun.
        """
        out = []
        for v in video_ids:
            p = self.shard_path(v)
            if p.is_file() and (v in self._valid or self._shard_ok(p, v)):
                out.append(v)
        return out

    @property
    def _valid(self) -> set:
        if "_valid_set" not in self.__dict__:
            self.__dict__["_valid_set"] = set()
        return self.__dict__["_valid_set"]

    def _shard_ok(self, p: Path, v: str) -> bool:
        """Check a shard: its SHA-256 against the one recorded at commit (cheap), else a full read."""
        import sys

        import pyarrow.parquet as pq

        from wflwv.io.atomic import sha256_file

        sha = _sha_path(p)
        try:
            if sha.is_file():
                if sha256_file(p) != sha.read_text().strip():
                    raise ValueError("its SHA-256 differs from the one recorded when it was written")
            else:   # written by an older wflwv, or killed between the two writes: read it all once
                table = pq.ParquetFile(p).read()
                ids = table.column("video_id").unique().to_pylist()
                if ids != [v]:
                    raise ValueError(f"it holds video(s) {ids[:3]} instead of {v!r}")
                _record_sha(p)
            self._valid.add(v)
            return True
        except (OSError, ValueError, KeyError) as exc:
            self.drop_shard(p, exc)
            print(f"wflwv: cached shard {p} is corrupt ({_first_line(exc)}); removed, its video will be "
                  f"predicted again", file=sys.stderr)
            return False

    def drop_shard(self, p: Path, exc: BaseException) -> None:
        """Remove a damaged shard file and its recorded hash (best effort)."""
        import contextlib
        import os

        for q in (p, _sha_path(p)):
            with contextlib.suppress(OSError):
                os.unlink(q)

    def _read_shard(self, p: Path, v: str) -> Dict[str, np.ndarray]:
        try:
            return read_predictions(p)
        except (OSError, ValueError) as exc:
            self.drop_shard(p, exc)
            raise CorruptShard(f"cached shard {p} of video {v!r} is corrupt ({_first_line(exc)}); it was removed: "
                               f"run the same command again to predict that video anew") from None

    # ---- filter sets ------------------------------------------------------------------------------
    def filter_specs(self) -> List[str]:
        """Filter specs scored by earlier evaluate calls of this run (``filters.json``), oldest first."""
        p = self.path / "filters.json"
        if not p.is_file():
            return []
        try:
            data = json.loads(p.read_text())
            return [str(s) for s in data["specs"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise RunDirError(f"run file {p} is not valid ({exc}); delete it (the run's filters are then "
                              f"only those of this call)") from None

    def record_filter_specs(self, specs: Iterable[str]) -> List[str]:
        """Union of the recorded specs and ``specs`` (order kept), written to ``filters.json``."""
        merged: List[str] = []
        for s in [*self.filter_specs(), *specs]:
            if s not in merged:
                merged.append(s)
        atomic_write_json(self.path / "filters.json", {"specs": merged})
        return merged

    def commit_video(self, video_id: str, frame_index: np.ndarray, landmarks: np.ndarray,
                     track: Any = None) -> None:
        """Write one finished video's predictions (and box track) atomically (the unit of resume)."""
        p = atomic_write_parquet(self.shard_path(video_id),
                                 predictions_table([video_id], [frame_index], [landmarks],
                                                   None if track is None else [track]))
        _record_sha(p)          # lets later runs validate the shard without decoding it
        fail = self.failure_path(video_id)
        if fail.exists():
            fail.unlink()

    def failure_path(self, video_id: str) -> Path:
        """``failed/<video>.json`` of ``video_id``."""
        return self.path / "failed" / (shard_file_name(video_id)[:-len(".parquet")] + ".json")

    def commit_failure(self, video_id: str, reason: str) -> None:
        """Record (atomically) that ``video_id`` failed and why; a rerun tries it again."""
        atomic_write_json(self.failure_path(video_id), {"video_id": video_id, "reason": reason})

    def failures(self, video_ids: Iterable[str]) -> Dict[str, str]:
        """``{video_id: reason}`` for the videos of ``video_ids`` that failed and are not cached."""
        out = {}
        for v in video_ids:
            p = self.failure_path(v)
            if p.is_file() and not self.shard_path(v).is_file():
                out[v] = json.loads(p.read_text()).get("reason", "unknown")
        return out

    def load_tracks(self, video_ids: Iterable[str]) -> Dict[str, Any]:
        """``{video_id: TrackRecord}`` for cached videos whose shards hold a track (newer runs)."""
        out: Dict[str, Any] = {}
        for v in video_ids:
            out.update(read_tracks(self.shard_path(v)))
        return out

    def load_videos(self, video_ids: Iterable[str]) -> Dict[str, np.ndarray]:
        """``{video_id: [T, N, 2]}`` for cached ``video_ids``, read from their shards."""
        out: Dict[str, np.ndarray] = {}
        for v in video_ids:
            p = self.shard_path(v)
            if not p.is_file():
                raise RunDirError(f"video {v!r} has no cached predictions in {self.path}; run `wflwv evaluate`")
            got = self._read_shard(p, v)
            if list(got) != [v]:
                raise RunDirError(f"shard {p} holds {list(got)} instead of video {v!r}; delete it and re-run")
            out[v] = got[v]
        return out

    def cached_video_ids(self) -> List[str]:
        """IDs of every video with a committed shard (sorted by shard file name)."""
        import pyarrow.parquet as pq

        ids = []
        for p in sorted((self.path / "shards").glob("*.parquet")):
            col = pq.read_table(p, columns=["video_id"]).column("video_id")
            if len(col):
                ids.append(str(col[0].as_py()))
        return ids

    def write_merged(self, order: List[str]) -> int:
        """Stream every shard of ``order`` into predictions.parquet (atomic); returns the row count.

        Memory stays at one shard at a time, whatever the number of videos.
        """
        import contextlib
        import os
        import tempfile

        import pyarrow.parquet as pq

        target = self.path / "predictions.parquet"
        fd, tmp = tempfile.mkstemp(prefix=".tmp-predictions.parquet-", dir=str(self.path))
        os.close(fd)
        rows, writer = 0, None
        try:
            for v in order:
                try:
                    table = pq.read_table(self.shard_path(v))
                except (OSError, ValueError) as exc:
                    self.drop_shard(self.shard_path(v), exc)
                    raise CorruptShard(f"cached shard {self.shard_path(v)} of video {v!r} is corrupt "
                                       f"({_first_line(exc)}); it was removed: run the same command again "
                                       f"to predict that video anew") from None
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema)
                elif not table.schema.equals(writer.schema):
                    raise RunDirError(f"shard of video {v!r} has schema {table.schema}, unlike the others; "
                                      f"delete {self.path} and re-run")
                writer.write_table(table)
                rows += table.num_rows
            if writer is None:
                writer = pq.ParquetWriter(tmp, predictions_table([], [], []).schema)
            writer.close()
            writer = None
            os.chmod(tmp, 0o666 & ~atomic_umask)
            os.replace(tmp, target)
        except BaseException:
            if writer is not None:
                writer.close()
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return rows
