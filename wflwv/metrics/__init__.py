"""Landmark metrics: still-image NME/FR/AUC, video NME/NMF, ragged whole-split form, GT-free jitter.

Float64 internally; units are stated in every docstring (fractions for image metrics, percent for
video NME, NMF units for NMF). Metric descriptors live in :mod:`wflwv.metrics.catalog`.
"""

from wflwv.metrics.aggregate import macro_mean, micro_mean, split_summary
from wflwv.metrics.bootstrap import bootstrap_ci
from wflwv.metrics.image import auc_exact, ced_curve, fr_auc, fr_auc_trapz, image_nme
from wflwv.metrics.jitter import jitter
from wflwv.metrics.ragged import concat_videos, ragged_video_metrics
from wflwv.metrics.video import face_size, frame_nme, nmf_steps, video_nme, video_nmf

__all__ = ["bootstrap_ci", "jitter", "macro_mean", "micro_mean", "split_summary", "auc_exact", "ced_curve", "concat_videos", "face_size", "fr_auc", "fr_auc_trapz", "frame_nme",
           "image_nme", "nmf_steps", "ragged_video_metrics", "video_nme", "video_nmf"]
