"""Named protocols: the QLOT 150-clip split derived in code, clip sets on other indexes, listing."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import shared_path
from wflwv.protocols import PROTOCOLS, QLOT_SEEDS, derive_seeds, qlot_test_split, split_ids


def _official():
    lists = shared_path("wflw_v_lists")
    sub = {}
    for name in ("easy", "hard"):
        for line in (lists / f"{name}_video_IDs.txt").read_text().splitlines():
            if line.strip():
                sub[line.strip()] = name
    return sub


def test_seeds_are_the_official_draws():
    assert derive_seeds() == QLOT_SEEDS == (191664964, 1662057958, 1405681632)


def test_qlot_split_matches_the_reference_list():
    sub = _official()
    assert len(sub) == 1000
    rows = [line.split("\t") for line in
            shared_path("parity", "qlot", "wflwv_test_split_150.tsv").read_text().splitlines()[1:]]
    test = qlot_test_split(list(reversed(list(sub))), sub)     # input order must not matter
    assert test == [r[1] for r in rows]
    assert [sub[v] for v in test] == [r[2] for r in rows]
    assert sum(sub[v] == "easy" for v in test) == 75 and test[:3] == ["0EvFlxrLywI", "0_c50iuerMI", "0v04lIROESw"]
    clips = PROTOCOLS["qlot"].clip_set(list(sub), sub, "wflw-v", available=[v for v in sub if v != test[5]])
    assert clips.official and clips.frames == 120 and len(clips.video_ids) == 149
    assert clips.missing == (test[5],) and "missing" in clips.note


def test_split_rule_is_stratified_and_order_preserving():
    ids = [f"v{i:03d}" for i in range(40)]
    sub = {v: ("easy" if i % 4 else "hard") for i, v in enumerate(ids)}
    train, valid = split_ids(ids, sub, 30, seed=3)
    assert len(valid) == 10 and sorted(train + valid) == ids
    assert sum(sub[v] == "easy" for v in valid) == int(10 * 30 / 40)
    assert valid == sorted(valid) and train == sorted(train)
    rng = np.random.default_rng(3)
    easy = [v for v in ids if sub[v] == "easy"]
    assert set(easy[i] for i in rng.permutation(len(easy))[:7]) <= set(valid)


def test_non_official_index_uses_every_clip_first_120_frames():
    ids = ["a", "b", "c"]
    clips = PROTOCOLS["qlot"].clip_set(ids, {v: "easy" for v in ids}, "synthetic")
    assert clips.video_ids == ("a", "b", "c") and clips.frames == 120 and not clips.official
    assert "not the official WFLW-V" in clips.note
    rwr = PROTOCOLS["rwr"].clip_set(ids, {}, "synthetic")
    assert rwr.frames is None and not rwr.official and rwr.video_ids == ("a", "b", "c")
    assert PROTOCOLS["qlot"].options_for("qlot") == {"crop": "box"} and PROTOCOLS["qlot"].box_source == "gt"
    assert PROTOCOLS["rwr"].options_for("ldeq") == {}


def test_ls_protocols_lists_both_definitions():
    from click.testing import CliRunner

    from wflwv.cli import main as cli  # noqa: F401
    from wflwv.cli.ls import ls

    out = CliRunner().invoke(ls, ["protocols"]).output
    assert "qlot" in out and "rwr" in out and "150-clip" in out and "inter-ocular" in out
    from wflwv.registry import PROTOCOLS as REG

    assert REG.get("qlot") is PROTOCOLS["qlot"]
    with pytest.raises(KeyError, match="Did you mean"):
        REG.entry("qlott")


def test_reference_rows_for_qlot_and_rwr_as_quoted():
    from wflwv.leaderboard.reference import load_reference

    ref = load_reference()
    q = ref[(ref["model"] == "qlot.wflw_v") & (ref["dataset"] == "wflw-v")].set_index("subset")
    assert set(q["protocol"]) == {"qlot"} and set(q["box_source"]) == {"gt"}
    assert q.loc["easy", "nmf"] == 77.7 and q.loc["hard", "nmf"] == 138.5
    assert (q.loc["all", ["nad_1", "nad_4", "nad_16"]].tolist()) == [2.99, 4.07, 5.08]
    assert not q["second_hand"].any() and set(q["source"]) == {"paper"}
    rwr = ref[ref["provenance"] == "quoted_by_qlot"].set_index("subset")
    assert rwr["second_hand"].all() and set(rwr["protocol"]) == {"rwr"}
    assert rwr.loc["easy", "nmf"] == 82.74 and rwr.loc["hard", "nmf"] == 172.95
    assert all("quoted by QLOT" in c for c in rwr["citation"])
