"""Static site data: boards never mix protocols, new columns appear when present, self-contained HTML."""

from __future__ import annotations

import json
import re
import shutil

import numpy as np
import pytest

from harness_factory import make_index, track
from wflwv.harness.evaluate import EvalConfig, evaluate


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("site_runs")
    tracks = {"easy": [track(40, seed=s, speed=0.2) for s in range(3)]}
    idx = make_index(root, tracks=tracks, write_videos=False, dataset="wflw-v")
    out = root / "runs"
    for model in ("oracle", "noisy:sigma=0.004"):
        evaluate(EvalConfig(model=model, dataset=str(idx), filters=("none", "ema:alpha=0.6", "ema:alpha=0.3"),
                            out=str(out), decode="never", progress=False))
    return out


def _copy_run(runs, tmp_path, model, tag, edit):
    """A copy of a run whose summary result rows are changed by ``edit(summary, row, i)``."""
    src = next(p for p in runs.iterdir() if model in p.name)
    dst = tmp_path / tag / (src.name + "-" + tag)
    shutil.copytree(src, dst)
    s = json.loads((dst / "summary.json").read_text())
    for i, r in enumerate(s["results"]):
        edit(s, r, i)
    (dst / "summary.json").write_text(json.dumps(s))
    return dst.parent


def _older(s, r, i):
    """As written before the GT-free, NAD and verification columns existed."""
    for k in ("lag_ms", "jitter_d1", "jitter_d2", "ref_dist", "lag_ref_frames", "lag_censored", "gt_free",
              "protocol", "nad_1", "weights_verified"):
        r.pop(k, None)
    s["model"].pop("weights_verified", None)


def _newer(s, r, i):
    s["model"]["weights_verified"] = True
    r.update(protocol="rwr", nad_1=1.5 + i, n_tracks=1)


def test_boards_split_protocols_and_show_new_columns(runs, tmp_path):
    from wflwv.leaderboard import BOARD_KEY, build, write

    df = build([str(_copy_run(runs, tmp_path, m, "old", _older)) for m in ("oracle", "noisy")]
               + [str(_copy_run(runs, tmp_path, "noisy", "rwr", _newer))])
    files = write(df, tmp_path / "lb", plots=False)
    data = json.loads((tmp_path / "lb" / "leaderboard.json").read_text())
    assert {"index.html", "leaderboard.json", "paired.csv"} <= {p.name for p in files}
    rows = {r["row_id"]: r for r in data["rows"]}
    for b in data["boards"]:  # one value per key column on every board
        members = [r for r in data["rows"] if r["board"] == b["id"]]
        assert members
        for col in BOARD_KEY:
            vals = {r[col] if r[col] not in (None, "") else None for r in members}
            assert len(vals) == 1, (b["title"], col, vals)
    own = {r["board"] for r in data["rows"] if r["source"] == "wflwv"}
    measured = [b for b in data["boards"] if b["id"] in own]
    assert sorted(b["key"]["protocol"] for b in measured) == ["index", "rwr"]
    old, new = sorted(measured, key=lambda b: b["key"]["protocol"])
    assert "nad_1" not in old["columns"] and old["gt_free_columns"] == [] and old["plots"]["gtfree"] is None
    assert {"nad_1", "weights_verified"} <= set(new["columns"])
    assert new["gt_free_columns"] == ["pareto_rank", "jitter_d2", "jitter_d1", "lag_frames", "lag_ms", "ref_dist"]
    assert new["plots"]["gtfree"].startswith("<svg") and "jitter" in new["plots"]["gtfree"]
    free = sorted((r for r in data["rows"] if r["board"] == new["id"]), key=lambda r: r["gt_free_order"])
    assert free[0]["pareto_rank"] == 0 and [r["pareto_rank"] for r in free] == sorted(r["pareto_rank"] for r in free)
    none = next(r for r in free if r["filter"] == "none")
    assert none["lag_frames"] == 0 and none["pareto_rank"] == 0  # jitter alone never ranks above it
    old_row = next(r for r in data["rows"] if r["board"] == old["id"])
    assert old_row["nad_1"] is None and old_row["weights_verified"] is None and old_row["protocol"] == "index"
    # published rows (box source not stated) sit on their own boards, with citation and flags
    pub = [r for r in data["rows"] if r["source"] != "wflwv"]
    assert pub and all(r["citation"] for r in pub)
    assert all(rows[r["row_id"]]["board"] not in own for r in pub if r["box_source"] is None)
    derived = next(r for r in pub if r["source"] == "derived")
    assert derived["second_hand"] is False and "abstract" in derived["citation"]
    # short filter names: two ema rows of one run stay distinct; full parameters in the provenance
    names = {r["filter"] for r in data["rows"] if r["source"] == "wflwv"}
    assert names == {"none", "ema:alpha=0.6", "ema:alpha=0.3"}
    r = next(r for r in data["rows"] if r["filter"] == "ema:alpha=0.3" and r["board"] == old["id"])
    assert json.loads(r["filter_params"])["alpha"] == 0.3 and r["command"].startswith("wflwv evaluate --model")
    assert r["index_fingerprint"] and r["links"]["summary.json"].endswith("summary.json")
    assert not r["links"]["summary.json"].startswith("/")
    assert np.isfinite(r["dnmf_vs_unfiltered"]) and r["dnmf_vs_unfiltered_lo"] <= r["dnmf_vs_unfiltered_hi"]
    assert data["paired_method"]["seed"] == 0 and data["paired"]


