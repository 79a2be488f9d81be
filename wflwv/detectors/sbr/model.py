"""SBR's CPM on a VGG-16 trunk (3 stages, 68 + background maps) and its decoder (``docs/detectors.md`` (SBR), §5)."""

from __future__ import annotations

from typing import Dict, List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

DOWNSAMPLE = 8
RADIUS = 4
EPS_THRESHOLD = 1e-6
EPS = 2.220446049250313e-16


def _convs(spec, final_relu: bool) -> nn.Sequential:
    """Sequential of (in, out, kernel) convs with ReLU after each (after the last if ``final_relu``);
    ``"P"`` is a 2×2 max-pool. Indices follow the reference (conv, relu, [pool], conv, …)."""
    layers: List[nn.Module] = []
    for i, item in enumerate(spec):
        if item == "P":
            layers.append(nn.MaxPool2d(2, 2))
            continue
        cin, cout, k = item
        layers.append(nn.Conv2d(cin, cout, k, padding=k // 2))
        if final_relu or i < len(spec) - 1:
            layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class CPMVGG16(nn.Module):
    """CPM-VGG16: ``features`` (conv1_1…conv4_3), ``CPM_feature``, ``stages.{0,1,2}``."""

    def __init__(self, num_pts: int = 68, num_stages: int = 3):
        super().__init__()
        c = num_pts + 1
        self.num_pts = num_pts
        self.features = _convs([(3, 64, 3), (64, 64, 3), "P", (64, 128, 3), (128, 128, 3), "P",
                                (128, 256, 3), (256, 256, 3), (256, 256, 3), "P",
                                (256, 512, 3), (512, 512, 3), (512, 512, 3)], True)
        self.CPM_feature = _convs([(512, 256, 3), (256, 128, 3)], True)
        first = _convs([(128, 128, 3)] * 4 + [(128, 512, 1), (512, c, 1)], False)
        later = [_convs([(128 + c, 128, 7), (128, 128, 7), (128, 128, 7)] + [(128, 128, 3)] * 4
                        + [(128, 128, 1), (128, c, 1)], False) for _ in range(num_stages - 1)]
        self.stages = nn.ModuleList([first] + later)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """``(cpm_feature [B,128,32,32], [stage maps [B, num_pts+1, 32, 32]] × 3)``."""
        feat = self.CPM_feature(self.features(x))
        maps = [self.stages[0](feat)]
        for stage in self.stages[1:]:
            maps.append(stage(torch.cat([feat, maps[-1]], dim=1)))
        return feat, maps


def find_peaks(heatmaps: torch.Tensor, radius: int = RADIUS, downsample: int = DOWNSAMPLE
               ) -> Tuple[torch.Tensor, torch.Tensor]:
    """Argmax + local soft-argmax of ``[B, C, H, W]`` maps → (locs ``[B, C, 2]``, scores ``[B, C]``).

    Window (2r+1)² around the argmax by direct indexing (zeros outside the map), values ≤ 1e-6
    replaced by 2.22e-16, offset = weighted mean; location = ``ds·(i + offset) + ds/2 − 0.5``
    in input pixels. Row index by floor division (the official code's LongTensor ``/``).
    """
    b, c, h, w = heatmaps.shape
    flat = heatmaps.reshape(b, c, h * w)
    idx = flat.argmax(dim=2)
    scores = flat.gather(2, idx.unsqueeze(2)).squeeze(2)
    ix = torch.remainder(idx, w)
    iy = torch.div(idx, w, rounding_mode="floor")
    padded = F.pad(heatmaps, (radius, radius, radius, radius))  # zeros outside the map
    d = torch.arange(-radius, radius + 1, device=heatmaps.device)
    rows = (iy.unsqueeze(2) + radius + d).unsqueeze(3)          # [B, C, 2r+1, 1]
    cols = (ix.unsqueeze(2) + radius + d).unsqueeze(2)          # [B, C, 1, 2r+1]
    pw = w + 2 * radius
    lin = (rows * pw + cols).reshape(b, c, -1)
    win = padded.reshape(b, c, -1).gather(2, lin).reshape(b, c, 2 * radius + 1, 2 * radius + 1)
    win = torch.where(win <= EPS_THRESHOLD, torch.full_like(win, EPS), win)
    total = win.sum(dim=(2, 3))
    dd = d.to(win.dtype)
    ox = (win * dd.view(1, 1, 1, -1)).sum(dim=(2, 3)) / total
    oy = (win * dd.view(1, 1, -1, 1)).sum(dim=(2, 3)) / total
    x = (ix.to(win.dtype) + ox) * downsample + downsample / 2.0 - 0.5
    y = (iy.to(win.dtype) + oy) * downsample + downsample / 2.0 - 0.5
    return torch.stack([x, y], dim=2), scores


def expected_shapes(num_pts: int = 68) -> Dict[str, tuple]:
    """key → shape of a bare ``CPMVGG16(num_pts)`` state_dict (built on the meta device)."""
    with torch.device("meta"):
        net = CPMVGG16(num_pts)
    return {k: tuple(v.shape) for k, v in net.state_dict().items()}
