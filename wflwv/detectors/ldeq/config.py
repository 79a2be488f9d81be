"""LDEQ configuration without torch: released configs, checkpoint-args validation, key shapes.

``docs/detectors.md`` (LDEQ) (released args), §4 (state_dict layout). :class:`LdeqConfig` is everything the
model and solvers need; :func:`config_from_args` rebuilds it from the ``args`` Namespace stored in
an official ``final.pth.tar`` and refuses args the clean-room model does not implement;
:func:`state_dict_shapes` gives the exact key → shape map a checkpoint must match.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import asdict, dataclass, replace
from typing import Any, Dict, Mapping, Optional, Tuple

from wflwv.detectors.base import DetectorCfg

PAPER = ("Micaelli, Vahdat, Yin, Kautz, Molchanov. Recurrence without Recurrence: Stable Video "
         "Landmark Detection with Deep Equilibrium Models. CVPR 2023, arXiv:2304.00600")
ORIGIN = "polo5/LDEQ_RwR@c9710751"
LICENSE = "NVIDIA-NC"
HOURGLASS_DEPTH = 4


@dataclass(frozen=True)
class LdeqConfig:
    """Architecture + solver settings of one LDEQ model (names follow the checkpoint args)."""

    injection_width: int = 264
    cell_base_width: int = 264
    cell_width_increment: int = 24
    n_keypoints: int = 98
    heatmap_size: int = 64
    im_size: int = 256
    cell_gn_groups: int = 8
    cell_softargmax_beta: float = 0.4
    solver: str = "fpi"                 # "fpi" | "anderson"
    max_iters: int = 5
    stop_mode: str = "rel"              # "rel" | "abs"
    rel_diff_target: float = 5e-4
    abs_diff_target: float = 1e-3
    anderson_m: int = 6
    anderson_lam: float = 1e-4
    anderson_beta: float = 1.0
    take_one_less_inference_step: bool = False

    @property
    def widths(self) -> Tuple[int, ...]:
        """Hourglass widths ``w, w+i, …, w+4i`` (264 … 360 released)."""
        return tuple(self.cell_base_width + j * self.cell_width_increment
                     for j in range(HOURGLASS_DEPTH + 1))

    @property
    def stop_target(self) -> float:
        """The tolerance the stop criterion compares against."""
        return self.rel_diff_target if self.stop_mode == "rel" else self.abs_diff_target

    def to_dict(self) -> Dict[str, Any]:
        """Plain dict (for results JSON)."""
        return asdict(self)


#: Released configurations (``docs/detectors.md`` (LDEQ), from the checkpoint args).
RELEASED: Dict[str, LdeqConfig] = {
    "ldeq.wflw": LdeqConfig(cell_softargmax_beta=0.3, solver="anderson", rel_diff_target=1e-4),
    "ldeq.wflw_v": LdeqConfig(cell_softargmax_beta=0.4, solver="fpi", rel_diff_target=5e-4),
}

#: SHA-256 of the released ``final.pth.tar`` files. No hashes are published (``docs/detectors.md`` (LDEQ)); they are
#: pinned here after the first verified golden run. None → not checked.
RELEASED_SHA256: Dict[str, Optional[str]] = {"ldeq.wflw": None, "ldeq.wflw_v": None}

#: Args values that the clean-room model implements; anything else is refused.
_REQUIRED_ARGS: Dict[str, Any] = {
    "model_mode": "implicit",
    "z0_mode": "zeros",
    "cell_name": "Cell0",
    "cell_norm": "softargmax",
    "cell_learn_softargmax_beta": False,
    "cell_extra_latent_width": 0,
    "input_channels": 3,
}
_INT_ARGS = ("injection_width", "cell_base_width", "cell_width_increment", "n_keypoints",
             "heatmap_size", "im_size", "cell_gn_groups", "max_iters", "anderson_m")
_FLOAT_ARGS = ("cell_softargmax_beta", "rel_diff_target", "abs_diff_target", "anderson_lam",
               "anderson_beta")


class LdeqConfigError(ValueError):
    """Checkpoint args that describe a model this implementation does not run (or not the tag's)."""


def config_from_args(args: Mapping[str, Any], source: str = "checkpoint") -> LdeqConfig:
    """Validate checkpoint ``args`` (a dict, e.g. ``vars(namespace)``) and build the config."""
    bad = [f"{k}={args[k]!r} (need {v!r})" for k, v in _REQUIRED_ARGS.items()
           if k in args and args[k] != v]
    if args.get("landmark_model_name", "udeq") not in ("udeq", "ldeq"):
        bad.append(f"landmark_model_name={args['landmark_model_name']!r} (need 'udeq')")
    if "z_width" in args and "n_keypoints" in args and args["z_width"] != args["n_keypoints"]:
        bad.append(f"z_width={args['z_width']} != n_keypoints={args['n_keypoints']}")
    if args.get("downres_factor", 4) * args.get("heatmap_size", 64) != args.get("im_size", 256):
        bad.append("im_size must equal heatmap_size * downres_factor")
    if args.get("solver", "fpi") not in ("fpi", "anderson"):
        bad.append(f"solver={args['solver']!r} (need 'fpi' or 'anderson')")
    if args.get("stop_mode", "rel") not in ("rel", "abs"):
        bad.append(f"stop_mode={args['stop_mode']!r} (need 'rel' or 'abs')")
    fields = {}
    for key in _INT_ARGS:
        if key in args:
            fields[key] = int(args[key])
    for key in _FLOAT_ARGS:
        if key in args:
            fields[key] = float(args[key])
    for key in ("solver", "stop_mode"):
        if key in args:
            fields[key] = str(args[key])
    if "take_one_less_inference_step" in args:
        fields["take_one_less_inference_step"] = bool(args["take_one_less_inference_step"])
    missing = [k for k in ("injection_width", "cell_base_width", "cell_width_increment", "solver",
                           "cell_softargmax_beta", "max_iters") if k not in args]
    if missing:
        bad.append(f"missing args {missing}")
    if bad:
        raise LdeqConfigError(f"{source}: its stored args describe an LDEQ variant wflwv does not "
                              f"implement: {'; '.join(bad)}")
    cfg = LdeqConfig(**fields)
    validate(cfg, source)
    return cfg


def validate(cfg: LdeqConfig, source: str = "config") -> None:
    """Raise :class:`LdeqConfigError` for impossible sizes (GroupNorm groups, pooling depth)."""
    g = cfg.cell_gn_groups
    problems = [f"width {w} not divisible by cell_gn_groups={g}"
                for w in cfg.widths if w % g]
    if cfg.injection_width % 4:
        problems.append(f"injection_width={cfg.injection_width} must be divisible by 4")
    if cfg.heatmap_size % (2 ** HOURGLASS_DEPTH):
        problems.append(f"heatmap_size={cfg.heatmap_size} must be divisible by 16")
    if cfg.max_iters < 1:
        problems.append(f"max_iters={cfg.max_iters} must be >= 1")
    if problems:
        raise LdeqConfigError(f"{source}: invalid LDEQ config: {'; '.join(problems)}")


def check_released(cfg: LdeqConfig, tag: str, source: str) -> None:
    """Raise unless ``cfg`` (from a checkpoint's args) is exactly the released config of ``tag``."""
    want = RELEASED[tag]
    diff = {k: (v, getattr(want, k)) for k, v in asdict(cfg).items() if getattr(want, k) != v}
    if diff:
        desc = ", ".join(f"{k}={g!r} (release has {w!r})" for k, (g, w) in diff.items())
        raise LdeqConfigError(
            f"{source} is not the {tag} release: {desc}. Use the bare family name "
            f"`--model ldeq --weights {source}` to run it with its own stored configuration.")


def _conv(out: "OrderedDict[str, Tuple[int, ...]]", prefix: str, cin: int, cout: int, k: int,
          norm: Optional[str]) -> None:
    out[f"{prefix}.conv.weight"] = (cout, cin, k, k)
    out[f"{prefix}.conv.bias"] = (cout,)
    if norm in ("bn", "gn"):
        out[f"{prefix}.norm.weight"] = (cout,)
        out[f"{prefix}.norm.bias"] = (cout,)
    if norm == "bn":
        out[f"{prefix}.norm.running_mean"] = (cout,)
        out[f"{prefix}.norm.running_var"] = (cout,)
        out[f"{prefix}.norm.num_batches_tracked"] = ()


def conv_specs(cfg: LdeqConfig):
    """``(prefix, cin, cout, k, norm, resolution)`` of every conv, in state_dict order."""
    w_in, K, hm = cfg.injection_width, cfg.n_keypoints, cfg.heatmap_size
    specs = [("tail.0", 3, w_in // 4, 7, "bn", hm * 2), ("tail.1", w_in // 4, w_in // 2, 3, "bn", hm * 2),
             ("tail.3", w_in // 2, w_in, 3, "bn", hm)]
    W = cfg.widths
    hg = "deq_layer.cell.hourglass"
    specs.append(("deq_layer.cell.tail", K + w_in, W[0], 1, "gn", hm))
    for j in range(HOURGLASS_DEPTH):
        r = hm >> j
        specs.append((f"{hg}.same{j + 1}", W[j], W[j], 3, "gn", r))
        specs.append((f"{hg}.upchan{j + 1}", W[j], W[j + 1], 3, "gn", r // 2))
    specs.append((f"{hg}.bottlneck", W[-1], W[-1], 3, "gn", hm >> HOURGLASS_DEPTH))
    for j in range(HOURGLASS_DEPTH):
        hi, lo = W[HOURGLASS_DEPTH - j], W[HOURGLASS_DEPTH - j - 1]
        r = hm >> (HOURGLASS_DEPTH - j)
        specs.append((f"{hg}.downchan{2 * j + 1}", hi, lo, 3, "gn", r))
        specs.append((f"{hg}.downchan{2 * j + 2}", 2 * lo, lo, 1, "gn", 2 * r))
        specs.append((f"{hg}.same{j + 5}", lo, lo, 5, "gn", 2 * r))
    specs.append(("deq_layer.cell.head", W[0], K, 1, None, hm))
    return specs


def state_dict_shapes(cfg: LdeqConfig) -> "OrderedDict[str, Tuple[int, ...]]":
    """Exact key → shape map of an official checkpoint for ``cfg`` (111 entries)."""
    out: "OrderedDict[str, Tuple[int, ...]]" = OrderedDict()
    for prefix, cin, cout, k, norm, _ in conv_specs(cfg):
        _conv(out, prefix, cin, cout, k, norm)
    return out


def gflops(cfg: LdeqConfig) -> Tuple[float, float]:
    """``(injection, one cell evaluation)`` GFLOP per image (2·MACs of the convolutions)."""
    inj = cell = 0.0
    for prefix, cin, cout, k, _, res in conv_specs(cfg):
        flop = 2.0 * cin * cout * k * k * res * res / 1e9
        if prefix.startswith("tail."):
            inj += flop
        else:
            cell += flop
    return inj, cell


def detector_cfg(name: str, rwr: bool, options: Optional[Dict[str, Any]] = None,
                 sha256: Optional[str] = None) -> DetectorCfg:
    """The :class:`DetectorCfg` of ``ldeq`` / ``ldeq.wflw`` / ``ldeq.wflw_v`` with resolved options."""
    notes = {"ldeq.wflw": "Anderson solver, beta 0.3, trained on WFLW HIH crops (still images)",
             "ldeq.wflw_v": "FPI solver, beta 0.4, WFLW-V weights; RwR warm start on video",
             "ldeq": "any official LDEQ checkpoint; config rebuilt from its stored args"}[name]
    return DetectorCfg(
        name=name, family="ldeq", landmark_scheme="wflw98", num_landmarks=98, input_size=256,
        crop_protocol="ldeq_square1.2", color_order="RGB",
        weights_sha256=sha256 if sha256 is not None else RELEASED_SHA256.get(name),
        weights_license=LICENSE, paper=PAPER, origin_repo=ORIGIN, stateful=bool(rwr),
        notes=notes, options=dict(options or {}))


def with_overrides(cfg: LdeqConfig, **kw: Any) -> LdeqConfig:
    """``cfg`` with some fields replaced (e.g. RwR's ``max_iters=1``)."""
    return replace(cfg, **kw)
