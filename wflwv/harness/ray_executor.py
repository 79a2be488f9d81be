"""Ray executor: video shards over a pool of long-lived Ray actors (``--executor ray``).

Each actor is one worker process that keeps its detector between shards (the per-process
caches of :mod:`wflwv.harness.shard`), decodes its own videos and **commits every finished video
itself** into the run directory, exactly as a local worker does (atomic temp + rename, one file
per video). The run directory, the index and the videos must therefore be on storage that every
node sees at the same path (on one machine, that is any local folder); an actor that cannot see
the run directory stops the run with an error naming the path. Only small counters travel back
through Ray; frames and landmarks never cross the object store.

Torch detectors on CPU: each worker runs torch with the driver's intra-op thread count, because
float32 results change with it; that keeps predictions byte-identical to an in-process run
(at the price of oversubscribing cores when several workers share a node).

Failures: when a worker process or its node dies (or Ray's memory monitor kills it), its shard is resubmitted to a fresh actor
(``max_retries`` times per shard). The retry first drops the videos the dead worker had already
committed, so each finished video is committed once; a video that was in flight is recomputed
from scratch (its temp file, if any, is never published). Errors raised by the work itself (bad
input) are not retried: they propagate to the caller with their own message.

See docs/cluster.md ("Running on a cluster") for cluster set-up.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import sys
import time
from collections import deque
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from wflwv.harness.executor_base import Executor

INSTALL_HINT = "Ray is not installed: pip install 'wflwv[ray]' (or pip install 'ray>=2.9,<3')"


def import_ray():
    """``import ray`` with a one-line install hint instead of a traceback."""
    try:
        import ray
    except ImportError:
        raise ImportError(INSTALL_HINT) from None
    return ray


def _remaining(spec: Any) -> Any:
    """``spec`` without the videos already committed to its run directory (retries, resume)."""
    from wflwv.harness.cache import RunDir

    run_dir = getattr(spec, "run_dir", None)
    if run_dir is None or not hasattr(spec, "video_ids"):
        return spec
    if not os.path.isfile(os.path.join(run_dir, "config.json")):
        raise FileNotFoundError(
            f"worker on {socket.gethostname()} cannot see the run directory {run_dir}: with "
            f"--executor ray, --out, the index and the videos must be on storage shared by every node "
            f"(same path everywhere)")
    done = set(RunDir.load(run_dir).done(spec.video_ids))
    if not done:
        return spec
    return dataclasses.replace(spec, video_ids=tuple(v for v in spec.video_ids if v not in done))


class _ShardWorker:
    """Actor body: runs shard functions in one long-lived process (detector built once)."""

    def __init__(self, torch_threads: Optional[int] = None) -> None:
        os.environ.setdefault("WFLWV_NO_TQDM", "1")
        self.host = socket.gethostname()
        if torch_threads:
            # float32 CPU results depend on the intra-op thread count: use the driver's, so the
            # predictions are byte-identical to an in-process run (Ray would default to num_cpus)
            import torch

            torch.set_num_threads(int(torch_threads))

    def pid(self) -> int:
        """Process id of this worker (tests kill it; the summary names workers by host:pid)."""
        return os.getpid()

    def run(self, fn: Callable[[Any], Any], spec: Any) -> Dict[str, Any]:
        """``fn(spec)`` on the not-yet-committed part of ``spec``; tagged with this worker."""
        t0 = time.perf_counter()
        todo = _remaining(spec)
        n_ids = len(getattr(todo, "video_ids", ()) or ())
        if hasattr(todo, "video_ids") and n_ids == 0:
            res: Dict[str, Any] = {"videos": 0, "frames": 0}
        else:
            res = dict(fn(todo))
        skipped = len(getattr(spec, "video_ids", ())) - n_ids if hasattr(spec, "video_ids") else 0
        res["worker"] = f"{self.host}:{os.getpid()}"
        res["worker_s"] = time.perf_counter() - t0
        res["skipped_committed"] = skipped
        return res


class RayExecutor(Executor):
    """Shards over ``workers`` Ray actors (local instance, or a cluster at ``address``).

    ``address=None`` starts a private local Ray instance sized to this machine (unless Ray is
    already initialised in this process, which is then used as is); ``"auto"`` or ``HOST:PORT``
    joins a running cluster. ``workers=None`` means one worker per CPU (or per
    ``gpus_per_worker`` GPUs) of the cluster. Actors live for one :meth:`map`; a local instance
    this executor started lives until :meth:`close` (or the ``with`` block) ends.
    """

    def __init__(self, workers: Optional[int] = None, address: Optional[str] = None,
                 cpus_per_worker: float = 1.0, gpus_per_worker: float = 0.0, max_retries: int = 3,
                 init_kwargs: Optional[Dict[str, Any]] = None):
        if workers is not None and workers < 1:
            raise ValueError(f"--jobs must be >= 1 with --executor ray, got {workers}")
        if cpus_per_worker < 0 or gpus_per_worker < 0:
            raise ValueError("--cpus-per-worker and --gpus-per-worker must be >= 0")
        self.requested = workers
        self._workers = workers              # None: sized from the cluster on first use
        self.address = address
        self.cpus_per_worker = float(cpus_per_worker)
        self.gpus_per_worker = float(gpus_per_worker)
        self.max_retries = int(max_retries)
        self.init_kwargs = dict(init_kwargs or {})
        self.in_process = False
        self.retries = 0
        self.worker_stats: Dict[str, Dict[str, float]] = {}
        self.cluster: Dict[str, Any] = {}
        self.actors: List[Any] = []
        self.torch_threads: Optional[int] = None
        self._started = False

    @property
    def workers(self) -> int:  # type: ignore[override]
        """Worker count; with ``workers=None`` this joins/starts Ray to read the cluster's size."""
        if self._workers is None:
            self._size(self._connect())
        return int(self._workers)

    # ---- cluster --------------------------------------------------------------------------------
    def _connect(self):
        ray = import_ray()
        if ray.is_initialized():
            return ray
        kw = {"include_dashboard": False, "log_to_driver": True, "configure_logging": True,
              "logging_level": "warning"}
        kw.update(self.init_kwargs)
        try:
            if self.address:
                ray.init(address=self.address, **kw)
            else:
                ray.init(**kw)
        except ConnectionError as exc:
            raise RuntimeError(f"cannot join the Ray cluster at {self.address!r}: {exc}. Start it with "
                               f"`ray start --head` (see docs/cluster.md) or drop --ray-address") from None
        self._started = True
        return ray

    def _size(self, ray) -> None:
        res = ray.cluster_resources()
        cpus, gpus = float(res.get("CPU", 0)), float(res.get("GPU", 0))
        self.cluster = {"nodes": len([n for n in ray.nodes() if n.get("Alive")]), "cpus": cpus, "gpus": gpus,
                        "address": self.address or "local", "ray_version": ray.__version__}
        if self.requested is None:
            fits = [cpus / self.cpus_per_worker if self.cpus_per_worker else float("inf"),
                    gpus / self.gpus_per_worker if self.gpus_per_worker else float("inf")]
            self._workers = max(1, int(min(fits))) if min(fits) != float("inf") else 1
        need_c, need_g = self._workers * self.cpus_per_worker, self._workers * self.gpus_per_worker
        if need_c > cpus + 1e-9 or need_g > gpus + 1e-9:
            raise RuntimeError(
                f"--jobs {self._workers} needs {need_c:g} CPUs and {need_g:g} GPUs but the Ray cluster "
                f"({self.cluster['address']}) has {cpus:g} CPUs and {gpus:g} GPUs; lower --jobs or "
                f"--gpus-per-worker, or add nodes")

    def _new_actor(self, ray, cls):
        return cls.options(num_cpus=self.cpus_per_worker, num_gpus=self.gpus_per_worker,
                           max_restarts=0).remote(self.torch_threads)

    # ---- the executor interface -----------------------------------------------------------------
    def map(self, fn: Callable[[Any], Any], shards: Sequence[Any]) -> Iterator[Any]:
        """Yield ``fn(shard)`` per shard as actors finish them; dead workers' shards are retried."""
        if not shards:
            return
        ray = self._connect()
        try:
            yield from self._map(ray, fn, shards)
        finally:
            for a in self.actors:
                try:
                    ray.kill(a)
                except Exception:  # noqa: BLE001 — already dead
                    pass
            self.actors = []

    def close(self) -> None:
        """Shut down the local Ray instance this executor started (a joined cluster stays up)."""
        if self._started:
            import_ray().shutdown()
            self._started = False

    def __enter__(self) -> "RayExecutor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _map(self, ray, fn, shards) -> Iterator[Any]:
        import ray.exceptions as rex
        from ray.exceptions import RayTaskError

        # the worker (or its node) is gone, or Ray's memory monitor killed it: retry elsewhere
        lost = tuple(getattr(rex, n) for n in ("RayActorError", "ActorUnavailableError", "OutOfMemoryError",
                                               "WorkerCrashedError", "NodeDiedError") if hasattr(rex, n))
        self._size(ray)
        torch = sys.modules.get("torch")   # loaded by the driver only for torch detectors
        self.torch_threads = torch.get_num_threads() if torch is not None else None
        cls = ray.remote(_ShardWorker)
        fn_ref = ray.put(fn)
        self.actors = [self._new_actor(ray, cls) for _ in range(min(self.workers, len(shards)))]
        idle = deque(self.actors)
        pending = deque((s, 0) for s in shards)
        inflight: Dict[Any, tuple] = {}
        while pending or inflight:
            while idle and pending:
                actor = idle.popleft()
                spec, attempt = pending.popleft()
                inflight[actor.run.remote(fn_ref, spec)] = (actor, spec, attempt)
            ready, _ = ray.wait(list(inflight), num_returns=1)
            actor, spec, attempt = inflight.pop(ready[0])
            try:
                res = ray.get(ready[0])
            except lost as exc:
                if attempt >= self.max_retries:
                    raise RuntimeError(f"shard {_label(spec)} failed {attempt + 1} times (worker lost: "
                                       f"{type(exc).__name__}); see the Ray logs") from None
                self.retries += 1
                self.actors = [a for a in self.actors if a is not actor]
                fresh = self._new_actor(ray, cls)
                self.actors.append(fresh)
                idle.append(fresh)
                pending.appendleft((spec, attempt + 1))
                continue
            except RayTaskError as exc:  # the work itself failed: same error as a local run
                cause = getattr(exc, "cause", None)
                if isinstance(cause, BaseException):
                    raise cause from None
                raise
            idle.append(actor)
            self._record(res)
            yield res

    def _record(self, res: Dict[str, Any]) -> None:
        w = self.worker_stats.setdefault(res.get("worker", "?"), {"shards": 0, "videos": 0, "frames": 0,
                                                                    "busy_s": 0.0})
        w["shards"] += 1
        w["videos"] += res.get("videos", 0)
        w["frames"] += res.get("frames", 0)
        w["busy_s"] += res.get("worker_s", 0.0)

    def worker_pids(self) -> List[int]:
        """Process ids of the live actors (for tests and diagnostics)."""
        ray = import_ray()
        return ray.get([a.pid.remote() for a in list(self.actors)])

    def describe(self) -> Dict[str, Any]:
        """Executor record for the run summary: Ray version, cluster size, per-worker timings."""
        return {"name": "ray", "workers": self._workers, "cpus_per_worker": self.cpus_per_worker,
                "gpus_per_worker": self.gpus_per_worker, "cluster": dict(self.cluster),
                "torch_threads": self.torch_threads,
                "ray_version": self.cluster.get("ray_version"), "retried_shards": self.retries,
                "per_worker": {k: {**v, "frames_per_s": (v["frames"] / v["busy_s"]) if v["busy_s"] else None}
                               for k, v in sorted(self.worker_stats.items())}}


def _label(spec: Any) -> str:
    ids = list(getattr(spec, "video_ids", ()))
    return f"[{ids[0]} .. {ids[-1]}] ({len(ids)} videos)" if ids else repr(spec)[:80]
