"""Reruns: the same release rebuilt gives the same index hash and cached runs stay valid; unverified
weights are visible; error messages name their subject once."""

from __future__ import annotations

import json

import pytest

from faultkit import _fast_env, cli, refused  # noqa: F401 (fixtures)


def test_synthetic_rebuild_then_evaluate_reuses_the_cache(tmp_path):
    """`make demo` twice in a row: the second build has the same content hash, evaluate reuses runs."""
    out, runs = tmp_path / "demo", tmp_path / "runs"
    build = ["build", "synthetic", "--preset", "tiny", "--out", out, "--no-progress"]
    assert cli(*build).code == 0
    first = json.loads((out / "dataset_info.json").read_text())
    r = cli("evaluate", "--model", "noisy", "--dataset", out, "--out", runs, "--no-progress")
    assert r.code == 0, r.output
    assert cli(*build).code == 0                       # rewrites identical videos (new mtimes)
    second = json.loads((out / "dataset_info.json").read_text())
    assert second["index_content_sha"] == first["index_content_sha"]
    assert second["built_at"] >= first["built_at"]
    r = cli("evaluate", "--model", "noisy", "--dataset", out, "--out", runs, "--no-progress")
    assert r.code == 0 and "0 videos detected now" in r.output, r.output
    assert cli("leaderboard", runs, "--out", tmp_path / "lb", "--no-plots", "--no-reference").code == 0


def test_dataset_name_is_not_repeated_in_build_errors(tmp_path):
    from fixtures_releases import make_wflw_v

    root = make_wflw_v(tmp_path / "rel", ["-3rDiJYQ6CQ"], ["-3uh4B-qDcs"], faults=["missing_video"])
    r = cli("build", "wflw-v", "--root", root, "--out", tmp_path / "idx", "--custom-splits", "--no-progress")
    refused(r, "-3rDiJYQ6CQ")
    assert "wflw-v: wflw-v:" not in r.output


@pytest.mark.parametrize("published,weights,pinned,verified", [
    ("a" * 64, "w.pth", None, True),       # release tag with a published SHA-256 (checked at load)
    (None, "w.pth", None, False),          # e.g. ldeq.wflw_v / sbr.300w / pipnet_r50.wflw: strict keys only
    (None, "w.pth", "b" * 64, True),       # pinned by the user with --weights-sha256
    (None, None, None, True),              # no checkpoint of the user's (simulated detectors)
])
def test_weights_verified_rule(published, weights, pinned, verified):
    from wflwv.detectors.checkpoint import weights_verified

    assert weights_verified(published, weights, pinned) is verified


def test_weights_sha256_pin(tmp_path):
    from wflwv.detectors.checkpoint import CheckpointError, check_pin
    from wflwv.io.atomic import sha256_file

    p = tmp_path / "w.pth"
    p.write_bytes(b"\x80\x02}q\x00.")
    assert check_pin(p, sha256_file(p).upper()) == sha256_file(p)
    with pytest.raises(CheckpointError, match="SHA-256"):
        check_pin(p, "0" * 64)
    with pytest.raises(CheckpointError, match="--weights-sha256"):
        check_pin(p, "xyz")
