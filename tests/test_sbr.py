"""SBR CPM-VGG16: checkpoint formats, decoder, crop and parity with ../shared/parity/sbr."""

from __future__ import annotations

import argparse
import collections
import datetime
import importlib.util
import json
import math
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from wflwv.detectors import create  # noqa: E402
from wflwv.detectors.checkpoint import CheckpointError  # noqa: E402
from wflwv.detectors.crops import PROTOCOLS, crop_matrix, to_crop, to_frame  # noqa: E402
from wflwv.detectors.sbr.detector import extract_state_dict, sbr_cut  # noqa: E402
from wflwv.detectors.sbr.model import CPMVGG16, expected_shapes, find_peaks  # noqa: E402

CASES = ("indoor_029", "indoor_020", "takeo")
ARGS = dict(pre_crop_expand=0.2, crop_width=256, crop_height=256, num_pts=68, sigma=4,
            heatmap_type="gaussian", data_indicator="300W-68")


def _release_ckpt(state, args=None, **extra):
    det = {"module." + k: v for k, v in state.items()}
    ck = {"epoch": 49, "args": argparse.Namespace(**(args or ARGS)), "arch": "cpm_vgg16",
          "state_dict": det, "detector": det,
          "scheduler": {"milestones": collections.Counter({30: 1, 40: 1}), "gamma": 0.5},
          "optimizer": {"state": {}, "param_groups": [{"lr": 5e-5, "momentum": 0.9}]}}
    ck.update(extra)
    return ck


@pytest.fixture(scope="module")
def filled_state():
    from conftest import shared_path

    spec = importlib.util.spec_from_file_location("parity_fill", shared_path("parity", "fill.py"))
    fill = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fill)
    return fill.fill_state_dict(CPMVGG16(68).state_dict(), seed=0)


@pytest.fixture(scope="module")
def release_file(filled_state, tmp_path_factory):
    path = tmp_path_factory.mktemp("sbr") / "cpm_vgg16-epoch-049-050.pth"
    torch.save(_release_ckpt(filled_state), path)
    return path


@pytest.fixture(scope="module")
def det(release_file):
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return create("sbr", weights=str(release_file))


def _frame(meta, crop_rgb):
    W, H = meta["image_wh"]
    x1, y1, x2, y2 = meta["crop_box_x1y1x2y2"]
    frame = np.zeros((H, W, 3), np.uint8)
    frame[y1:y2, x1:x2] = crop_rgb  # the crop window is all the model sees
    return frame


# ---- structure and checkpoint formats ----------------------------------------------------------
def test_keys_and_parameters(shared):
    ref = json.loads(shared("parity", "sbr", "keys.json").read_text())
    shapes = expected_shapes(68)
    assert list(shapes) == [e["key"] for e in ref["keys"]]
    assert [list(s) for s in shapes.values()] == [e["shape"] for e in ref["keys"]]
    assert len(shapes) == 72 and sum(math.prod(s) for s in shapes.values()) == 16_716_687


def test_checkpoint_layouts(shared):
    layout = json.loads(shared("parity", "sbr", "keys.json").read_text())["release_checkpoint"]
    bare = sorted(expected_shapes(68))
    t = {k: torch.zeros(1) for k in bare}
    mod = {"module." + k: v for k, v in t.items()}
    lk = {"module.detector." + k: v for k, v in t.items()}
    assert sorted(mod) == sorted(layout["detector_keys"])
    assert sorted(lk) == sorted(layout["lk_training_state_dict_keys"])
    marker = {k: torch.ones(1) for k in mod}
    cases = {
        "release": ({"args": None, "state_dict": mod, "detector": marker}, 1.0),  # detector preferred
        "lk": ({"state_dict": lk, "detector": marker}, 1.0),
        "old": ({"state_dict": mod, "arch": "cpm_vgg16"}, 0.0),
        "old_lk": ({"state_dict": lk}, 0.0),
        "bare_module": (mod, 0.0),
        "bare": (t, 0.0),
    }
    for name, (obj, value) in cases.items():
        state, _ = extract_state_dict(obj, name)
        assert sorted(state) == bare, name
        assert float(state["features.0.weight"]) == value, name
    with pytest.raises(CheckpointError, match="neither 'detector' nor 'state_dict'"):
        extract_state_dict({"epoch": 3, "model": mod})
    with pytest.raises(CheckpointError, match="arch 'hourglass'"):
        extract_state_dict({"arch": "hourglass", "detector": mod})


