"""Small QLOT building blocks: headed linear, channel shuffle, GLU, PMPE, the FPN feature extractor.

See ``docs/qlot.md`` for the definitions. Parameter names follow the official checkpoint.
"""

from __future__ import annotations

from typing import List, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from wflwv.detectors.qlot.backbone import HGNetV2B1

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class HeadedLinear(nn.Module):
    """Per-head linear map: weight ``(heads, in, out)``, bias ``(heads, out)``; ``y[..., h, :] = x[..., h, :] @ W[h] + b[h]``."""

    def __init__(self, heads: int, cin: int, cout: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(heads, cin, cout))
        self.bias = nn.Parameter(torch.zeros(heads, cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.einsum("...hi,hio->...ho", x, self.weight) + self.bias


def channel_shuffle(x: torch.Tensor, groups: int) -> torch.Tensor:
    """Reshape channels to ``(groups, C/groups)``, swap, flatten (old ``i·C/g + j`` → new ``j·g + i``)."""
    b, c, h, w = x.shape
    return x.view(b, groups, c // groups, h, w).transpose(1, 2).reshape(b, c, h, w)


def glu(z: torch.Tensor) -> torch.Tensor:
    """``z[:half] · sigmoid(z[half:])`` on the last axis."""
    a, b = z.chunk(2, dim=-1)
    return a * torch.sigmoid(b)


class PMPE(nn.Module):
    """Phase-modulated positional encoding: ``[p, sin(p_d·ω[d, l] + φ[l])]`` (3 + 3·48 = 147 values)."""

    def __init__(self, n_freq: int = 48):
        super().__init__()
        self.omega = nn.Parameter(torch.zeros(3, n_freq))
        self.phi = nn.Parameter(torch.zeros(n_freq))

    def forward(self, p: torch.Tensor) -> torch.Tensor:
        arg = p[..., :, None] * self.omega + self.phi          # [..., 3, 48]
        return torch.cat([p, torch.sin(arg).flatten(-2)], dim=-1)


class GroupedProjection(nn.Sequential):
    """Grouped 1×1 conv ``in → 128``, channel shuffle (4), grouped 1×1 ``128 → 96`` (no bias)."""

    def __init__(self, cin: int, mid: int = 128, out: int = 96, groups: int = 4):
        super().__init__(nn.Conv2d(cin, mid, 1, groups=groups, bias=False), Shuffle(groups),
                         nn.Conv2d(mid, out, 1, groups=groups, bias=False))


class Shuffle(nn.Module):
    """Channel shuffle as a module (no parameters)."""

    def __init__(self, groups: int):
        super().__init__()
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(x, self.groups)


class Fusion(nn.Module):
    """Depthwise 3×3 (pad 1), grouped 1×1 (groups 4), channel shuffle (4); no bias, no norm."""

    def __init__(self, c: int = 96, groups: int = 4):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, groups=c, bias=False)
        self.pointwise = nn.Conv2d(c, c, 1, groups=groups, bias=False)
        self.groups = groups

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return channel_shuffle(self.pointwise(self.conv(x)), self.groups)


class FeatureExtractor(nn.Module):
    """ImageNet normalisation, HGNetV2-B1, lateral projections, top-down fusion, global context."""

    def __init__(self, width: int = 96, context: int = 96):
        super().__init__()
        self.backbone = HGNetV2B1()
        self.projections = nn.ModuleList([nn.Conv2d(64, width, 1, bias=False),
                                          GroupedProjection(256), GroupedProjection(384)])
        self.fusion_conv = nn.ModuleList([Fusion(width), Fusion(width)])
        self.global_proj = nn.Linear(192, context)

    def forward(self, x: torch.Tensor) -> Tuple[List[torch.Tensor], torch.Tensor, List[torch.Tensor]]:
        """``([M0, M1, P2], global [B, 96], backbone outputs)`` for RGB in [0, 1] ``[B, 3, H, W]``."""
        # constants are built in the input's dtype (a float32 buffer cast to float64 would not be 0.485)
        mean = torch.tensor(IMAGENET_MEAN, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        feats = self.backbone((x - mean) / std)
        p = [proj(f) for proj, f in zip(self.projections, feats[:3])]
        m2 = p[2]
        m1 = self.fusion_conv[1](p[1] + _up(m2, p[1]))
        m0 = self.fusion_conv[0](p[0] + _up(m1, p[0]))
        g = self.global_proj(feats[3].mean(dim=(2, 3)))
        return [m0, m1, m2], g, feats


def _up(x: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, size=like.shape[-2:], mode="bilinear", align_corners=False)
