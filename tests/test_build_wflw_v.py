"""WFLW-V builder on tiny fixture releases (each fault) and the official split-list hashes."""

from __future__ import annotations

import os

import numpy as np
import pytest
from click.testing import CliRunner

from fixtures_releases import make_wflw_v
from wflwv.datasets import splits
from wflwv.datasets.report import BuildError
from wflwv.datasets.wflw_v import WflwVBuilder

EASY, HARD = ["-3rDiJYQ6CQ", "abcdefghijk"], ["-3uh4B-qDcs"]
FAST = dict(official_splits=False, progress=False, timeout_s=None)


def _release(tmp_path, faults=(), fault_id=None):
    return make_wflw_v(tmp_path / "rel", EASY, HARD, faults=faults, fault_id=fault_id)


def test_build_custom_splits(tmp_path):
    root = _release(tmp_path)
    idx = WflwVBuilder(root, **FAST).build(tmp_path / "idx")
    assert idx.info["subsets"]["easy"] == {"videos": 2, "frames": 17}
    assert idx.info["subsets"]["hard"] == {"videos": 1, "frames": 10}
    assert idx.info["subsets"]["all"] == {"videos": 3, "frames": 27}
    assert idx.info["splits_source"] == "custom" and idx.info["coord_base"] == 0
    assert idx.video_ids("easy") == EASY and idx.video_ids("hard") == HARD
    v = idx.videos.set_index("video_id")
    assert v.loc["-3rDiJYQ6CQ", "path"] == "videos/-3rDiJYQ6CQ.mp4"
    assert (v["n_decoded"] == v["n_frames"]).all() and (v["width"] == 160).all()
    want = np.load(root / "landmarks" / "-3uh4B-qDcs.npy").astype(np.float64)
    np.testing.assert_array_equal(idx.landmarks("-3uh4B-qDcs"), want)
    np.testing.assert_array_equal(idx.boxes("-3uh4B-qDcs"), np.load(root / "bboxes" / "-3uh4B-qDcs.npy")[:, :4])
    f = idx.frames
    assert f["landmarks"].iloc[0].shape == (196,) and f["landmarks"].iloc[0].dtype == np.float32
    assert f["frame_hash"].notna().all() and f["bbox_lmk_inside"].min() == 1.0
    assert (tmp_path / "idx" / "validation.csv").read_text().startswith("severity,check,video_id")
    card = (tmp_path / "idx" / "README.md").read_text()
    assert "{{" not in card and "path: frames.parquet" in card and "| easy | 2 | 17 |" in card


def test_official_hashes_of_shared_lists(shared):
    for name, (size, sha) in splits.WFLW_V_LISTS.items():
        path = shared("wflw_v_lists", name)
        assert path.stat().st_size == size
        assert splits.check_official(path) == sha
    easy = splits.read_id_list(shared("wflw_v_lists", "easy_video_IDs.txt"))
    hard = splits.read_id_list(shared("wflw_v_lists", "hard_video_IDs.txt"))
    assert (len(easy), len(hard), len(set(easy) & set(hard))) == (500, 500, 0)
    assert sum(v.startswith("-") for v in easy) == 6 and sum(v.startswith("-") for v in hard) == 12


def test_official_lists_with_dash_ids_via_cli(tmp_path, shared):
    lists = shared("wflw_v_lists")
    easy0 = splits.read_id_list(lists / "easy_video_IDs.txt")[0]
    ranges = {ln.split()[0]: int(ln.split()[2]) - int(ln.split()[1]) + 1
              for ln in (lists / "download_ranges.txt").read_text().splitlines()}
    make_wflw_v(tmp_path / "rel", [easy0], ["-3rDiJYQ6CQ"], lengths=ranges)
    for f in ("easy_video_IDs.txt", "hard_video_IDs.txt"):
        os.remove(tmp_path / "rel" / f)  # lists come from --splits (never copied into a release here)
    from wflwv.cli import main

    res = CliRunner().invoke(main, ["build", "wflw-v", "--root", str(tmp_path / "rel"), "--splits", str(lists),
                                    "--out", str(tmp_path / "idx"), "--no-progress", "--verify-decode", "sample",
                                    f"--video-id={easy0}", "--video-id=-3rDiJYQ6CQ"])
    assert res.exit_code == 0, res.output
    from wflwv.datasets.index import load_index

    idx = load_index(tmp_path / "idx")
    assert idx.info["splits_source"] == "official"
    assert idx.info["split_lists"]["download_ranges.txt"]["official"] is True
    assert idx.video_ids("hard") == ["-3rDiJYQ6CQ"]
    # frame 0 of a clip is source frame `start` of download_ranges.txt
    start = int(next(ln.split()[1] for ln in (lists / "download_ranges.txt").read_text().splitlines()
                     if ln.startswith("-3rDiJYQ6CQ ")))
    assert idx.frames.query("video_id == '-3rDiJYQ6CQ'")["source_frame"].iloc[0] == str(start)