def test_load_errors(tmp_path, filled_state):
    small = {"module." + k: torch.zeros(1) for k in expected_shapes(68)}
    torch.save({"args": argparse.Namespace(**ARGS), "detector": small}, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match="wrong shapes"):
        create("sbr", weights=str(tmp_path / "shape.pth"))
    missing = dict(small)
    del missing["module.stages.2.16.bias"]
    torch.save({"detector": missing}, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="1 missing key"):
        create("sbr", weights=str(tmp_path / "missing.pth"))
    # a global outside the allow-list is refused, never executed
    evil = argparse.Namespace(**ARGS, when=datetime.datetime(2018, 1, 1))
    torch.save({"args": evil, "detector": small}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError, match="outside the allow-list"):
        create("sbr", weights=str(tmp_path / "evil.pth"))
    with pytest.raises(CheckpointError, match="needs its checkpoint"):
        create("sbr.300w")
    with pytest.raises(ValueError, match="does not take option"):
        create("sbr", weights=str(tmp_path / "shape.pth"), radius=3)
    # training args that contradict the implemented protocol raise
    torch.save(_release_ckpt(filled_state, dict(ARGS, pre_crop_expand=0.1)), tmp_path / "args.pth")
    with pytest.raises(CheckpointError, match="pre_crop_expand=0.1"):
        create("sbr", weights=str(tmp_path / "args.pth"))


def test_release_tag_records_unpinned_hash(release_file):
    with pytest.warns(UserWarning, match="no published SHA-256"):
        d = create("sbr.300w", weights=str(release_file))
    assert len(d.weights_sha256) == 64 and d.cfg.weights_sha256 is None
    assert (d.cfg.landmark_scheme, d.cfg.num_landmarks, d.cfg.crop_protocol) == ("ibug68", 68, "sbr_pad0.2")
    assert d.train_args["data_indicator"] == "300W-68"
    assert d.cfg.options == {"pixel_center_fix": False, "dtype": "float32",
                             "crop_resize": "PIL bilinear (antialiased)"}
    assert "CC-BY-NC-4.0" in d.cfg.weights_license


# ---- decoder -----------------------------------------------------------------------------------
def test_decode_synthetic_parity(shared):
    ref = np.load(shared("parity", "sbr", "decode_synthetic.npz"))
    locs, scores = find_peaks(torch.from_numpy(ref["heatmaps"])[None])
    np.testing.assert_allclose(locs[0].numpy(), ref["locs_input"], rtol=0, atol=1e-3)
    np.testing.assert_array_equal(scores[0].numpy(), ref["scores"])


def _gt_maps(pts):
    """sbr.md §5 GT heat maps (sigma 4, values below 0.01 zeroed) for (x, y) points in input px."""
    j = np.arange(32)
    maps = np.exp(-(((3.5 + 8 * j[None, None, :] - pts[:, 0, None, None]) ** 2)
                    + ((3.5 + 8 * j[None, :, None] - pts[:, 1, None, None]) ** 2)) / (2 * 4.0 ** 2))
    maps[maps < 0.01] = 0
    return torch.from_numpy(maps)[None]


def test_decode_gaussian_and_last_row():
    # at cell centres and half-way between two centres the 9x9 soft-argmax is exact
    exact = np.array([[8 * 12 + 3.5, 8 * 7 + 3.5], [8 * 20 + 7.5, 8 * 9 + 3.5], [131.5, 7.5 + 8 * 16]])
    locs, _ = find_peaks(_gt_maps(exact))
    np.testing.assert_allclose(locs[0].numpy(), exact, atol=1e-9)
    # elsewhere the sampled sigma-4 Gaussian (0.5 cell) with the 0.01 cut-off biases the centroid
    # toward the cell grid by up to 0.199 px (measured); sbr.md §10's "0.05 px" holds only near
    # centres. Bound it (a decoder off by a cell, a half pixel or missing the window fails this).
    a = np.linspace(0, 8, 33)
    pts = np.stack([100 + a, 60 + a], axis=1)
    locs, _ = find_peaks(_gt_maps(pts))
    err = locs[0].numpy() - pts
    assert np.abs(err).max() < 0.2
    last = torch.zeros(1, 1, 32, 32, dtype=torch.float64)
    last[0, 0, 31, 5] = 1.0  # peak in the last row: floor division of the flat index
    loc, _ = find_peaks(last)
    assert loc[0, 0].tolist() == [8 * 5 + 3.5, 8 * 31 + 3.5]


# ---- crop ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_crop_exact(shared, case):
    meta = json.loads(shared("parity", "sbr", "cases.json").read_text())["cases"][case]
    inp = np.load(shared("parity", "sbr", f"inputs_{case}.npz"))
    frame = _frame(meta, inp["crop_rgb"])
    crop, A = sbr_cut(frame, np.array(meta["face_box"], float))
    np.testing.assert_array_equal(crop, inp["resized_rgb"])
    x1, y1, x2, y2 = meta["crop_box_x1y1x2y2"]
    np.testing.assert_allclose(A, crop_matrix(PROTOCOLS["sbr_pad0.2"], meta["face_box"], frame.shape[:2]))
    np.testing.assert_allclose(to_frame(np.array([[0.0, 0.0], [256.0, 256.0]]), A),
                               [[x1, y1], [x2, y2]], atol=1e-9)
    p = np.random.default_rng(0).random((5, 2)) * 256
    np.testing.assert_allclose(to_crop(to_frame(p, A), A), p, atol=1e-9)


