"""Golden test of the released WFLW-V checkpoint (``ldeq.md`` §8): WFLW-V easy with RwR.

Needs a CUDA device, the user-downloaded ``final.pth.tar`` and a built WFLW-V index:

    WFLWV_LDEQ_WFLW_V_WEIGHTS=/w/WFLW_V/final.pth.tar WFLWV_WFLW_V_INDEX=idx/wflw_v \\
        python -m pytest -q -m gpu tests/test_ldeq_golden.py -s

It prints the checkpoint's SHA-256, to be pinned in ``wflwv.detectors.ldeq.config.RELEASED_SHA256``
after the first passing run. Skipped otherwise.
"""

from __future__ import annotations

import os

import pytest
import torch

WEIGHTS = os.environ.get("WFLWV_LDEQ_WFLW_V_WEIGHTS")
INDEX = os.environ.get("WFLWV_WFLW_V_INDEX")


@pytest.mark.gpu
@pytest.mark.slow
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.skipif(not (WEIGHTS and INDEX), reason="set WFLWV_LDEQ_WFLW_V_WEIGHTS and WFLWV_WFLW_V_INDEX")
def test_wflw_v_easy_rwr_golden(tmp_path):
    from wflwv.harness.evaluate import EvalConfig, evaluate
    from wflwv.io.atomic import sha256_file

    out = evaluate(EvalConfig(model="ldeq.wflw_v", dataset=f"{INDEX}:easy", weights=WEIGHTS,
                              device="cuda", out=str(tmp_path), batch_size=256, progress=False))
    row = next(r for r in out["results"] if r["subset"] == "easy" and r["filter"] == "none")
    print(f"\nldeq.wflw_v final.pth.tar sha256 {sha256_file(WEIGHTS)}: NME {row['video_nme.io']:.4f} "
          f"NMF {row['nmf']:.2f}")
    assert abs(row["video_nme.io"] - 2.02) <= 0.02
    assert abs(row["nmf"] - 115.48) <= 0.5
