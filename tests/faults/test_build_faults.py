"""``wflwv build`` on bad media, bad annotations, bad lists, bad options and a hostile disk."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from faultkit import _fast_env, cli, no_partial, refused  # noqa: F401 (fixtures)
from fixtures_releases import make_300vw, make_wflw_v, make_ytc

EASY, HARD = ["-3rDiJYQ6CQ", "abcdefghijk"], ["-3uh4B-qDcs"]
BAD = EASY[1]


def _wflw(tmp_path, faults=(), fault_id=BAD):
    return make_wflw_v(tmp_path / "rel", EASY, HARD, faults=faults, fault_id=fault_id)


def _build_wflw(root, out, *extra):
    return cli("build", "wflw-v", "--root", root, "--out", out, "--custom-splits", "--no-progress", *extra)


def _flip_middle(path: Path, n: int = 2000) -> None:
    data = bytearray(path.read_bytes())
    for k in range(len(data) // 3, len(data) // 3 + n):
        data[k] ^= 0x5A
    path.write_bytes(bytes(data))


# ---- bad media / annotations / lists (WFLW-V: annotations must align with decoded frames) -------------
def _far_landmark(root):
    p = root / "landmarks" / f"{BAD}.npy"
    lm = np.load(p)
    lm[3, 17, 0] = -1e6
    np.save(p, lm)


def _truncate_video(root):
    p = root / "videos" / f"{BAD}.mp4"
    _flip_middle(p)          # damaged stream: the decoder reports errors, frames still count
    return p


def _damaged_frames(root):
    p = root / "videos" / f"{BAD}.mp4"
    data = bytearray(p.read_bytes())
    for k in range(len(data) // 2, len(data) // 2 + 100):   # every frame still decodes, with errors
        data[k] ^= 0x5A
    p.write_bytes(bytes(data))


def _cut_video(root):
    p = root / "videos" / f"{BAD}.mp4"
    p.write_bytes(p.read_bytes()[: p.stat().st_size * 2 // 3])


def _nan_landmark(root):
    p = root / "landmarks" / f"{BAD}.npy"
    lm = np.load(p)
    lm[2, 5, 1] = np.nan
    np.save(p, lm)


def _garbage_npy(root):
    (root / "landmarks" / f"{BAD}.npy").write_bytes(os.urandom(300))


def _empty_video(root):
    (root / "videos" / f"{BAD}.mp4").write_bytes(b"")


WFLW_CASES = {
    "missing_video": ((), ["missing_video"], [f"{BAD}"]),
    "missing_landmarks": ((), ["missing_landmarks"], [f"{BAD}"]),
    "count_mismatch": ((), ["count_mismatch"], [f"{BAD}.mp4", "do not belong together"]),
    "scaled_landmarks": ((), ["outside"], [BAD, "outside"]),
    "one_far_landmark": ((_far_landmark,), [], [BAD, "frame 3", "--landmark-margin"]),
    "nan_landmark": ((_nan_landmark,), [], [BAD, "not finite"]),
    "garbage_npy": ((_garbage_npy,), [], [f"{BAD}.npy"]),
    "bad_box": ((), ["bad_box"], [BAD, "box"]),
    "overlap": ((), ["overlap"], [EASY[0]]),
    "duplicate_line": ((), ["duplicate_line"], [EASY[0]]),
    "damaged_stream": ((_truncate_video,), [], [f"{BAD}.mp4"]),
    "cut_video": ((_cut_video,), [], [f"{BAD}.mp4"]),
    "decoder_errors": ((_damaged_frames,), [], [f"{BAD}.mp4", "decoder reported"]),
    "empty_video": ((_empty_video,), [], [f"{BAD}.mp4"]),
}


@pytest.mark.parametrize("case", sorted(WFLW_CASES))
def test_wflw_v_build_refuses(tmp_path, case):
    edits, faults, names = WFLW_CASES[case]
    root = _wflw(tmp_path, faults)
    for edit in edits:
        edit(root)
    out = tmp_path / "idx"
    r = _build_wflw(root, out)
    refused(r, *names)
    no_partial(out)


def test_wflw_v_failed_rebuild_keeps_the_previous_index(tmp_path):
    root = _wflw(tmp_path)
    out = tmp_path / "idx"
    assert _build_wflw(root, out).code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    _far_landmark(root)
    refused(_build_wflw(root, out), BAD)
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_rebuild_of_the_same_release_gives_the_same_content_hash(tmp_path):
    import json

    root = _wflw(tmp_path)
    out = tmp_path / "idx"
    assert _build_wflw(root, out).code == 0
    first = json.loads((out / "dataset_info.json").read_text())
    for p in (root / "videos").iterdir():      # identical bytes rewritten: only mtimes change
        p.write_bytes(p.read_bytes())
    assert _build_wflw(root, out).code == 0
    second = json.loads((out / "dataset_info.json").read_text())
    assert second["index_content_sha"] == first["index_content_sha"]
    assert second["content_files"] == first["content_files"]


# ---- options ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("args,names,code", [
    (["--landmark-margin", "-1"], ["--landmark-margin"], 2),
    (["--verify-decode", "fast"], ["--verify-decode"], 2),
    (["--backend", "gstreamer"], ["--backend"], 2),
    (["--video-id=nope"], ["nope"], 1),
])
def test_build_bad_options(tmp_path, args, names, code):
    root = _wflw(tmp_path)
    out = tmp_path / "idx"
    refused(_build_wflw(root, out, *args), *names, code=code)
    no_partial(out)


def test_build_missing_root(tmp_path):
    r = cli("build", "wflw-v", "--root", tmp_path / "nope", "--out", tmp_path / "idx")
    refused(r, "--root", code=2)
    no_partial(tmp_path / "idx")


# ---- environment faults: read-only, full disk, permissions ---------------------------------------------
def _raise(err, path_of=lambda *a, **k: None):
    def f(*args, **kwargs):
        raise OSError(err, os.strerror(err), path_of(*args, **kwargs))
    return f


@pytest.mark.parametrize("err,fix", [(errno.EROFS, "read-only"), (errno.ENOSPC, "no space left"),
                                     (errno.EACCES, "permission")])
def test_build_environment_faults_end_in_one_line(tmp_path, monkeypatch, err, fix):
    import tempfile

    root = _wflw(tmp_path)
    out = tmp_path / "idx"
    monkeypatch.setattr(tempfile, "mkdtemp", _raise(err, lambda *a, **k: str(k.get("dir", out.parent))))
    r = _build_wflw(root, out)
    refused(r, str(out.parent), fix)
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1, r.output
    no_partial(out)


def test_full_disk_while_writing_parquet(tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    root = _wflw(tmp_path)
    out = tmp_path / "idx"
    monkeypatch.setattr(pq, "write_table", _raise(errno.ENOSPC, lambda table, where, **k: str(where)))
    r = _build_wflw(root, out)
    refused(r, "no space left", ".parquet")
    no_partial(out)


def test_debug_shows_the_traceback(tmp_path, monkeypatch):
    import tempfile

    root = _wflw(tmp_path)
    monkeypatch.setattr(tempfile, "mkdtemp", _raise(errno.EROFS, lambda *a, **k: str(k.get("dir"))))
    r = cli("--debug", "build", "wflw-v", "--root", root, "--out", tmp_path / "idx", "--custom-splits",
            "--no-progress")
    assert r.code != 0 and isinstance(r.exception, OSError)


# ---- 300-VW: unreliable-frame lists, annotation files -------------------------------------------------
CATS = {"114": "A", "410": "B"}


@pytest.mark.parametrize("values,shown", [([2.5], "2.5"), ([np.nan], "nan"), ([99], "99"), ([0], "0"),
                                          ([-3], "-3")])
def test_300vw_unreliable_values_must_be_frames_of_the_clip(tmp_path, values, shown):
    root = make_300vw(tmp_path / "rel", CATS, unreliable={"114": [2] + values})
    out = tmp_path / "idx"
    r = cli("build", "300vw", "--root", root, "--out", out, "--custom-ids", "--no-progress")
    refused(r, "extra/114.mat", shown)
    no_partial(out)


def test_300vw_unreadable_mat(tmp_path):
    root = make_300vw(tmp_path / "rel", CATS, unreliable={"114": [2]})
    (root / "extra" / "114.mat").write_bytes(os.urandom(200))
    out = tmp_path / "idx"
    refused(cli("build", "300vw", "--root", root, "--out", out, "--custom-ids", "--no-progress"), "114.mat")
    no_partial(out)


@pytest.mark.parametrize("fault,names", [("stem_gap", ["114/annot"]), ("bad_pts", ["000001.pts"]),
                                         ("count_mismatch", ["114/vid.avi"]), ("unknown_dir", ["abc"])])
def test_300vw_bad_annotations(tmp_path, fault, names):
    root = make_300vw(tmp_path / "rel", CATS, faults=[fault], fault_id="114")
    out = tmp_path / "idx"
    refused(cli("build", "300vw", "--root", root, "--out", out, "--custom-ids", "--no-progress"), *names)
    no_partial(out)


# ---- YTC: no per-frame annotations, so a damaged clip is indexed with a warning and a status ----------
def _xvid_clip(path: Path, n: int = 60) -> None:
    import cv2

    vw = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"XVID"), 25, (96, 72))
    rng = np.random.default_rng(0)
    for _ in range(n):
        vw.write(rng.integers(0, 255, (72, 96, 3), dtype=np.uint8))
    vw.release()


def test_ytc_half_clip_is_flagged_not_silently_ok(tmp_path):
    import pandas as pd

    root = make_ytc(tmp_path / "ytc", ["0001_01_001_adam_sandler"])
    bad = root / "0002_01_001_al_gore.avi"
    _xvid_clip(bad)
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 2])
    out = tmp_path / "idx"
    r = cli("build", "ytc", "--root", root, "--out", out, "--no-progress")
    assert r.code == 0, r.output
    v = pd.read_parquet(out / "videos.parquet").set_index("video_id")
    row = v.loc["0002_01_001_al_gore"]
    assert row["n_frames_container"] == 60 and row["n_decoded"] < 60
    assert "container_count" in row["decode_status"] and "decoder_errors" in row["decode_status"]
    assert v.loc["0001_01_001_adam_sandler", "decode_status"] == "clean"
    rep = (out / "validation.csv").read_text()
    assert "container_count" in rep and "decoder_errors" in rep and "0002_01_001_al_gore.avi" in rep


def test_ytc_verify_decode_none_is_refused(tmp_path):
    root = make_ytc(tmp_path / "ytc", ["0001_01_001_adam_sandler"])
    out = tmp_path / "idx"
    refused(cli("build", "ytc", "--root", root, "--out", out, "--verify-decode", "none"), "--verify-decode")
    no_partial(out)
