"""wflwv: benchmark and dataset toolkit for video facial-landmark stability.

Importing this package is cheap: it never imports torch, cv2 or pandas. Heavy pieces are
reached through :mod:`wflwv.registry`, whose entries are lazy ``"module:attr"`` strings.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
