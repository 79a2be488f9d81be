"""Parity with the official LDEQ metric code: every value in ../shared/parity/metrics/*.npz."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.metrics import (auc_exact, ced_curve, concat_videos, fr_auc, frame_nme, image_nme, macro_mean,
                           nmf_steps, ragged_video_metrics, split_summary, video_nme, video_nmf)

TOL = dict(rtol=1e-9, atol=1e-9)


@pytest.fixture(scope="module")
def vm():
    from conftest import shared_path
    return np.load(shared_path("parity", "metrics", "video_metrics.npz"))


@pytest.fixture(scope="module")
def im():
    from conftest import shared_path
    return np.load(shared_path("parity", "metrics", "image_metrics.npz"))


def _videos(vm):
    return [(vm[f"pred_v{i}"], vm[f"gt_v{i}"]) for i in range(len(vm["T"]))]


def test_per_video_nme_nmf(vm):
    for i, (p, g) in enumerate(_videos(vm)):
        assert len(g) == vm["T"][i]
        np.testing.assert_allclose(video_nme(p, g), vm["nme"][i], **TOL)
        atol = 1e-6 if i == 4 else 1e-9          # constant offset: NMF ~1e-12 (rounding only)
        np.testing.assert_allclose(video_nmf(p, g), vm["nmf"][i], rtol=1e-9, atol=atol)
        np.testing.assert_allclose(frame_nme(p, g), vm[f"nme_per_frame_v{i}"], **TOL)
        np.testing.assert_allclose(nmf_steps(p, g), vm[f"nmf_per_step_v{i}"], rtol=1e-9, atol=atol)


def test_ragged_matches_parity_and_per_video(vm):
    vids = _videos(vm)
    pred, off = concat_videos([p for p, _ in vids])
    gt, _ = concat_videos([g for _, g in vids])
    for chunk in (2, 5, 2048):                   # chunk edges must not change anything
        r = ragged_video_metrics(pred, gt, off, chunk=chunk)
        np.testing.assert_allclose(r["nme_io"], vm["nme"], **TOL)
        np.testing.assert_allclose(r["nmf"], vm["nmf"], rtol=1e-9, atol=1e-6)
        np.testing.assert_allclose(r["frame_nme_io"], np.concatenate([vm[f"nme_per_frame_v{i}"] for i in range(6)]),
                                   **TOL)
        steps = r["frame_flicker"]
        assert np.isnan(steps[off[:-1]]).all()   # no transition ends on a first frame
        np.testing.assert_allclose(np.delete(steps, off[:-1]),
                                   np.concatenate([vm[f"nmf_per_step_v{i}"] for i in range(6)]), rtol=1e-9, atol=1e-6)
        for i, (p, g) in enumerate(vids):        # the fs variant agrees with the per-video form
            np.testing.assert_allclose(r["nme_fs"][i], video_nme(p, g, "face_size"), rtol=1e-12)
        np.testing.assert_array_equal(r["n_transitions"], vm["T"] - 1)
        assert not r["skipped"].any()
    for split in ("split_a", "split_b", "all"):
        idx = vm[f"{split}_videos"]
        s = split_summary(r, idx)
        np.testing.assert_allclose(s["nme_io"], vm[f"{split}_nme"], **TOL)
        np.testing.assert_allclose(s["nmf"], vm[f"{split}_nmf"], **TOL)
        np.testing.assert_allclose(macro_mean(r["nmf"][idx], r["skipped"][idx]), vm[f"{split}_nmf"], **TOL)
        assert s["n_videos"] == len(idx) and s["coverage"] == 1.0


def test_fr_auc_ced_on_ions(im):
    ions = im["ions"]
    xs, ys = ced_curve(ions)
    assert len(xs) == 1001 and xs[-1] == 0.10
    np.testing.assert_array_equal(xs, im["ced_xs"])
    np.testing.assert_array_equal(ys, im["ced_ys"])
    fr, auc = fr_auc(ions)
    np.testing.assert_allclose(fr, im["fr"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(auc, im["auc"], rtol=1e-9)
    np.testing.assert_allclose(ions.mean(), im["nme"], rtol=1e-9)
    for n in (326, 301):
        fr, auc = fr_auc(ions[:n])
        np.testing.assert_allclose(fr, im[f"first{n}_fr"], rtol=0, atol=1e-12)
        np.testing.assert_allclose(auc, im[f"first{n}_auc"], rtol=1e-9)
        np.testing.assert_allclose(ions[:n].mean(), im[f"first{n}_nme"], rtol=1e-9)
    # exact AUC is within the documented Simpson-grid gap
    assert abs(auc_exact(ions, 0.10) - im["auc"]) < 6.7e-4


def test_crop_ions(im):
    ions = image_nme(im["pred_crop"], im["gt_crop"], pair=(60, 72))
    assert ions.dtype == np.float64 and ions.shape == (64,)
    np.testing.assert_allclose(ions, im["crop_ions"], rtol=1e-6)
    np.testing.assert_allclose(ions.sum(), im["crop_sum_ion"], rtol=1e-6)
    fr, auc = fr_auc(ions)
    np.testing.assert_allclose(fr, im["crop_fr"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(auc, im["crop_auc"], rtol=1e-6)
    np.testing.assert_allclose(ions.mean(), im["crop_nme"], rtol=1e-6)
