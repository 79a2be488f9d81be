"""LDEQ model, solvers and decoding: structure, unit behaviour, and float64 parity with
../shared/parity/ldeq (small models with both solvers, full-size keys and forward)."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from wflwv.detectors.ldeq.config import (RELEASED, LdeqConfig, LdeqConfigError, config_from_args,
                                         gflops, state_dict_shapes, with_overrides)
from wflwv.detectors.ldeq.model import LDEQ, decode
from wflwv.detectors.ldeq.solvers import anderson, fpi

SMALL = LdeqConfig(injection_width=24, cell_base_width=24, cell_width_increment=8)


# ---- structure --------------------------------------------------------------------------------
def test_full_state_dict_layout_and_counts(shared):
    ref = json.loads(shared("parity", "ldeq", "model_full_keys.json").read_text())
    cfg = RELEASED["ldeq.wflw_v"]
    want = [(e["key"], tuple(e["shape"])) for e in ref["state_dict"]]
    assert list(state_dict_shapes(cfg).items()) == want
    with torch.device("meta"):
        model = LDEQ(cfg)
    sd = model.state_dict()
    assert [(k, tuple(v.shape)) for k, v in sd.items()] == want
    n_tail = sum(p.numel() for n, p in model.named_parameters() if n.startswith("tail."))
    n_all = sum(p.numel() for p in model.parameters())
    assert (n_all, n_tail) == (21_825_146, 403_128) == (ref["n_parameters"], ref["n_parameters_tail"])


def test_gflops_match_issue_numbers():
    inj, cell = gflops(RELEASED["ldeq.wflw"])
    assert round(inj, 2) == 5.46 and round(cell, 2) == 33.96


def test_small_layout_matches_parity_json(shared):
    ref = json.loads(shared("parity", "ldeq", "model_small_wflwv.json").read_text())
    cfg = config_from_args(ref["args"])
    assert cfg.widths == (24, 32, 40, 48, 56) and cfg.solver == "fpi" and cfg.cell_softargmax_beta == 0.4
    assert [(k, tuple(s)) for k, s, _ in ref["state_dict"]] == list(state_dict_shapes(cfg).items())


def test_config_from_args_refuses_unsupported_variants():
    ok = {"injection_width": 24, "cell_base_width": 24, "cell_width_increment": 8, "solver": "fpi",
          "cell_softargmax_beta": 0.4, "max_iters": 5}
    assert config_from_args(ok).widths[-1] == 56
    for bad in ({"cell_norm": "softmax"}, {"model_mode": "explicit"}, {"solver": "broyden"},
                {"cell_learn_softargmax_beta": True}, {"z_width": 100, "n_keypoints": 98},
                {"cell_width_increment": 3}):
        with pytest.raises(LdeqConfigError):
            config_from_args(dict(ok, **bad), source="x.pth.tar")
    with pytest.raises(LdeqConfigError, match="missing args"):
        config_from_args({"solver": "fpi"})


# ---- decoding and cell normalisation ----------------------------------------------------------
def test_one_hot_heatmap_decodes_to_4c_4r():
    h = torch.zeros(1, 2, 64, 64, dtype=torch.float64)
    h[0, 0, 10, 37] = 1.0
    h[0, 1, 63, 0] = 1.0
    kp, unc = decode(h)
    px = kp * 256
    assert torch.allclose(px[0, 0], torch.tensor([4 * 37, 4 * 10], dtype=torch.float64) / (1 + 1e-4),
                          atol=1e-12)
    assert torch.allclose(px[0, 1], torch.tensor([0.0, 252.0], dtype=torch.float64) / (1 + 1e-4),
                          atol=1e-12)
    assert unc.shape == (1, 2) and bool(torch.isfinite(unc).all())


def test_cell_output_peaks_are_exactly_one():
    torch.manual_seed(0)
    model = LDEQ(SMALL).double().eval()
    with torch.no_grad():
        x = model.inject(torch.randn(2, 3, 256, 256, dtype=torch.float64))
        z = model.cell(torch.zeros(2, 98, 64, 64, dtype=torch.float64), x)
    assert torch.equal(z.amax(dim=(2, 3)), torch.ones(2, 98, dtype=torch.float64))
    assert bool((z > 0).all())


# ---- solvers on toy maps -----------------------------------------------------------------------
def _affine_map(B=3, d=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    M = 0.5 * torch.randn(d, d, generator=g, dtype=torch.float64) / np.sqrt(d)
    b = torch.randn(B, d, generator=g, dtype=torch.float64)
    z_star = torch.linalg.solve(torch.eye(d, dtype=torch.float64) - M, b.T).T

    def f(z, idx=None):
        bb = b if idx is None else b[idx]
        return (z.reshape(len(bb), d) @ M.T + bb).reshape(z.shape)
    return f, z_star.reshape(B, d, 1, 1)


@pytest.mark.parametrize("per_sample", [False, True])
def test_solvers_converge_on_contractive_map(per_sample):
    f, z_star = _affine_map()
    z0 = torch.zeros_like(z_star)
    z, info = fpi(f, z0, 200, 1e-12, per_sample=per_sample)
    assert torch.allclose(z, z_star, atol=1e-10)
    za, _ = anderson(f, z0, 30, 1e-12, lam=1e-12, per_sample=per_sample)
    assert torch.allclose(za, z_star, atol=1e-7)
    z10, _ = fpi(f, z0, 10, 0.0, per_sample=per_sample)
    za10, _ = anderson(f, z0, 10, 0.0, per_sample=per_sample)   # released lam = 1e-4
    err = lambda a: float((a - z_star).abs().max())  # noqa: E731
    assert err(za10) < 0.25 * err(z10)               # acceleration pays


def test_anderson_returns_lowest_residual_iterate():
    # A map that is exact at z = c but jumps away after the 4th mixed evaluation: the residual
    # rises on the last steps, so the best (earlier) iterate must come back, not the last one.
    c = torch.full((1, 4, 1, 1), 2.0, dtype=torch.float64)
    calls = []

    def f(z, idx=None):
        calls.append(z.clone())
        out = 0.5 * z + 0.5 * c
        return out + (10.0 * len(calls) if len(calls) > 5 else 0.0)
    z, info = anderson(f, torch.zeros_like(c), 5, 0.0, trace=True)
    rel = info["rel_trace"]
    k_best = 2 + int(np.argmin(rel))
    assert k_best < 6 and rel[-1] > min(rel)
    assert int(info["nstep_best"][0]) == k_best
    assert torch.equal(z, info["traj"][k_best - 1])      # traj[0] = z0, traj[j] = X_{j+1}
    assert len(calls) == 2 + 5


def test_cell_evaluation_counts_8_6_2():
    torch.manual_seed(0)
    model = LDEQ(SMALL).eval()
    img = torch.randn(1, 3, 128, 128)          # counts only: a 128-px input keeps it cheap
    counts = []
    for cfg in (RELEASED["ldeq.wflw"], RELEASED["ldeq.wflw_v"],
                with_overrides(RELEASED["ldeq.wflw_v"], max_iters=1)):
        counts.append(model.infer(img, cfg=cfg)["info"]["n_cell_evals"])
    assert counts == [8, 6, 2]


# ---- parity: small models ----------------------------------------------------------------------
def _fill_module(shared):
    spec = importlib.util.spec_from_file_location("parity_fill", shared("parity", "fill.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def small(request):
    from conftest import shared_path
    from wflwv.detectors.ldeq.loading import load_model

    out = {"inputs": np.load(shared_path("parity", "ldeq", "model_small_inputs.npz"))}
    for tag in ("wflw", "wflwv"):
        model, _ = load_model("ldeq", shared_path("parity", "ldeq", f"model_small_{tag}.pth.tar"),
                              dtype=torch.float64)
        ref = np.load(shared_path("parity", "ldeq", f"model_small_{tag}.npz"))
        x = torch.from_numpy(out["inputs"]["inputs"]).double()
        out[tag] = (model, ref, x, model.infer(x, trace=True))
    return out


def _chsum(z):
    z = z.numpy()
    return z.sum(axis=(-2, -1)), (z ** 2).sum(axis=(-2, -1))


@pytest.mark.parametrize("tag", ["wflw", "wflwv"])
def test_small_injection_cell_and_outputs(small, tag):
    model, ref, x, out = small[tag]
    np.testing.assert_allclose(out["injection"].numpy(), small["inputs"]["injection"], rtol=0, atol=1e-10)
    with torch.no_grad():
        f0 = model.cell(torch.zeros(2, 98, 64, 64, dtype=torch.float64), out["injection"])
    np.testing.assert_allclose(f0[0].numpy(), ref["f0_img0"], rtol=0, atol=1e-6)
    s, sq = _chsum(f0)
    np.testing.assert_allclose(s, ref["f0_chsum"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(sq, ref["f0_chsumsq"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(f0[:, :, ::8, ::8].numpy(), ref["f0_sub8"], rtol=0, atol=1e-8)
    zs = out["z_star"]
    np.testing.assert_allclose(zs[0].numpy(), ref["zstar_img0"], rtol=0, atol=1e-6)
    s, sq = _chsum(zs)
    np.testing.assert_allclose(s, ref["zstar_chsum"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(sq, ref["zstar_chsumsq"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(zs[:, :, ::8, ::8].numpy(), ref["zstar_sub8"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["keypoints"].numpy(), ref["keypoints"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["keypoints"].numpy() * 256, ref["keypoints_px"], rtol=0, atol=3e-6)
    np.testing.assert_allclose(out["uncertainty"].numpy(), ref["uncertainty"], rtol=0, atol=1e-8)
    assert out["info"]["n_cell_evals"] == int(ref["n_cell_evals"])


@pytest.mark.parametrize("tag", ["wflw", "wflwv"])
def test_small_solver_diagnostics_and_trajectory(small, tag):
    model, ref, x, out = small[tag]
    info = out["info"]
    np.testing.assert_allclose(info["rel_trace"], ref["rel_trace"], rtol=1e-9)
    np.testing.assert_allclose(info["abs_trace"], ref["abs_trace"], rtol=1e-9)
    assert info["fwd_n_iters"] == int(ref["fwd_n_iters"])
    for key in ("fwd_final_rel_diff", "fwd_final_abs_diff", "fwd_final_solver_error"):
        if key in ref.files:
            np.testing.assert_allclose(info[key], ref[key], rtol=1e-9)
    traj = torch.stack(info["traj"])
    kp = decode(traj.flatten(0, 1))[0].reshape(traj.shape[0], 2, 98, 2)
    np.testing.assert_allclose(kp.numpy(), ref["traj_keypoints"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(traj.numpy().sum(axis=(-2, -1)), ref["traj_chsum"], rtol=1e-9, atol=1e-6)
    if tag == "wflw":
        assert int(info["nstep_best"][0]) == int(ref["nstep_best"]) == 6
        for j, (H, a) in enumerate(zip(info["H"], info["alpha"])):
            n = a.shape[1]
            np.testing.assert_allclose(H.numpy(), ref["anderson_H"][j, :, :n + 1, :n + 1], rtol=1e-9)
            np.testing.assert_allclose(a.numpy(), ref["anderson_alpha"][j, :, :n], rtol=1e-6, atol=1e-7)
            assert np.all(np.isnan(ref["anderson_alpha"][j, :, n:]))


@pytest.mark.parametrize("tag", ["wflw", "wflwv"])
def test_small_early_stopping_variant(small, tag):
    model, ref, x, _ = small[tag]
    cfg = with_overrides(model.cfg, rel_diff_target=float(ref["es_rel_diff_target"]))
    out = model.infer(x, cfg=cfg)
    assert out["info"]["fwd_n_iters"] == int(ref["es_n_iters"]) == 3
    assert out["info"]["n_cell_evals"] == int(ref["es_n_cell_evals"])
    np.testing.assert_allclose(out["keypoints"].numpy(), ref["es_keypoints"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(_chsum(out["z_star"])[0], ref["es_zstar_chsum"], rtol=1e-9, atol=1e-6)


def test_small_anderson_ring_buffer_wraps(small):
    model, ref, x, _ = small["wflw"]
    out = model.infer(x, cfg=with_overrides(model.cfg, max_iters=int(ref["long_max_iters"])), trace=True)
    info = out["info"]
    assert info["fwd_n_iters"] == int(ref["long_n_iters"])
    assert info["n_cell_evals"] == int(ref["long_n_cell_evals"]) == 15
    assert int(info["nstep_best"][0]) == int(ref["long_nstep_best"]) == 12
    np.testing.assert_allclose(info["rel_trace"], ref["long_rel_trace"], rtol=1e-9)
    for j, a in enumerate(info["alpha"]):
        n = a.shape[1]
        np.testing.assert_allclose(a.numpy(), ref["long_anderson_alpha"][j, :, :n], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(out["keypoints"].numpy(), ref["long_keypoints"], rtol=0, atol=1e-8)


@pytest.mark.parametrize("tag", ["wflw", "wflwv"])
def test_batch_mean_coupling_and_per_sample_policy(small, tag):
    model, ref, x, _ = small[tag]
    # the reference run one image at a time
    for i in range(2):
        out = model.infer(x[i:i + 1])
        np.testing.assert_allclose(out["keypoints"].numpy()[0], ref["b1_keypoints"][i], rtol=0, atol=1e-8)
        assert out["info"]["fwd_n_iters"] == int(ref["b1_n_iters"][i])
        np.testing.assert_allclose(out["info"]["rel_trace"], ref["b1_rel_trace"][i], rtol=1e-9)
        if tag == "wflw":
            assert int(out["info"]["nstep_best"][0]) == int(ref["b1_nstep_best"][i])
    # per-sample stopping on the batch of 2 == each image alone (independent of batching)
    out = model.infer(x, per_sample=True)
    np.testing.assert_allclose(out["keypoints"].numpy(), ref["b1_keypoints"], rtol=0, atol=1e-8)
    if tag == "wflw":
        assert out["info"]["nstep_best"].tolist() == ref["b1_nstep_best"].tolist()
        assert np.abs(ref["b1_keypoints"][0] - ref["keypoints"][0]).max() > 0.03   # coupling is real


def test_per_sample_early_stop_matches_batch_of_one(small):
    model, ref, x, _ = small["wflw"]
    # a tolerance between the two images' own residuals at some step: they stop at different k
    cfg = with_overrides(model.cfg, rel_diff_target=0.30)
    both = model.infer(x, cfg=cfg, per_sample=True)
    for i in range(2):
        alone = model.infer(x[i:i + 1], cfg=cfg)
        assert int(both["info"]["n_iters"][i]) == alone["info"]["fwd_n_iters"]
        np.testing.assert_allclose(both["keypoints"][i].numpy(), alone["keypoints"][0].numpy(),
                                   rtol=0, atol=1e-9)
    assert both["info"]["n_iters"][0] != both["info"]["n_iters"][1]


# ---- parity: full released configuration -------------------------------------------------------
def test_full_size_forward_fpi(shared):
    fill = _fill_module(shared)
    ref = np.load(shared("parity", "ldeq", "model_full_fpi.npz"))
    model = LDEQ(RELEASED["ldeq.wflw_v"])
    model.load_state_dict(fill.fill_state_dict(model.state_dict(), seed=0), strict=True)
    model.eval().double()
    out = model.infer(torch.from_numpy(ref["input"]).double(), trace=True)
    inj = out["injection"][0].numpy()
    np.testing.assert_allclose(inj[:, ::8, ::8], ref["injection_sub8"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(inj.mean(axis=(1, 2)), ref["injection_mean"], rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(inj.reshape(264, -1).std(axis=1, ddof=1), ref["injection_std"],
                               rtol=1e-9, atol=1e-10)
    with torch.no_grad():
        f0 = model.cell(torch.zeros(1, 98, 64, 64, dtype=torch.float64), out["injection"])[0].numpy()
    np.testing.assert_allclose(f0.sum(axis=(1, 2)), ref["f0_chsum"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(f0[:, ::8, ::8], ref["f0_sub8"], rtol=0, atol=1e-8)
    zs = out["z_star"][0].numpy()
    np.testing.assert_allclose(zs, ref["zstar_img0"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(zs.sum(axis=(1, 2)), ref["zstar_chsum"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(zs[:, ::8, ::8], ref["zstar_sub8"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["keypoints"].numpy(), ref["keypoints"], rtol=0, atol=1e-8)
    np.testing.assert_allclose(out["keypoints"].numpy() * 256, ref["keypoints_px"], rtol=0, atol=3e-6)
    np.testing.assert_allclose(out["uncertainty"].numpy(), ref["uncertainty"], rtol=0, atol=1e-8)
    info = out["info"]
    np.testing.assert_allclose(info["rel_trace"], ref["rel_trace"], rtol=1e-9)
    np.testing.assert_allclose(info["abs_trace"], ref["abs_trace"], rtol=1e-9)
    np.testing.assert_allclose(info["fwd_final_rel_diff"], ref["fwd_final_rel_diff"], rtol=1e-9)
    np.testing.assert_allclose(info["fwd_final_solver_error"], ref["fwd_final_solver_error"], rtol=1e-9)
    assert info["n_cell_evals"] == int(ref["n_cell_evals"]) == 6
    traj = torch.stack(info["traj"])[:, 0]
    np.testing.assert_allclose(decode(traj)[0].numpy(), ref["traj_keypoints"], rtol=0, atol=1e-8)