def test_official_splits_reject_custom_lists(tmp_path):
    root = _release(tmp_path)
    with pytest.raises(BuildError, match="easy_video_IDs.txt is not the official"):
        WflwVBuilder(root, progress=False, timeout_s=None).build(tmp_path / "idx")
    assert not (tmp_path / "idx").exists()


FAULTS = [("missing_video", "missing_file", "is missing"), ("missing_landmarks", "missing_file", "landmarks/"),
          ("count_mismatch", "frame_count", "9 frames decode .* annotations have 11"), ("outside", "landmarks_outside", "outside"),
          ("bad_box", "bbox", "box of frame 2"), ("unknown_id", "unknown_id", "zzUnknown__")]


@pytest.mark.parametrize("fault,check,text", FAULTS)
def test_fault_raise_leaves_nothing_and_skip_reports(tmp_path, fault, check, text):
    root = _release(tmp_path, faults=[fault], fault_id="abcdefghijk")
    out = tmp_path / "idx"
    with pytest.raises(BuildError, match=text) as ei:
        WflwVBuilder(root, **FAST).build(out)
    assert ei.value.problems[0].check == check
    assert not out.exists() and not list(tmp_path.glob(".tmp-idx-*"))
    idx = WflwVBuilder(root, on_error="skip", **FAST).build(out)
    rep = (out / "validation.csv").read_text()
    assert f"error,{check}," in rep
    if fault != "unknown_id":
        assert idx.video_row("abcdefghijk")["status"] == f"failed: {check}"
        assert "abcdefghijk" not in idx.video_ids()
    assert set(idx.video_ids()) >= {"-3rDiJYQ6CQ", "-3uh4B-qDcs"}


@pytest.mark.parametrize("fault,text", [("overlap", "share 1 IDs"), ("duplicate_line", "duplicate video ID")])
def test_bad_lists_always_raise(tmp_path, fault, text):
    root = _release(tmp_path, faults=[fault])
    with pytest.raises(BuildError, match=text):
        WflwVBuilder(root, on_error="skip", **FAST).build(tmp_path / "idx")


def test_raise_keeps_previous_index_intact(tmp_path):
    root = _release(tmp_path)
    WflwVBuilder(root, **FAST).build(tmp_path / "idx")
    before = (tmp_path / "idx" / "frames.parquet").read_bytes()
    np.save(root / "bboxes" / "abcdefghijk.npy", np.zeros((3, 4)))  # now wrong shape
    with pytest.raises(BuildError, match="bboxes/abcdefghijk.npy has shape"):
        WflwVBuilder(root, **FAST).build(tmp_path / "idx")
    assert (tmp_path / "idx" / "frames.parquet").read_bytes() == before


def test_incremental_rebuild_decodes_only_changed(tmp_path):
    root = _release(tmp_path)
    b1 = WflwVBuilder(root, progress=False, official_splits=False)  # default: worker process + timeout
    b1.build(tmp_path / "idx")
    assert b1.stats == {"decoded": 3, "reused": 0, "failed": 0}
    b2 = WflwVBuilder(root, **FAST)
    idx2 = b2.build(tmp_path / "idx")
    assert b2.stats["decoded"] == 0 and b2.stats["reused"] == 3
    p = root / "videos" / "abcdefghijk.mp4"
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    b3 = WflwVBuilder(root, **FAST)
    idx3 = b3.build(tmp_path / "idx")
    assert b3.stats["decoded"] == 1 and b3.stats["reused"] == 2
    assert idx3.fingerprint == idx2.fingerprint  # same content
    assert idx3.frames["frame_hash"].tolist() == idx2.frames["frame_hash"].tolist()
