"""Environment and provenance facts recorded with every index and run."""

from __future__ import annotations

import importlib.metadata
import os
import platform
import subprocess
import sys
from typing import Dict, Optional

from wflwv import __version__

_PACKAGES = ("numpy", "scipy", "pandas", "pyarrow", "opencv-python-headless", "opencv-python",
             "decord", "matplotlib", "click", "tqdm")


def package_version(dist: str) -> Optional[str]:
    """Installed version of distribution ``dist`` without importing it (None when absent)."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def git_commit() -> Optional[str]:
    """The git commit of the wflwv checkout (suffix ``-dirty`` when modified), or None."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not os.path.exists(os.path.join(root, ".git")):  # a directory, or a file in a git worktree
        return None
    try:
        sha = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return sha + ("-dirty" if dirty else "")


def environment(with_torch: bool = True) -> Dict[str, Optional[str]]:
    """Versions of python, wflwv and its dependencies; torch/CUDA only when ``with_torch``."""
    info: Dict[str, Optional[str]] = {
        "wflwv": __version__,
        "wflwv_git": git_commit(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
    }
    for dist in _PACKAGES:
        v = package_version(dist)
        if v is not None or dist != "opencv-python":
            info[dist] = v
    info["torch"] = package_version("torch")
    if with_torch and info["torch"]:
        import torch  # heavy: only on request

        info["cuda"] = torch.version.cuda
        info["cuda_available"] = str(torch.cuda.is_available())
        if torch.cuda.is_available():
            info["cuda_device"] = torch.cuda.get_device_name(0)
    return info