# ---- model parity -----------------------------------------------------------------------------
@pytest.mark.parametrize("case", CASES)
def test_model_parity(shared, det, case):
    ref = np.load(shared("parity", "sbr", f"outputs_{case}.npz"))
    meta = json.loads(shared("parity", "sbr", "cases.json").read_text())["cases"][case]
    inp = np.load(shared("parity", "sbr", f"inputs_{case}.npz"))
    feat, maps = det.forward(torch.from_numpy(inp["input"]))
    np.testing.assert_allclose(feat[0].numpy(), ref["cpm_feature"], rtol=0, atol=1e-5)
    for i in range(3):
        np.testing.assert_allclose(maps[i][0].numpy(), ref[f"heatmap_stage{i + 1}"], rtol=0, atol=1e-5)
    locs, scores = find_peaks(maps[-1])
    np.testing.assert_allclose(scores[0].numpy(), ref["scores"], rtol=0, atol=1e-5)
    arg = maps[-1][0].reshape(69, -1).argmax(1).numpy()
    differ = arg != ref["argmax_index"]
    assert np.all(ref["top2_gap"][differ] < 1e-5)  # only near-ties may differ
    ok = ~differ
    np.testing.assert_allclose(locs[0].numpy()[ok], ref["locs_input"][ok], rtol=0, atol=1e-3)
    # mapping back (x_in·crop_W/256 + cx1, no half-pixel term) through the protocol's inverse
    _, A = sbr_cut(_frame(meta, inp["crop_rgb"]), np.array(meta["face_box"], float))
    pred = to_frame(locs[0, :68].double().numpy(), A)
    np.testing.assert_allclose(pred[ok[:68]], ref["prediction"][:2].T[ok[:68]], rtol=0, atol=5e-3)


def test_frames_batched_float64_and_center_fix(shared, det, release_file):
    """Harness path on a 2-video batch (frame + box → PIL crop → model → frame px), then float64."""
    metas = json.loads(shared("parity", "sbr", "cases.json").read_text())["cases"]
    frames, boxes, refs, oks = [], [], [], []
    for c in CASES[:2]:
        frames.append(_frame(metas[c], np.load(shared("parity", "sbr", f"inputs_{c}.npz"))["crop_rgb"]))
        boxes.append(metas[c]["face_box"])
        out = np.load(shared("parity", "sbr", f"outputs_{c}.npz"))
        refs.append(out["prediction"][:2].T)
        oks.append(out["top2_gap"][:68] >= 1e-5)
    boxes = np.array(boxes, float)
    batch, state = det.predict_frames(frames, boxes)
    assert state is None and batch.shape == (2, 68, 2) and batch.dtype == np.float64
    for i in range(2):
        np.testing.assert_allclose(batch[i][oks[i]], refs[i][oks[i]], rtol=0, atol=5e-3)
    assert tuple(det.last_scores.shape) == (2, 68)
    d64 = create("sbr", weights=str(release_file), dtype="float64", pixel_center_fix=True)
    fixed, _ = d64.predict_frames(frames[:1], boxes[:1])  # float64 VGG on CPU is slow: one frame
    s = np.array(metas[CASES[0]]["crop_wh"], float) / 256  # x = (x_in + 0.5)·s − 0.5 + cx1
    np.testing.assert_allclose(fixed[0][oks[0]] - refs[0][oks[0]],
                               np.broadcast_to(0.5 * (s - 1), (oks[0].sum(), 2)), rtol=0, atol=5e-3)


# ---- import weight, GPU -----------------------------------------------------
def test_registry_names_resolve():
    from wflwv.detectors.sbr import config as C
    from wflwv.registry import DETECTORS

    names = set(DETECTORS.names("sbr*"))
    assert "sbr" in names and names - {"sbr"} <= set(C.RELEASES)


def test_import_is_light():
    code = ("import sys, wflwv.detectors.sbr, wflwv.detectors.sbr.config, wflwv.detectors.family_utils;"
            " assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.gpu
def test_gpu_parity(shared, release_file):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    d = create("sbr", weights=str(release_file), device="cuda")
    inp = np.load(shared("parity", "sbr", "inputs_indoor_029.npz"))
    ref = np.load(shared("parity", "sbr", "outputs_indoor_029.npz"))
    _, maps = d.forward(torch.from_numpy(inp["input"]))
    np.testing.assert_allclose(maps[-1][0].cpu().numpy(), ref["heatmap_stage3"], rtol=0, atol=1e-5)
    locs, _ = d.predict_crops(torch.from_numpy(inp["input"]))
    np.testing.assert_allclose(locs[0].cpu().numpy(), ref["locs_input"][:68], rtol=0, atol=1e-3)
