"""LDEQ checkpoint loading and bad input: allow-listed unpickling, strict keys/shapes, tag checks,
hashes, options, devices; the package stays torch-free at import."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest
import torch

import wflwv.detectors as D
from wflwv.detectors.checkpoint import CheckpointError
from wflwv.detectors.ldeq.loading import read_checkpoint


@pytest.fixture(scope="module")
def small_ckpt():
    from conftest import shared_path

    path = shared_path("parity", "ldeq", "model_small_wflwv.pth.tar")
    with torch.serialization.safe_globals([argparse.Namespace]):   # only to read the fixture itself
        obj = torch.load(str(path), map_location="cpu", weights_only=True)
    return path, vars(obj["args"]), obj["state_dict"]


def _save(tmp_path, name, args, state, **extra):
    p = tmp_path / name
    obj = {"args": argparse.Namespace(**args) if args is not None else None, "state_dict": state}
    if args is None:
        obj = state
    obj.update(extra)
    torch.save(obj, p)
    return str(p)


def test_official_format_loads_with_config_from_args(small_ckpt):
    path, args, _ = small_ckpt
    det = D.create("ldeq", weights=str(path))
    assert det.model.cfg.widths == (24, 32, 40, 48, 56) and det.model.cfg.solver == "fpi"
    assert det.cfg.stateful and len(det.cfg.weights_sha256) == 64
    wflw = D.create("ldeq", weights=str(path.with_name("model_small_wflw.pth.tar")), rwr=False)
    assert wflw.model.cfg.solver == "anderson" and wflw.model.cfg.cell_softargmax_beta == 0.3
    assert not wflw.cfg.stateful
    from wflwv.registry import DETECTORS
    assert DETECTORS.get("ldeq.wflw_v") is DETECTORS.get("ldeq")


class _Evil:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_pickle_beyond_allow_list_is_refused_without_running_it(tmp_path, small_ckpt):
    _, args, state = small_ckpt
    marker = tmp_path / "pwned"
    p = tmp_path / "evil.pth.tar"
    torch.save({"args": argparse.Namespace(**args), "state_dict": state, "x": _Evil(str(marker))}, p)
    with pytest.raises(CheckpointError, match="allow-list") as exc:
        D.create("ldeq", weights=str(p))
    assert str(p) in str(exc.value)
    assert not marker.exists()


def test_truncated_and_missing_files(tmp_path, small_ckpt):
    path = small_ckpt[0]
    data = path.read_bytes()
    p = tmp_path / "trunc.pth.tar"
    p.write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated"):
        D.create("ldeq", weights=str(p))
    with pytest.raises(CheckpointError, match="does not exist"):
        D.create("ldeq", weights=str(tmp_path / "nope.pth.tar"))
    with pytest.raises(ValueError, match="--weights"):
        D.create("ldeq.wflw_v")


@pytest.mark.parametrize("edit,match", [
    ("drop", "1 missing key"),
    ("extra", "1 unexpected key"),
    ("shape", "wrong shapes"),
    ("nan", "NaN"),
])
def test_state_dict_strictness(tmp_path, small_ckpt, edit, match):
    _, args, state = small_ckpt
    state = dict(state)
    key = "deq_layer.cell.hourglass.same3.conv.weight"
    if edit == "drop":
        del state[key]
    elif edit == "extra":
        state["deq_layer.cell.bonus"] = torch.zeros(3)
    elif edit == "shape":
        state[key] = torch.zeros(40, 40, 5, 5)
    else:
        state[key] = state[key].clone()
        state[key][0, 0, 0, 0] = float("nan")
    p = _save(tmp_path, f"{edit}.pth.tar", args, state)
    with pytest.raises(CheckpointError, match=match) as exc:
        D.create("ldeq", weights=p)
    assert p in str(exc.value)


def test_args_for_another_config_are_refused(tmp_path, small_ckpt):
    path, args, state = small_ckpt
    with pytest.raises(CheckpointError, match="not the ldeq.wflw_v release.*--model ldeq"):
        D.create("ldeq.wflw_v", weights=str(path))
    p = _save(tmp_path, "softmax.pth.tar", dict(args, cell_norm="softmax"), state)
    with pytest.raises(CheckpointError, match="cell_norm"):
        D.create("ldeq", weights=p)
    p = _save(tmp_path, "bare.pth.tar", None, state)
    with pytest.raises(CheckpointError, match="no stored 'args'"):
        D.create("ldeq", weights=p)


def test_sha256_mismatch(small_ckpt):
    with pytest.raises(CheckpointError, match="SHA-256"):
        read_checkpoint(small_ckpt[0], sha256="0" * 64)


def test_options_and_devices(small_ckpt):
    path = str(small_ckpt[0])
    with pytest.raises(ValueError, match="unknown option"):
        D.create("ldeq:rwr=false,warp=9", weights=path)
    with pytest.raises(ValueError, match="precision"):
        D.create("ldeq", weights=path, precision="fp8")
    with pytest.raises(ValueError, match="float32"):
        D.create("ldeq", weights=path, dtype=torch.float64, precision="bf16")
    with pytest.raises(ValueError, match="dtype"):
        D.create("ldeq", weights=path, dtype="int8")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="no usable CUDA.*--device cpu"):
            D.create("ldeq", weights=path, device="cuda")


def test_bf16_cpu_autocast_runs_and_keeps_fp32_state(small_ckpt):
    det = D.create("ldeq", weights=str(small_ckpt[0]), dtype=torch.bfloat16)   # harness --dtype bfloat16
    assert det.precision == "bf16" and det.dtype == torch.float32
    lm, st = det.predict_crops(torch.zeros(1, 3, 256, 256))
    assert lm.dtype == torch.float32 and st.dtype == torch.float32
    assert bool(torch.isfinite(lm).all()) and float(lm.min()) >= 0 and float(lm.max()) <= 252


def test_config_import_is_torch_free():
    code = ("import sys, wflwv.detectors.ldeq, wflwv.detectors.ldeq.config as c; "
            "assert 'torch' not in sys.modules, 'torch imported'; print(c.RELEASED['ldeq.wflw'].solver)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "anderson"
