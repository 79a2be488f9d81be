"""Face boxes for unlabelled video: HOG detection, detect-every-k tracking, scene-cut detection.

Modules: :mod:`~wflwv.facebox.hog` (dlib HOG face detector wrapper, extra ``[dlib]``),
:mod:`~wflwv.facebox.cut` (grey-histogram scene-cut detector, numpy only) and
:mod:`~wflwv.facebox.tracker` (detect every k frames, track from the previous landmarks in between).
Importing this package imports neither dlib nor torch.
"""

from __future__ import annotations

from wflwv.facebox.cut import GreyHistCut
from wflwv.facebox.tracker import BoxTracker, FrameBox, box_from_landmarks

__all__ = ["BoxTracker", "FrameBox", "GreyHistCut", "box_from_landmarks"]
