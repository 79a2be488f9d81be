"""Leaderboard columns, board key and the error type (shared by rows, reference and writers)."""

from __future__ import annotations

COLUMNS = ["source", "second_hand", "provenance", "dataset", "subset", "protocol", "model", "simulated",
           "filter", "filter_id", "filter_params", "causal", "tuned_on_eval_split", "box_source", "crop_protocol",
           "landmark_scheme", "cross_scheme", "exclude_unreliable", "nme_normaliser", "nme_io", "nme_io_ci_lo",
           "nme_io_ci_hi", "nme_fs", "nme_fs_ci_lo", "nme_fs_ci_hi", "nmf", "nmf_ci_lo", "nmf_ci_hi", "fr_010",
           "auc_010", "lag_frames", "lag_ms", "jitter_d1", "jitter_d2", "ref_dist", "lag_ref_frames", "lag_censored",
           "gt_free", "nad_1", "nad_4",
           "nad_16", "coverage", "n_missing_frames", "n_tracks", "n_failed_videos", "filter_preset", "n_videos",
           "n_videos_subset", "complete", "n_frames", "weights_sha256", "weights_verified", "index_fingerprint",
           "index_content_sha", "wflwv_git", "command", "run", "citation", "notes"]
# result-row columns written by newer harness versions; copied verbatim when present (else NaN)
OPTIONAL_RESULT_COLUMNS = ("lag_ms", "jitter_d1", "jitter_d2", "ref_dist", "lag_ref_frames", "lag_censored",
                           "gt_free", "nad_1", "nad_4", "nad_16",
                           "n_tracks", "n_failed_videos", "weights_verified", "index_content_sha")
BOOL_COLUMNS = ("second_hand", "simulated", "causal", "tuned_on_eval_split", "cross_scheme", "complete")
BOARD_KEY = ("dataset", "subset", "protocol", "box_source", "nme_normaliser", "crop_protocol")
SOURCES = ("wflwv", "release", "paper", "derived")
UNKNOWN = "unknown (as published)"


class LeaderboardError(ValueError):
    """No runs found, or a summary file of an unknown format."""
