"""Before any detection: can every requested metric be computed on this index with this setup?

``evaluate`` calls :func:`precheck` after resolving the index, detector and box source and before
decoding a single frame. It refuses — one line naming the index and the fix — when

* a GT metric (``nme``, ``nmf``, ``fr``, ``auc``) is requested on an unlabelled index;
* a simulated detector (reads the GT) is run on an unlabelled index;
* the detector's landmark scheme cannot be compared with the index's (no mapping);
* the GT-free metrics have no normaliser for the scheme that would be scored;
* the box source cannot serve the index (``dataset`` without boxes, ``gt`` without GT, a face
  detector without decoded frames or without its extra).

Metrics (``--metric``, repeatable; default ``auto`` = every metric the index allows): GT metrics
are computed on labelled indexes, the GT-free ones (``jitter``, ``coverage``, ``tracks``) always.
"""

from __future__ import annotations

from typing import Optional, Sequence, Tuple

GT_METRICS = ("nme", "nmf", "fr", "auc", "lag")
GT_FREE_METRICS = ("jitter", "coverage", "tracks")
ALL_METRICS = GT_METRICS + GT_FREE_METRICS


class PrecheckError(ValueError):
    """The requested evaluation cannot produce its numbers on this index; the message has the fix."""


def resolve_metrics(requested: Optional[Sequence[str]], labelled: bool) -> Tuple[str, ...]:
    """The metric names to compute: ``requested`` (validated) or every one the index allows."""
    req = [m.strip().lower() for m in (requested or ()) if m and m.strip()]
    if not req or req == ["auto"]:
        return (GT_METRICS if labelled else ()) + GT_FREE_METRICS
    unknown = [m for m in req if m not in ALL_METRICS and m != "auto"]
    if unknown:
        raise PrecheckError(f"unknown metric(s) {unknown}; choose from {', '.join(ALL_METRICS)} or auto")
    return tuple(dict.fromkeys(m for m in req if m != "auto"))


def precheck(index, dcfg, source, metrics: Optional[Sequence[str]], decode: bool) -> Tuple[str, ...]:
    """Raise :class:`PrecheckError` with the fix when the run cannot compute its metrics; returns them."""
    from wflwv.boxes import BoxSourceError
    from wflwv.harness.scoring import resolve_schemes
    from wflwv.schemes import get_scheme

    labelled = index.landmark_scheme is not None
    where = f"index {index.path}"
    chosen = resolve_metrics(metrics, labelled)
    gt_needed = [m for m in chosen if m in GT_METRICS]
    if gt_needed and not labelled:
        raise PrecheckError(f"{where} is unlabelled (no GT landmarks), so {', '.join(gt_needed)} cannot be "
                            f"computed; drop --metric {' --metric '.join(gt_needed)} (the GT-free jitter, "
                            f"coverage and track counts are computed) or evaluate a labelled index")
    if dcfg.needs_gt and not labelled:
        raise PrecheckError(f"{where} is unlabelled but detector {dcfg.name!r} is simulated (it reads the GT); "
                            f"use a real detector such as dlib68")
    if labelled:
        try:
            target = resolve_schemes(dcfg.landmark_scheme, index.landmark_scheme)[0]
        except ValueError as exc:
            raise PrecheckError(f"{where}: {exc}; use a detector with the index's scheme "
                                f"({index.landmark_scheme})") from None
    else:
        target = dcfg.landmark_scheme
    try:
        get_scheme(target).io_pair
    except (KeyError, ValueError, AttributeError):
        raise PrecheckError(f"{where}: scheme {target!r} of detector {dcfg.name!r} has no eye-corner pair, so "
                            f"the GT-free jitter has no normaliser; use a detector with a registered scheme "
                            f"(wflwv ls schemes)") from None
    if source.needs_pixels and not decode:
        raise PrecheckError(f"box source {source.spec!r} looks at the frames; do not pass --decode never")
    try:
        source.check(index)
    except BoxSourceError as exc:
        raise PrecheckError(str(exc)) from None
    return chosen
