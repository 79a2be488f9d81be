"""Shard executors: the only thing that moves work between processes.

The unit of work is one **video shard** (a list of video IDs plus the run's settings, a
:class:`wflwv.harness.shard.ShardSpec`). An executor maps a picklable function over shards and
yields results as they finish. :class:`LocalExecutor` runs inline (``workers <= 1``) or in
``spawn``ed local processes; a distributed engine only has to implement :class:`Executor`.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, List, Sequence


class Executor:
    """Interface: ``map(fn, shards)`` yields ``fn(shard)`` results (order not guaranteed)."""

    workers: int = 1

    def map(self, fn: Callable[[Any], Any], shards: Sequence[Any]) -> Iterator[Any]:
        """Run ``fn`` over every shard; exceptions propagate to the caller."""
        raise NotImplementedError


class LocalExecutor(Executor):
    """Inline for ``workers <= 1``, else a ``spawn`` process pool of ``workers`` processes."""

    def __init__(self, workers: int = 1):
        if workers < 0:
            raise ValueError(f"workers must be >= 0, got {workers}")
        self.workers = max(1, int(workers))

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
