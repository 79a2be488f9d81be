"""ResNet-18/50/101 trunks with exactly torchvision's parameter names (torchvision not required).

Only the modules PIP-Net keeps are built: ``conv1, bn1, maxpool, layer1..layer4`` (no ``fc``,
``avgpool``); blocks follow torchvision v1.5 (stride on the 3×3 conv of a bottleneck).
"""

from __future__ import annotations

from typing import Dict, List, Tuple

import torch
from torch import nn

# depth → (block kind, blocks per stage)
ARCHS: Dict[str, Tuple[str, List[int]]] = {
    "resnet18": ("basic", [2, 2, 2, 2]),
    "resnet50": ("bottleneck", [3, 4, 6, 3]),
    "resnet101": ("bottleneck", [3, 4, 23, 3]),
}


class BasicBlock(nn.Module):
    """torchvision BasicBlock: two 3×3 convs, stride on the first."""

    expansion = 1

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + idt)


class Bottleneck(nn.Module):
    """torchvision Bottleneck (v1.5): 1×1, 3×3 (stride), 1×1 ×4."""

    expansion = 4

    def __init__(self, inplanes: int, planes: int, stride: int = 1, downsample: nn.Module = None):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Residual forward pass."""
        idt = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + idt)


class ResNetTrunk(nn.Module):
    """``conv1 → bn1 → relu → maxpool → layer1..4`` with torchvision names; ``out_channels`` set."""

    def __init__(self, arch: str):
        super().__init__()
        if arch not in ARCHS:
            raise ValueError(f"unknown ResNet {arch!r}; choose one of {sorted(ARCHS)}")
        kind, counts = ARCHS[arch]
        block = BasicBlock if kind == "basic" else Bottleneck
        self.inplanes = 64
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = self._make_layer(block, 64, counts[0], 1)
        self.layer2 = self._make_layer(block, 128, counts[1], 2)
        self.layer3 = self._make_layer(block, 256, counts[2], 2)
        self.layer4 = self._make_layer(block, 512, counts[3], 2)
        self.out_channels = 512 * block.expansion

    def _make_layer(self, block, planes: int, blocks: int, stride: int) -> nn.Sequential:
        down = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            down = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                 nn.BatchNorm2d(planes * block.expansion))
        layers = [block(self.inplanes, planes, stride, down)]
        self.inplanes = planes * block.expansion
        layers += [block(self.inplanes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Stride-32 feature map."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def infer_arch(keys) -> str:
    """ResNet depth from torchvision-named state_dict keys (bottleneck ``conv3`` and layer3 length)."""
    keys = set(keys)
    n3 = len({k.split(".")[1] for k in keys if k.startswith("layer3.")})
    bottleneck = "layer1.0.conv3.weight" in keys
    for arch, (kind, counts) in ARCHS.items():
        if (kind == "bottleneck") == bottleneck and counts[2] == n3:
            return arch
    raise ValueError(f"state_dict keys match no supported ResNet (layer3 has {n3} blocks, "
                     f"bottleneck={bottleneck}); supported: resnet18, resnet50, resnet101")
