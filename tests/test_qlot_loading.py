"""QLOT checkpoint loading: allow-listed Config stand-in, refusals, strict keys/shapes, query sets."""

from __future__ import annotations

import sys
import types
from dataclasses import dataclass

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wflwv.detectors.checkpoint import CheckpointError, WeightsRequired  # noqa: E402


def _state():
    from wflwv.detectors.qlot.model import QLOT

    g = torch.Generator().manual_seed(0)
    out = {}
    for k, v in QLOT().state_dict().items():
        if k.endswith("running_var"):
            out[k] = torch.ones(v.shape)
        else:
            out[k] = torch.randn(v.shape, generator=g) * 0.05 if v.is_floating_point() else v
    return out


@pytest.fixture(scope="module")
def fake_official(tmp_path_factory):
    """A checkpoint pickling a ``utils.torch.misc.Config`` instance, as the official trainer does."""
    mods = {name: types.ModuleType(name) for name in ("utils", "utils.torch", "utils.torch.misc")}

    @dataclass
    class Config:
        name: str
        learning_rate: float
        others: dict

    Config.__module__, Config.__qualname__ = "utils.torch.misc", "Config"
    mods["utils.torch.misc"].Config = Config
    sys.modules.update(mods)
    try:
        path = tmp_path_factory.mktemp("qlot") / "qlot-final.pth"
        state = _state()
        state = {(k.replace("update_predictor.mixer.", "update_predictor.bypass_attention.")): v
                 for k, v in state.items()}   # the older prefix the official loader renames
        queries = {"queries.WFLW_V": torch.randn(98, 3), "queries.Ibug": torch.randn(68, 3),
                   "queries.FaceSynth": torch.randn(70, 3)}
        cfg = Config("a4", 2e-4, {"nme": np.float32(0.01), "_best_checkpoints": {100: (1.0, 2.0)}})
        torch.save({"model_state_dict": state, "optimizer_state_dict": {}, "global_step": 7, "config": cfg,
                    "scheduler_state_dict": None, "query_points": queries}, path)
    finally:
        for name in mods:
            sys.modules.pop(name, None)
    return path


def test_official_layout_loads_with_the_stub_and_picks_query_sets(fake_official):
    from wflwv.detectors import create

    with pytest.warns(UserWarning, match="UNVERIFIED"):
        det = create("qlot.wflw_v", weights=str(fake_official))
    assert det.cfg.num_landmarks == 98 and det.cfg.landmark_scheme == "wflw98" and det.query_set == "WFLW_V"
    assert det.cfg.weights_sha256 is None and len(det.weights_sha256) == 64
    assert "LIMITATIONS" in det.cfg.notes and "re-derived" in det.cfg.notes
    with pytest.warns(UserWarning):
        det68 = create("qlot.300w", weights=str(fake_official))
    assert det68.cfg.landmark_scheme == "ibug68" and det68.queries.shape == (68, 3)
    with pytest.raises(CheckpointError, match="choose one with queries="):
        create("qlot", weights=str(fake_official))
    with pytest.raises(ValueError, match="no landmark scheme"):
        create("qlot:queries=FaceSynth", weights=str(fake_official))


def test_foreign_globals_are_refused(tmp_path):
    mod = types.ModuleType("evil_mod")

    class Payload:
        pass

    Payload.__module__, Payload.__qualname__ = "evil_mod", "Payload"
    mod.Payload = Payload
    sys.modules["evil_mod"] = mod
    try:
        path = tmp_path / "bad.pth"
        torch.save({"model_state_dict": _state(), "config": Payload()}, path)
    finally:
        sys.modules.pop("evil_mod")
    from wflwv.detectors import create

    with pytest.raises(CheckpointError, match="allow-list"):
        create("qlot", weights=str(path))


