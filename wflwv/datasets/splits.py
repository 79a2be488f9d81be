"""Official split facts (docs/datasets.md §1.2–1.4, §2.3) and split-list parsing.

wflwv does not ship the WFLW-V list files (NVIDIA source licence); it only knows their SHA-256s.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

from wflwv.io.atomic import sha256_file

WFLW_V_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
VW300_ID = re.compile(r"^\d{3}$")

#: file → (bytes, sha256) of polo5/LDEQ_RwR datasets/WFLW_V/ at commit c9710751.
WFLW_V_LISTS: Dict[str, Tuple[int, str]] = {
    "easy_video_IDs.txt": (6000, "ee26f852466b2c7e0f5edd07c4e2d5f9ddf594ef89b67015c3c4a5c9a6e7580e"),
    "hard_video_IDs.txt": (6000, "d492b8d6335462db8bf755600fa800340dce877c9b38501269d8f4e1d7fc4e1f"),
    "download_ranges.txt": (20271, "9b0ee057f64b66851c9c4bca8f109c23e149bcac6796572812638842089105fc"),
}
WFLW_V_SUBSET_FILES = {"easy": "easy_video_IDs.txt", "hard": "hard_video_IDs.txt"}
#: Full-release totals (derived from download_ranges.txt): subset → (videos, frames).
WFLW_V_TOTALS = {"easy": (500, 69183), "hard": (500, 68547), "all": (1000, 137730)}

_VW = {
    "train": "001 002 003 004 007 009 010 011 013 015 016 017 018 019 020 022 025 027 028 029 031 033 "
             "034 035 037 039 041 043 044 046 047 048 049 053 057 059 112 113 115 119 120 123 138 143 "
             "144 160 204 205 223 225",
    "A": "114 124 125 126 150 158 401 402 505 506 507 508 509 510 511 514 515 518 519 520 521 522 524 "
         "525 537 538 540 541 546 547 548",
    "B": "203 208 211 212 213 214 218 224 403 404 405 406 407 408 409 412 550 551 553",
    "C": "410 411 516 517 526 528 529 530 531 533 557 558 559 562",
}
#: 300-VW category → video IDs (SBR / SRT / mmpose lists; 50 / 31 / 19 / 14 = 114).
VW300_CATEGORIES: Dict[str, Tuple[str, ...]] = {k: tuple(v.split()) for k, v in _VW.items()}
VW300_CATEGORY_OF: Dict[str, str] = {vid: cat for cat, ids in VW300_CATEGORIES.items() for vid in ids}
#: Frame totals reported by third parties (unconfirmed; printed, never asserted).
VW300_TOTALS_UNCONFIRMED = {"train": 95192, "A": 62135, "B": 32805, "C": 26338, "all": 216470}


class SplitError(ValueError):
    """A split-list file that is missing, malformed, or not the official one."""


def read_id_list(path: Path, pattern: re.Pattern = WFLW_V_ID) -> List[str]:
    """IDs of a one-ID-per-line list; blank lines, bad IDs and duplicates raise naming the file."""
    path = Path(path)
    if not path.is_file():
        raise SplitError(f"split list {path} is missing; place it in the dataset root or pass --splits DIR "
                         f"(for example a checkout of polo5/LDEQ_RwR datasets/WFLW_V/)")
    ids: List[str] = []
    seen = set()
    for k, line in enumerate(path.read_text(encoding="ascii", errors="replace").splitlines(), 1):
        vid = line.strip()
        if not vid:
            continue
        if not pattern.match(vid):
            raise SplitError(f"{path} line {k}: {vid!r} is not a valid video ID ({pattern.pattern})")
        if vid in seen:
            raise SplitError(f"{path} line {k}: duplicate video ID {vid!r}")
        seen.add(vid)
        ids.append(vid)
    if not ids:
        raise SplitError(f"split list {path} is empty")
    return ids


def check_official(path: Path) -> str:
    """SHA-256 of a WFLW-V list file; a value other than the official one raises naming the file."""
    path = Path(path)
    sha = sha256_file(path)
    size, want = WFLW_V_LISTS[path.name]
    if sha != want:
        raise SplitError(f"{path} is not the official {path.name}: sha256 {sha} (size "
                         f"{path.stat().st_size}) but the official file has {want} ({size} bytes). Use the "
                         f"file from polo5/LDEQ_RwR datasets/WFLW_V/ (commit c9710751), or pass "
                         f"--custom-splits for your own lists")
    return sha
