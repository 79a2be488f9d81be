"""Temporal filters over one track ``[T, N, 2]``: create by name or CLI spec, run per segment.

``create("one-euro:min_cutoff=1.0,beta=0.05")`` returns a validated filter instance and
``create("one-euro@noisy")`` one built from a tuned preset (:mod:`wflwv.filters.presets`); instances
are callables ``f(x[T, N, 2], t[T]) -> [T, N, 2]`` (see :mod:`wflwv.filters.base`). Importing this
package loads numpy only; filter modules are imported through the FILTERS registry on demand.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Union

from wflwv.detectors.base import parse_options
from wflwv.filters.base import TemporalFilter, apply_segments

__all__ = ["TemporalFilter", "apply_segments", "create", "parse_filter_specs"]


def create(spec_or_name: Union[str, TemporalFilter], **params: Any) -> TemporalFilter:
    """A validated filter from a registry name or spec ``"name:k=v,k=v"`` plus keyword params.

    Keyword ``params`` override the spec's options. Unknown names raise the registry's
    did-you-mean error; unknown or invalid parameters raise ValueError.
    """
    from wflwv.registry import FILTERS

    if isinstance(spec_or_name, TemporalFilter):
        f = type(spec_or_name)(**{**spec_or_name.get_params(), **params})
        return f.validate()
    if not isinstance(spec_or_name, str):
        raise TypeError(f"filter spec must be a string such as 'one-euro:beta=0.05', "
                        f"got {spec_or_name!r}")
    name, opts = parse_options(spec_or_name)
    opts.update(params)
    preset = None
    if "@" in name:
        from wflwv.filters.presets import load

        preset = load(name)
        name = preset["filter"]
        opts = {**preset["params"], **opts}
    cls = FILTERS.get(name)
    valid = cls._param_names()
    unknown = sorted(set(opts) - set(valid))
    if unknown:
        raise ValueError(f"filter {name!r}: unknown parameter(s) {unknown} in "
                         f"{spec_or_name!r}; valid parameters: {valid}")
    f = cls(**opts).validate()
    if preset is not None and all(f.get_params()[k] == v for k, v in preset["params"].items()):
        # exactly the tuned point: the id becomes "filter@name:params" (round-trips through create)
        f.name = preset["id"]
        f.preset = {k: preset[k] for k in ("id", "detector", "tuning", "objective", "wflwv_version", "date")}
    return f


def parse_filter_specs(specs: Iterable[str]) -> List[TemporalFilter]:
    """Filters for a list of CLI specs (e.g. ``["none", "ema:alpha=0.4"]``); duplicates raise."""
    if isinstance(specs, str):
        specs = [specs]
    out: List[TemporalFilter] = []
    seen = {}
    for spec in specs:
        f = create(spec)
        if f.id in seen:
            raise ValueError(f"filter specs {seen[f.id]!r} and {spec!r} are the same filter "
                             f"({f.id}); give each filter once")
        seen[f.id] = spec
        out.append(f)
    return out
