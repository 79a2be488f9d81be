"""I/O helpers: atomic file and directory writes, hashing, video reading (``wflwv.io.video``)."""

from wflwv.io.atomic import (atomic_dir, atomic_write_bytes, atomic_write_json, atomic_write_parquet,
                             atomic_write_text, sha256_bytes, sha256_file)

__all__ = ["atomic_dir", "atomic_write_bytes", "atomic_write_json", "atomic_write_parquet",
           "atomic_write_text", "sha256_bytes", "sha256_file"]
