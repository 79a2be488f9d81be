"""The shared benchmark helper: targets judged, legend, JSON beside the table, summary table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO / "benchmarks"))  # last: benchmarks/ray.py must not shadow ray

import benchtable as bt  # noqa: E402


@pytest.mark.parametrize("op,bound,value,ok", [(">=", 1.7, 1.7, True), (">=", 1.7, 1.69, False),
                                               ("<", 2.0, 2.0, False), ("<=", 0.15, 0.1, True),
                                               ("~", 1.0, 1.09, True), ("~", 1.0, 1.2, False)])
def test_target_judges(op, bound, value, ok):
    assert bt.Target(op, bound).met(value) is ok


def test_target_missing_value_is_not_measured():
    assert bt.Target(">=", 1).met(float("nan")) is None
    with pytest.raises(ValueError):
        bt.Target("=>", 1)


def test_timing_best_and_spread():
    t = bt.Timing([2.0, 1.0, 1.5])
    assert t.best == 1.0 and t.median == 1.5 and t.spread == pytest.approx(1.0)
    assert t.rate(10) == 10.0
    assert t.cell() == "1.000 s ±100%"
    assert bt.Target.holds().met(True) and not bt.Target.holds().met(False)
    calls = []
    tm = bt.best_of(lambda: calls.append(1) or len(calls), repeat=3, warmup=1)
    assert len(calls) == 4 and len(tm.times) == 3


def test_report_prints_status_legend_and_writes_json(tmp_path, capsys):
    rep = bt.Report("unit", "a unit table", params={"n": 3})
    tab = rep.table(["case", "seconds", "ratio"], baseline="loop")
    tab.row(["loop", bt.Timing([1.0, 1.1]), 1.0])
    tab.row(["fast", 0.1, 10.0], target=bt.Target(">=", 5))
    tab.row(["slow", 0.5, 2.0], target=bt.Target(">=", 5))
    rep.legend("!", "a marker")
    path = rep.finish(tmp_path)
    out = capsys.readouterr().out
    assert "| fast " in out and "met" in out and "MISSED" in out
    assert "`!` a marker" in out and "±N%" in out
    d = json.loads(path.read_text())
    assert [r["status"] for r in d["tables"][0]["rows"]] == ["", "met", "missed"]
    assert d["status"] == {"met": 1, "missed": 1, "n/a": 0}
    assert d["tables"][0]["rows"][0]["cells"][1]["best_s"] == 1.0
    assert (tmp_path / "unit.md").read_text().startswith("## unit")
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "summary.py"), str(tmp_path)],
                         capture_output=True, text=True, check=True)
    assert "1 met, 1 missed, 0 not measured, 0 failed over 1 benchmark(s)" in res.stdout
    assert json.loads((tmp_path / "summary.json").read_text())["tables"][0]["rows"][0]["cells"][0] == "unit"


def test_progress_is_silent_without_a_terminal():
    assert not bt.is_tty()   # pytest captures output
    assert bt.progress(range(3)).disable and bt.progress(total=3, disable=False).disable


def test_summary_flags_a_benchmark_without_json(tmp_path):
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "summary.py"), str(tmp_path),
                          "--expect", "crashed"], capture_output=True, text=True, check=True)
    assert "| crashed" in res.stdout and "1 failed" in res.stdout
