"""Evaluation harness: batching/state protocol, cache + resume, scoring parity, provenance, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from harness_factory import make_index, track
from wflwv.datasets.index import load_index
from wflwv.detectors.base import Detector, DetectorCfg
from wflwv.harness.batching import DetectorOutputError, VideoJob, run_video_parallel
from wflwv.harness.cache import RunDirError
from wflwv.harness.evaluate import EvalConfig, apply_limit, evaluate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return make_index(tmp_path_factory.mktemp("tiny"), {"easy": [12, 7], "hard": [9]})


def _cfg(index, out, **kw):
    base = dict(model="oracle", dataset=str(index), filters=("none",), out=str(out), progress=False)
    base.update(kw)
    return EvalConfig(**base)


# ---- batching and the state protocol ------------------------------------------------------------
class CountingDetector(Detector):
    """Stateful fake: state = frames seen so far; output encodes it. Records every call."""

    def __init__(self):
        super().__init__(DetectorCfg(name="counting", family="test", landmark_scheme="gt", num_landmarks=2,
                                     crop_protocol="none", stateful=True))
        self.calls, self.resets = [], 0

    def reset(self):
        self.resets += 1

    def predict_frames(self, frames, boxes, state=None, gt=None, keys=None):
        self.calls.append((state is None, [k for k in keys]))
        n = len(keys)
        prev = np.zeros(n) if state is None else state[:, 0]
        new = (prev + 1)[:, None]
        lm = np.zeros((n, 2, 2))
        lm[:, 0, 0] = new[:, 0]
        lm[:, 1, 1] = [fi for _, fi in keys]
        return lm, new


def _jobs(lengths):
    for i, T in enumerate(lengths):
        yield VideoJob(video_id=f"v{i}", n_frames=T, frames=iter([(t, None) for t in range(T)]),
                       boxes=np.tile([0.0, 0.0, 10.0, 10.0], (T, 1)))


def test_video_parallel_state_protocol():
    det = CountingDetector()
    lengths = [5, 1, 3, 8, 2, 6]
    out = run_video_parallel(det, _jobs(lengths), batch_size=3)
    assert set(out) == {f"v{i}" for i in range(6)}
    for i, T in enumerate(lengths):
        # the state followed each video through joins/leaves: frame t saw exactly t earlier frames
        assert out[f"v{i}"][:, 0, 0].tolist() == list(range(1, T + 1))
        assert out[f"v{i}"][:, 1, 1].tolist() == list(range(T))
    seen = set()
    for fresh, keys in det.calls:
        assert len(keys) <= 3
        # never a mix of starting and continuing videos in one call
        starts = [fi == 0 for _, fi in keys]
        assert all(starts) if fresh else not any(starts)
        seen.update(v for v, _ in keys)
    assert det.resets == sum(1 for fresh, _ in det.calls if fresh)
    # videos of different lengths shared batches: more than one video id in some continuing call
    assert any(len({v for v, _ in keys}) > 1 for fresh, keys in det.calls if not fresh)


def test_noisy_is_independent_of_batching(tiny):
    from wflwv.detectors import create
    from wflwv.harness.shard import build_jobs

    index = load_index(tiny)
    det = create("noisy:sigma=0.01,seed=3")
    a = run_video_parallel(det, build_jobs(index, index.video_ids(), det, "dataset", False), 1)
    b = run_video_parallel(det, build_jobs(index, index.video_ids(), det, "dataset", False), 16)
    for v in a:
        np.testing.assert_array_equal(a[v], b[v])
        assert np.abs(a[v] - index.landmarks(v)).max() > 0


def test_frame_count_mismatch_names_the_video():
    from wflwv.harness.batching import FrameCountError

    det = CountingDetector()
    job = VideoJob("short", 4, iter([(0, None), (1, None)]), np.tile([0.0, 0, 9, 9], (4, 1)))
    with pytest.raises(FrameCountError, match="short.*2 frames.*4"):
        run_video_parallel(det, [job], 2)


# ---- end to end: oracle, files, provenance -------------------------------------------------------
def test_oracle_end_to_end_with_decode(tiny, tmp_path):
    s = evaluate(_cfg(tiny, tmp_path / "runs", filters=("none", "ema:alpha=0.5"), decode="always"))
    run = tmp_path / "runs" / s["run"]["dir"]
    none = [r for r in s["results"] if r["filter"] == "none"]
    assert {r["subset"] for r in none} == {"easy", "hard", "all"}
    for r in none:
        assert r["video_nme.io"] == 0.0 and r["video_nme.fs"] == 0.0 and r["nmf"] == 0.0
        assert r["fr@0.10"] == 0.0 and r["auc@0.10"] == pytest.approx(1.0)
    ema = [r for r in s["results"] if r["filter"].startswith("ema") and r["subset"] == "all"][0]
    assert ema["video_nme.io"] > 0  # smoothing a moving face adds lag error
    # files and formats
    t = pq.read_table(run / "predictions.parquet")
    assert t.column_names == ["video_id", "frame_index", "landmarks", "box", "track_id", "cut", "box_kind"]
    assert set(t.column("box_kind").to_pylist()) == {"dataset"}
    assert t.column("track_id").to_pylist() == [0] * 28 and not any(t.column("cut").to_pylist())
    ty = t.schema.field("landmarks").type
    assert ty.list_size == 196 and str(ty.value_type) == "float" and "fixed_size_list" in str(ty)
    assert t.num_rows == 28
    for name in ("frame_errors.parquet", "video_metrics.parquet", "summary.md", "config.json"):
        assert (run / name).is_file()
    assert not list(run.rglob(".tmp-*"))
    # provenance (anchors §1)
    assert s["simulated"] is True and "SIMULATED" in s["simulated_label"]
    assert s["dataset"]["fingerprint"] == json.loads((tiny / "dataset_info.json").read_text())["fingerprint"]
    assert s["protocol"]["decoder"]["backend"] == "opencv" and s["protocol"]["decoder"]["version"]
    assert s["protocol"]["box_source"] == "dataset" and s["protocol"]["crop_protocol"] == "none"
    assert s["metrics"]["nmf"]["higher_is_better"] is False and s["metrics"]["auc@0.10"]["higher_is_better"]
    assert s["metrics"]["video_nme.io"]["units"] == "percent"
    assert {"resolve_s", "detect_s", "merge_s", "filter_s", "metrics_s", "write_s"} <= set(s["timings_s"])
    assert s["environment"]["numpy"] and "wflwv_git" in s
    assert s["filters"][1]["params"]["alpha"] == 0.5
    vm = pq.read_table(run / "video_metrics.parquet").to_pandas()
    assert len(vm) == 6 and set(vm["filter"]) == {"none", s["filters"][1]["id"]}


def test_noisy_and_bimodal_match_their_analytic_values(tmp_path):
    tracks = {"easy": [track(400, seed=s) for s in range(3)]}
    idx = make_index(tmp_path, tracks=tracks, write_videos=False)
    sigma, d = 0.004, 0.006
    s = evaluate(_cfg(idx, tmp_path / "runs", model=f"noisy:sigma={sigma}", decode="never"))
    r = s["results"][0]
    assert r["nmf"] == pytest.approx(51200 * sigma, rel=0.02)          # metrics.md §4
    assert r["video_nme.fs"] == pytest.approx(100 * sigma * np.sqrt(np.pi / 2), rel=0.02)
    s = evaluate(_cfg(idx, tmp_path / "runs", model=f"bimodal:offset={d},p=0.3", decode="never"))
    r = s["results"][0]
    assert r["video_nme.fs"] == pytest.approx(100 * d, rel=1e-4)
    assert r["nmf"] == pytest.approx(np.sqrt(2 * 0.3 * 0.7) * 51200 * d, rel=0.05)


def test_simulated_evaluation_never_imports_torch(tiny, tmp_path):
    code = ("import sys; sys.path.insert(0, 'tests')\n"
            "from wflwv.harness.evaluate import EvalConfig, evaluate\n"
            f"evaluate(EvalConfig(model='noisy', dataset={str(tiny)!r}, out={str(tmp_path)!r}, "
            "progress=False, decode='always'))\n"
            "print('torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[1]).stdout
    assert out.strip().splitlines()[-1] == "False"


# ---- cache: resume, reuse, mismatch ---------------------------------------------------------------
def test_killed_run_resumes_and_matches_a_full_run(tiny, tmp_path, monkeypatch):
    from wflwv.harness import cache

    full = evaluate(_cfg(tiny, tmp_path / "full", model="noisy", decode="never"))
    real = cache.RunDir.commit_video
    calls = {"n": 0}

    def dying(self, *a, **k):
        if calls["n"] == 2:
            raise KeyboardInterrupt("killed")
        calls["n"] += 1
        return real(self, *a, **k)

    monkeypatch.setattr(cache.RunDir, "commit_video", dying)
    with pytest.raises(KeyboardInterrupt):
        evaluate(_cfg(tiny, tmp_path / "part", model="noisy", decode="never", batch_size=1))
    monkeypatch.setattr(cache.RunDir, "commit_video", real)
    run = next((tmp_path / "part").iterdir())
    assert len(list((run / "shards").glob("*.parquet"))) == 2 and not list(run.rglob(".tmp-*"))
    assert not (run / "summary.json").exists()
    s = evaluate(_cfg(tiny, tmp_path / "part", model="noisy", decode="never"))
    assert s["counts"]["n_videos_detected_now"] == 1
    assert [r["nmf"] for r in s["results"]] == [r["nmf"] for r in full["results"]]
    again = evaluate(_cfg(tiny, tmp_path / "part", model="noisy", filters=("none", "kalman"), decode="never"))
    assert again["counts"]["n_videos_detected_now"] == 0 and len(again["results"]) == 6


def test_rebuilt_index_or_edited_config_is_refused(tmp_path):
    from wflwv.datasets.integrity import IndexChanged

    idx = make_index(tmp_path, {"easy": [5, 6]}, write_videos=False)
    s = evaluate(_cfg(idx, tmp_path / "runs", decode="never"))
    run = tmp_path / "runs" / s["run"]["dir"]
    # same fingerprint, different bytes: refused before anything runs, naming the file
    t = pq.read_table(idx / "frames.parquet")
    pq.write_table(t.slice(0, t.num_rows), idx / "frames.parquet", compression="gzip")
    with pytest.raises(IndexChanged, match="frames.parquet changed since the index was built"):
        evaluate(_cfg(idx, tmp_path / "runs", decode="never"))
    # a rebuilt (re-sealed) index with other content gets another run key: the cache is never reused
    from wflwv.datasets.integrity import seal

    info = json.loads((idx / "dataset_info.json").read_text())
    (idx / "dataset_info.json").write_text(json.dumps(seal(idx, info)))
    s2 = evaluate(_cfg(idx, tmp_path / "runs", decode="never"))
    assert s2["run"]["dir"] != s["run"]["dir"] and s2["counts"]["n_videos_detected_now"] == 2
    run = tmp_path / "runs" / s2["run"]["dir"]
    cfg = json.loads((run / "config.json").read_text())
    cfg["key_fields"]["box_source"] = "gt"
    (run / "config.json").write_text(json.dumps(cfg))
    with pytest.raises(RunDirError, match="does not match its key"):
        evaluate(_cfg(idx, tmp_path / "runs", decode="never"))


def test_nan_prediction_is_a_failed_row_and_nothing_is_cached(tiny, tmp_path, monkeypatch):
    """One video's NaN output fails that video (named, with the frame), never the run."""
    from wflwv.detectors.simulated import SimulatedDetector

    real = SimulatedDetector.predict_frames

    def bad(self, frames, boxes, state=None, gt=None, keys=None):
        lm, st = real(self, frames, boxes, state, gt, keys)
        for i, (v, fi) in enumerate(keys):
            if v == "easy_01" and fi == 3:
                lm[i, 5, 0] = np.nan
        return lm, st

    monkeypatch.setattr(SimulatedDetector, "predict_frames", bad)
    s = evaluate(_cfg(tiny, tmp_path / "runs", decode="never", batch_size=4))
    run = next(p for p in (tmp_path / "runs").iterdir() if p.is_dir())
    assert not any("easy_01" in p.name for p in (run / "shards").iterdir())
    (fail,) = s["failures"]
    assert fail["video_id"] == "easy_01" and "DetectorOutputError" in fail["reason"]
    assert re.search(r"easy_01.*frame 3", fail["reason"])
    row = next(r for r in s["results"] if r["subset"] == "all" and r["filter"] == "none")
    assert row["n_failed_videos"] == 1 and row["n_videos"] == 2 and not row["complete"]
    vm = pq.read_table(run / "video_metrics.parquet").to_pandas()
    assert vm.loc[vm.video_id == "easy_01", "status"].tolist() == ["failed"]
    # without keep-going the same fault raises, naming video and frame
    from wflwv.harness.batching import run_video_parallel
    from wflwv.harness.shard import build_jobs, get_detector, get_index

    det = get_detector("oracle", {}, None, "cpu")
    idx = get_index(str(tiny))
    with pytest.raises(DetectorOutputError, match=r"easy_01.*frame 3"):
        run_video_parallel(det, build_jobs(idx, ["easy_01"], det, "dataset", False), 4)


