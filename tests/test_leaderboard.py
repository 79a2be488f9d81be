"""Leaderboard: rows from run summaries + reference rows, Markdown sections, CSV, PNG; tune-filter."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

from harness_factory import make_index, track
from wflwv.harness.evaluate import EvalConfig, evaluate


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("lb")
    tracks = {"easy": [track(80, seed=s, speed=0.2) for s in range(3)],
              "hard": [track(60, seed=10 + s, speed=0.2) for s in range(2)]}
    # named like WFLW-V so the published WFLW-V rows land beside these runs
    idx = make_index(root, tracks=tracks, write_videos=False, dataset="wflw-v")
    out = root / "runs"
    for model in ("oracle", "noisy:sigma=0.004"):
        evaluate(EvalConfig(model=model, dataset=str(idx), filters=("none", "ema:alpha=0.6", "savgol"),
                            out=str(out), decode="never", progress=False))
    return out


def test_leaderboard_rows_csv_markdown_and_plots(runs, tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    r = CliRunner().invoke(main, ["leaderboard", str(runs), "--out", str(tmp_path)])
    assert r.exit_code == 0, r.output
    df = pd.read_csv(tmp_path / "leaderboard.csv")
    own = df[df["source"] == "wflwv"]
    assert len(own) == 2 * 3 * 3  # models x subsets(easy, hard, all) x filters
    assert own["simulated"].all() and set(own["box_source"]) == {"dataset"}
    oracle = own[(own["model"] == "oracle") & (own["filter"] == "none")]
    assert (oracle["nme_io"] == 0).all() and (oracle["nmf"] == 0).all() and (oracle["auc_010"] == 1).all()
    noisy = own[(own["model"] == "noisy:sigma=0.004") & (own["filter"] == "none") & (own["subset"] == "all")]
    assert noisy["nmf"].iloc[0] == pytest.approx(51200 * 0.004, rel=0.05)
    assert noisy["nmf_ci_lo"].iloc[0] < noisy["nmf"].iloc[0] < noisy["nmf_ci_hi"].iloc[0]
    ref = df[df["source"] != "wflwv"]
    assert set(ref["source"]) == {"paper", "release", "derived"}
    assert ref["citation"].str.len().gt(10).all()
    assert set(ref.loc[ref["provenance"] == "third_party_table", "second_hand"]) == {True}
    assert not ref.loc[ref["source"] == "release", "second_hand"].any()
    assert set(ref["dataset"]) == {"wflw-v"}  # only published rows of the evaluated datasets
    assert not ref["tuned_on_eval_split"].any()
    rel = ref[(ref["dataset"] == "wflw-v") & (ref["source"] == "release")].iloc[0]
    assert rel["nme_io"] == 2.02 and rel["nmf"] == 115.48 and rel["nme_normaliser"].startswith("io")
    paper = ref[(ref["dataset"] == "wflw-v") & (ref["subset"] == "easy") & (ref["source"] == "paper")].iloc[0]
    assert np.isnan(paper["nme_io"]) and paper["nme_fs"] == 1.24  # probable face-size normaliser
    md = (tmp_path / "leaderboard.md").read_text()
    head = "## wflw-v · easy · protocol index · boxes dataset · NME io (60/72) and fs · crop none"
    assert f"{head} · online" in md and f"{head} · offline smoothers" in md
    # savgol (offline) rows only in the offline section; short filter names in the tables
    online = md.split(f"{head} · online")[1].split(f"{head} · offline")[0]
    assert "savgol" not in online and "| ema |" in online and "alpha=0.6" not in online
    row = [ln for ln in online.splitlines() if ln.startswith("| wflwv | oracle (SIMULATED) | none |")][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[3:6] == ["0.000", "0.000", "0.00 [0.0, 0.0]"] and cells[7] == "1.0000"
    assert "| release | ldeq.wflw_v | none | 2.020 |" in md
    # published rows (box source unknown) never share a board with measured rows
    assert "## wflw-v · easy · protocol index · boxes unknown (as published)" in md
    for stem in ("nme_vs_nmf_wflw-v-easy-index-", "ced_wflw-v-easy-index-"):
        pngs = list(tmp_path.glob(stem + "*.png"))
        assert pngs and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_leaderboard_without_runs_is_an_error(tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main

    r = CliRunner().invoke(main, ["leaderboard", str(tmp_path), "--out", str(tmp_path / "lb")])
    assert r.exit_code != 0 and "no run summaries" in r.output


def test_tune_filter_pareto_and_apply(runs, tmp_path):
    from click.testing import CliRunner

    from wflwv.cli import main
    from wflwv.harness.tune import pareto_mask

    assert pareto_mask(np.array([1, 2, 3, 2.5]), np.array([3, 2, 1, 2.5])).tolist() == [True, True, True, False]
    run = next(p for p in runs.iterdir() if p.name.startswith("wflw-v-noisy"))
    r = CliRunner().invoke(main, ["tune-filter", str(run), "--filter", "ema", "--grid", "alpha=0.3,0.6,1.0",
                                  "--tune-subset", "easy", "--apply-subset", "hard", "--out", str(tmp_path),
                                  "--max-nme-ratio", "1.5", "--no-progress"])
    assert r.exit_code == 0, r.output
    import json

    preset = json.loads((tmp_path / "preset.json").read_text())
    table = pd.read_csv(tmp_path / "tuning.csv")
    assert len(table) == 3 and table["pareto"].any()
    base = preset["unfiltered_on_tuning_split"]
    a1 = table[table["alpha"] == 1.0].iloc[0]  # alpha = 1 is the identity
    assert a1["nmf"] == pytest.approx(base["nmf"]) and a1["video_nme.io"] == pytest.approx(base["video_nme.io"])
    feas = table[table["feasible"]]
    assert preset["params"]["alpha"] == feas.sort_values("nmf")["alpha"].iloc[0]
    assert (feas["video_nme.io"] <= 1.5 * base["video_nme.io"]).all()
    assert preset["applied"]["subset"] == "hard" and not preset["applied"]["tuned_on_eval_split"]
    assert preset["applied"]["tuned"]["nmf"] < preset["applied"]["unfiltered"]["nmf"]
    assert (tmp_path / "pareto.png").is_file()
    r = CliRunner().invoke(main, ["tune-filter", str(run), "--filter", "ema", "--grid", "alpha", "--tune-subset",
                                  "easy", "--out", str(tmp_path / "x")])
    assert r.exit_code != 0 and "key=v1,v2" in r.output


def test_rebuilt_command_and_protocol_normaliser(runs):
    """A summary without a recorded command gets one the CLI accepts; a face-size-only protocol
    labels its boards ``fs`` and shows no inter-ocular NME."""
    import copy
    import json
    import shlex

    from click.testing import CliRunner

    from wflwv.cli import main
    from wflwv.leaderboard.rows import equivalent_command, rows_from_summary

    path = sorted(runs.glob("*/summary.json"))[0]
    summary = json.loads(path.read_text())
    summary.pop("command", None)
    summary["dataset"]["subset_requested"] = "hard"
    summary["protocol"]["box_source"] = "gt"
    argv = shlex.split(equivalent_command(summary, path))
    assert argv[:2] == ["wflwv", "evaluate"] and "--boxes" in argv
    assert argv[argv.index("--dataset") + 1].endswith(":hard")
    # every option of the rebuilt line exists: --help after it parses without "no such option"
    r = CliRunner().invoke(main, argv[1:] + ["--help"])
    assert r.exit_code == 0, r.output

    rows = rows_from_summary(summary, path)
    assert rows[0]["nme_normaliser"].startswith("io (") and rows[0]["nme_normaliser"].endswith("and fs")
    fs_only = copy.deepcopy(summary)
    fs_only["protocol_definition"] = {"name": "qlot", "definition": {"name": "qlot", "nme": ["fs"]}}
    rows = rows_from_summary(fs_only, path)
    assert {r["nme_normaliser"] for r in rows} == {"fs"}
    assert all(np.isnan(r["nme_io"]) for r in rows) and all(np.isfinite(r["nme_fs"]) for r in rows)


def test_cli_records_its_command_line(tmp_path):
    """``wflwv evaluate`` run as a program records the command that made the run in its summary."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    idx = make_index(tmp_path, tracks={"easy": [track(30, seed=1)]}, write_videos=False)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    argv = ["evaluate", "--model", "noisy", "--dataset", str(idx), "--decode", "never", "--no-progress",
            "--out", str(tmp_path / "runs")]
    done = subprocess.run([sys.executable, "-m", "wflwv"] + argv, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(next((tmp_path / "runs").glob("*/summary.json")).read_text())
    import shlex
    assert shlex.split(summary["command"]) == ["wflwv"] + argv
