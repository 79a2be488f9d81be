"""GT-free stability of real detectors on unlabelled real video, and accuracy on real stills.

- :mod:`~wflwv.realvideo.run`: run a detector over a folder of clips with a face-box source and
  scene-cut detection; one cached ``.npz`` per clip (written atomically, resumable).
- :mod:`~wflwv.realvideo.stability`: segments, filters on/off, per-segment and per-clip D1/D2.
- :mod:`~wflwv.realvideo.board`: leaderboard rows → CSV and Markdown.
- :mod:`~wflwv.testing.annotated`: NME on real annotated still images.
"""
