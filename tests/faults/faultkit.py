"""Helpers and fixtures of the fault suite (imported by each test module; not a conftest, whose
module name would shadow tests/conftest.py): run the CLI as a user would and check what a failure leaves behind.

Every case asserts the exit status, that the one-line message names the file or option at fault
(and no Python traceback is shown), and that no partial output is left (``no_partial``).
"""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, List, Optional

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests/ helpers (fixtures_releases, ...)

from harness_factory import make_index  # noqa: E402


@dataclass
class Result:
    """Exit status and the combined stdout + stderr of one CLI call."""

    code: int
    output: str
    exception: Optional[BaseException] = None


def cli(*args: str, env: Optional[dict] = None) -> Result:
    """Invoke ``wflwv ARGS`` in-process (monkeypatches apply); SystemExit gives the status."""
    from click.testing import CliRunner

    from wflwv.cli import main

    r = CliRunner().invoke(main, [str(a) for a in args], env=env)
    exc = r.exception if not isinstance(r.exception, SystemExit) else None
    return Result(r.exit_code, r.output, exc)


def refused(r: Result, *names: str, code: int = 1) -> None:
    """``r`` failed with ``code``, a one-line message naming every one of ``names``, no traceback."""
    assert r.exception is None, f"uncaught {type(r.exception).__name__}: {r.exception}\n{r.output}"
    assert r.code == code, f"exit {r.code} (wanted {code}):\n{r.output}"
    assert "Traceback" not in r.output, r.output
    err = [line for line in r.output.splitlines() if line.startswith("Error")]
    assert err, f"no 'Error:' line in:\n{r.output}"
    for name in names:
        assert str(name) in r.output, f"message does not name {name!r}:\n{r.output}"


def no_partial(*paths: Path, allowed: Iterable[str] = ()) -> None:
    """None of ``paths`` exists, and no ``.tmp-*`` / ``.old-*`` leftovers beside them."""
    for p in map(Path, paths):
        assert not p.exists() or p.name in set(allowed), f"partial output left: {p}"
        if p.parent.is_dir():
            left = [q.name for q in p.parent.iterdir() if q.name.startswith((".tmp-", ".old-"))]
            assert not left, f"temporary files left beside {p}: {left}"


def tree(path: Path) -> List[str]:
    """Sorted relative file names under ``path`` (run-directory contents), ignoring the lock file."""
    path = Path(path)
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file() and p.name != ".lock")


@pytest.fixture
def tiny_index(tmp_path):
    """A tiny labelled index with real MJPG videos (easy: 8, 6 frames; hard: 7)."""
    return make_index(tmp_path / "tiny", {"easy": [8, 6], "hard": [7]})


@pytest.fixture(scope="session")
def scored_run(tmp_path_factory):
    """A clean index plus one scored run of ``noisy`` (template: copy before damaging)."""
    root = tmp_path_factory.mktemp("scored")
    index = make_index(root / "t", {"easy": [8, 6], "hard": [7]})
    r = cli("evaluate", "--model", "noisy", "--dataset", index, "--out", root / "runs", "--no-progress",
            "--filter", "none", "--filter", "ema")
    assert r.code == 0, r.output
    return root


@pytest.fixture
def scored(tmp_path, scored_run):
    """A private copy of ``scored_run``: (index dir, runs dir, the run dir)."""
    dst = tmp_path / "s"
    shutil.copytree(scored_run, dst)
    # the index records its media root absolutely: point it at the copy
    import json

    info_path = dst / "t" / "index" / "dataset_info.json"
    info = json.loads(info_path.read_text())
    info["root"] = str(dst / "t" / "media")
    info_path.write_text(json.dumps(info))   # "root" is not content: the seal stays valid
    run = next(p for p in (dst / "runs").iterdir() if p.is_dir())
    summary = json.loads((run / "summary.json").read_text())
    summary["dataset"]["index_path"] = str(dst / "t" / "index")
    (run / "summary.json").write_text(json.dumps(summary))
    return dst / "t" / "index", dst / "runs", run


@pytest.fixture(autouse=True)
def _fast_env(monkeypatch):
    monkeypatch.setenv("WFLWV_NO_TQDM", "1")
    monkeypatch.setenv("WFLWV_LOCK_TIMEOUT", "1")
    os.environ.pop("WFLWV_DEBUG", None)
