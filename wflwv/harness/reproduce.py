"""``make reproduce``: the demo grid over real indexes whose roots are given in the environment.

    WFLWV_ROOT=/data/WFLW_V [WFLWV_SPLITS=/src/LDEQ_RwR/datasets/WFLW_V] \\
    [VW300_ROOT=/data/300VW] [WFLWV_MODELS="ldeq.wflw_v=/w/final.pth.tar pipnet_r18.wflw=/w/epoch59.pth"] \\
    [WFLWV_DEVICE=cuda] [WFLWV_LIMIT=0.1] make reproduce

Outputs go to WFLWV_BUILD (build/reproduce), WFLWV_RUNS (runs/reproduce), WFLWV_TUNED
(tuned/reproduce) and WFLWV_LEADERBOARD (leaderboards/reproduce); WFLWV_CUSTOM_SPLITS=1 accepts
non-official WFLW-V split lists (e.g. the synthetic release of ``build/demo/release``).

For every root: build the index (``build/reproduce/<dataset>``, reused when present), evaluate
the simulated detectors and every model of ``WFLWV_MODELS`` (``name=weights`` pairs) with the
demo filters, tune each causal/offline filter on the tuning split (WFLW-V easy → hard; 300-VW
train → A/B/C, ``filters.md`` §7) and write the leaderboard to ``leaderboards/reproduce``.
Without any root it prints this help and exits with status 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

FILTERS = ("none", "one-euro", "kalman", "kalman-rts", "ema", "savgol")
SIMULATED = ("oracle", "noisy", "bimodal")
DATASETS = {  # env var -> (builder, index name, tuning subset, report subsets)
    "WFLWV_ROOT": ("wflw-v", "wflw_v", "easy", ("hard",)),
    "VW300_ROOT": ("300vw", "300vw", "train", ("A", "B", "C")),
}


def _models(env: Dict[str, str]) -> List[Tuple[str, str]]:
    out = []
    for item in env.get("WFLWV_MODELS", "").split():
        name, eq, weights = item.partition("=")
        if not eq or not name or not weights:
            raise SystemExit(f"WFLWV_MODELS item {item!r} must look like name=/path/to/weights")
        out.append((name, weights))
    return out


def _run(args: List[str]) -> None:
    print("+ wflwv " + " ".join(args), flush=True)
    subprocess.run([sys.executable, "-m", "wflwv", *args], check=True)


def main(env=None) -> int:
    """Run the reproduction grid; returns the process exit status."""
    env = dict(os.environ if env is None else env)
    roots = {k: env[k] for k in DATASETS if env.get(k)}
    if not roots:
        print(__doc__.strip())
        print("\nno dataset root given: set WFLWV_ROOT and/or VW300_ROOT", file=sys.stderr)
        return 2
    build = Path(env.get("WFLWV_BUILD", "build/reproduce"))
    runs = Path(env.get("WFLWV_RUNS", "runs/reproduce"))
    tuned = Path(env.get("WFLWV_TUNED", "tuned/reproduce"))
    device = env.get("WFLWV_DEVICE", "cpu")
    limit = env.get("WFLWV_LIMIT")
    models = _models(env)
    for var, root in roots.items():
        builder, name, tune_on, report = DATASETS[var]
        index = build / name
        if not (index / "dataset_info.json").is_file():
            args = ["build", builder, "--root", root, "--out", str(index)]
            if builder == "wflw-v" and env.get("WFLWV_SPLITS"):
                args += ["--splits", env["WFLWV_SPLITS"]]
            if builder == "wflw-v" and env.get("WFLWV_CUSTOM_SPLITS") == "1":
                args += ["--custom-splits"]
            _run(args)
        common = ["--dataset", str(index), "--out", str(runs), "--device", device]
        common += [a for f in FILTERS for a in ("--filter", f)]
        if limit:
            common += ["--limit", limit]
        _run(["evaluate", *[a for m in SIMULATED for a in ("--model", m)], "--decode", "never", *common])
        for model, weights in models:
            _run(["evaluate", "--model", model, "--weights", weights, *common])
        for run in sorted(runs.glob("*")):
            if not (run / "summary.json").is_file() or name.replace("_", "-") not in run.name:
                continue
            for filt in FILTERS[1:]:
                for subset in report:
                    _run(["tune-filter", str(run), "--filter", filt, "--tune-subset", tune_on, "--apply-subset",
                          subset, "--dataset", str(index), "--out", str(tuned / run.name / f"{filt}-{subset}"),
                          "--no-progress"])
    _run(["leaderboard", str(runs), "--out", env.get("WFLWV_LEADERBOARD", "leaderboards/reproduce")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
