"""Metric descriptors: what a number means (id, version, direction, units, normaliser, aggregation).

Two metrics that differ in any field never share a leaderboard column (metrics.md, header).
``scale`` converts the computing function's output to the reported ``units`` (e.g. ``fr_auc``
returns a fraction, FR is reported in percent, so ``scale = 100``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Dict, Optional

UNITS = ("fraction", "percent", "per_mille", "nmf")
AGGREGATIONS = ("per_image", "pooled", "macro_video", "micro_frame")


@dataclass(frozen=True)
class MetricSpec:
    """One metric column: identity, direction, units, normaliser, aggregation and rule."""

    id: str
    version: int
    higher_is_better: bool
    units: str
    normaliser: str
    aggregation: str
    coord_space: str
    compute: str                      # "module:function" that computes it
    scale: float = 1.0                # function output × scale = value in ``units``
    threshold: Optional[float] = None
    rule: Optional[str] = None
    summary: str = ""

    def __post_init__(self) -> None:
        if self.units not in UNITS or self.aggregation not in AGGREGATIONS:
            raise ValueError(f"metric {self.id!r}: units {self.units!r} / aggregation {self.aggregation!r} "
                             f"must be one of {UNITS} / {AGGREGATIONS}")

    def with_(self, **changes) -> "MetricSpec":
        """A copy with some fields changed (e.g. ``D2.with_(normaliser="ioc")``)."""
        return replace(self, **changes)


_IMG = "wflwv.metrics.image:"
IMAGE_NME = MetricSpec("nme", 1, False, "percent", "io", "per_image", "crop01", _IMG + "image_nme", 100.0,
                       summary="per-image NME, mean over points / outer-eye-corner distance (pair from scheme)")
FR_010 = MetricSpec("fr@0.10", 1, False, "percent", "io", "per_image", "crop01", _IMG + "fr_auc", 100.0,
                    0.10, "nme>T", "share of images with NME > 0.10 (LDEQ/PIPNet)")
FR_008 = MetricSpec("fr@0.08", 1, False, "percent", "io", "per_image", "frame_px", _IMG + "fr_auc_trapz",
                    100.0, 0.08, "nme>=T", "share of images with NME >= 0.08 (1 - SBR accuracy)")
AUC_010 = MetricSpec("auc@0.10[simpson1e-4]", 1, True, "fraction", "io", "per_image", "crop01",
                     _IMG + "fr_auc", 1.0, 0.10, "simpson1e-4",
                     "CED(NME <= x) on np.arange(0, 0.1001, 1e-4), Simpson / 0.10")
AUC_008 = MetricSpec("auc@0.08[trapz2000]", 1, True, "fraction", "io", "per_image", "frame_px",
                     _IMG + "fr_auc_trapz", 1.0, 0.08, "trapz2000",
                     "CED(NME < x) on linspace(0, 0.08, 2000), trapezoid / 0.08 (SBR)")
AUC_EXACT_010 = MetricSpec("auc_exact@0.10", 1, True, "fraction", "io", "per_image", "crop01",
                           _IMG + "auc_exact", 1.0, 0.10, "exact", "mean(max(0, 1 - NME/0.10))")
VIDEO_NME_IO = MetricSpec("video_nme.io", 1, False, "percent", "io", "macro_video", "frame_px",
                          "wflwv.metrics.ragged:ragged_video_metrics", 1.0,
                          summary="official video_NME: per-frame inter-ocular NME, mean per video, mean over videos")
VIDEO_NME_FS = MetricSpec("video_nme.fs", 1, False, "percent", "fs", "macro_video", "frame_px",
                          "wflwv.metrics.ragged:ragged_video_metrics", 1.0,
                          summary="video NME normalised by sqrt(w*h) of the GT landmark box")
NMF = MetricSpec("nmf", 1, False, "nmf", "fs/256", "macro_video", "frame_px",
                 "wflwv.metrics.ragged:ragged_video_metrics", 1.0, rule="rms_error_change",
                 summary="official video_NMJ: RMS change of the error, face rescaled to 256 px")
D1 = MetricSpec("d1", 1, False, "fraction", "fs", "macro_video", "frame_px", "wflwv.metrics.jitter:jitter",
                1.0, summary="GT-free mean |p_t - p_t-1| / s_t (real motion inflates it)")
D2 = MetricSpec("d2", 1, False, "fraction", "fs", "macro_video", "frame_px", "wflwv.metrics.jitter:jitter",
                1.0, summary="GT-free mean |p_t+1 - 2 p_t + p_t-1| / s_t (primary GT-free metric)")

NAD_1, NAD_4, NAD_16 = (
    MetricSpec(f"nad@{m}", 1, False, "per_mille", "fs", "macro_video", "frame_px", "wflwv.metrics.nad:split_nad",
               1e3, summary=f"normalised Allan deviation of the error at {m}-frame blocks, x10^3 (QLOT; docs/nad.md)")
    for m in (1, 4, 16))

CATALOG: Dict[str, MetricSpec] = {m.id: m for m in (IMAGE_NME, FR_010, FR_008, AUC_010, AUC_008,
                                                     AUC_EXACT_010, VIDEO_NME_IO, VIDEO_NME_FS, NMF, D1, D2,
                                                     NAD_1, NAD_4, NAD_16)}


def get_metric(metric_id: str) -> MetricSpec:
    """The :class:`MetricSpec` with this ``id``; unknown ids raise ``KeyError`` listing the known ones."""
    try:
        return CATALOG[metric_id]
    except KeyError:
        raise KeyError(f"unknown metric id {metric_id!r}; known: {', '.join(sorted(CATALOG))}") from None


__all__ = ["AGGREGATIONS", "AUC_008", "AUC_010", "AUC_EXACT_010", "CATALOG", "D1", "D2", "FR_008", "FR_010",
           "IMAGE_NME", "MetricSpec", "NAD_1", "NAD_16", "NAD_4", "NMF", "UNITS", "VIDEO_NME_FS", "VIDEO_NME_IO", "get_metric"]
