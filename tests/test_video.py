"""Frame-exact video reading: real clips whose container counts lie, fixture round trips, workers."""

from __future__ import annotations

import hashlib
import time

import pytest

from fixtures_releases import write_clip
from wflwv.io.video import (BACKENDS, FrameCountMismatch, VideoError, count_frames, default_backend,
                            iter_frames, probe, scan_video)
from wflwv.io.worker import DecodeTimeout, DecodeWorker, decode_in_worker


def _decode_all(path, backend):
    """(frames yielded, distinct images) or raise."""
    seen, n = set(), 0
    for f in iter_frames(path, backend=backend):
        assert f.index == n
        n += 1
        seen.add(hashlib.md5(f.image.tobytes()).hexdigest())
    return n, len(seen)


@pytest.mark.parametrize("backend", BACKENDS)
def test_obama_55_distinct_frames_or_raise_never_158(shared, backend):
    path = shared("realdata", "videos", "misc", "3ddfa_obama.mp4")
    assert probe(path).n_frames_container == 158
    try:
        n, distinct = _decode_all(path, backend)
    except VideoError as exc:
        assert "3ddfa_obama.mp4" in str(exc)
        assert backend == "decord"  # decord cannot decode this file exactly; opencv must
        return
    assert (n, distinct) == (55, 55)


def test_decord_raises_on_obama_instead_of_duplicating(shared):
    path = shared("realdata", "videos", "misc", "3ddfa_obama.mp4")
    with pytest.raises(FrameCountMismatch, match="158 frames .* ends after 55"):
        count_frames(path, "decord")


@pytest.mark.parametrize("backend", BACKENDS)
def test_change_lighting_88_not_90(shared, backend):
    path = shared("realdata", "videos", "clm_webcam", "changeLighting.wmv")
    assert probe(path).n_frames_container == 90
    assert _decode_all(path, backend) == (88, 88)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("suffix", [".mp4", ".avi"])
def test_fixture_codecs_round_trip_exactly(tmp_path, backend, suffix):
    path = write_clip(tmp_path / f"clip{suffix}", 11)
    frames = list(iter_frames(path, backend=backend))
    assert [f.index for f in frames] == list(range(11))
    assert len({f.image.tobytes() for f in frames}) == 11
    assert frames[0].image.shape == (120, 160, 3) and frames[0].image.dtype.name == "uint8"
    assert [round(f.time_s, 3) for f in frames[:3]] == [0.0, 0.04, 0.08]
    assert count_frames(path, backend) == 11


def test_rgb_order_and_stride(tmp_path):
    path = write_clip(tmp_path / "c.avi", 10)
    first = next(iter_frames(path, "opencv"))
    # the writer puts a full-intensity bar in the BGR red channel (index 2) → RGB channel 0
    assert first.image[:, 0:16, 0].mean() > 200 and first.image[:, 0:16, 2].mean() < 60
    assert [f.index for f in iter_frames(path, "opencv", stride=3)] == [0, 3, 6, 9]
    assert [f.index for f in iter_frames(path, "decord", stride=4)] == [0, 4, 8]
    with pytest.raises(ValueError):
        list(iter_frames(path, "opencv", stride=0))


def test_missing_and_unknown_backend(tmp_path):
    with pytest.raises(VideoError, match="does not exist"):
        count_frames(tmp_path / "nope.mp4", "opencv")
    with pytest.raises(ValueError, match="unknown video backend"):
        count_frames(tmp_path / "nope.mp4", "pyav")
    assert default_backend() in BACKENDS


def test_scan_video_full_and_sample(tmp_path):
    path = write_clip(tmp_path / "c.mp4", 30)
    full = scan_video(path, "opencv", "full")
    sample = scan_video(path, "opencv", "sample", sample_every=10)
    assert full["n_frames"] == sample["n_frames"] == 30
    assert len(set(full["hashes"])) == 30
    assert [h is not None for h in sample["hashes"]].count(True) == 3
    assert sample["hashes"][10] == full["hashes"][10]
    assert (full["width"], full["height"], full["fps"]) == (160, 120, 25.0)


def test_worker_decodes_and_times_out(tmp_path, shared):
    path = shared("realdata", "videos", "misc", "3ddfa_obama.mp4")
    assert decode_in_worker(count_frames, str(path), timeout_s=120) == 55
    with pytest.raises(FrameCountMismatch):  # the worker forwards the decoder's exception
        decode_in_worker(count_frames, str(path), "decord", timeout_s=120)
    with DecodeWorker(timeout_s=1.0) as w:
        t0 = time.monotonic()
        with pytest.raises(DecodeTimeout, match="hung.mp4"):
            w.call(time.sleep, 30, what="hung.mp4")
        assert time.monotonic() - t0 < 10
        assert w.call(count_frames, str(write_clip(tmp_path / "c.avi", 5))) == 5  # fresh worker
