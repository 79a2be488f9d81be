"""``--executor ray`` with a real Ray (no mocks): same bytes as local runs, cluster join, worker kill.

Ray is the ``[ray]`` extra; without it these tests skip with that reason. Every Ray instance a
test starts is stopped by the test (fixtures shut down ``ray.init`` instances; the ``ray start``
head runs with ``--block`` and is terminated with its process group), so no process outlives
the suite.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

ray = pytest.importorskip("ray", reason="Ray not installed: pip install -e '.[ray]' (the CI installs it)")

from wflwv.harness.evaluate import EvalConfig, evaluate  # noqa: E402
from wflwv.harness.executor import LocalExecutor, make_executor  # noqa: E402
from wflwv.harness.ray_executor import RayExecutor  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
RUN_FILES = ("predictions.parquet", "frame_errors.parquet", "video_metrics.parquet")
N_VIDEOS = 8


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The synthetic demo preset, cut to 8 videos of 30 frames (easy + hard subsets)."""
    from wflwv.datasets.synthetic import SyntheticBuilder

    out = tmp_path_factory.mktemp("demo") / "demo"
    SyntheticBuilder(preset="demo", videos=N_VIDEOS, frames=30, progress=False).build(out)
    return out


@pytest.fixture(scope="module")
def local_run(demo, tmp_path_factory):
    """The reference: ``--executor local --jobs 1`` (inline) on the demo subset."""
    out = tmp_path_factory.mktemp("local")
    s = evaluate(_cfg(demo, out))
    return s, out / s["run"]["dir"]


@pytest.fixture(scope="module")
def ray_local():
    """A private local Ray instance with 2 CPUs, shut down after the module."""
    tmp = tempfile.mkdtemp(prefix="r13-", dir="/tmp")   # short: Ray's socket paths must fit 107 chars
    ray.init(num_cpus=2, include_dashboard=False, _temp_dir=tmp, logging_level="warning",
             log_to_driver=False)
    yield ray
    ray.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)


def _cfg(index, out, **kw):
    base = dict(model="noisy", dataset=str(index), filters=("none", "one-euro"), out=str(out), progress=False,
                decode="always")
    base.update(kw)
    return EvalConfig(**base)


def _assert_same_bytes(a: Path, b: Path) -> None:
    for name in RUN_FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    sa = sorted(p.name for p in (a / "shards").iterdir())
    sb = sorted(p.name for p in (b / "shards").iterdir())
    shards = [n for n in sa if not n.endswith(".sha256")]    # each shard has its recorded SHA-256 beside it
    assert sa == sb and len(shards) == N_VIDEOS and len(sa) == 2 * N_VIDEOS, (sa, sb)   # no stray temp file
    for name in sa:
        assert (a / "shards" / name).read_bytes() == (b / "shards" / name).read_bytes(), name


def test_ray_matches_local_bytes_and_resumes(demo, local_run, ray_local, tmp_path):
    ref, ref_dir = local_run
    ex = RayExecutor(workers=2)
    s = evaluate(_cfg(demo, tmp_path, executor=ex, shard_size=1))
    run_dir = tmp_path / s["run"]["dir"]
    _assert_same_bytes(ref_dir, run_dir)
    assert [r["nmf"] for r in s["results"]] == [r["nmf"] for r in ref["results"]]
    e = s["executor"]
    assert e["name"] == "ray" and e["ray_version"] == ray.__version__ and e["workers"] == 2
    assert e["cluster"]["cpus"] == 2 and e["cluster"]["nodes"] == 1 and e["retried_shards"] == 0
    assert sum(w["videos"] for w in e["per_worker"].values()) == N_VIDEOS
    assert all(w["busy_s"] > 0 for w in e["per_worker"].values())
    assert s["detect"]["videos"] == N_VIDEOS and s["detect"]["frames"] == ref["detect"]["frames"]
    again = evaluate(_cfg(demo, tmp_path, executor=RayExecutor(workers=2), shard_size=1))
    assert again["counts"]["n_videos_detected_now"] == 0           # resume: everything cached
    _assert_same_bytes(ref_dir, run_dir)
    pooled = evaluate(_cfg(demo, tmp_path / "pool", executor=LocalExecutor(2), shard_size=1))
    _assert_same_bytes(ref_dir, tmp_path / "pool" / pooled["run"]["dir"])


