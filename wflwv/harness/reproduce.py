"""``make reproduce``: the demo grid over real indexes whose roots are given in the environment.

    WFLWV_ROOT=/data/WFLW_V [WFLWV_SPLITS=/src/LDEQ_RwR/datasets/WFLW_V] \\
    [VW300_ROOT=/data/300VW] [WFLWV_MODELS="ldeq.wflw_v=/w/final.pth.tar pipnet_r18.wflw=/w/epoch59.pth"] \\
    [WFLWV_DEVICE=cuda] [WFLWV_LIMIT=0.1] make reproduce

Outputs go to WFLWV_BUILD (build/reproduce), WFLWV_RUNS (runs/reproduce), WFLWV_TUNED
(tuned/reproduce) and WFLWV_LEADERBOARD (leaderboards/reproduce); WFLWV_CUSTOM_SPLITS=1 accepts
non-official WFLW-V split lists (e.g. the synthetic release of ``build/demo/release``) and
VW300_CUSTOM_IDS=1 accepts 300-VW video IDs outside the official 114 (subsets from the release's
``categories.csv``). Tuning runs only on subsets the index has. A failed step ends the run with
one line naming the step (its own message is printed just above) and exit status 1.

For every root: build the index (``build/reproduce/<dataset>``, reused when present), evaluate
the simulated detectors and every model of ``WFLWV_MODELS`` (``name=weights`` pairs) with the
demo filters, tune each causal/offline filter on the tuning split (WFLW-V easy → hard; 300-VW
train → A/B/C, ``docs/filters.md`` §7) and write the leaderboard to ``leaderboards/reproduce``.
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


class StepFailed(Exception):
    """One ``wflwv`` step of the grid exited with a non-zero status."""


def _run(args: List[str]) -> None:
    print("+ wflwv " + " ".join(args), flush=True)
    rc = subprocess.run([sys.executable, "-m", "wflwv", *args]).returncode
    if rc != 0:
        raise StepFailed(f"make reproduce: step `wflwv {' '.join(args)}` failed with exit status {rc} (its "
                         f"message is just above); fix that and run `make reproduce` again")


def _subsets(index: Path) -> List[str]:
    import json

    try:
        return list(json.loads((index / "dataset_info.json").read_text()).get("subsets", {}))
    except (OSError, ValueError):
        return []


def main(env=None) -> int:
    """Run the reproduction grid; returns the process exit status (1 after a failed step)."""
    try:
        return _main(env)
    except StepFailed as exc:
        print(str(exc), file=sys.stderr)
        return 1


def _main(env=None) -> int:
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
            if builder == "300vw" and env.get("VW300_CUSTOM_IDS") == "1":
                args += ["--custom-ids"]
            _run(args)
        common = ["--dataset", str(index), "--out", str(runs), "--device", device]
        common += [a for f in FILTERS for a in ("--filter", f)]
        if limit:
            common += ["--limit", limit]
        _run(["evaluate", *[a for m in SIMULATED for a in ("--model", m)], "--decode", "never", *common])
        for model, weights in models:
            _run(["evaluate", "--model", model, "--weights", weights, *common])
        have = _subsets(index)
        report = tuple(s for s in report if s in have)
        if tune_on not in have or not report:
            print(f"make reproduce: {index} has no {tune_on!r} subset to tune on (subsets {have}); filter "
                  f"tuning skipped", flush=True)
            continue
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
