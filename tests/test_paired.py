"""Paired bootstrap over videos: direct computation, demo-set significance, leaderboard and compare."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from wflwv.metrics.paired import align_videos, paired_bootstrap


def test_paired_bootstrap_equals_a_direct_computation():
    a = np.array([1.0, 2.5, 0.5, 4.0])
    b = np.array([0.5, 2.0, 1.5, 1.0])
    d = a - b
    res = paired_bootstrap(a, b, n_boot=500, seed=3)
    assert res.delta == pytest.approx(a.mean() - b.mean()) and res.n_videos == 4
    # the documented procedure, written out: resample videos, mean of the paired differences
    rng = np.random.default_rng(3)
    means = [d[rng.integers(0, 4, size=4)].mean() for _ in range(500)]
    lo, hi = np.quantile(means, [0.025, 0.975])
    assert (res.lo, res.hi) == (pytest.approx(lo), pytest.approx(hi))
    # and against the exact bootstrap distribution (all 4^4 equally likely resamples)
    exact = np.array([d[list(ix)].mean() for ix in itertools.product(range(4), repeat=4)])
    big = paired_bootstrap(a, b, n_boot=20000, seed=1)
    assert (big.lo, big.hi) == tuple(pytest.approx(q) for q in np.quantile(exact, [0.025, 0.975]))
    assert not big.excludes_zero  # one video of four goes the other way
    shifted = paired_bootstrap(a + 10.0, b, n_boot=500, seed=3)
    assert shifted.excludes_zero and shifted.lo == pytest.approx(res.lo + 10.0)


def test_paired_bootstrap_refuses_unpaired_and_nan_input():
    with pytest.raises(ValueError, match="same videos"):
        paired_bootstrap(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="not finite"):
        paired_bootstrap(np.array([1.0, np.nan]), np.ones(2))
    ids, xa, xb = align_videos({"v1": 1.0, "v2": np.nan, "v3": 3.0}, {"v3": 1.0, "v1": 2.0, "v4": 0.0})
    assert ids == ["v1", "v3"] and xa.tolist() == [1.0, 3.0] and xb.tolist() == [2.0, 1.0]


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory):
    from click.testing import CliRunner

    from wflwv.cli import main
    from wflwv.harness.evaluate import EvalConfig, evaluate

    root = tmp_path_factory.mktemp("demo")
    r = CliRunner().invoke(main, ["build", "synthetic", "--preset", "demo", "--out", str(root / "idx")])
    assert r.exit_code == 0, r.output
    out = root / "runs"
    for model in ("oracle", "noisy", "noisy:seed=1"):
        evaluate(EvalConfig(model=model, dataset=str(root / "idx"), filters=("none", "one-euro@noisy"),
                            out=str(out), decode="never", progress=False))
    def run_of(spec):   # run dirs are named by detector + key, so select by the recorded spec
        return next(p for p in out.iterdir() if p.is_dir()
                    and json.loads((p / "summary.json").read_text())["model"]["spec"] == spec)

    return {"oracle": run_of("oracle"), "noisy": run_of("noisy"), "noisy1": run_of("noisy:seed=1"), "root": out}


def test_oracle_vs_noisy_is_significant_and_a_detector_vs_itself_is_not(demo_runs):
    from wflwv.leaderboard.compare import compare_runs

    t, names = compare_runs(str(demo_runs["oracle"]), str(demo_runs["noisy"]))
    assert names == ("oracle", "noisy")
    none = t[t["filter"] == "none"]
    assert set(none["subset"]) == {"easy", "hard", "all"}
    assert none["excludes_zero"].all() and (none["ci_hi"] < 0).all()  # oracle better in NME and NMF
    row = none[(none["subset"] == "all") & (none["metric"] == "nmf")].iloc[0]
    assert row["n_videos"] == 20 and row["a"] == 0.0 and row["delta"] == pytest.approx(-row["b"])
    same, _ = compare_runs(str(demo_runs["noisy"]), str(demo_runs["noisy"]))
    assert (same["delta"] == 0).all() and not same["excludes_zero"].any()
    assert ((same["ci_lo"] <= 0) & (same["ci_hi"] >= 0)).all()
    # the same detector with another noise seed: no difference is claimed
    other, _ = compare_runs(str(demo_runs["noisy"]), str(demo_runs["noisy1"]))
    o = other[(other["filter"] == "none") & (other["subset"] == "all")]
    assert not o["excludes_zero"].any() and ((o["ci_lo"] < 0) & (o["ci_hi"] > 0)).all()


def test_leaderboard_paired_rows_match_the_row_means(demo_runs, tmp_path):
    from wflwv.leaderboard import build, write

    df = build([str(demo_runs["root"])], reference=False)
    write(df, tmp_path, plots=False, site=False)
    paired = pd.read_csv(tmp_path / "paired.csv")
    lb = pd.read_csv(tmp_path / "leaderboard.csv").set_index("row_id")
    fv = paired[(paired["kind"] == "filter_vs_unfiltered") & (paired["metric"] == "nmf")]
    assert len(fv) == 3 * 3  # models x subsets, one filter each
    for _, p in fv.iterrows():  # no skipped videos here: the delta is the difference of the row means
        assert p["delta"] == pytest.approx(lb.loc[p["row_a"], "nmf"] - lb.loc[p["row_b"], "nmf"])
        assert lb.loc[p["row_a"], "dnmf_vs_unfiltered"] == pytest.approx(p["delta"])
        assert lb.loc[p["row_a"], "dnmf_vs_unfiltered_lo"] == pytest.approx(p["ci_lo"])
    mm = paired[paired["kind"] == "model_vs_model"]
    # 3 model pairs x 2 filters x 3 subsets x 2 metrics, all on the same board and videos
    assert len(mm) == 3 * 2 * 3 * 2 and (mm["n_videos"] == mm["n_videos_a"]).all()
    assert (mm["seed"] == 0).all() and (mm["n_boot"] == 2000).all()
    on = mm[(mm["model_a"] == "noisy") & (mm["model_b"] == "oracle") & (mm["filter_a"] == "none")]
    assert on["excludes_zero"].all() and (on["ci_lo"] > 0).all()


def test_compare_cli_and_refusal(demo_runs, tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    r = CliRunner().invoke(main, ["compare", str(demo_runs["oracle"]), str(demo_runs["noisy"]), "--csv",
                                  str(tmp_path / "c.csv")])
    assert r.exit_code == 0, r.output
    assert "A = oracle   B = noisy" in r.output and "yes" in r.output
    assert len(pd.read_csv(tmp_path / "c.csv")) == 3 * 2 * 2
    summary = json.loads((demo_runs["noisy"] / "summary.json").read_text())
    summary["dataset"]["fingerprint"] = "0" * 64
    other = tmp_path / "other"
    other.mkdir()
    (other / "summary.json").write_text(json.dumps(summary))
    r = CliRunner().invoke(main, ["compare", str(demo_runs["oracle"]), str(other)])
    assert r.exit_code != 0 and "index fingerprint" in r.output and "summary.json" in r.output