# ---- selection and bad input -----------------------------------------------------------------------
def test_limit_and_subset(tiny, tmp_path):
    assert apply_limit(list("abcdefghij"), 3) == list("abc")
    assert apply_limit(list("abcdefghij"), 0.25) == list("abc")
    with pytest.raises(ValueError):
        apply_limit(list("abc"), 0)
    s = evaluate(_cfg(tiny, tmp_path / "r", dataset=f"{tiny}:easy", limit=1, decode="never"))
    assert s["counts"]["n_videos_requested_original"] == 2
    assert s["counts"]["n_videos_requested_effective"] == 1
    r = s["results"][0]
    assert r["subset"] == "easy" and r["n_videos"] == 1 and r["complete"] is False


def test_cli_bad_names_and_index_version(tiny, tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    def run(*args):
        return CliRunner().invoke(main, ["evaluate", "--dataset", str(tiny), "--out", str(tmp_path / "r"),
                                         "--no-progress", *args])

    r = run("--model", "orcale")
    assert r.exit_code != 0 and "Did you mean" in r.output and "oracle" in r.output
    r = run("--model", "oracle", "--filter", "one-eur")
    assert r.exit_code != 0 and "one-euro" in r.output
    r = run("--model", "oracle", "--filter", "ema:alpha=7")
    assert r.exit_code != 0 and "alpha" in r.output
    r = run("--model", "noisy:sigma=abc")
    assert r.exit_code != 0 and "sigma" in r.output
    assert not (tmp_path / "r").exists()  # nothing written for bad input
    newer = make_index(tmp_path / "newer", {"easy": [3]}, write_videos=False, index_format=99)
    r = CliRunner().invoke(main, ["evaluate", "--model", "oracle", "--dataset", str(newer), "--out",
                                  str(tmp_path / "r2")])
    assert r.exit_code != 0 and "newer" in r.output


def test_cli_several_models_each_get_a_run(tiny, tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    r = CliRunner().invoke(main, ["evaluate", "--model", "oracle", "--model", "bimodal", "--dataset", str(tiny),
                                  "--filter", "none", "--filter", "one-euro", "--out", str(tmp_path),
                                  "--no-progress", "--decode", "never"])
    assert r.exit_code == 0, r.output
    runs = sorted(p.name for p in tmp_path.iterdir())
    assert len(runs) == 2 and runs[0].startswith("tiny-bimodal-") and runs[1].startswith("tiny-oracle-")
    assert "SIMULATED" in r.output


def test_process_executor_matches_inline(tiny, tmp_path):
    inline = evaluate(_cfg(tiny, tmp_path / "a", model="noisy", decode="always"))
    pooled = evaluate(_cfg(tiny, tmp_path / "b", model="noisy", decode="always", jobs=2, shard_size=1))
    assert pooled["jobs"] == 2 and pooled["detect"]["videos"] == 3
    assert [r["nmf"] for r in pooled["results"]] == [r["nmf"] for r in inline["results"]]


def test_chunked_scoring_equals_one_pass(tiny, tmp_path):
    from wflwv.filters import create
    from wflwv.harness.cache import RunDir
    from wflwv.harness.report import score_all

    s = evaluate(_cfg(tiny, tmp_path, model="noisy", decode="never"))
    run = RunDir.load(tmp_path / s["run"]["dir"])
    index = load_index(tiny)
    order = index.video_ids()
    filters = [create("none"), create("ema:alpha=0.5")]
    m1, s1 = score_all(run, order, filters, "gt", index, False, chunk_videos=1)
    m3, s3 = score_all(run, order, filters, "gt", index, False, chunk_videos=64)
    assert m1.offsets.tolist() == m3.offsets.tolist() == [0, 12, 19, 28]
    for a, b in zip(s1, s3):
        for k in a.per_video:
            np.testing.assert_array_equal(a.per_video[k], b.per_video[k])
        for k in a.per_frame:
            np.testing.assert_array_equal(a.per_frame[k], b.per_frame[k])


def test_reproduce_without_roots_exits_2(capsys):
    from wflwv.harness.reproduce import main

    assert main({}) == 2
    assert "WFLWV_ROOT" in capsys.readouterr().err


def test_box_source_is_part_of_the_key(tiny, tmp_path):
    from wflwv.boxes import BoxSourceError, gt_boxes

    a = evaluate(_cfg(tiny, tmp_path, boxes="dataset", decode="never"))
    b = evaluate(_cfg(tiny, tmp_path, boxes="gt", decode="never"))
    assert a["run"]["dir"] != b["run"]["dir"] and b["protocol"]["box_source"] == "gt"
    lm = np.array([[[1.0, 2.0], [5.0, 9.0], [3.0, 4.0]]])
    assert gt_boxes(lm).tolist() == [[1.0, 2.0, 5.0, 9.0]]
    with pytest.raises(BoxSourceError, match="no face detector 'retinaface' is registered"):
        evaluate(_cfg(tiny, tmp_path, boxes="detector:retinaface"))
    with pytest.raises(BoxSourceError, match="unknown box source"):
        evaluate(_cfg(tiny, tmp_path, boxes="official"))


def test_face_detector_misses_are_missing_frames(tiny, tmp_path):
    """A NaN box from the box source is a missing detection: counted in coverage and FR, never scored."""
    from wflwv.boxes import FACE_DETECTORS, register_face_detector

    calls = {"n": 0}

    def flaky(image):
        calls["n"] += 1
        return np.full(4, np.nan) if calls["n"] % 4 == 0 else np.array([22.0, 10.0, 74.0, 62.0])

    register_face_detector("flaky", flaky)
    try:
        s = evaluate(_cfg(tiny, tmp_path, boxes="detector:flaky:every=1"))
    finally:
        FACE_DETECTORS.pop("flaky", None)
    row = next(r for r in s["results"] if r["filter"] == "none" and r["subset"] == "all")
    n = 12 + 7 + 9
    assert calls["n"] == n and row["n_missing_frames"] == n // 4
    assert row["coverage"] == pytest.approx(1 - (n // 4) / n)
    assert row["video_nme.io"] == 0.0                      # the oracle, on the frames with a face
    assert row["fr@0.10"] == pytest.approx(100.0 * (n // 4) / n)   # a missing frame is a failure
