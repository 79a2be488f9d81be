"""Render a built index's data card (``INDEX_DIR/README.md``) from its template.

The template of a builder is, in order: its ``card_template`` attribute (a path; relative paths are
taken beside the module that defines the builder class), ``card.md`` beside that module (e.g.
``wflwv/datasets/synthetic/card.md``), else ``wflwv/datasets/cards/<name>.md``.

Templates use ``{{key}}`` placeholders that are filled with statistics measured during the build;
an unknown placeholder raises, so a card can never ship with an unfilled field. The same templates
are published in the repository as ``data_cards/<name>.md``.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import numpy as np

CARD_DIR = Path(__file__).with_name("cards")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z0-9_]+)\s*\}\}")


class CardError(ValueError):
    """A card template that is missing or has a placeholder the builder does not fill."""


def template_path(name: str) -> Path:
    """Path of the packaged card template of dataset ``name``."""
    return CARD_DIR / f"{name}.md"


def builder_template(builder) -> Path:
    """The card template of ``builder`` (see the module docstring for the lookup order)."""
    mod = sys.modules.get(type(builder).__module__)
    here: Optional[Path] = Path(mod.__file__).parent if getattr(mod, "__file__", None) else None
    own = getattr(builder, "card_template", None)
    if own:
        own = Path(own)
        return own if own.is_absolute() or here is None else here / own
    if here is not None and (here / "card.md").is_file():
        return here / "card.md"
    return template_path(builder.name)


def fill(template: str, values: Dict[str, Any]) -> str:
    """Replace every ``{{key}}``; a key missing from ``values`` raises :class:`CardError`."""
    missing = sorted({m.group(1) for m in _PLACEHOLDER.finditer(template)} - set(values))
    if missing:
        raise CardError(f"card template needs values for {missing}")
    return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), template)


def _md_table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def statistics(builder, info: Dict[str, Any], videos, frames) -> Dict[str, Any]:
    """Measured values for the card placeholders."""
    ok = videos[videos["status"] == "ok"]
    n = ok["n_frames"].to_numpy() if len(ok) else np.zeros(1, int)
    subsets = info["subsets"]
    sub_rows = [(k, v["videos"], v["frames"]) for k, v in subsets.items()]
    fps = ok["fps"].round(3).value_counts().sort_index() if len(ok) else {}
    res = (ok["width"].astype(str) + "x" + ok["height"].astype(str)).value_counts() if len(ok) else {}
    hist = ok["n_frames"].value_counts().sort_values(ascending=False) if len(ok) else {}
    failed = videos[videos["status"] != "ok"]
    extra = builder.info_extra()
    lists = extra.get("split_lists", {})
    configs = ("configs:\n- config_name: frames\n  data_files:\n  - split: test\n    path: frames.parquet\n"
               "- config_name: videos\n  data_files:\n  - split: test\n    path: videos.parquet")
    return {
        "configs": configs,
        "builder_version": info["builder_version"], "wflwv_version": info["wflwv_version"],
        "index_format": info["index_format"], "fingerprint": info["fingerprint"],
        "n_videos": info["n_videos"], "n_frames": info["n_frames"], "n_failed": len(failed),
        "subset_table": _md_table(("subset", "videos", "frames"), sub_rows),
        "len_min": int(n.min()), "len_median": float(np.median(n)), "len_max": int(n.max()),
        "len_hist": ", ".join(f"{int(k)} ({int(v)})" for k, v in list(hist.items())[:12]) or "—",
        "fps_values": ", ".join(f"{k:g} ({int(v)} videos)" for k, v in fps.items()) or "—",
        "resolutions": ", ".join(f"{k} ({int(v)})" for k, v in list(res.items())[:10]) or "—",
        "decode_backend": info["decode_backend"], "decode_backend_version": info["decode_backend_version"] or "—",
        "verify_decode": info["verify_decode"], "coord_base": info["coord_base"],
        "landmark_scheme": info["landmark_scheme"] or "none (unlabelled)",
        "n_unreliable": int(np.sum(frames.column("unreliable").to_numpy(zero_copy_only=False)))
        if frames.num_rows else 0,
        "unreliable_source": extra.get("unreliable_source", "none"),
        "n_errors": info["n_errors"], "n_warnings": info["n_warnings"],
        "failed_videos": ", ".join(f"`{v}` ({s})" for v, s in zip(failed["video_id"], failed["status"])) or "none",
        "split_lists": _md_table(("file", "sha256", "matches official"),
                                 [(k, f"`{v['sha256']}`", v.get("official", "—")) for k, v in lists.items()])
        if lists else "not applicable",
        "splits_source": extra.get("splits_source", "—"),
        "source": extra.get("source", "archive"),
    }


def render(builder, info: Dict[str, Any], videos, frames) -> str:
    """The filled card of a build (``README.md`` text)."""
    path = builder_template(builder)
    if not path.is_file():
        raise CardError(f"no card template {path} for dataset {builder.name!r}; add it or set the "
                        f"builder's card_template")
    return fill(path.read_text(encoding="utf-8"), statistics(builder, info, videos, frames))
