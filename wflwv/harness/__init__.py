"""Evaluation harness: run a detector over an index, cache predictions, score filters.

``from wflwv.harness.evaluate import evaluate, EvalConfig`` is the Python entry point behind
``wflwv evaluate``. Boxes come from :mod:`wflwv.boxes` (box sources). Submodules:
:mod:`~wflwv.harness.precheck` (can the requested metrics be computed? — before any detection),
:mod:`~wflwv.harness.batching` (video-parallel scheduler), :mod:`~wflwv.harness.cache` (run
directories, Parquet caches, resume), :mod:`~wflwv.harness.executor` (shard executors),
:mod:`~wflwv.harness.scoring` (predictions → metrics). Importing this package is cheap.
"""
