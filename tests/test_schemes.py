"""Landmark schemes, the WFLW-98 → 68 maps and the iBUG .pts reader/writer."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.schemes import (WFLW98_TO_IBUG68, PtsFormatError, get_scheme, parse_pts_bytes, read_pts,
                           to_ibug68, write_pts)

VW = ("realdata", "videos_annotated", "300vw_frames_mmpose")


def test_scheme_fields():
    w, i = get_scheme("wflw98"), get_scheme("ibug68")
    assert (w.num_points, w.io_pair, w.pupils) == (98, (60, 72), ((96,), (97,)))
    assert (i.num_points, i.io_pair) == (68, (36, 45))
    assert i.pupils == (tuple(range(36, 42)), tuple(range(42, 48)))
    assert w.groups["left_eye"] == tuple(range(60, 68)) and i.groups["jaw"] == tuple(range(17))
    assert sorted(x for g in w.groups.values() for x in g) == list(range(98))
    assert sorted(x for g in i.groups.values() for x in g) == list(range(68))
    assert "WFLW" in w.paper and "300" in i.paper
    hash(w)  # frozen and hashable
    with pytest.raises(KeyError, match="unknown landmark scheme"):
        get_scheme("wflw97")


@pytest.mark.parametrize("name", ["wflw98", "ibug68"])
def test_flip_perm_is_involution_and_swaps_eyes(name):
    s = get_scheme(name)
    perm = np.array(s.flip_perm)
    assert np.array_equal(perm[perm], np.arange(s.num_points))
    a, b = s.io_pair
    assert perm[a] == b and perm[b] == a
    assert sorted(perm[list(s.pupils[0])]) == sorted(s.pupils[1])


@pytest.mark.parametrize("name,mf", [("wflw98", "meanface_WFLW.txt"), ("ibug68", "meanface_300W.txt")])
def test_flip_perm_matches_mirrored_meanface(shared, name, mf):
    """Mirror the official mean face about its centre: point i's nearest mirrored point is flip_perm[i]."""
    face = np.loadtxt(shared("parity", "pipnet", mf)).reshape(-1, 2)
    s = get_scheme(name)
    mirrored = face.copy()
    mirrored[:, 0] = 2 * face[:, 0].mean() - face[:, 0]
    nearest = np.sqrt(((face[:, None] - mirrored[None]) ** 2).sum(-1)).argmin(1)
    np.testing.assert_array_equal(nearest, s.flip_perm)


def test_scheme_helpers():
    s = get_scheme("ibug68")
    p = np.zeros((68, 2))
    p[36:42] = [10.0, 5.0]
    p[42:48] = [40.0, 9.0]
    assert s.io_distance(p) == pytest.approx(np.hypot(30, 4))
    assert s.ip_distance(p) == pytest.approx(np.hypot(30, 4))
    np.testing.assert_array_equal(s.flip(s.flip(p)), p)
    with pytest.raises(ValueError, match=r"\[\.\.\., 68, 2\]"):
        s.io_distance(np.zeros((98, 2)))


def test_wflw98_to_68_pipnet_parity(shared):
    d = np.load(shared("parity", "pipnet", "wflw98_to_68.npz"))
    out = to_ibug68(d["input_98"], "wflw98")
    assert out.shape == (6, 68, 2)
    np.testing.assert_array_equal(out, d["output_68"])          # bit-identical per the README
    np.testing.assert_array_equal(to_ibug68(d["input_98"][0], get_scheme("wflw98")), d["output_68"][0])


def test_wflw98_to_68_subset_map(shared):
    d = np.load(shared("parity", "pipnet", "wflw98_to_68.npz"))
    m = WFLW98_TO_IBUG68
    assert m.shape == (68,) and m.dtype.kind == "i" and len(set(m.tolist())) == 68
    assert m[:17].tolist() == list(range(0, 33, 2)) and m[[36, 39, 42, 45]].tolist() == [60, 64, 68, 72]
    sub = to_ibug68(d["input_98"], "wflw98", mapping="subset")
    np.testing.assert_array_equal(sub, d["input_98"][:, m])
    blended = sorted(set(range(18, 26)) | {37, 38, 40, 41, 43, 44, 46, 47})
    pure = [k for k in range(68) if k not in blended]
    np.testing.assert_array_equal(sub[:, pure], d["output_68"][:, pure])   # plain copies agree
    assert np.abs(sub[:4, blended] - d["output_68"][:4, blended]).max() > 1.0  # blended ones do not


@pytest.mark.parametrize("mapping", ["pipnet", "subset"])
def test_map_commutes_with_flip(mapping):
    x = np.random.default_rng(1).normal(size=(3, 98, 2))
    w, i = get_scheme("wflw98"), get_scheme("ibug68")
    np.testing.assert_allclose(to_ibug68(w.flip(x), w, mapping), i.flip(to_ibug68(x, w, mapping)), atol=1e-12)


def test_to_ibug68_identity_and_errors():
    x = np.arange(136.0).reshape(68, 2)
    np.testing.assert_array_equal(to_ibug68(x, "ibug68"), x)
    with pytest.raises(ValueError, match="98, 2"):
        to_ibug68(x, "wflw98")
    with pytest.raises(ValueError, match="unknown 98"):
        to_ibug68(np.zeros((98, 2)), "wflw98", mapping="nearest")