def test_strict_keys_shapes_and_missing_weights(tmp_path):
    from wflwv.detectors import create

    state = _state()
    q = {"queries.Ibug": torch.randn(68, 3)}
    bad = dict(state)
    bad.pop("update_predictor.cov_proj.bias")
    torch.save({"model_state_dict": bad, "query_points": q}, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="missing key"):
        create("qlot", weights=str(tmp_path / "missing.pth"))
    bad = dict(state, **{"encoder.image_feature_proj.weight": torch.zeros(192, 95)})
    torch.save({"model_state_dict": bad, "query_points": q}, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match="wrong shapes"):
        create("qlot", weights=str(tmp_path / "shape.pth"))
    bad = dict(state, **{"encoder.image_feature_proj.bias": torch.full((192,), float("nan"))})
    torch.save({"model_state_dict": bad, "query_points": q}, tmp_path / "nan.pth")
    with pytest.raises(CheckpointError, match="NaN"):
        create("qlot", weights=str(tmp_path / "nan.pth"))
    with pytest.raises(WeightsRequired, match="--weights"):
        create("qlot.wflw_v")
    with pytest.raises(ValueError, match="crop mode"):
        create("qlot:crop=gt", weights=str(tmp_path / "nan.pth"))
    with pytest.raises(ValueError, match="does not take option"):
        create("qlot:iterations=3", weights=str(tmp_path / "nan.pth"))


def test_tracker_state_protocol_and_crop_modes(tmp_path):
    """First frame from the box; 'track' then crops around the previous prediction, 'box' keeps the box."""
    from wflwv.detectors import create

    torch.save({"model_state_dict": _state(), "query_points": {"queries.Ibug": torch.randn(68, 3) * 0.5}},
               tmp_path / "w.pth")
    frames = [np.random.default_rng(i).integers(0, 255, (200, 240, 3), dtype=np.uint8) for i in range(2)]
    boxes = np.array([[60.0, 40.0, 170.0, 160.0], [50.0, 30.0, 150.0, 150.0]])
    track = create("qlot", weights=str(tmp_path / "w.pth"))
    box = create("qlot:crop=box", weights=str(tmp_path / "w.pth"))
    lm_t, st_t = track.predict_frames(frames, boxes)
    lm_b, st_b = box.predict_frames(frames, boxes)
    np.testing.assert_allclose(lm_t, lm_b, atol=1e-4)   # the first frame is the same in both modes
    parts = track.split_state(st_t, 2)
    assert len(parts) == 2 and parts[1].pred.hidden.shape == (1, 68, 128)
    restacked = track.stack_state(parts)
    np.testing.assert_array_equal(restacked.frame_lm, st_t.frame_lm)
    np.testing.assert_array_equal(track.crop_boxes(boxes, st_t)[:, :2], lm_t.min(axis=1))
    np.testing.assert_array_equal(box.crop_boxes(boxes, st_b), boxes)
    lm2, _ = track.predict_frames(frames, boxes, state=restacked)
    assert lm2.shape == (2, 68, 2) and np.isfinite(lm2).all()


def test_self_tracking_restarts_a_lost_track_only(tmp_path):
    from wflwv.detectors import create

    torch.save({"model_state_dict": _state(), "query_points": {"queries.Ibug": torch.randn(68, 3) * 0.5}},
               tmp_path / "w.pth")
    det = create("qlot", weights=str(tmp_path / "w.pth"), dtype="float64")
    frames = [np.random.default_rng(i).integers(0, 255, (200, 240, 3), dtype=np.uint8) for i in range(2)]
    boxes = np.array([[60.0, 40.0, 170.0, 160.0], [50.0, 30.0, 150.0, 150.0]])
    _, st = det.predict_frames(frames, boxes)
    st.frame_lm[1] = st.frame_lm[1] * 50.0          # video 1's track explodes, video 0's is fine
    lm, _ = det.predict_frames(frames, boxes, state=st)
    assert det.track_restarts == 1
    fresh, _ = det.predict_frames(frames[1:], boxes[1:])           # a restart = a first frame from the box
    np.testing.assert_allclose(lm[1], fresh[0], atol=1e-9)
    keep, _ = det.predict_frames(frames[:1], boxes[:1], state=det.split_state(st, 2)[0])
    np.testing.assert_allclose(lm[0], keep[0], atol=1e-9)
    with pytest.raises(ValueError, match="over 8x"):
        from wflwv.detectors.crops import qlot_cut

        qlot_cut(frames[0], [0, 0, 5000, 5000])
