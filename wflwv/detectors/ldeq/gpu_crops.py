"""Face crops cut on the model's device with ``affine_grid``/``grid_sample`` instead of per-frame
CPU ``cv2.warpAffine``.

The crop protocol's 2×3 frame→crop-pixel matrix ``A`` (``wflwv.detectors.crops``) is turned into
the normalised ``theta`` that ``affine_grid(align_corners=False)`` expects: crop pixel u (centre at
integer u) ↔ normalised ``(2u+1)/S − 1``; frame pixel p ↔ ``(2p+1)/W − 1``. Bilinear sampling with
zero padding matches OpenCV's ``INTER_LINEAR`` + ``BORDER_CONSTANT 0`` up to OpenCV's 1/32-pixel
fixed-point coordinates (a few grey levels on some pixels); the result is rounded to whole grey
levels like the uint8 crop the reference feeds the network.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F


def crop_theta(A: np.ndarray, frame_hw: Tuple[int, int], size: int) -> np.ndarray:
    """``[B,2,3]`` ``affine_grid`` matrices (crop-normalised → frame-normalised) for matrices ``A``."""
    A = np.asarray(A, dtype=np.float64).reshape(-1, 2, 3)
    H, W = frame_hw
    M = np.linalg.inv(A[:, :, :2])                       # crop px → frame px (linear part)
    t = -np.einsum("bij,bj->bi", M, A[:, :, 2])
    D = np.array([2.0 / W, 2.0 / H])
    off = np.array([1.0 / W - 1.0, 1.0 / H - 1.0])
    theta = np.empty_like(A)
    theta[:, :, :2] = D[None, :, None] * M * (size / 2.0)
    theta[:, :, 2] = D[None] * (np.einsum("bij,j->bi", M, np.full(2, (size - 1) / 2.0)) + t) + off[None]
    return theta


def warp_crops(frames: Sequence, A: np.ndarray, size: int = 256, device: str | torch.device = "cpu",
               round_u8: bool = True) -> torch.Tensor:
    """Cut ``[B,3,size,size]`` float32 crops (0..255, channel order of the frames) on ``device``.

    ``frames``: ``B`` HxWx3 uint8 arrays or tensors (any mix of frame sizes; grouped by size).
    """
    A = np.asarray(A, dtype=np.float64).reshape(-1, 2, 3)
    if len(frames) != len(A):
        raise ValueError(f"warp_crops: {len(frames)} frames but {len(A)} crop matrices")
    groups: Dict[Tuple[int, int], List[int]] = {}
    for i, fr in enumerate(frames):
        if fr.ndim != 3 or fr.shape[2] != 3:
            raise ValueError(f"warp_crops: frame {i} has shape {tuple(fr.shape)}, expected HxWx3")
        groups.setdefault((int(fr.shape[0]), int(fr.shape[1])), []).append(i)
    out = torch.empty(len(frames), 3, size, size, dtype=torch.float32, device=device)
    for hw, idx in groups.items():
        imgs = torch.stack([torch.as_tensor(np.asarray(frames[i]) if not torch.is_tensor(frames[i])
                                            else frames[i]).to(device, non_blocking=True) for i in idx])
        imgs = imgs.permute(0, 3, 1, 2).float()
        theta = torch.as_tensor(crop_theta(A[idx], hw, size), dtype=torch.float32, device=device)
        grid = F.affine_grid(theta, [len(idx), 3, size, size], align_corners=False)
        crop = F.grid_sample(imgs, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if round_u8:
            crop = crop.round_().clamp_(0, 255)
        out[torch.as_tensor(idx, device=device)] = crop
    return out


def normalise_on_device(crops_255: torch.Tensor, mean, std) -> torch.Tensor:
    """``(crops/255 − mean)/std`` on the crops' device (crops already in the network's channel order)."""
    m = torch.as_tensor(mean, dtype=crops_255.dtype, device=crops_255.device).view(1, 3, 1, 1)
    s = torch.as_tensor(std, dtype=crops_255.dtype, device=crops_255.device).view(1, 3, 1, 1)
    return (crops_255 / 255.0 - m) / s
