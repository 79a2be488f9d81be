"""300-VW builder on fixture releases (each fault); bulk .pts parsing is in test_pts_bulk.py."""

from __future__ import annotations

import zipfile

import numpy as np
import pytest

from fixtures_releases import make_300vw
from wflwv.datasets.report import BuildError
from wflwv.datasets.vw300 import Vw300Builder
from wflwv.schemes import read_pts

CATS = {"001": "train", "114": "A", "410": "C"}
FAST = dict(official_ids=False, progress=False, timeout_s=None)


def test_build_with_extra_mat_and_mixed_line_endings(tmp_path):
    root = make_300vw(tmp_path / "rel", CATS, unreliable={"114": [2, 3]}, lf_ids=["410"])
    idx = Vw300Builder(root, **FAST).build(tmp_path / "idx")
    assert idx.info["coord_base"] == 1 and idx.info["unreliable_source"] == "extra_mat"
    assert idx.info["subsets"]["A"] == {"videos": 1, "frames": 6}
    assert idx.info["subsets"]["all"] == {"videos": 3, "frames": 18}
    assert idx.unreliable("114").tolist() == [False, True, True, False, False, False]
    f = idx.frames.query("video_id == '410'")
    assert f["source_frame"].tolist() == [f"{i:06d}" for i in range(1, 7)]
    assert f["frame_idx_1b"].tolist() == list(range(1, 7))
    raw = read_pts(root / "410" / "annot" / "000003.pts")
    np.testing.assert_allclose(idx.landmarks("410")[2], raw - 1.0, atol=1e-4)  # 0-based in one place
    np.testing.assert_allclose(np.stack(f["landmarks"].to_numpy())[2].reshape(68, 2), raw, atol=1e-4)
    assert idx.videos.set_index("video_id").loc["114", "category"] == "A"
    # a frame number outside the clip is an error naming the file and the value (issue 12)
    bad = make_300vw(tmp_path / "bad", CATS, unreliable={"114": [2, 99]})
    with pytest.raises(BuildError, match=r"extra/114.mat: unreliable frame number 99 is outside.*1\.\.6"):
        Vw300Builder(bad, **FAST).build(tmp_path / "idx-bad")
    assert not (tmp_path / "idx-bad").exists()


def test_extra_zip_and_user_csv(tmp_path):
    root = make_300vw(tmp_path / "rel", {"114": "A"}, unreliable={"114": [1]})
    with zipfile.ZipFile(root / "extra.zip", "w") as zf:
        zf.write(root / "extra" / "114.mat", "extra/114.mat")
    import shutil

    shutil.rmtree(root / "extra")
    idx = Vw300Builder(root, **FAST).build(tmp_path / "a")
    assert idx.unreliable("114")[:2].tolist() == [True, False]
    (root / "extra.zip").unlink()
    csv = tmp_path / "u.csv"
    csv.write_text("video_id,frame_1b\n114,6\n")
    idx = Vw300Builder(root, unreliable_csv=csv, **FAST).build(tmp_path / "b")
    assert idx.info["unreliable_source"] == "user_csv" and idx.unreliable("114").tolist()[-1]
    idx = Vw300Builder(root, **FAST).build(tmp_path / "c")
    assert idx.info["unreliable_source"] == "none" and not idx.unreliable("114").any()
    assert "no frame is marked unreliable" in (tmp_path / "c" / "validation.csv").read_text()


FAULTS = [("count_mismatch", "frame_count", "6 frames decode .* annotations have 7"),
          ("stem_gap", "pts_stems", "first missing or extra: 000002"),
          ("bad_pts", "pts_format", "000001.pts:2: header says n_points 67, expected 68"),
          ("outside", "landmarks_outside", "clearly outside"),
          ("unknown_dir", "unknown_id", "abc/ is not a 3-digit")]


@pytest.mark.parametrize("fault,check,text", FAULTS)
def test_faults(tmp_path, fault, check, text):
    root = make_300vw(tmp_path / "rel", CATS, faults=[fault], fault_id="114")
    with pytest.raises(BuildError, match=text):
        Vw300Builder(root, **FAST).build(tmp_path / "idx")
    assert not (tmp_path / "idx").exists()
    idx = Vw300Builder(root, on_error="skip", **FAST).build(tmp_path / "idx")
    assert f"error,{check}," in (tmp_path / "idx" / "validation.csv").read_text()
    if fault != "unknown_dir":
        assert idx.video_ids() == ["001", "410"]


def test_official_ids(tmp_path):
    root = make_300vw(tmp_path / "rel", {"001": "train", "999": "A"})
    with pytest.raises(BuildError, match="999/ is not one of the 114 official"):
        Vw300Builder(root, progress=False, timeout_s=None).build(tmp_path / "idx")
    (root / "999" / "vid.avi").unlink()
    import shutil

    shutil.rmtree(root / "999")
    with pytest.raises(BuildError, match="113 of the 114 official 300-VW IDs have no folder"):
        Vw300Builder(root, progress=False, timeout_s=None).build(tmp_path / "idx")
    idx = Vw300Builder(root, allow_partial=True, progress=False, timeout_s=None,
                       verify_decode="none").build(tmp_path / "idx")
    assert idx.video_ids("train") == ["001"] and idx.info["verify_decode"] == "none"
    assert idx.videos["n_decoded"].isna().all() and idx.times("001")[1] == pytest.approx(0.04)
