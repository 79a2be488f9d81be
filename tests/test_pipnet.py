"""PIP-Net: meanface tables, architecture, loading errors and parity with ../shared/parity/pipnet."""

from __future__ import annotations

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
from wflwv.detectors.crops import PROTOCOLS, cut_crop  # noqa: E402
from wflwv.detectors.pipnet import config as C  # noqa: E402
from wflwv.detectors.pipnet.meanface import load_meanface, tables_from_text  # noqa: E402
from wflwv.detectors.pipnet.model import PipNet, decode, expected_shapes  # noqa: E402
from wflwv.detectors.pipnet.resnet import infer_arch  # noqa: E402

VARIANTS = {"wflw98": (98, "meanface_WFLW.txt"), "300w68": (68, "meanface_300W.txt")}
CASES = ("indoor_029", "indoor_020")


def _fill_module(shared):
    spec = importlib.util.spec_from_file_location("parity_fill", shared("parity", "fill.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """Filled-weight R18 checkpoints (official raw state_dict format) for both variants."""
    from conftest import shared_path

    fill = _fill_module(shared_path)
    out = {}
    for v, (n, _) in VARIANTS.items():
        path = tmp_path_factory.mktemp("pip") / f"epoch59_{v}.pth"
        torch.save(fill.fill_state_dict(PipNet("resnet18", n).state_dict(), seed=0), path)
        out[v] = path
    return out


@pytest.fixture(scope="module")
def detectors(filled):
    from conftest import shared_path

    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    return {v: create("pipnet", weights=str(filled[v]), meanface=str(shared_path("parity", "pipnet", mf)))
            for v, (_, mf) in VARIANTS.items()}


# ---- meanface and neighbour tables ------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_neighbour_tables_exact(shared, variant):
    n, mf = VARIANTS[variant]
    tables = load_meanface(shared("parity", "pipnet", mf), n,
                           expected_sha256=C.MEANFACES["WFLW" if n == 98 else "data_300W"].sha256)
    ref = np.load(shared("parity", "pipnet", f"neighbors_{variant}.npz"))
    assert tables.max_len == int(ref["max_len"]) == (17 if n == 98 else 22)
    np.testing.assert_array_equal(tables.meanface, ref["meanface"])
    np.testing.assert_array_equal(tables.nb, ref["meanface_indices"])
    np.testing.assert_array_equal(tables.reverse_index1, ref["reverse_index1"])
    np.testing.assert_array_equal(tables.reverse_index2, ref["reverse_index2"])


def test_neighbour_reference_values(shared):
    w = tables_from_text(shared("parity", "pipnet", "meanface_WFLW.txt").read_text())
    assert w.nb[33].tolist() == [41, 34, 60, 61, 0, 40, 67, 35, 1, 62]
    assert w.nb[96].tolist() == [62, 66, 65, 63, 67, 61, 40, 39, 64, 60]
    pairs = list(zip(w.reverse_index1[:17].tolist(), w.reverse_index2[:17].tolist()))
    base = [(1, 0), (2, 2), (3, 4), (4, 6), (5, 8), (33, 4)]
    assert pairs == (base * 3)[:17]  # cyclic padding, not de-duplicated
    t = tables_from_text(shared("parity", "pipnet", "meanface_300W.txt").read_text())
    assert t.nb[45].tolist() == [46, 44, 47, 43, 26, 25, 24, 42, 16, 23]
    assert len(t.reverse_index1) == 1496


def test_meanface_errors(shared, tmp_path):
    mf = shared("parity", "pipnet", "meanface_WFLW.txt")
    with pytest.raises(CheckpointError, match="has 98 points but the checkpoint predicts 68"):
        load_meanface(mf, 68)
    with pytest.raises(CheckpointError, match="SHA-256"):
        load_meanface(mf, 98, expected_sha256=C.MEANFACES["data_300W"].sha256)
    bad = tmp_path / "meanface.txt"
    bad.write_text("0.1 0.2 0.3")
    with pytest.raises(CheckpointError, match="2N finite floats"):
        load_meanface(bad, 98)
    # three far-apart pairs: each point's single neighbour is its partner, so every point gets a vote;
    # a lone point that nobody picks must raise instead of crashing
    iso = tmp_path / "iso.txt"
    iso.write_text("0 0 0.01 0 1 1 1.01 1 5 5")
    with pytest.raises(CheckpointError, match="no neighbour votes for landmark"):
        load_meanface(iso, 5, num_nb=1)


# ---- architecture ------------------------------------------------------------------------------
@pytest.mark.parametrize("arch,n,keys,params", [
    ("resnet18", 98, 130, 12_332_814), ("resnet18", 68, 130, 11_978_844),
    ("resnet18", 29, None, 11_518_683), ("resnet50", 98, 328, 28_126_478),
    ("resnet101", 98, 634, 47_118_606), ("resnet101", 68, None, 45_704_796)])
def test_state_dict_layout(arch, n, keys, params):
    shapes = expected_shapes(arch, n)
    if keys is not None:
        assert len(shapes) == keys
    trainable = sum(math.prod(s) for k, s in shapes.items()
                    if not k.endswith(("running_mean", "running_var", "num_batches_tracked")))
    assert trainable == params
    assert infer_arch(shapes) == arch
    assert not any(k.startswith(("fc.", "avgpool", "module.")) for k in shapes)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_keys_match_reference(shared, variant):
    ref = json.loads(shared("parity", "pipnet", "keys.json").read_text())[variant]
    shapes = expected_shapes("resnet18", VARIANTS[variant][0])
    assert list(shapes) == [e["key"] for e in ref["keys"]]
    assert [list(s) for s in shapes.values()] == [e["shape"] for e in ref["keys"]]


# ---- parity ------------------------------------------------------------------------------------
@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("case", CASES)
def test_heads_and_decode_parity(shared, detectors, variant, case):
    det = detectors[variant]
    inp = np.load(shared("parity", "pipnet", f"inputs_{case}.npz"))
    ref = np.load(shared("parity", "pipnet", f"{variant}_{case}.npz"))
    heads = det.heads(torch.from_numpy(inp["input"]))
    for name, h in zip(("cls", "x", "y", "nb_x", "nb_y"), heads):
        np.testing.assert_allclose(h[0].numpy(), ref[name], rtol=0, atol=1e-4, err_msg=name)
    out = det.decode(heads)
    np.testing.assert_array_equal(out["argmax"][0].numpy(), ref["argmax"])
    np.testing.assert_allclose(out["merged"][0].numpy(), ref["lms_merged"], rtol=0, atol=2e-5)
    np.testing.assert_allclose(out["score"][0].numpy(), ref["max_cls"], rtol=0, atol=1e-4)
    # decode alone, from the stored heads
    stored = tuple(torch.from_numpy(ref[k][None]) for k in ("cls", "x", "y", "nb_x", "nb_y"))
    d = det.decode(stored)
    np.testing.assert_array_equal(d["argmax"][0].numpy(), ref["argmax"])
    np.testing.assert_allclose(d["unmerged"][0].numpy(), ref["lms_unmerged"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(d["nb"][0, ..., 0].numpy(), ref["nb_lms_x"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(d["nb"][0, ..., 1].numpy(), ref["nb_lms_y"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(d["merged"][0].numpy(), ref["lms_merged"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_frames_end_to_end(shared, detectors, case):
    """Harness path: frame + x1y1x2y2 box → crop (exact) → model → frame pixels (1e-2 px)."""
    meta = json.loads(shared("parity", "pipnet", "cases.json").read_text())["cases"][case]
    inp = np.load(shared("parity", "pipnet", f"inputs_{case}.npz"))
    H, W = meta["image_hw"]
    (r0, r1), (c0, c1) = meta["crop_slice_rows"], meta["crop_slice_cols"]
    frame = np.zeros((H, W, 3), np.uint8)
    frame[r0:r1, c0:c1] = inp["crop_bgr"][..., ::-1]  # harness frames are RGB
    x, y, w, h = meta["det_box_xywh"]
    box = np.array([x, y, x + w, y + h], float)
    crop, A = cut_crop(frame, PROTOCOLS["pipnet_shift0.1"], box)
    np.testing.assert_array_equal(crop, inp["resized_bgr"][..., ::-1])
    wp, hp = meta["crop_wh_used_for_mapping"]
    np.testing.assert_allclose(A, [[256 / wp, 0, -c0 * 256 / wp], [0, 256 / hp, -r0 * 256 / hp]])
    for variant, det in detectors.items():
        ref = np.load(shared("parity", "pipnet", f"{variant}_{case}.npz"))
        lm, state = det.predict_frames([frame], box[None])
        assert state is None and lm.dtype == np.float64
        np.testing.assert_allclose(lm[0], ref["lms_merged_px"], rtol=0, atol=1e-2)


def test_batch_equals_per_image_and_float64(shared, detectors, filled):
    x = torch.cat([torch.from_numpy(np.load(shared("parity", "pipnet", f"inputs_{c}.npz"))["input"])
                   for c in CASES])
    det = detectors["wflw98"]
    batch, _ = det.predict_crops(x)
    single = torch.cat([det.predict_crops(x[i:i + 1])[0] for i in range(len(x))])
    np.testing.assert_allclose(batch.numpy(), single.numpy(), rtol=0, atol=256 * 2e-6)
    d64 = create("pipnet", weights=str(filled["wflw98"]), dtype=torch.float64,
                 meanface=det.meanface_path)
    out64, _ = d64.predict_crops(x)
    assert out64.dtype == torch.float64
    for i, c in enumerate(CASES):
        ref = np.load(shared("parity", "pipnet", f"wflw98_{c}.npz"))
        np.testing.assert_allclose(out64[i].numpy() / 256, ref["lms_merged"], rtol=0, atol=2e-5)


def test_cfg(detectors):
    cfg = detectors["wflw98"].cfg
    assert (cfg.family, cfg.landmark_scheme, cfg.num_landmarks) == ("pipnet", "wflw98", 98)
    assert cfg.crop_protocol == "pipnet_shift0.1" and cfg.color_order == "RGB"
    assert cfg.options["backbone"] == "resnet18" and cfg.options["meanface_data"] == "WFLW"
    assert cfg.options["max_len"] == 17 and cfg.options["merge"] is True
    assert not any("/" in str(v) for v in cfg.options.values())  # no paths in the cache key
    assert detectors["300w68"].cfg.landmark_scheme == "ibug68"
    rel = C.RELEASES["pipnet_r18.wflw"]
    assert (rel.size, rel.sha256[:8]) == (49_393_015, "44002daa")


# ---- bad input ---------------------------------------------------------------------------------
def test_release_tag_checks_hash(filled, shared):
    with pytest.raises(CheckpointError, match="SHA-256 .* was expected"):
        create("pipnet_r18.wflw", weights=str(filled["wflw98"]),
               meanface=str(shared("parity", "pipnet", "meanface_WFLW.txt")))
    with pytest.raises(CheckpointError, match="needs its checkpoint"):
        create("pipnet_r18.wflw")


def test_unpinned_tag_warns_then_checks_architecture(filled, shared):
    mf = str(shared("parity", "pipnet", "meanface_WFLW.txt"))
    with pytest.warns(UserWarning, match="no published SHA-256"):
        with pytest.raises(CheckpointError, match="is a resnet18 with 98 landmarks, but pipnet_r50.wflw is a "
                                                  "resnet50"):
            create("pipnet_r50.wflw", weights=str(filled["wflw98"]), meanface=mf)


def test_registry_names_resolve():
    from wflwv.registry import DETECTORS

    names = DETECTORS.names("pipnet*")
    assert "pipnet" in names
    assert set(names) - {"pipnet"} <= set(C.RELEASES)
    for tag in set(names) - {"pipnet"}:
        rel = C.RELEASES[tag]
        assert C.MEANFACES[rel.data_name].num_landmarks == rel.num_landmarks
        assert "_" + rel.backbone.replace("resnet", "r") + "." in tag


def test_loading_errors(filled, shared, tmp_path):
    mf98 = str(shared("parity", "pipnet", "meanface_WFLW.txt"))
    mf68 = str(shared("parity", "pipnet", "meanface_300W.txt"))
    with pytest.raises(CheckpointError, match="has 68 points but the checkpoint predicts 98"):
        create("pipnet", weights=str(filled["wflw98"]), meanface=mf68)
    with pytest.raises(CheckpointError, match="no meanface.txt next to"):
        create("pipnet", weights=str(filled["300w68"]))
    with pytest.raises(ValueError, match="does not take option"):
        create("pipnet", weights=str(filled["wflw98"]), meanfcae=mf98)
    state = torch.load(filled["wflw98"], weights_only=True)
    state = {"module." + k: v for k, v in state.items()}  # a DataParallel prefix is accepted
    bad = dict(state)
    del bad["module.layer2.0.downsample.1.running_var"]
    torch.save(bad, tmp_path / "missing.pth")
    with pytest.raises(CheckpointError, match="1 missing key"):
        create("pipnet", weights=str(tmp_path / "missing.pth"), meanface=mf98)
    bad = dict(state)
    bad["module.x_layer.bias"] = torch.zeros(97)
    torch.save(bad, tmp_path / "shape.pth")
    with pytest.raises(CheckpointError, match="wrong shapes"):
        create("pipnet", weights=str(tmp_path / "shape.pth"), meanface=mf98)
    bad = dict(state)
    bad["module.deconv1.weight"] = torch.zeros(1)
    torch.save(bad, tmp_path / "s16.pth")
    with pytest.raises(CheckpointError, match="stride-32"):
        create("pipnet", weights=str(tmp_path / "s16.pth"), meanface=mf98)
    bad = dict(state)
    bad["module.cls_layer.bias"] = torch.full((98,), float("nan"))
    torch.save(bad, tmp_path / "nan.pth")
    with pytest.raises(CheckpointError, match="NaN"):
        create("pipnet", weights=str(tmp_path / "nan.pth"), meanface=mf98)
    torch.save(state, tmp_path / "ok.pth")
    (tmp_path / "meanface.txt").write_bytes(shared("parity", "pipnet", "meanface_WFLW.txt").read_bytes())
    det = create("pipnet", weights=str(tmp_path / "ok.pth"))  # meanface found next to the file
    assert det.cfg.options["meanface_data"] == "WFLW"


def test_decode_matches_per_sample_loop():
    """Vectorised decode == batch-1 decode on random heads (first-max ties included)."""
    g = torch.Generator().manual_seed(0)
    b, n, k = 3, 7, 3
    heads = [torch.randn(b, c, 8, 8, generator=g, dtype=torch.float64) for c in (n, n, n, n * k, n * k)]
    heads[0][1, 2] = 0.0  # all-equal map: argmax must be the first cell
    mf = np.random.default_rng(1).random((n, 2))
    from wflwv.detectors.pipnet.meanface import neighbour_indices, reverse_indices

    r1, r2, ml = reverse_indices(neighbour_indices(mf, k))
    r1, r2 = torch.from_numpy(r1), torch.from_numpy(r2)
    full = decode(tuple(heads), r1, r2, ml, k)
    assert int(full["argmax"][1, 2]) == 0
    for i in range(b):
        one = decode(tuple(h[i:i + 1] for h in heads), r1, r2, ml, k)
        assert torch.equal(one["merged"][0], full["merged"][i])


def test_wflw98_to_68_parity(shared):
    from wflwv import schemes   # our own module: a broken import fails, never skips

    ref = np.load(shared("parity", "pipnet", "wflw98_to_68.npz"))
    out = schemes.to_ibug68(ref["input_98"], "wflw98", mapping="pipnet")
    np.testing.assert_allclose(out, ref["output_68"], rtol=0, atol=1e-12)


def test_import_is_light():
    code = ("import sys, wflwv.detectors.pipnet, wflwv.detectors.pipnet.config, "
            "wflwv.detectors.pipnet.meanface; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.gpu
def test_gpu_parity(shared, filled):
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    det = create("pipnet", weights=str(filled["wflw98"]), device="cuda",
                 meanface=str(shared("parity", "pipnet", "meanface_WFLW.txt")))
    for c in CASES:
        x = torch.from_numpy(np.load(shared("parity", "pipnet", f"inputs_{c}.npz"))["input"])
        ref = np.load(shared("parity", "pipnet", f"wflw98_{c}.npz"))
        lm, _ = det.predict_crops(x)
        np.testing.assert_allclose(lm[0].cpu().numpy() / 256, ref["lms_merged"], rtol=0, atol=2e-5)