# ---------------------------------------------------------------------------------------------
# .pts
# ---------------------------------------------------------------------------------------------
def test_read_real_pts_samples(shared):
    a = shared(*VW, "001", "annot", "000006.pts")
    b = shared(*VW, "401", "annot", "000731.pts")
    c = shared(*VW, "401", "annot", "000732.pts")
    assert b"\r\n" in a.read_bytes() and b"\r\n" not in c.read_bytes()
    pa, pb, pc = read_pts(a), read_pts(b), read_pts(c)
    for p in (pa, pb, pc):
        assert p.shape == (68, 2) and p.dtype == np.float64
    np.testing.assert_array_equal(pa[[0, 1, -1]], [[743.224, 197.764], [744.067, 213.767], [790.094, 256.132]])
    np.testing.assert_array_equal(pb[[0, -1]], [[354.32681, 277.170196], [463.901645, 377.165623]])
    np.testing.assert_array_equal(pc[[0, -1]], [[363.817, 271.708], [465.679, 376.251]])
    # raw values (no -1): LF and CRLF forms of the same text parse identically
    lf = a.read_bytes().replace(b"\r\n", b"\n")
    np.testing.assert_array_equal(parse_pts_bytes(lf), pa)
    np.testing.assert_array_equal(parse_pts_bytes(lf.rstrip(b"\n")), pa)       # no final newline
    np.testing.assert_array_equal(parse_pts_bytes(lf + b"\n\n"), pa)           # trailing blank lines


def _pts(n=68, version=b"1", header_n=None, body=None, close=b"}", open_=b"{", nl=b"\r\n"):
    rows = body if body is not None else [b"%d.5 %d.25" % (k, 2 * k) for k in range(n)]
    lines = [b"version: " + version, b"n_points: %d" % (n if header_n is None else header_n), open_,
             *rows, close]
    return nl.join(lines) + nl


def test_parse_pts_synthetic_ok():
    p = parse_pts_bytes(_pts(version=b"1.0"), "x.pts")
    assert p.shape == (68, 2) and p[3].tolist() == [3.5, 6.25]
    assert parse_pts_bytes(_pts(n=5), "x.pts", n_points=None).shape == (5, 2)


@pytest.mark.parametrize("data,line,msg", [
    (b"", 1, "ends before"),
    (_pts(version=b"2"), 1, "version"),
    (_pts().replace(b"version", b"versio"), 1, "version"),
    (_pts(header_n=67, n=67), 2, "expected 68"),
    (_pts().replace(b"n_points: 68", b"n_points: x"), 2, "n_points"),
    (_pts(open_=b"["), 3, "expected '{'"),
    (_pts(close=b""), 71, "closing"),
    (_pts(body=[b"1 2"] * 67, header_n=68), 71, "67 coordinate lines"),
    (_pts(body=[b"1 2"] * 30 + [b"1 2 3"] + [b"1"] + [b"1 2"] * 36), 34, "two numbers"),
    (_pts(body=[b"1 2"] * 10 + [b"1 abc"] + [b"1 2"] * 57), 14, "two numbers"),
    (_pts(body=[b"1 2"] * 5 + [b"nan 2"] + [b"1 2"] * 62), 9, "non-finite"),
])
def test_parse_pts_malformed(data, line, msg):
    with pytest.raises(PtsFormatError, match=msg) as ei:
        parse_pts_bytes(data, source="vid/annot/000001.pts")
    assert f"vid/annot/000001.pts:{line}:" in str(ei.value)


def test_read_pts_error_names_file(tmp_path):
    f = tmp_path / "bad.pts"
    f.write_bytes(_pts(close=b")"))
    with pytest.raises(PtsFormatError, match=str(f)):
        read_pts(f)


def test_write_pts_round_trip(tmp_path):
    pts = np.random.default_rng(0).uniform(0, 1000, size=(68, 2))
    f = write_pts(tmp_path / "a" / "x.pts", pts)
    raw = f.read_bytes()
    assert raw.startswith(b"version: 1\r\nn_points: 68\r\n{\r\n") and raw.endswith(b"}\r\n")
    assert raw.count(b"\r\n") == 72 and b"\n" not in raw.replace(b"\r\n", b"")
    np.testing.assert_array_equal(read_pts(f), pts)                         # exact round trip
    f3 = write_pts(tmp_path / "y.pts", pts, decimals=3)
    np.testing.assert_allclose(read_pts(f3), pts, atol=5e-4)
    assert f3.read_bytes().split(b"\r\n")[3] == b"%.3f %.3f" % tuple(pts[0])
    assert not list(tmp_path.glob(".tmp-*"))
    with pytest.raises(ValueError, match="non-finite"):
        write_pts(tmp_path / "z.pts", np.full((68, 2), np.nan))


def test_real_pts_write_read(shared, tmp_path):
    p = read_pts(shared(*VW, "401", "annot", "000731.pts"))
    np.testing.assert_array_equal(read_pts(write_pts(tmp_path / "c.pts", p)), p)
