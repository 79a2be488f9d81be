"""Conformance batteries for plug-in components (filters, detectors); importing this is light."""

from wflwv.testing.detectors import check_detector
from wflwv.testing.filters import check_filter, filter_checks

__all__ = ["check_detector", "check_filter", "filter_checks"]
