"""``wflwv ls presets``: every shipped preset with what it was tuned on."""

from __future__ import annotations


def test_ls_presets_lists_each_shipped_preset_with_its_tuning_split():
    from click.testing import CliRunner

    from wflwv.cli import main
    from wflwv.filters.presets import available, load

    r = CliRunner().invoke(main, ["ls", "presets"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()[1:]
    assert len(lines) == len(available()) > 0
    p = load("one-euro@noisy")
    line = next(ln for ln in lines if ln.split()[0] == "one-euro@noisy")
    assert f"tuned on {p['tuning']['dataset']}:{p['tuning']['subset']}" in line and "min_cutoff=5.0" in line
    r = CliRunner().invoke(main, ["ls", "presets", "kalman@*"])
    assert [ln.split()[0] for ln in r.output.splitlines()[1:]] == ["kalman@bimodal", "kalman@noisy"]
