"""Tuned filter presets: named parameter sets with provenance, selected as ``FILTER@NAME``.

``docs/filters.md`` §2/§7: untuned One-Euro is the most common complaint, so wflwv ships parameters
tuned per detector by ``wflwv tune-filter`` (objective: min NMF s.t. NME_io <= 1.02 x unfiltered
on the tuning split). A preset file ``wflwv/filters/presets/<filter>@<name>.json`` holds::

    {id, name, filter, params, variant, detector, detector_options, simulated,
     tuning: {dataset, subset, index_fingerprint, run}, objective, grid, n_grid_points,
     n_feasible, unfiltered_on_tuning_split, tuned_on_tuning_split, applied, wflwv_version, date}

A row scored with a preset is flagged in-sample (``tuned_on_eval_split``) only when its index has
the preset's ``tuning.index_fingerprint`` and its subset contains the tuning subset
(:func:`in_sample`); an index that merely has the same dataset name is held-out data.

CLI syntax: ``--filter one-euro@noisy`` (the preset), ``one-euro`` (spec defaults),
``one-euro:beta=1`` (explicit). ``one-euro@noisy:beta=1`` starts from the preset and overrides;
the result is then an ordinary (untagged) filter, since it no longer is the tuned point.
"""

from __future__ import annotations

import datetime as _dt
import json
from pathlib import Path
from typing import Any, Dict, List, Optional

PRESET_DIR = Path(__file__).with_name("presets")
REQUIRED = ("id", "name", "filter", "params", "detector", "tuning", "objective", "grid", "wflwv_version", "date")


class PresetError(ValueError):
    """Unknown or malformed filter preset; the message lists the known ones."""


def available(directory: Optional[Path] = None) -> List[str]:
    """Ids (``filter@name``) of the shipped presets, sorted."""
    d = Path(directory or PRESET_DIR)
    return sorted(p.stem for p in d.glob("*@*.json"))


def load(preset_id: str, directory: Optional[Path] = None) -> Dict[str, Any]:
    """The preset ``filter@name`` as a dict; unknown ids and missing fields raise PresetError."""
    d = Path(directory or PRESET_DIR)
    path = d / f"{preset_id}.json"
    if "/" in preset_id or not path.is_file():
        raise PresetError(f"unknown filter preset {preset_id!r}; shipped presets: {', '.join(available(d)) or 'none'} "
                          f"(in {d}); make one with `wflwv tune-filter ... --save-preset NAME`")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise PresetError(f"{path}: not valid JSON ({exc}); regenerate it with `wflwv tune-filter`") from None
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise PresetError(f"{path}: missing field(s) {missing}; regenerate it with `wflwv tune-filter`")
    if data["id"] != preset_id or f"{data['filter']}@{data['name']}" != preset_id:
        raise PresetError(f"{path}: id {data['id']!r} does not match its file name {preset_id!r}")
    if not isinstance(data["params"], dict) or not data["params"]:
        raise PresetError(f"{path}: 'params' must be a non-empty object (the tuning found no feasible point?)")
    return data


def in_sample(tuning: Optional[Dict[str, Any]], index_fingerprint: Optional[str], subset: str) -> bool:
    """True when a preset tuned as ``tuning`` is scored on the data it was tuned on.

    That is: the same index (equal ``index_fingerprint``, never the dataset name: two indexes named
    ``synthetic`` built with other settings are different data) and a subset that contains the
    tuning videos (the tuning subset itself, ``all``, or any subset when it was tuned on ``all``).
    A preset without a recorded fingerprint cannot be matched and is never flagged.
    """
    if not tuning or not tuning.get("index_fingerprint") or not index_fingerprint:
        return False
    if str(tuning["index_fingerprint"]) != str(index_fingerprint):
        return False
    tuned = tuning.get("subset") or "all"
    return subset == "all" or tuned == "all" or subset == tuned


def from_tuning(result: Dict[str, Any], name: str, command: Optional[str] = None) -> Dict[str, Any]:
    """A shippable preset dict from a :func:`wflwv.harness.tune.tune` result (``table`` dropped)."""
    if result.get("params") is None:
        raise PresetError(f"tuning of {result.get('filter')} found no feasible point; nothing to save as a preset")
    if not name or any(c in name for c in "@:/, ") :
        raise PresetError(f"preset name {name!r} must be non-empty without '@', ':', '/', ',' or spaces")
    keep = {k: v for k, v in result.items() if k != "table"}
    return {
        "id": f"{result['filter']}@{name}", "name": name, "filter": result["filter"],
        "params": result["params"], "variant": result.get("variant"), "detector": result["detector"],
        "detector_options": result.get("detector_options"), "simulated": result.get("simulated", False),
        "tuning": {"dataset": result.get("dataset"), "subset": result["tuning_split"],
                   "index_fingerprint": result.get("index_fingerprint"), "run": result.get("run")},
        "objective": result["objective"], "grid": result["grid"], "n_grid_points": result.get("n_grid_points"),
        "n_feasible": result.get("n_feasible"), "nme_limit": result.get("nme_limit"),
        "unfiltered_on_tuning_split": keep.get("unfiltered_on_tuning_split"),
        "tuned_on_tuning_split": keep.get("tuned_on_tuning_split"), "applied": keep.get("applied"),
        "wflwv_version": result["wflwv_version"], "date": _dt.date.today().isoformat(), "command": command,
    }


def summaries(directory: Optional[Path] = None) -> List[Dict[str, Any]]:
    """One line of facts per shipped preset: id, filter, params, detector and what it was tuned on."""
    out = []
    for pid in available(directory):
        p = load(pid, directory)
        t = p.get("tuning", {})
        det = p["detector"] + (" (SIMULATED)" if p.get("simulated") else "")
        params = ",".join(f"{k}={v}" for k, v in sorted(p["params"].items()))
        out.append({"id": pid, "filter": p["filter"], "params": params, "detector": det,
                    "tuned_on": f"{t.get('dataset', '?')}:{t.get('subset', '?')}",
                    "index_fingerprint": str(t.get("index_fingerprint") or "")[:12], "date": p.get("date", "")})
    return out
