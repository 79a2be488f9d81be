"""``evaluate`` / ``leaderboard`` / ``tune-filter`` on damaged runs, changed videos, bad options and
checkpoints, a hostile disk, concurrent writers, kill -9; ``make reproduce`` on custom releases."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from faultkit import _fast_env, cli, no_partial, refused, scored, scored_run, tree  # noqa: F401 (fixtures)
from harness_factory import _write_video, make_index

REPO = Path(__file__).resolve().parents[2]


def _eval(index, runs, *extra):
    return cli("evaluate", "--model", "noisy", "--dataset", index, "--out", runs, "--no-progress", *extra)


def _runs(runs: Path):
    return sorted(p for p in runs.iterdir() if p.is_dir()) if runs.is_dir() else []


# ---- damaged run files ------------------------------------------------------------------------------------
def _flip_shard(run: Path):
    p = sorted((run / "shards").glob("*.parquet"))[0]
    data = bytearray(p.read_bytes())
    for k in range(8, min(200, len(data) - 16)):
        data[k] ^= 0xFF
    p.write_bytes(bytes(data))
    return p


def _cut_shard(run: Path):
    p = sorted((run / "shards").glob("*.parquet"))[0]
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    return p


@pytest.mark.parametrize("damage", [_flip_shard, _cut_shard], ids=["flipped", "truncated"])
def test_corrupt_shard_is_reported_removed_and_recomputed(scored, damage):
    index, runs, run = scored
    before = (run / "predictions.parquet").read_bytes()
    bad = damage(run)
    r = _eval(index, runs, "--filter", "none", "--filter", "ema")
    assert r.code == 0 and r.exception is None, r.output
    assert str(bad) in r.output and "corrupt" in r.output and "1 videos detected now" in r.output
    assert (run / "predictions.parquet").read_bytes() == before          # recomputed identically


@pytest.mark.parametrize("name,cmd", [("summary.json", "leaderboard"), ("summary.json", "tune-filter"),
                                      ("config.json", "evaluate"), ("filters.json", "evaluate")])
def test_truncated_run_json_is_named(scored, tmp_path, name, cmd):
    index, runs, run = scored
    p = run / name
    p.write_text(p.read_text()[:25])
    out = tmp_path / "out"
    if cmd == "leaderboard":
        r = cli("leaderboard", runs, "--out", out, "--no-plots", "--no-reference")
    elif cmd == "tune-filter":
        r = cli("tune-filter", run, "--filter", "ema", "--tune-subset", "easy", "--out", out, "--no-progress")
    else:
        r = _eval(index, runs)
    refused(r, str(p))
    no_partial(out)


# ---- the video a frame comes from must be the one indexed ----------------------------------------------
def _replace_same_length(index: Path):
    media = Path(json.loads((index / "dataset_info.json").read_text())["root"])
    p = media / "easy_00.avi"
    n = 8
    import cv2
    import numpy as np

    vw = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (96, 72))
    for i in range(n):
        vw.write(np.full((72, 96, 3), 255 - i * 20, np.uint8))
    vw.release()
    return p


def _delete_video(index: Path):
    p = Path(json.loads((index / "dataset_info.json").read_text())["root"]) / "easy_00.avi"
    p.unlink()
    return p


def _shorter_video(index: Path):
    p = Path(json.loads((index / "dataset_info.json").read_text())["root"]) / "easy_00.avi"
    _write_video(p, 5)
    return p


@pytest.mark.parametrize("change", [_replace_same_length, _delete_video, _shorter_video],
                         ids=["replaced_same_length", "deleted", "shorter"])
def test_changed_video_is_refused_before_its_frames_are_used(tmp_path, change):
    index = make_index(tmp_path / "t", {"easy": [8, 6]})
    path = change(index)
    runs = tmp_path / "runs"
    r = _eval(index, runs, "--decode", "always")
    refused(r, str(path), "easy_00")
    assert _runs(runs) == []                                   # no half-made run directory


def test_unchanged_video_with_new_mtime_passes_and_is_cached(tmp_path):
    index = make_index(tmp_path / "t", {"easy": [8]})
    p = Path(json.loads((index / "dataset_info.json").read_text())["root"]) / "easy_00.avi"
    os.utime(p, ns=(p.stat().st_atime_ns, p.stat().st_mtime_ns + 10**9))
    r = _eval(index, tmp_path / "runs", "--decode", "always")
    assert r.code == 0, r.output
    stats = json.loads((index / "file_stats.json").read_text())["videos"]
    assert stats["easy_00"]["mtime_ns"] == p.stat().st_mtime_ns   # identity cache updated


def test_decoder_failure_in_the_prefetch_thread_exits_cleanly(tmp_path):
    """A decoder raising mid-video in its thread: no SIGABRT, a clean status, nothing half-made."""
    index = make_index(tmp_path / "t", {"easy": [8]})
    runs = tmp_path / "runs"
    code = f"""
