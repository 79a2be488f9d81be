"""``benchmarks/gpu_check.py --device cpu --smoke``: the prepared GPU check must keep running (CI)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_gpu_check_smoke_on_cpu(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]))
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cpu", "--smoke",
                          "--out", str(tmp_path)], capture_output=True, text=True, env=env, timeout=600)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    report = json.loads((tmp_path / "gpu_check.json").read_text())
    rows = [r for t in report["tables"] for r in t["rows"]]
    labels = {(str(r["cells"][0]), str(r["cells"][1])) for r in rows}
    assert any(m.startswith("ldeq small") and p.startswith("fp32, device crops") for m, p in labels)
    assert any(m.startswith("ldeq small") and p.startswith("fp32, cv2 crops") for m, p in labels)
    assert {("pipnet_r18", "fp32"), ("sbr", "fp32")} <= labels
    assert any(m.startswith("warp_crops on cpu") for m, _ in labels)
    assert report["status"]["missed"] == 0 and report["status"]["met"] >= 5
    ff = [r for r in rows if r["cells"][0] in ("pipnet_r18", "sbr")]
    assert all(0 <= r["cells"][3] <= 0.05 for r in ff)       # fp32 vs float64, feed-forward: agree
    assert (tmp_path / "gpu_check.md").is_file()


def test_gpu_check_refuses_cuda_without_a_gpu():
    import pytest
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: the refusal is for machines without one")
    res = subprocess.run([sys.executable, str(REPO / "benchmarks" / "gpu_check.py"), "--device", "cuda"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 2 and "sees no CUDA device" in res.stderr and "Traceback" not in res.stderr