def test_page_is_self_contained_and_embeds_the_same_data(runs, tmp_path):
    from wflwv.leaderboard import build, write

    write(build([str(runs)], reference=False), tmp_path, plots=False, copy_runs=True)
    html = (tmp_path / "index.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no CDN, no network
    assert "<script src" not in html and "<link rel=\"stylesheet\"" not in html
    blob = re.search(r'<script type="application/json" id="lb-data">(.*?)</script>', html, re.S).group(1)
    embedded = json.loads(blob.replace("<\\/", "</"))
    on_disk = json.loads((tmp_path / "leaderboard.json").read_text())
    assert embedded["rows"] == on_disk["rows"] and embedded["schema_version"] == 1
    # --copy-runs: the linked files sit beside the page
    for r in on_disk["rows"]:
        for rel in r["links"].values():
            assert (tmp_path / rel).is_file()


def test_derived_and_in_sample_points_are_drawn_differently():
    import pandas as pd

    from wflwv.plots import _row_style

    base = {"source": "wflwv", "filter_id": "ema@x", "causal": True, "tuned_on_eval_split": False}
    filled = _row_style(pd.Series(base), "C0")
    hollow = _row_style(pd.Series(dict(base, tuned_on_eval_split=True)), "C0")
    derived = _row_style(pd.Series(dict(base, source="derived")), "C0")
    assert filled.get("color") == "C0" and hollow["facecolors"] == "none" and derived["facecolors"] == "none"
    assert derived["marker"] != hollow["marker"]


def test_labels_do_not_overlap():
    from wflwv.plots import _overlap, _plt, place_labels

    plt = _plt()
    fig, ax = plt.subplots(figsize=(4, 3))
    pts = [(1.0, 1.0), (1.01, 1.0), (1.0, 1.01), (1.02, 1.02), (2.0, 2.0)]
    ax.scatter(*zip(*pts))
    ax.set_xlim(0.9, 2.1)
    ax.set_ylim(0.9, 2.1)
    fig.canvas.draw()
    anns = place_labels(ax, pts, [str(i + 1) for i in range(len(pts))], ["k"] * len(pts))
    r = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(r) for a in anns]
    boxes = [(b.x0, b.y0, b.x1, b.y1) for b in boxes]
    assert all(_overlap(a, b) == 0 for i, a in enumerate(boxes) for b in boxes[i + 1:])
    plt.close(fig)


def test_scatter_axis_names_the_board_normaliser():
    import pandas as pd

    from wflwv.leaderboard import load_reference
    from wflwv.leaderboard.rows import row_id
    from wflwv.plots import scatter_figure, to_svg

    ref = load_reference()
    ref["row_id"] = [row_id(r) for _, r in ref.iterrows()]
    derived = ref[ref["source"] == "derived"]
    fig, numbers = scatter_figure(derived, "t", normaliser="unknown")
    svg = to_svg(fig)
    assert "normaliser: unknown" in svg and list(numbers.values()) == [1]
    fs = ref[(ref["nme_normaliser"] == "fs (probable; unconfirmed)") & ref["nmf"].notna()].head(1)
    fig, _ = scatter_figure(pd.concat([fs]), "t", normaliser="fs (probable; unconfirmed)")
    assert "normaliser: fs (probable; unconfirmed)" in to_svg(fig)


def test_the_committed_demo_site_is_complete():
    """``leaderboards/site`` (built by ``make site``) opens without the runs: every link is shipped."""
    import subprocess
    from pathlib import Path

    site = Path(__file__).resolve().parents[1] / "leaderboards" / "site"
    data = json.loads((site / "leaderboard.json").read_text())
    assert data["schema_version"] == 1 and (site / "index.html").is_file()
    links = {rel for r in data["rows"] for rel in (r.get("links") or {}).values()}
    assert links and all((site / rel).is_file() for rel in links)
    git = subprocess.run(["git", "-C", str(site), "check-ignore", *sorted(links)], capture_output=True, text=True)
    assert git.stdout.strip() == "", f"linked files ignored by git: {git.stdout}"


def test_markup_inside_the_data_cannot_break_the_page():
    from wflwv.leaderboard.site import render_html

    data = {"rows": [{"model": "a</script><!-- b -->", "svg": "<svg><!-- mathtext --></svg>"}]}
    html = render_html(data)
    blob = re.search(r'<script type="application/json" id="lb-data">(.*?)</script>', html, re.S).group(1)
    assert "<" not in blob                      # nothing in the block can open or close markup
    assert json.loads(blob) == data             # and it is still the same JSON (JSON.parse reads it too)
