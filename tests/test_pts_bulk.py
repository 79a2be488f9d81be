"""Bulk .pts reader (wflwv.io.pts.read_pts_many): values identical to np.loadtxt, errors from the
canonical parser (wflwv.schemes.parse_pts_bytes) naming the file and line."""

from __future__ import annotations

import numpy as np
import pytest

from wflwv.io import pts as bulk
from wflwv.io.pts import PtsError, read_pts_many
from wflwv.schemes import PtsFormatError, parse_pts_bytes

VW = ("realdata", "videos_annotated", "300vw_frames_mmpose")


def _file(xy, nl=b"\r\n", version=b"1", final_nl=True, npts_sep=b" "):
    lines = [b"version: " + version, b"n_points:" + npts_sep + str(len(xy)).encode(), b"{"]
    lines += [b"%r %r" % (float(x), float(y)) for x, y in xy] + [b"}"]
    return nl.join(lines) + (nl if final_nl else b"")


def _loadtxt(p):
    return np.loadtxt(p, skiprows=3, max_rows=68)


def test_error_class_is_the_canonical_one():
    assert PtsError is PtsFormatError


def test_real_samples_equal_loadtxt(shared):
    base = shared(*VW)
    files = [base / "001" / "annot" / "000006.pts", base / "401" / "annot" / "000731.pts",
             base / "401" / "annot" / "000732.pts"]
    raw = [p.read_bytes() for p in files]
    assert b"\r\n" in raw[0] and b"version: 1.0" in raw[1] and b"\r\n" not in raw[2]
    many = read_pts_many(files * 3)
    assert many.shape == (9, 68, 2) and many.dtype == np.float64
    for k, p in enumerate(files * 3):
        np.testing.assert_array_equal(many[k], _loadtxt(p))
        np.testing.assert_array_equal(many[k], parse_pts_bytes(p.read_bytes(), str(p)))
    assert many[1, 0].tolist() == [354.32681, 277.170196]


def test_variants_equal_loadtxt_across_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 4)   # several chunks, one partial
    rng = np.random.default_rng(3)
    variants = [dict(), dict(nl=b"\n"), dict(version=b"1.0"), dict(final_nl=False),
                dict(nl=b"\n", final_nl=False), dict(npts_sep=b"  "), dict(nl=b"\r")]
    paths, ref = [], []
    for k in range(11):
        xy = np.round(rng.uniform(-50, 900, (68, 2)), rng.integers(0, 7))
        xy[0] = (-0.0, 1e-3)
        p = tmp_path / f"{k:06d}.pts"
        p.write_bytes(_file(xy, **variants[k % len(variants)]))
        paths.append(p)
        ref.append(xy)
    many = read_pts_many(paths)
    for k, p in enumerate(paths):
        np.testing.assert_array_equal(many[k], ref[k])
        if k % len(variants) != 6:          # np.loadtxt cannot read CR-only files; we (and schemes) can
            np.testing.assert_array_equal(many[k], _loadtxt(p))
    assert np.signbit(many[:, 0, 0]).all()   # "-0.0" keeps its sign, like np.loadtxt
    assert read_pts_many([]).shape == (0, 68, 2)


def test_unusual_but_valid_layouts_take_the_canonical_path(tmp_path):
    good = "version: 1\nn_points: 68\n{\n" + "".join(f"{i}.5 {i}.25\n" for i in range(68)) + "}"
    odd = {"tabs": good.replace("{\n", "{\n\t", 1).replace("5.5 5.25", "5.5 \t 5.25"),
           "blank_tail": good + "\n\n\n", "spaces": good.replace("}", "  }  "),
           "exp": good.replace("7.5 7.25", "7.5e0 0.725E1")}
    for name, text in odd.items():
        (tmp_path / f"{name}.pts").write_text(text)
    many = read_pts_many([tmp_path / f"{n}.pts" for n in odd])
    want = np.array([[i + 0.5, i + 0.25] for i in range(68)])
    for k in range(len(odd)):
        np.testing.assert_array_equal(many[k], want)


BAD = [("n98", lambda g: g.replace("n_points: 68", "n_points: 98"), ":2: header says n_points 98"),
       ("word", lambda g: g.replace("3.5 3.25", "3.5 x"), ":7: expected two numbers"),
       ("three", lambda g: g.replace("3.5 3.25", "3.5 3.25 1"), ":7: expected two numbers"),
       ("shifted", lambda g: g.replace("3.5 3.25\n4.5 4.25\n", "3.5\n3.25 4.5 4.25\n"),
        ":7: expected two numbers"),   # same line and number counts: only the per-line check sees it
       ("nan", lambda g: g.replace("9.5 9.25", "nan 9.25"), ":13: non-finite"),
       ("brace", lambda g: g.replace("{\n", "{ 1\n"), ":3: expected '{'"),
       ("nobrace", lambda g: g.replace("}", ""), "closing"),
       ("short", lambda g: g.replace("3.5 3.25\n", ""), "67 coordinate lines"),
       ("version", lambda g: g.replace("version: 1", "version: 2"), ":1: bad version"),
       ("tail", lambda g: g + "\nextra", "closing")]


@pytest.mark.parametrize("name,edit,msg", BAD, ids=[b[0] for b in BAD])
def test_bad_file_is_named_with_its_line(tmp_path, name, edit, msg):
    good = "version: 1\nn_points: 68\n{\n" + "".join(f"{i}.5 {i}.25\n" for i in range(68)) + "}\n"
    paths = []
    for k in range(5):
        p = tmp_path / f"{k:06d}.pts"
        p.write_text(good)
        paths.append(p)
    bad = tmp_path / f"{name}.pts"
    bad.write_text(edit(good))
    with pytest.raises(PtsFormatError) as ei:
        read_pts_many(paths[:3] + [bad] + paths[3:])
    assert f"{bad}{msg}" in str(ei.value) if msg.startswith(":") else msg in str(ei.value)
    assert str(bad) in str(ei.value)


def test_missing_file_raises_oserror(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_pts_many([tmp_path / "nope.pts"])
