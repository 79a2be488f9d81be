"""The executor interface every shard executor implements (local processes, Ray)."""

from __future__ import annotations

from typing import Any, Callable, Dict, Iterator, Sequence


class Executor:
    """Interface: ``map(fn, shards)`` yields ``fn(shard)`` results (order not guaranteed).

    ``workers`` is the parallelism (shard sizing uses it); ``in_process`` is True when ``fn`` runs
    in the calling process (it may then draw its own progress bar); :meth:`describe` is the record
    the run summary keeps about the executor.
    """

    workers: int = 1
    in_process: bool = True

    def describe(self) -> Dict[str, Any]:
        """Name and settings of this executor for the run summary."""
        return {"name": type(self).__name__, "workers": self.workers}

    def close(self) -> None:
        """Release what the executor started (nothing for local processes)."""

    def __enter__(self) -> "Executor":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def map(self, fn: Callable[[Any], Any], shards: Sequence[Any]) -> Iterator[Any]:
        """Run ``fn`` over every shard; exceptions propagate to the caller."""
        raise NotImplementedError