import sys
import wflwv.io.video as v
real = v.iter_frames
def broken(path, backend="auto", stride=1):
    for fr in real(path, backend, stride):
        if fr.index == 3:
            raise v.VideoError(f"{{path}}: damaged at frame 3")
        yield fr
v.iter_frames = broken
from wflwv.cli import main
sys.argv = ["wflwv", "evaluate", "--model", "noisy", "--dataset", {str(index)!r}, "--out", {str(runs)!r},
            "--decode", "always", "--no-progress"]
main()
"""
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                       env=dict(os.environ, PYTHONPATH=str(REPO)))
    out = p.stdout + p.stderr
    assert p.returncode in (0, 1), out                     # never 134 (SIGABRT)
    assert "terminate called" not in out and "Traceback" not in out and "damaged at frame 3" in out
    for run in _runs(runs):   # a run directory, if any, is complete: summary written, failure recorded
        assert (run / "summary.json").is_file() and list((run / "failed").glob("*.json"))


# ---- one writer per run directory, filter sets merged --------------------------------------------------
def test_second_writer_waits_then_refuses(scored):
    from wflwv.harness.runlock import RunLock

    index, runs, run = scored
    before = tree(run)
    held = RunLock.acquire(run)
    try:
        r = _eval(index, runs, "--filter", "kalman")
    finally:
        held.release()
    refused(r, str(run), "another wflwv process")
    assert "waiting for another wflwv process" in r.output
    assert tree(run) == before


def test_filter_sets_of_two_calls_are_merged(scored):
    index, runs, run = scored
    assert _eval(index, runs, "--filter", "kalman").code == 0
    s = json.loads((run / "summary.json").read_text())
    assert {f["id"].partition(":")[0] for f in s["filters"]} == {"none", "ema", "kalman"}
    assert {r["filter"].partition(":")[0] for r in s["results"]} == {"none", "ema", "kalman"}


def test_concurrent_writers_with_different_filters_keep_both(scored):
    index, runs, run = scored
    env = dict(os.environ, PYTHONPATH=str(REPO), WFLWV_LOCK_TIMEOUT="60")
    procs = [subprocess.Popen([sys.executable, "-m", "wflwv", "evaluate", "--model", "noisy", "--dataset",
                               str(index), "--out", str(runs), "--no-progress", "--filter", f],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
             for f in ("one-euro", "savgol")]
    outs = [p.communicate(timeout=180)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    s = json.loads((run / "summary.json").read_text())
    assert {"none", "ema", "one-euro", "savgol"} <= {f["id"].partition(":")[0] for f in s["filters"]}


def test_kill_9_then_resume_is_byte_identical(tmp_path):
    index = make_index(tmp_path / "t", {"easy": [8, 6, 7]})
    full = tmp_path / "full"
    assert _eval(index, full, "--batch-size", "1").code == 0
    part = tmp_path / "part"
    code = f"""
