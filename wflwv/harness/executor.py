"""Shard executors: the only thing that moves work between processes.

The unit of work is one **video shard** (a list of video IDs plus the run's settings, a
:class:`wflwv.harness.shard.ShardSpec`). An executor maps a picklable function over shards and
yields results as they finish. :class:`LocalExecutor` runs inline (``workers <= 1``) or in
``spawn``ed local processes; a distributed engine only has to implement :class:`Executor`.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence

from wflwv.harness.executor_base import Executor  # noqa: F401 (re-exported; no import circle with ray_executor)


class LocalExecutor(Executor):
    """Inline for ``workers <= 1``, else a ``spawn`` process pool of ``workers`` processes."""

    def __init__(self, workers: int = 1):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.workers = max(1, int(workers))
        self.in_process = self.workers <= 1

    def describe(self) -> Dict[str, Any]:
        """``{"name": "local", "workers": N}``."""
        return {"name": "local", "workers": self.workers}

    def map(self, fn: Callable[[Any], Any], shards: Sequence[Any]) -> Iterator[Any]:
        """Yield ``fn(shard)`` per shard, inline or from worker processes as they complete."""
        if self.workers <= 1 or len(shards) <= 1:
            for shard in shards:
                yield fn(shard)
            return
        import multiprocessing as mp
        from concurrent.futures import ProcessPoolExecutor, as_completed

        ctx = mp.get_context("spawn")  # decoders and CUDA must be opened inside each worker
        with ProcessPoolExecutor(max_workers=min(self.workers, len(shards)), mp_context=ctx) as pool:
            futures = [pool.submit(fn, s) for s in shards]
            try:
                for fut in as_completed(futures):
                    yield fut.result()
            except BaseException:
                for fut in futures:
                    fut.cancel()
                raise


EXECUTORS = ("local", "ray")


def make_executor(name: str = "local", jobs: Optional[int] = None, address: Optional[str] = None,
                  gpus_per_worker: Optional[float] = None, device: str = "cpu") -> Executor:
    """The executor for ``--executor NAME`` (``local`` or ``ray``) and its CLI options.

    ``jobs=None`` means 1 local process, or one Ray worker per CPU (GPU) of the cluster. With Ray,
    a CUDA ``device`` must be plain ``cuda`` (Ray assigns each worker its GPU) and workers ask for
    ``gpus_per_worker`` GPUs (default 1 for CUDA, 0 otherwise).
    """
    if name == "local":
        if address is not None or gpus_per_worker is not None:
            raise ValueError("--ray-address and --gpus-per-worker need --executor ray")
        return LocalExecutor(1 if jobs is None else jobs)
    if name != "ray":
        raise ValueError(f"unknown executor {name!r}; choose one of {', '.join(EXECUTORS)}")
    cuda = str(device).startswith("cuda")
    if cuda and str(device) != "cuda":
        raise ValueError(f"--device {device} with --executor ray: use --device cuda (Ray gives each worker "
                         f"its own GPU through CUDA_VISIBLE_DEVICES)")
    gpus = (1.0 if cuda else 0.0) if gpus_per_worker is None else float(gpus_per_worker)
    if cuda and gpus <= 0:
        raise ValueError("--device cuda with --executor ray needs --gpus-per-worker > 0")
    from wflwv.harness.ray_executor import RayExecutor, import_ray

    import_ray()  # fail before any work when the extra is missing
    return RayExecutor(workers=jobs, address=address, gpus_per_worker=gpus)


def make_shards(video_ids: List[str], shard_size: int) -> List[List[str]]:
    """Split ``video_ids`` into consecutive shards of at most ``shard_size`` videos."""
    if shard_size < 1:
        raise ValueError(f"shard_size must be >= 1, got {shard_size}")
    return [video_ids[i:i + shard_size] for i in range(0, len(video_ids), shard_size)]


def iter_chunks(items: Iterable[Any], n: int) -> Iterator[List[Any]]:
    """Consecutive lists of ``n`` items from any iterable."""
    chunk: List[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
