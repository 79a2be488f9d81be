"""A changed index is refused by every command that reads it, naming the file and the fix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from faultkit import _fast_env, cli, no_partial, refused, scored, scored_run, tree  # noqa: F401 (fixtures)


def _flip(path: Path, n: int = 400) -> None:
    data = bytearray(path.read_bytes())
    mid = len(data) // 2
    for k in range(mid, min(mid + n, len(data) - 16)):   # the Parquet footer stays valid
        data[k] ^= 0xFF
    path.write_bytes(bytes(data))


def _damage(index: Path, kind: str) -> str:
    """Damage ``index`` one way; returns the file name the refusal must name."""
    info_path = index / "dataset_info.json"
    if kind == "flip_frames":
        _flip(index / "frames.parquet")
        return "frames.parquet"
    if kind == "flip_videos":
        _flip(index / "videos.parquet", 40)
        return "videos.parquet"
    if kind == "truncate_frames":
        p = index / "frames.parquet"
        p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
        return "frames.parquet"
    if kind == "delete_frames":
        (index / "frames.parquet").unlink()
        return "frames.parquet"
    if kind == "edit_validation":
        with open(index / "validation.csv", "a") as fh:
            fh.write("error,x,y,z\n")
        return "validation.csv"
    info = json.loads(info_path.read_text())
    if kind == "edit_info":
        info["coord_base"] = 1           # a content key: landmarks would shift by one pixel
        info_path.write_text(json.dumps(info))
        return "dataset_info.json"
    if kind == "unsealed":
        info.pop("content_files")
        info.pop("index_content_sha")
        info_path.write_text(json.dumps(info))
        return "content hashes"
    if kind == "bad_json":
        info_path.write_text(info_path.read_text()[:40])
        return "dataset_info.json"
    raise AssertionError(kind)


KINDS = ["flip_frames", "flip_videos", "truncate_frames", "delete_frames", "edit_validation", "edit_info",
         "unsealed", "bad_json"]


@pytest.mark.parametrize("kind", KINDS)
def test_evaluate_refuses_a_changed_index(scored, kind, tmp_path):
    index, runs, run = scored
    before = tree(run)
    name = _damage(index, kind)
    r = cli("evaluate", "--model", "noisy", "--dataset", index, "--out", runs, "--no-progress")
    refused(r, name, "rebuild" if kind != "delete_frames" else "frames.parquet")
    assert tree(run) == before                                      # the cached run is untouched
    assert sorted(p.name for p in runs.iterdir() if not p.name.startswith(".")) == [run.name]


@pytest.mark.parametrize("kind", KINDS)
def test_tune_filter_refuses_a_changed_index(scored, kind, tmp_path):
    index, runs, run = scored
    name = _damage(index, kind)
    out = tmp_path / "tuned"
    r = cli("tune-filter", run, "--filter", "ema", "--tune-subset", "easy", "--out", out, "--no-progress")
    refused(r, name)
    no_partial(out)


@pytest.mark.parametrize("kind", ["flip_frames", "truncate_frames", "edit_info", "unsealed", "bad_json"])
def test_leaderboard_refuses_runs_of_a_changed_index(scored, kind, tmp_path):
    index, runs, run = scored
    name = _damage(index, kind)
    out = tmp_path / "board"
    r = cli("leaderboard", runs, "--out", out, "--no-plots", "--no-reference")
    refused(r, name)
    no_partial(out)


@pytest.mark.parametrize("kind", ["flip_frames", "truncate_frames", "unsealed"])
def test_render_refuses_a_changed_index(scored, kind, tmp_path):
    index, runs, run = scored
    name = _damage(index, kind)
    out = tmp_path / "frames.png"
    r = cli("render", index, "--out", out)
    refused(r, name)
    no_partial(out)


def test_rebuilt_index_with_other_content_is_not_scored_from_the_old_cache(scored, tmp_path):
    """A rebuild with other content (re-sealed) gets a new run key: the old predictions are not reused."""
    from wflwv.datasets.integrity import seal

    index, runs, run = scored
    _flip(index / "frames.parquet", 8)
    info = json.loads((index / "dataset_info.json").read_text())
    info.pop("content_files")
    (index / "dataset_info.json").write_text(json.dumps(seal(index, info)))
    r = cli("evaluate", "--model", "noisy", "--dataset", index, "--out", runs, "--no-progress")
    if r.code == 0:   # the flipped bytes still decode: a new run directory, nothing reused
        dirs = sorted(p.name for p in runs.iterdir() if p.is_dir())
        assert len(dirs) == 2 and "3 videos detected now" in r.output
    else:             # or the damaged Parquet page is named with the fix
        refused(r, "frames.parquet")
    # and leaderboard refuses the old run, whose index content is gone
    r = cli("leaderboard", run, "--out", tmp_path / "b", "--no-plots", "--no-reference")
    refused(r, str(run), "another build of index")
    no_partial(tmp_path / "b")