import os, signal, sys
from wflwv.harness import cache
real, n = cache.RunDir.commit_video, [0]
def dying(self, *a, **k):
    if n[0] == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    n[0] += 1
    return real(self, *a, **k)
cache.RunDir.commit_video = dying
from wflwv.cli import main
sys.argv = ["wflwv", "evaluate", "--model", "noisy", "--dataset", {str(index)!r}, "--out", {str(part)!r},
            "--batch-size", "1", "--no-progress"]
main()
"""
    p = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert p.returncode == -9
    assert _eval(index, part, "--batch-size", "1").code == 0       # the lock died with the process
    (a,), (b,) = _runs(full), _runs(part)
    for name in ("predictions.parquet", "frame_errors.parquet", "video_metrics.parquet"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


# ---- options and checkpoints -----------------------------------------------------------------------------
@pytest.mark.parametrize("args,names,code", [
    (["--limit", "0"], ["--limit"], 1),
    (["--limit", "abc"], ["--limit"], 2),
    (["--filter", "kalmann"], ["kalman"], 1),
    (["--filter", "ema:alpha=9"], ["alpha"], 1),
    (["--boxes", "detector:nope"], ["nope"], 1),
    (["--dtype", "int8"], ["--dtype"], 2),
    (["--decode", "sometimes"], ["--decode"], 2),
    (["--weights-sha256", "abc"], ["--weights-sha256"], 1),
])
def test_evaluate_bad_options(tiny_index, tmp_path, args, names, code):
    runs = tmp_path / "runs"
    refused(_eval(tiny_index, runs, *args), *names, code=code)
    assert _runs(runs) == []


def test_two_models_with_weights_is_a_usage_error(tiny_index, tmp_path):
    r = cli("evaluate", "--model", "noisy", "--model", "oracle", "--weights", tiny_index / "videos.parquet",
            "--dataset", tiny_index, "--out", tmp_path / "runs")
    refused(r, "--weights", code=2)


@pytest.fixture
def tiny_index(tmp_path):
    return make_index(tmp_path / "t", {"easy": [6], "hard": [5]})


def _random(p: Path):
    p.write_bytes(os.urandom(4096))


def _empty(p: Path):
    p.write_bytes(b"")


def _cut_zip(p: Path):
    import torch

    torch.save({"w": torch.zeros(3)}, p)
    p.write_bytes(p.read_bytes()[:200])


def _exploit(p: Path):
    import pickle

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {p}.pwned",))

    p.write_bytes(pickle.dumps({"state_dict": Evil()}, protocol=2))


@pytest.mark.parametrize("make,words", [(_random, "not a PyTorch checkpoint"), (_empty, "not a PyTorch checkpoint"),
                                        (_cut_zip, "cannot be read"), (_exploit, "allow-list")],
                         ids=["random_bytes", "empty", "truncated_zip", "pickle_exploit"])
def test_bad_checkpoints_are_named(tiny_index, tmp_path, make, words):
    ckpt = tmp_path / "w.pth"
    make(ckpt)
    runs = tmp_path / "runs"
    r = cli("evaluate", "--model", "pipnet", "--weights", ckpt, "--dataset", tiny_index, "--out", runs,
            "--no-progress")
    refused(r, str(ckpt), words)
    assert not Path(f"{ckpt}.pwned").exists()
    assert _runs(runs) == []


def test_pinned_sha_mismatch_is_refused(tiny_index, tmp_path):
    ckpt = tmp_path / "w.pth"
    _random(ckpt)
    r = cli("evaluate", "--model", "pipnet", "--weights", ckpt, "--weights-sha256", "0" * 64, "--dataset",
            tiny_index, "--out", tmp_path / "runs", "--no-progress")
    refused(r, str(ckpt), "SHA-256")


def test_weights_verified_on_every_row(scored, tmp_path):
    index, runs, run = scored
    s = json.loads((run / "summary.json").read_text())
    assert s["model"]["weights_verified"] is True
    assert all(r["weights_verified"] is True and r["index_content_sha"] == s["dataset"]["index_sha"]
               for r in s["results"])
    assert cli("leaderboard", runs, "--out", tmp_path / "b", "--no-plots", "--no-reference").code == 0
    import pandas as pd

    df = pd.read_csv(tmp_path / "b" / "leaderboard.csv")
    mine = df[df["source"] == "wflwv"]
    assert mine["weights_verified"].astype(bool).all() and mine["index_content_sha"].notna().all()


# ---- environment faults during evaluate --------------------------------------------------------------------
def _oserror(err):
    def f(*args, **kwargs):
        where = kwargs.get("dir") or (args[1] if len(args) > 1 else None)
        raise OSError(err, os.strerror(err), str(where))
    return f


@pytest.mark.parametrize("err,fix", [(errno.EROFS, "read-only"), (errno.ENOSPC, "no space left"),
                                     (errno.EACCES, "permission")])
def test_evaluate_disk_faults_end_in_one_line(tiny_index, tmp_path, monkeypatch, err, fix):
    import pyarrow.parquet as pq

    runs = tmp_path / "runs"
    monkeypatch.setattr(pq, "write_table", _oserror(err))
    r = _eval(tiny_index, runs)
    refused(r, fix, ".parquet")
    assert len([line for line in r.output.splitlines() if line.strip()]) == 1, r.output
    assert _runs(runs) == []            # the fresh run directory is removed again
    assert not [p for p in runs.rglob(".tmp-*")] if runs.exists() else True


def test_evaluate_read_only_out(tiny_index, tmp_path, monkeypatch):
    real = Path.mkdir
    ro = tmp_path / "ro"

    def mkdir(self, *a, **k):
        if str(self).startswith(str(ro)):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(self))
        return real(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    refused(_eval(tiny_index, ro / "runs"), str(ro), "read-only")
    r = cli("--debug", "evaluate", "--model", "noisy", "--dataset", tiny_index, "--out", ro / "runs",
            "--no-progress")
    assert isinstance(r.exception, OSError)             # --debug: the traceback is shown


# ---- make reproduce --------------------------------------------------------------------------------------
def _reproduce(tmp_path, **env):
    base = dict(os.environ, PYTHONPATH=str(REPO), WFLWV_BUILD=str(tmp_path / "b"), WFLWV_RUNS=str(tmp_path / "r"),
                WFLWV_TUNED=str(tmp_path / "tu"), WFLWV_LEADERBOARD=str(tmp_path / "lb"), WFLWV_NO_TQDM="1")
    base.pop("WFLWV_ROOT", None)
    base.update(env)
    return subprocess.run([sys.executable, "-m", "wflwv.harness.reproduce"], capture_output=True, text=True,
                          env=base, timeout=300)


def test_reproduce_with_custom_300vw_ids(tmp_path):
    from fixtures_releases import make_300vw

    root = make_300vw(tmp_path / "rel", {"005": "A", "006": "B"})
    p = _reproduce(tmp_path, VW300_ROOT=str(root), VW300_CUSTOM_IDS="1")
    assert p.returncode == 0, p.stdout + p.stderr
    assert "Traceback" not in p.stderr and (tmp_path / "lb" / "leaderboard.csv").is_file()


def test_reproduce_failed_step_is_one_line(tmp_path):
    from fixtures_releases import make_300vw

    root = make_300vw(tmp_path / "rel", {"005": "A"})
    p = _reproduce(tmp_path, VW300_ROOT=str(root))
    assert p.returncode == 1 and "Traceback" not in p.stderr, p.stderr
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("make reproduce: step `wflwv build 300vw") and "005" in p.stderr
    no_partial(tmp_path / "b" / "300vw")
