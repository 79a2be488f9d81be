"""The reduced HGNetV2-B1 backbone of QLOT (stem + 4 stages, LAB affine after each activation).

Written from the layer description in ``docs/qlot.md`` (no timm dependency). Parameter names match
the official checkpoint (``stem.stem1.conv.weight``, ``stages_2.blocks.1.layers.0.conv2.bn.*``, ...).
Outputs: four maps at strides 4, 8, 16, 32 with 64, 256, 384 and 192 channels.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import nn

# (in, mid, out, blocks, downsample, light, kernel, layers per block)
STAGES: Tuple[Tuple[int, int, int, int, bool, bool, int, int], ...] = (
    (32, 32, 64, 1, False, False, 3, 3),
    (64, 48, 256, 1, True, False, 3, 3),
    (256, 96, 384, 2, True, True, 5, 3),
    (384, 96, 192, 1, True, True, 5, 3),
)


class LearnableAffine(nn.Module):
    """``y = scale·x + bias`` with two scalar parameters (HGNetV2's "LAB")."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Parameter(torch.ones(1))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * x + self.bias


class ConvBNAct(nn.Module):
    """Conv (no bias) → BatchNorm → [ReLU → LAB]; ``act=False`` skips both ReLU and LAB."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, groups: int = 1, act: bool = True):
        super().__init__()
        pad = (k - 1) // 2 if k % 2 else 0
        self.conv = nn.Conv2d(cin, cout, k, stride, pad, groups=groups, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)
        self.act = act
        if act:
            self.lab = LearnableAffine()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.bn(self.conv(x))
        if self.act:
            x = self.lab(F.relu(x))
        return x

    @torch.no_grad()
    def fold_bn(self) -> None:
        """Fold the eval-mode BatchNorm into the conv (weight scale + bias); BN becomes identity."""
        if isinstance(self.bn, nn.Identity):
            return
        bn, conv = self.bn, self.conv
        k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        fused = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                          groups=conv.groups, bias=True).to(device=conv.weight.device, dtype=conv.weight.dtype)
        fused.weight.copy_(conv.weight * k.view(-1, 1, 1, 1))
        fused.bias.copy_(bn.bias - bn.running_mean * k)
        self.conv, self.bn = fused, nn.Identity()


def fold_batchnorm(module: nn.Module) -> nn.Module:
    """Fold every ConvBNAct's BatchNorm into its conv (inference only; changes the state_dict keys)."""
    for m in module.modules():
        if isinstance(m, ConvBNAct):
            m.fold_bn()
    return module


class LightConv(nn.Module):
    """1×1 ConvBN without activation, then a depthwise k×k ConvBNAct."""

    def __init__(self, cin: int, cout: int, k: int):
        super().__init__()
        self.conv1 = ConvBNAct(cin, cout, 1, act=False)
        self.conv2 = ConvBNAct(cout, cout, k, groups=cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(x))


class Stem(nn.Module):
    """Stride-4 stem: 3×3/2, a pooled and a 2×2-conv branch on the right/bottom-padded map, 3×3/2, 1×1."""

    def __init__(self, cin: int = 3, mid: int = 24, out: int = 32):
        super().__init__()
        self.stem1 = ConvBNAct(cin, mid, 3, stride=2)
        self.stem2a = ConvBNAct(mid, mid // 2, 2)
        self.stem2b = ConvBNAct(mid // 2, mid, 2)
        self.stem3 = ConvBNAct(mid * 2, mid, 3, stride=2)
        self.stem4 = ConvBNAct(mid, out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.pad(self.stem1(x), (0, 1, 0, 1))
        a = F.pad(self.stem2a(x), (0, 1, 0, 1))
        a = self.stem2b(a)
        b = F.max_pool2d(x, kernel_size=2, stride=1, ceil_mode=True)
        return self.stem4(self.stem3(torch.cat([b, a], dim=1)))


class Block(nn.Module):
    """Dense layer chain, concatenation, two 1×1 aggregation convs, optional residual."""

    def __init__(self, cin: int, mid: int, out: int, n_layers: int, k: int, light: bool, residual: bool):
        super().__init__()
        layers: List[nn.Module] = []
        for i in range(n_layers):
            c = cin if i == 0 else mid
            layers.append(LightConv(c, mid, k) if light else ConvBNAct(c, mid, k))
        self.layers = nn.ModuleList(layers)
        total = cin + n_layers * mid
        self.aggregation = nn.Sequential(ConvBNAct(total, out // 2, 1), ConvBNAct(out // 2, out, 1))
        self.residual = residual

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        y = x
        for layer in self.layers:
            y = layer(y)
            feats.append(y)
        y = self.aggregation(torch.cat(feats, dim=1))
        return y + x if self.residual else y


class Stage(nn.Module):
    """Optional depthwise stride-2 downsample (ConvBN, no act) followed by blocks."""

    def __init__(self, cin: int, mid: int, out: int, n_blocks: int, downsample: bool, light: bool,
                 k: int, n_layers: int):
        super().__init__()
        if downsample:
            self.downsample = ConvBNAct(cin, cin, 3, stride=2, groups=cin, act=False)
        else:
            self.downsample = None
        self.blocks = nn.Sequential(*[
            Block(cin if j == 0 else out, mid, out, n_layers, k, light, residual=j > 0)
            for j in range(n_blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.downsample is not None:
            x = self.downsample(x)
        return self.blocks(x)


class HGNetV2B1(nn.Module):
    """Stem + ``stages_0..3``; returns the four stage outputs."""

    def __init__(self, stages: Sequence[Tuple] = STAGES):
        super().__init__()
        self.stem = Stem()
        for i, row in enumerate(stages):
            self.add_module(f"stages_{i}", Stage(*row))
        self.n_stages = len(stages)

    def forward(self, x: torch.Tensor) -> List[torch.Tensor]:
        x = self.stem(x)
        outs = []
        for i in range(self.n_stages):
            x = getattr(self, f"stages_{i}")(x)
            outs.append(x)
        return outs
