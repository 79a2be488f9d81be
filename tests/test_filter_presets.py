"""Shipped filter presets (``FILTER@NAME``): provenance fields, resolution, round-trip, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from wflwv.filters import create, parse_filter_specs
from wflwv.filters.presets import PRESET_DIR, REQUIRED, PresetError, available, from_tuning, load


def test_shipped_presets_cover_every_filter_for_noisy_and_carry_provenance():
    ids = available()
    for det in ("noisy", "bimodal"):
        for f in ("one-euro", "kalman", "kalman-rts", "ema", "savgol"):
            assert f"{f}@{det}" in ids
        assert f"savgol@{det}-causal" in ids
    for pid in ids:
        p = load(pid)
        assert all(k in p for k in REQUIRED)
        assert p["tuning"]["subset"] == "easy" and p["tuning"]["dataset"] == "synthetic"
        assert "NME_io <= 1.02" in p["objective"]
        # the chosen point met the constraint on the tuning split and improved stability there
        t, u = p["tuned_on_tuning_split"], p["unfiltered_on_tuning_split"]
        assert t["video_nme.io"] <= 1.02 * u["video_nme.io"] + 1e-9
        assert t["nmf"] < 0.8 * u["nmf"]
        # the chosen values are grid points
        for k, v in p["params"].items():
            assert v in p["grid"][k], (pid, k)
    # the One-Euro grid is wide (beta up to 100s in face units, min_cutoff 0.1..>=5)
    g = load("one-euro@noisy")["grid"]
    assert max(g["beta"]) >= 100 and min(g["min_cutoff"]) <= 0.1 and max(g["min_cutoff"]) >= 5


def test_preset_resolves_to_its_params_and_tags_the_id():
    p = json.loads((PRESET_DIR / "one-euro@noisy.json").read_text())
    f = create("one-euro@noisy")
    for k, v in p["params"].items():
        assert f.get_params()[k] == v
    assert f.id.startswith("one-euro@noisy:") and f.preset["id"] == "one-euro@noisy"
    assert create(f.id).id == f.id                      # round-trips
    assert create("one-euro").get_params()["beta"] == 0.0  # plain name = spec defaults
    # an override is no longer the tuned point: untagged id
    g = create("one-euro@noisy:beta=1")
    assert g.id.startswith("one-euro:") and g.get_params()["beta"] == 1.0
    s = create("savgol@noisy-causal")
    assert s.causal and s.id.startswith("savgol@noisy-causal:")
    fs = parse_filter_specs(["none", "one-euro@noisy", "one-euro"])
    assert len(fs) == 3
    x = np.cumsum(np.random.default_rng(0).normal(size=(30, 5, 2)), axis=0) + 100
    y = f(x, np.arange(30) / 25.0)
    assert y.shape == x.shape and np.isfinite(y).all()


def test_unknown_or_bad_presets_raise(tmp_path):
    with pytest.raises(PresetError, match="one-euro@noisy"):
        create("one-euro@nope")
    bad = tmp_path / "ema@x.json"
    bad.write_text(json.dumps({"id": "ema@x"}))
    with pytest.raises(PresetError, match="missing field"):
        load("ema@x", tmp_path)
    with pytest.raises(PresetError, match="no feasible"):
        from_tuning({"filter": "ema", "params": None}, "x")


def test_in_sample_is_decided_by_index_fingerprint_and_subset():
    from wflwv.filters.presets import in_sample

    tuning = {"dataset": "synthetic", "subset": "easy", "index_fingerprint": "f" * 64}
    assert in_sample(tuning, "f" * 64, "easy") and in_sample(tuning, "f" * 64, "all")
    assert not in_sample(tuning, "f" * 64, "hard")                 # held-out subset of the same index
    assert not in_sample(tuning, "0" * 64, "easy")                 # same dataset name, other index
    assert in_sample({**tuning, "subset": "all"}, "f" * 64, "hard")
    assert not in_sample({"dataset": "synthetic", "subset": "easy"}, "f" * 64, "easy")   # nothing to match
    assert not in_sample(None, "f" * 64, "easy")
    for pid in available():                                         # every shipped preset can be matched
        fp = load(pid)["tuning"]["index_fingerprint"]
        assert isinstance(fp, str) and len(fp) == 64 and int(fp, 16) >= 0
        p = load(pid)
        lag = p["applied"]["tuned"]["lag_frames"]
        assert p["applied"]["unfiltered"]["lag_frames"] == 0.0             # `none` adds no delay
        if p["filter"] in ("ema", "kalman", "one-euro") or pid.endswith("-causal"):
            assert lag > 0.1, pid                                           # causal filters lag moving faces
        else:
            assert abs(lag) < 0.05, pid                                     # centred smoothers do not


def test_rows_are_flagged_in_sample_only_on_the_tuning_index(tmp_path, monkeypatch):
    from harness_factory import make_index
    from wflwv.datasets.index import load_index
    from wflwv.filters import presets
    from wflwv.harness.evaluate import EvalConfig, evaluate

    idx = make_index(tmp_path / "a", {"easy": [12, 9], "hard": [10]}, dataset="synthetic")
    cfg = dict(model="noisy:sigma=0.003,seed=0", dataset=str(idx), filters=("none", "ema@noisy"), progress=False)
    # a dataset also named "synthetic", but not the index the shipped preset was tuned on
    s = evaluate(EvalConfig(out=str(tmp_path / "runs1"), **cfg))
    assert not any(r["tuned_on_eval_split"] for r in s["results"])
    # the same preset, recorded as tuned on this index's easy subset
    p = json.loads((PRESET_DIR / "ema@noisy.json").read_text())
    p["tuning"]["index_fingerprint"] = load_index(idx).fingerprint
    (tmp_path / "presets").mkdir()
    (tmp_path / "presets" / "ema@noisy.json").write_text(json.dumps(p))
    monkeypatch.setattr(presets, "PRESET_DIR", tmp_path / "presets")
    s = evaluate(EvalConfig(out=str(tmp_path / "runs2"), **cfg))
    flags = {(r["subset"], r["filter"].partition(":")[0]): r["tuned_on_eval_split"] for r in s["results"]}
    assert flags == {("easy", "ema@noisy"): True, ("all", "ema@noisy"): True, ("hard", "ema@noisy"): False,
                     ("easy", "none"): False, ("all", "none"): False, ("hard", "none"): False}
