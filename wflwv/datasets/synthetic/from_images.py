"""Semi-synthetic clips from annotated still images: real faces, smooth camera motion, exact GT.

Accepted annotations in a folder (not recursive):

* ``<stem>.pts`` beside ``<stem>.<jpg|jpeg|png|ppm|pgm|bmp|tif|tiff>``: iBUG ``.pts`` (68 or 98
  points, **1-based** pixels as in 300-W; 1 is subtracted on reading).
* ``*.txt`` with WFLW-style lines, one face per line, recognised by the field count:
  197 fields ``<img_name> x0 y0 … x97 y97`` (HIH pre-cropped WFLW, coordinates normalised to [0, 1]
  of the image: pixel = value × width / height) or 207 fields ``x0 y0 … x97 y97 x1 y1 x2 y2
  <6 attributes> <img_name>`` (original WFLW release, 0-based pixels). Image names are looked up
  relative to the ``.txt`` folder, then in ``<folder>/<txt stem>/``. A ``.txt`` whose first line has
  neither field count (a licence, notes) is ignored; a later malformed line is an error.

Each clip applies to one image a smooth random similarity warp (zoom, pan, small rotation) with
``cv2.warpAffine``; the GT is the same affine applied to the source landmarks (pixel centres at
integer coordinates, exactly the ``warpAffine`` convention), so it is exact. Then photometric drift
(gain ramp, gradient, white balance), blur, sensor noise and JPEG compression by difficulty.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, Iterator, List

import numpy as np

from wflwv.datasets.synthetic.degrade import DegradeSpec
from wflwv.datasets.synthetic.generator import ClipSpec, tracker_boxes
from wflwv.datasets.synthetic.motion import smooth_track

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".ppm", ".pgm", ".bmp", ".tif", ".tiff")


class AnnotationError(ValueError):
    """An annotation folder or file that cannot be used; the message names it and the fix."""


@dataclass(frozen=True)
class AnnotatedImage:
    """One face: image path, 0-based pixel landmarks [N, 2] (float64) and where they came from."""

    image: Path
    points: np.ndarray
    source: str


def _find_image(folder: Path, stem: str) -> Path:
    for p in sorted(folder.iterdir()):
        if p.stem == stem and p.suffix.lower() in IMAGE_EXTS:
            return p
    raise AnnotationError(f"{folder / (stem + '.pts')}: no image {stem}.<{'|'.join(e[1:] for e in IMAGE_EXTS)}> "
                          f"beside it; add the image or remove the .pts")


def _image_size(path: Path):
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise AnnotationError(f"{path}: OpenCV cannot read this image; convert it to PNG or JPEG")
    return img.shape[1], img.shape[0]


def _read_txt(txt: Path) -> List[AnnotatedImage]:
    out: List[AnnotatedImage] = []
    lines = txt.read_text(encoding="utf-8", errors="replace").splitlines()
    first = next((ln.split() for ln in lines if ln.strip()), [])
    if len(first) not in (197, 207):
        return out  # not a WFLW list (licence, notes): ignored
    for k, line in enumerate(lines, 1):
        tok = line.split()
        if not tok:
            continue
        if len(tok) == 197:
            name, vals, normalised = tok[0], tok[1:], True
        elif len(tok) == 207:
            name, vals, normalised = tok[-1], tok[:196], False
        else:
            raise AnnotationError(f"{txt}:{k}: {len(tok)} fields; a WFLW-style line has 197 "
                                  f"('<img> x0 y0 … x97 y97', normalised) or 207 ('x0 … y97 box attrs <img>')")
        try:
            pts = np.array([float(v) for v in vals], np.float64).reshape(98, 2)
        except ValueError:
            raise AnnotationError(f"{txt}:{k}: landmark fields are not all numbers") from None
        if not np.isfinite(pts).all():
            raise AnnotationError(f"{txt}:{k}: non-finite landmark value")
        img = next((p for p in (txt.parent / name, txt.parent / txt.stem / name) if p.is_file()), None)
        if img is None:
            raise AnnotationError(f"{txt}:{k}: image {name!r} not found in {txt.parent} or "
                                  f"{txt.parent / txt.stem}")
        if normalised:
            w, h = _image_size(img)
            pts = pts * np.array([w, h], np.float64)
        out.append(AnnotatedImage(img, pts, f"{txt.name}:{k}"))
    return out


def load_folder(folder) -> List[AnnotatedImage]:
    """All annotated faces of ``folder`` (sorted by file name); all must share one point count."""
    from wflwv.schemes import read_pts

    folder = Path(folder)
    if not folder.is_dir():
        raise AnnotationError(f"--from-images {folder}: not a folder of annotated images")
    faces: List[AnnotatedImage] = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() == ".pts":
            raw = read_pts(p, n_points=None)
            if raw.shape[0] not in (68, 98):
                raise AnnotationError(f"{p}: {raw.shape[0]} points; only 68 (iBUG) or 98 (WFLW) are supported")
            faces.append(AnnotatedImage(_find_image(folder, p.stem), raw - 1.0, p.name))
        elif p.suffix.lower() == ".txt":
            faces += _read_txt(p)
    if not faces:
        raise AnnotationError(f"{folder}: no annotations found (expected <stem>.pts beside images, or "
                              f"WFLW-style .txt lists)")
    counts = {f.points.shape[0] for f in faces}
    if len(counts) > 1:
        ex = {n: next(f.source for f in faces if f.points.shape[0] == n) for n in counts}
        raise AnnotationError(f"{folder} mixes {' and '.join(f'{n}-point ({s})' for n, s in ex.items())} "
                              f"annotations; put each scheme in its own folder")
    return faces


@dataclass
class ImageClip:
    """A semi-synthetic clip with the same interface as :class:`~.generator.SyntheticClip`."""

    spec: ClipSpec
    landmarks: np.ndarray
    boxes: np.ndarray
    occluded: np.ndarray
    record: Dict[str, Any] = field(default_factory=dict)
    _state: Dict[str, Any] = field(default_factory=dict, repr=False)

    def frames(self) -> Iterator[np.ndarray]:
        """Render the warped, degraded BGR uint8 frames in order (deterministic)."""
        import cv2

        from wflwv.datasets.synthetic import degrade as dg

        st, sp = self._state, self.spec
        ds: DegradeSpec = st["degrade"]
        src = st["source"]()
        sensor = dg.Sensor(ds.noise_sigma, sp.width, sp.height, np.random.default_rng(st["noise_seed"]))
        illum = dg.Illumination(ds, sp.width, sp.height, sp.n_frames)
        centre = self.landmarks.mean(axis=1)
        vel = np.gradient(centre, axis=0) if len(centre) > 1 else np.zeros_like(centre)
        for i, M in enumerate(st["affines"]):
            img = cv2.warpAffine(src, M, (sp.width, sp.height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REPLICATE)
            wb = st["white_balance"][i]
            img = cv2.multiply(img, (float(wb[0]), float(wb[1]), float(wb[2]), 0.0))
            img = dg.defocus(img, ds.defocus_sigma)
            img = dg.motion_blur(img, vel[i], ds.exposure)
            img = sensor(img, illum.gain(i))
            yield dg.jpeg(img, ds.jpeg_quality)


def _load_bgr(path: Path, scale: float):
    import cv2

    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise AnnotationError(f"{path}: OpenCV cannot read this image; convert it to PNG or JPEG")
    if scale < 1.0:
        h, w = img.shape[:2]
        img = cv2.resize(img, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return img


def make_image_clip(face: AnnotatedImage, spec: ClipSpec) -> ImageClip:
    """Generate the warp track, exact GT and degradations of one clip of ``face``."""
    ss = np.random.SeedSequence([int(spec.seed), int(spec.index), 7172])
    r_mot, r_deg, r_noise, r_box = (np.random.default_rng(s) for s in ss.spawn(4))
    T, W, H, d = spec.n_frames, spec.width, spec.height, float(spec.difficulty)
    w0, h0 = _image_size(face.image)
    pts = np.asarray(face.points, np.float64)
    lo, hi = pts.min(0), pts.max(0)
    c_src = 0.5 * (lo + hi)
    radius = float(np.linalg.norm(pts - c_src, axis=1).max())
    if radius <= 0:
        raise AnnotationError(f"{face.source}: all landmarks coincide")
    t = np.arange(T, dtype=np.float64) / spec.fps
    f_hi = 0.35 + 1.1 * d
    zoom_amp = 0.03 + 0.17 * d
    zoom = 1.0 + smooth_track(r_mot, t, zoom_amp, 0.08, f_hi)
    side = float(max(hi - lo))
    margin = 0.04 * min(W, H) + 2.0
    s_target = H * (0.42 - 0.14 * d) / side
    s_fit = (0.5 * min(W, H) - margin) / (radius * (1.0 + zoom_amp))
    s0 = min(s_target, s_fit)
    # pre-shrink big sources (INTER_AREA) so the per-frame warp never minifies by more than ~2x
    pre = min(1.0, 2.0 * s0 * (1.0 + zoom_amp))
    if pre < 1.0:
        nw, nh = max(1, round(w0 * pre)), max(1, round(h0 * pre))
        kx, ky = nw / w0, nh / h0
        pts_pre = (pts + 0.5) * np.array([kx, ky]) - 0.5   # cv2.resize pixel-centre mapping
    else:
        kx = ky = 1.0
        pts_pre = pts
    c_pre = (c_src + 0.5) * np.array([kx, ky]) - 0.5
    s_eff = s0 / (0.5 * (kx + ky))
    reach = radius * s0 * zoom.max()
    room = np.array([max(0.0, W / 2 - reach - margin), max(0.0, H / 2 - reach - margin)])
    pan = np.stack([smooth_track(r_mot, t, min(0.04 + 0.16 * d, 1.0) * W, 0.08, f_hi),
                    smooth_track(r_mot, t, min(0.04 + 0.16 * d, 1.0) * H, 0.08, f_hi)], 1)
    pan = np.clip(pan, -room, room)
    rot = np.radians(2 + 10 * d) * smooth_track(r_mot, t, 1.0, 0.08, f_hi)
    affines, lms = [], []
    for i in range(T):
        c, s_ = np.cos(rot[i]), np.sin(rot[i])
        A = s_eff * zoom[i] * np.array([[c, -s_], [s_, c]])
        b = np.array([W / 2.0, H / 2.0]) + pan[i] - A @ c_pre
        M = np.hstack([A, b[:, None]])
        affines.append(M)
        lms.append(pts_pre @ A.T + b)
    lm = np.stack(lms)
    if lm[..., 0].min() < 0 or lm[..., 1].min() < 0 or lm[..., 0].max() > W - 1 or lm[..., 1].max() > H - 1:
        raise RuntimeError(f"semi-synthetic clip of {face.source}: landmarks left the {W}x{H} frame "
                           f"(generator bug; report the seed and index)")
    ds = replace(DegradeSpec.from_difficulty(d, r_deg), occlusion=False)
    wb_amp = 0.03 + 0.12 * d
    wb = np.stack([1.0 + smooth_track(r_deg, t, wb_amp, 0.05, 0.4) for _ in range(3)], 1)
    boxes = tracker_boxes(lm, r_box, t, 0.01 + 0.03 * d, W, H)
    image = face.image
    state = {"affines": affines, "degrade": ds, "white_balance": wb,
             "noise_seed": r_noise.integers(0, 2 ** 63), "source": lambda: _load_bgr(image, pre)}
    record = {"index": spec.index, "difficulty": round(d, 6), "n_frames": T, "fps": spec.fps,
              "width": W, "height": H, "source_image": image.name, "source_annotation": face.source,
              "source_size": [int(w0), int(h0)], "pre_scale": round(pre, 6), "degrade": ds.as_dict()}
    return ImageClip(spec, lm, boxes, np.zeros(lm.shape[:2], bool), record, state)
