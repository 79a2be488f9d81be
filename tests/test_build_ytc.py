"""YTC builder on the 8 real clips, a tarball, bad names; cards and the build CLI group."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from fixtures_releases import make_ytc
from wflwv.datasets.report import BuildError
from wflwv.datasets.ytc import YtcBuilder

REPO = Path(__file__).resolve().parents[1]
MANIFEST = {"0188_03_021_al_pacino": (324, 320, 240), "0217_03_006_alanis_morissette": (285, 320, 240),
            "0244_03_004_anderson_cooper": (160, 320, 240), "0490_03_007_bill_gates": (231, 320, 239),
            "0686_02_003_gloria_estefan": (125, 320, 238), "1192_01_006_julia_roberts": (259, 320, 240),
            "1815_01_008_tony_blair": (205, 320, 240), "1869_03_009_victoria_beckham": (247, 320, 240)}


def test_real_ytc_clips_via_cli(tmp_path, shared):
    root = shared("realdata", "videos", "ytc_clm")
    from wflwv.cli import main

    res = CliRunner().invoke(main, ["build", "ytc", "--root", str(root), "--out", str(tmp_path / "idx"),
                                    "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "8 videos, 1836 frames" in res.output
    from wflwv.datasets.index import load_index

    idx = load_index(tmp_path / "idx")
    v = idx.videos.set_index("video_id")
    got = {k: (int(r.n_frames), int(r.width), int(r.height)) for k, r in v.iterrows()}
    assert got == MANIFEST
    assert (v["fps"] == 25.0).all() and not v["has_gt"].any()
    assert v.loc["0188_03_021_al_pacino", "person"] == "al_pacino"
    assert v.loc["0188_03_021_al_pacino", ["f0", "f1", "f2"]].tolist() == ["0188", "03", "021"]
    assert idx.landmarks("1815_01_008_tony_blair") is None
    assert idx.times("1815_01_008_tony_blair")[:3].tolist() == pytest.approx([0.0, 0.04, 0.08])
    card = (tmp_path / "idx" / "README.md").read_text()
    assert "320x239 (1)" in card and "real, identifiable people" in card


def test_tarball_and_bad_name(tmp_path):
    clips = make_ytc(tmp_path / "flat", ["0001_01_001_jane_doe", "0002_02_002_john_q_public"])
    tar = tmp_path / "ytcelebrity.tar"
    with tarfile.open(tar, "w") as tf:
        for p in sorted(clips.glob("*.avi")):
            tf.add(p, arcname=f"ytcelebrity/{p.name}")
    idx = YtcBuilder(tar, progress=False, timeout_s=None).build(tmp_path / "idx")
    assert idx.info["archive"]["sha256"] and idx.video_ids() == ["0001_01_001_jane_doe", "0002_02_002_john_q_public"]
    assert idx.video_row("0002_02_002_john_q_public")["person"] == "john_q_public"
    assert idx.info["subsets"]["all"]["frames"] == 14
    make_ytc(clips, ["badname"])
    with pytest.raises(BuildError, match="badname.avi does not follow"):
        YtcBuilder(clips, progress=False, timeout_s=None).build(tmp_path / "idx2")
    with pytest.raises(BuildError, match="verify-decode full or sample"):
        YtcBuilder(clips, verify_decode="none")


def test_card_templates_published_equal_packaged():
    from wflwv.datasets.cards import template_path

    for name in ("wflw-v", "300vw", "ytc"):
        assert (REPO / "data_cards" / f"{name}.md").read_text() == template_path(name).read_text()
    own = REPO / "wflwv" / "datasets" / "synthetic" / "card.md"     # a builder's own template
    assert (REPO / "data_cards" / "synthetic.md").read_text() == own.read_text()
    assert not template_path("synthetic").exists()


def test_builder_names_its_own_card_template(tmp_path):
    from wflwv.datasets.cards import CardError, builder_template, render
    from wflwv.datasets.synthetic.builder import _indexer
    from wflwv.datasets.wflw_v import WflwVBuilder

    syn = _indexer("ytc", tmp_path, {})
    assert builder_template(syn) == REPO / "wflwv" / "datasets" / "synthetic" / "card.md"
    assert builder_template(WflwVBuilder.__new__(WflwVBuilder)).name == "wflw-v.md"

    class Custom(WflwVBuilder):
        card_template = str(tmp_path / "mine.md")

    b = Custom.__new__(Custom)
    assert builder_template(b) == tmp_path / "mine.md"
    with pytest.raises(CardError, match="mine.md"):
        render(b, {}, None, None)


def test_ls_and_build_group_list_the_builders():
    from wflwv.cli import main

    out = CliRunner().invoke(main, ["ls", "datasets"]).output
    for name in ("wflw-v", "300vw", "ytc"):
        assert name in out
    res = CliRunner().invoke(main, ["build", "wflw-vv", "--root", "x"])
    assert res.exit_code != 0 and "Did you mean: 'wflw-v'" in res.output


def test_build_help_imports_no_torch():
    import subprocess
    import sys

    code = ("import sys; from click.testing import CliRunner; from wflwv.cli import main; "
            "r = CliRunner().invoke(main, ['build', 'wflw-v', '--help']); assert r.exit_code == 0, r.output; "
            "assert '--video-id' in r.output; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