def _ray_workers_of(root_pid: int, busy_only: bool = True) -> list:
    """PIDs of this test's Ray shard workers: ``ray::_ShardWorker`` processes under ``root_pid``."""
    parents, titles = {}, {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            titles[int(d.name)] = (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        parents[int(d.name)] = int(stat.rpartition(")")[2].split()[1])

    def under(pid: int) -> bool:
        seen = 0
        while pid > 1 and seen < 64:
            if pid == root_pid:
                return True
            pid, seen = parents.get(pid, 0), seen + 1
        return False

    want = "_ShardWorker.run" if busy_only else "_ShardWorker"
    return [p for p, t in titles.items() if t.startswith("ray::") and want in t and under(p)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="finds worker processes through /proc (Linux)")
def test_killed_worker_is_retried_with_identical_results(demo, local_run, ray_local, tmp_path):
    _, ref_dir = local_run
    ex = RayExecutor(workers=2)
    killed = []
    stop = threading.Event()

    def killer() -> None:   # SIGKILL the first worker seen busy with a shard (its first one: setup
        while not stop.is_set():   # + prediction, a window of a second or more on any machine)
            busy = _ray_workers_of(os.getpid())
            if busy:
                os.kill(busy[0], signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.002)

    t = threading.Thread(target=killer, daemon=True)
    t.start()
    try:
        s = evaluate(_cfg(demo, tmp_path, executor=ex, shard_size=1))
    finally:
        stop.set()
        t.join(5)
    assert killed, "no busy worker was found to kill: the run finished too early"
    assert s["executor"]["retried_shards"] >= 1
    _assert_same_bytes(ref_dir, tmp_path / s["run"]["dir"])
    assert _ray_workers_of(os.getpid(), busy_only=False) == []    # actors are gone after the run


def test_retry_skips_videos_already_committed(demo, local_run, tmp_path):
    """What a retried shard runs: only the videos the dead worker had not committed yet."""
    from wflwv.harness.cache import RunDir
    from wflwv.harness.ray_executor import _remaining
    from wflwv.harness.shard import ShardSpec

    _, ref_dir = local_run
    run = RunDir.load(ref_dir)
    ids = tuple(run.done(sorted(run.cached_video_ids())))[:3]
    spec = ShardSpec(index_dir=str(demo), video_ids=ids, model="noisy", options=(), run_dir=str(ref_dir))
    assert len(ids) == 3 and _remaining(spec).video_ids == ()
    fresh = tmp_path / ref_dir.name     # the name carries the key
    shutil.copytree(ref_dir, fresh)
    os.unlink(RunDir.load(fresh).shard_path(ids[1]))
    left = _remaining(ShardSpec(index_dir=str(demo), video_ids=ids, model="noisy", options=(), run_dir=str(fresh)))
    assert left.video_ids == (ids[1],)
    with pytest.raises(FileNotFoundError, match="cannot see the run directory"):
        _remaining(ShardSpec(index_dir=str(demo), video_ids=ids, model="noisy", options=(),
                             run_dir=str(tmp_path / "elsewhere")))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_joins_a_ray_start_head_node(demo, local_run, tmp_path):
    _, ref_dir = local_run
    port = _free_port()
    tmp = tempfile.mkdtemp(prefix="r13h-", dir="/tmp")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
               RAY_USAGE_STATS_ENABLED="0", RAY_AUTH_MODE="disabled")   # 127.0.0.1 only
    env.pop("RAY_ADDRESS", None)
    head = subprocess.Popen([sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
                             f"--port={port}", "--node-ip-address=127.0.0.1", "--num-cpus=2",
                             "--include-dashboard=false", f"--temp-dir={tmp}", "--disable-usage-stats"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        address = f"127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:     # wait until the GCS answers
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert head.poll() is None, head.stdout.read()
            time.sleep(0.2)
        res = subprocess.run([sys.executable, "-m", "wflwv", "evaluate", "--model", "noisy", "--dataset", str(demo),
                              "--filter", "none", "--filter", "one-euro", "--decode", "always", "--out",
                              str(tmp_path), "--no-progress", "--executor", "ray", "--ray-address", address,
                              "--jobs", "2"], env=env, capture_output=True, text=True, timeout=240)
        assert res.returncode == 0, res.stdout + res.stderr
        runs = [p for p in tmp_path.iterdir() if p.is_dir()]
        assert len(runs) == 1
        _assert_same_bytes(ref_dir, runs[0])
        import json

        e = json.loads((runs[0] / "summary.json").read_text())["executor"]
        assert e["cluster"]["address"] == address and e["cluster"]["cpus"] == 2
    finally:
        os.killpg(head.pid, signal.SIGTERM)     # `ray start --block` stops its node on SIGTERM ...
        try:
            head.wait(3)
        except subprocess.TimeoutExpired:       # ... but its GCS may linger: end the whole group
            os.killpg(head.pid, signal.SIGKILL)
            head.wait(10)
        deadline = time.time() + 10
        while (leftovers := _session_processes(tmp, head.pid)) and time.time() < deadline:
            time.sleep(0.2)
        for pid in leftovers:
            os.kill(pid, signal.SIGKILL)
        shutil.rmtree(tmp, ignore_errors=True)
    assert not leftovers, f"processes of the head node outlived it: {leftovers}"


def _session_processes(temp_dir: str, pgid: int) -> list:
    """PIDs left of the head node: in its process group or naming its private Ray folder."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit() and int(d.name) != os.getpid():
            try:
                fields = (d / "stat").read_text().rpartition(")")[2].split()
                if fields[0] in ("Z", "X"):     # dead, waiting to be reaped
                    continue
                if int(fields[2]) == pgid or temp_dir.encode() in (d / "cmdline").read_bytes():
                    out.append(int(d.name))
            except (OSError, ValueError, IndexError):
                continue
    return out


def test_executor_options_are_checked():
    with pytest.raises(ValueError, match="--device cuda"):
        make_executor("ray", 2, None, None, "cuda:1")
    with pytest.raises(ValueError, match="gpus-per-worker > 0"):
        make_executor("ray", 2, None, 0, "cuda")
    with pytest.raises(ValueError, match="need --executor ray"):
        make_executor("local", 2, "auto", None, "cpu")
    assert make_executor("ray", None, None, None, "cuda").gpus_per_worker == 1.0
    assert make_executor("ray", 2, None, None, "cpu").gpus_per_worker == 0.0


def test_more_workers_than_the_cluster_has_is_an_error(demo, ray_local, tmp_path):
    assert RayExecutor(workers=None).workers == 2         # default: one worker per CPU of the cluster
    assert RayExecutor(workers=None, cpus_per_worker=2).workers == 1
    with pytest.raises(RuntimeError, match="--jobs 5 needs 5 CPUs .* has 2 CPUs"):
        evaluate(_cfg(demo, tmp_path, executor=RayExecutor(workers=5)))
