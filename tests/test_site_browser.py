"""The static leaderboard page in a real browser: headless Debian Chromium driven by Playwright.

Opens ``index.html`` from ``file://``, sorts by NMF, filters by model, reloads the URL and checks the
state comes back, exports CSV, and checks the console stays clean. Skips (with the reason) when
Playwright or Chromium is missing, unless ``WFLWV_REQUIRE_BROWSER=1`` (set by ``.ci/run``), where a
missing browser is a failure. The screenshot is written under the pytest tmp dir.
"""

from __future__ import annotations

import json
import os
import shutil

import pandas as pd
import pytest

from harness_factory import make_index, track
from wflwv.harness.evaluate import EvalConfig, evaluate

CHROMIUM = os.environ.get("WFLWV_CHROMIUM", "/usr/bin/chromium")


def _unavailable(reason: str):
    if os.environ.get("WFLWV_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser test required (WFLWV_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    if not shutil.which(CHROMIUM) and not os.path.isfile(CHROMIUM):
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_playwright() as p:
        try:
            b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        except Error as exc:
            _unavailable(f"Chromium at {CHROMIUM} did not start: {str(exc).splitlines()[0]}")
        yield b
        b.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from wflwv.leaderboard import build, write

    root = tmp_path_factory.mktemp("site")
    tracks = {"easy": [track(50, seed=s, speed=0.2) for s in range(3)],
              "hard": [track(40, seed=10 + s, speed=0.2) for s in range(3)]}
    idx = make_index(root, tracks=tracks, write_videos=False, dataset="wflw-v")
    for model in ("oracle", "noisy:sigma=0.004", "noisy:sigma=0.002"):
        evaluate(EvalConfig(model=model, dataset=str(idx), filters=("none", "ema:alpha=0.6", "savgol"),
                            out=str(root / "runs"), decode="never", progress=False))
    out = root / "lb"
    write(build([str(root / "runs")]), out, copy_runs=True)
    return out


def _column(page, table: str, col: str):
    cells = page.locator(f"{table} td.c-{col}").all_inner_texts()
    return [c.split("[")[0].replace("✓", "").strip() for c in cells]


def test_page_sorts_filters_keeps_state_and_exports(browser, site, tmp_path):
    data = json.loads((site / "leaderboard.json").read_text())
    assert data["schema"] == "wflwv-leaderboard" and data["schema_version"] == 1
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: errors.append(f"network request {r.url}")
            if not r.url.startswith(("file:", "data:", "blob:")) else None)
    url = (site / "index.html").as_uri()
    page.goto(url)
    board = next(b for b in data["boards"] if b["key"]["subset"] == "all" and b["key"]["box_source"] == "dataset")
    table = f"table[data-board='{board['id']}'][data-section='online']"
    n_online = sum(1 for r in data["rows"] if r["board"] == board["id"] and r["section"] == "online")
    assert page.locator(f"{table} tbody tr.row").count() == n_online == 3 * 2

    # sort by NMF: ascending, then descending
    page.click(f"{table} th[data-col='nmf']")
    nmf = [float(v) for v in _column(page, table, "nmf")]
    assert nmf == sorted(nmf) and nmf[0] == 0.0
    page.click(f"{table} th[data-col='nmf']")
    assert [float(v) for v in _column(page, table, "nmf")] == sorted(nmf, reverse=True)
    page.click(f"{table} th[data-col='nmf']")

    # filter by model: only its rows remain, on every board
    page.select_option("#f-model", "noisy:sigma=0.004")
    models = page.locator("table.lb td.c-model").all_inner_texts()
    expect = sum(1 for r in data["rows"] if r["model"] == "noisy:sigma=0.004")
    assert len(models) == expect > 0 and all(m.startswith("noisy:sigma=0.004") for m in models)
    page.select_option("#f-source", "wflwv")
    assert "model=noisy" in page.url and "sort=nmf" in page.url and "dir=asc" in page.url

    # reload the URL (and open it fresh, as a shared link): same view
    for p in (page, browser.new_page()):
        if p is page:
            p.reload()
        else:
            p.goto(page.url)
        assert p.input_value("#f-model") == "noisy:sigma=0.004" and p.input_value("#f-source") == "wflwv"
        assert "sorted-asc" in (p.get_attribute(f"{table} th[data-col='nmf']", "class") or "")
        assert len(p.locator("table.lb td.c-model").all_inner_texts()) == expect
        vals = [float(v) for v in _column(p, table, "nmf")]
        assert vals == sorted(vals) and len(vals) == 2

    # provenance on click; download of what is shown
    page.click(f"{table} tbody tr.row >> nth=0")
    prov = page.locator(f"{table} tr.prov:not([hidden])")
    assert prov.count() == 1 and "index fingerprint" in prov.inner_text() and "summary.json" in prov.inner_text()
    href = prov.locator("a", has_text="summary.json").get_attribute("href")
    assert not href.startswith(("/", "file:")) and (site / href).is_file()
    with page.expect_download() as dl:
        page.click("#dl-csv")
    shown = pd.read_csv(dl.value.path())
    assert len(shown) == expect and set(shown["model"]) == {"noisy:sigma=0.004"}
    with page.expect_download() as dl:
        page.click("#dl-json")
    assert len(json.loads(open(dl.value.path()).read())["rows"]) == expect

    assert page.locator("details.paired").count() > 0 and page.locator("svg").count() >= 2
    # GT-free section: Pareto order (front first), never a ranking by jitter alone
    gt = page.locator(f"table.gtfree[data-board='{board['id']}'] tbody tr")
    assert gt.count() == expect // 3 and "front" in gt.nth(0).inner_text()
    # simulated = no: only the published rows remain, flagged by source
    page.select_option("#f-model", "")
    page.select_option("#f-source", "")
    page.select_option("#f-sim", "no")
    sources = page.locator("table.lb td.c-source").all_inner_texts()
    n_pub = sum(1 for r in data["rows"] if not r["simulated"])
    assert len(sources) == n_pub > 0 and not any(s.startswith("wflwv") for s in sources)
    assert page.locator("table.lb tr.derived").count() == sum(1 for r in data["rows"] if r["source"] == "derived")
    page.select_option("#f-sim", "")
    shot = tmp_path / "leaderboard.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    print(f"screenshot: {shot}")
    assert errors == []
