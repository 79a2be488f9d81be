"""A normal (non-editable) install ships the data files the leaderboard and the site need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_non_editable_install_finds_reference_rows_and_site_assets(tmp_path):
    pytest.importorskip("setuptools", reason="building the package needs setuptools")
    target = tmp_path / "site-packages"
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
                        "-q", "--target", str(target), str(ROOT)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    code = ("import wflwv.leaderboard as lb, wflwv.leaderboard.site as s; df = lb.load_reference(); "
            "assert str(lb.REFERENCE_CSV).startswith(%r), lb.REFERENCE_CSV; "
            "assert {'paper','release','derived'} <= set(df.source); "
            "assert all((s.SITE_DIR / f).is_file() for f in ('index.html', 'site.css', 'site.js')); print(len(df))"
            % str(target))
    env = dict(os.environ, PYTHONPATH=str(target))
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert int(r.stdout.strip()) >= 20
