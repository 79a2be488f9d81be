"""Errors shared by the index reader and its integrity checks (no imports: breaks import circles)."""

from __future__ import annotations


class IndexError_(ValueError):
    """An index folder that is missing, incomplete, or written by a newer builder."""
