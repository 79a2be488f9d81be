"""PIP-Net network (ResNet trunk + five 1×1 heads) and its official decode, batched (docs/detectors.md (PIP-Net))."""

from __future__ import annotations

from typing import Dict, Tuple

import numpy as np
import torch
from torch import nn

from wflwv.detectors.pipnet.resnet import ResNetTrunk

HEADS = ("cls_layer", "x_layer", "y_layer", "nb_x_layer", "nb_y_layer")


class PipNet(ResNetTrunk):
    """``Pip_resnet{18,50,101}`` at stride 32: trunk keys are torchvision's, heads are raw 1×1 convs."""

    def __init__(self, arch: str, num_lms: int, num_nb: int = 10):
        super().__init__(arch)
        c = self.out_channels
        self.num_lms, self.num_nb = num_lms, num_nb
        self.cls_layer = nn.Conv2d(c, num_lms, 1)
        self.x_layer = nn.Conv2d(c, num_lms, 1)
        self.y_layer = nn.Conv2d(c, num_lms, 1)
        self.nb_x_layer = nn.Conv2d(c, num_nb * num_lms, 1)
        self.nb_y_layer = nn.Conv2d(c, num_nb * num_lms, 1)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, ...]:
        """``(cls, x, y, nb_x, nb_y)`` raw head maps (no sigmoid), each ``[B, C, G, G]``."""
        f = super().forward(x)
        return (self.cls_layer(f), self.x_layer(f), self.y_layer(f), self.nb_x_layer(f),
                self.nb_y_layer(f))


def decode(heads: Tuple[torch.Tensor, ...], reverse_index1: torch.Tensor, reverse_index2: torch.Tensor,
           max_len: int, num_nb: int) -> Dict[str, torch.Tensor]:
    """Vectorised ``forward_pip`` + neighbour merge; coordinates in normalised crop units [0, 1].

    Returns ``merged`` ``[B, N, 2]`` (the official prediction), ``unmerged`` ``[B, N, 2]``,
    ``score`` ``[B, N]`` (raw cls maximum), ``argmax`` ``[B, N]`` and ``nb`` ``[B, N, K, 2]``.
    Identical per sample to batch-1 decoding: every operation is per sample.
    """
    cls, ox, oy, nbx, nby = heads
    b, n, g, g2 = cls.shape
    if g != g2:
        raise ValueError(f"PIP-Net heads must be square, got {tuple(cls.shape)}")
    cells = g * g
    flat = cls.reshape(b, n, cells)
    idx = flat.argmax(dim=2)                           # first maximum on ties
    score = flat.gather(2, idx.unsqueeze(2)).squeeze(2)
    col = torch.remainder(idx, g).to(cls.dtype)
    row = torch.div(idx, g, rounding_mode="floor").to(cls.dtype)
    sel = idx.unsqueeze(2)
    px = (col + ox.reshape(b, n, cells).gather(2, sel).squeeze(2)) / g
    py = (row + oy.reshape(b, n, cells).gather(2, sel).squeeze(2)) / g
    nsel = sel.unsqueeze(2).expand(b, n, num_nb, 1)
    nx = (col.unsqueeze(2) + nbx.reshape(b, n, num_nb, cells).gather(3, nsel).squeeze(3)) / g
    ny = (row.unsqueeze(2) + nby.reshape(b, n, num_nb, cells).gather(3, nsel).squeeze(3)) / g
    vx = nx[:, reverse_index1, reverse_index2].reshape(b, n, max_len)
    vy = ny[:, reverse_index1, reverse_index2].reshape(b, n, max_len)
    mx = torch.cat([px.unsqueeze(2), vx], dim=2).mean(dim=2)
    my = torch.cat([py.unsqueeze(2), vy], dim=2).mean(dim=2)
    return {"merged": torch.stack([mx, my], dim=2), "unmerged": torch.stack([px, py], dim=2),
            "score": score, "argmax": idx, "nb": torch.stack([nx, ny], dim=3)}


def expected_shapes(arch: str, num_lms: int, num_nb: int = 10) -> Dict[str, tuple]:
    """key → shape of a ``PipNet(arch, num_lms, num_nb)`` state_dict (built on the meta device)."""
    with torch.device("meta"):
        net = PipNet(arch, num_lms, num_nb)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}


def reverse_tensors(r1: np.ndarray, r2: np.ndarray, device) -> Tuple[torch.Tensor, torch.Tensor]:
    """Reverse indices as int64 tensors on ``device``."""
    return (torch.as_tensor(r1, dtype=torch.long, device=device),
            torch.as_tensor(r2, dtype=torch.long, device=device))
