"""Conformance batteries for plug-in components (filters); numpy-only, no torch."""

from wflwv.testing.filters import check_filter, filter_checks

__all__ = ["check_filter", "filter_checks"]
