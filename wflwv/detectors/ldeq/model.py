"""Clean-room LDEQ network (``docs/detectors.md`` (LDEQ)): BN injection stem, GroupNorm hourglass DEQ cell,
per-channel soft-argmax heatmap normalisation with a fixed β, and spatial soft-argmax decoding.

Module names reproduce the official state_dict keys exactly (``tail.0``, ``deq_layer.cell.…``), so
an official checkpoint loads with ``strict=True``. The solve itself lives in
:mod:`wflwv.detectors.ldeq.solvers`; :meth:`LDEQ.infer` ties them together.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Tuple

import torch
import torch.nn.functional as F
from torch import nn

from wflwv.detectors.ldeq.config import HOURGLASS_DEPTH, LdeqConfig
from wflwv.detectors.ldeq.solvers import solve

EPS_DECODE = 1e-4  # p = h / (1e-4 + Σh): kept, it shrinks coordinates slightly toward 0


class Conv(nn.Module):
    """``Conv2d(k, stride, pad=(k-1)//2, bias)`` → LeakyReLU(0.01) → norm (norm AFTER activation)."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, norm: Optional[str] = None,
                 groups: int = 8, relu: bool = True):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride=stride, padding=(k - 1) // 2, bias=True)
        self.relu = relu
        if norm == "bn":
            self.norm = nn.BatchNorm2d(cout)
        elif norm == "gn":
            self.norm = nn.GroupNorm(groups, cout)
        else:
            self.norm = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply conv, activation, norm."""
        x = self.conv(x)
        if self.relu:
            x = F.leaky_relu(x, 0.01)
        return self.norm(x) if self.norm is not None else x


class Hourglass(nn.Module):
    """Depth-4 hourglass; skips are each level's ``same`` output before pooling, ``cat(skip, up)``."""

    def __init__(self, widths, groups: int):
        super().__init__()
        W = list(widths)
        for j in range(HOURGLASS_DEPTH):
            setattr(self, f"same{j + 1}", Conv(W[j], W[j], 3, norm="gn", groups=groups))
            setattr(self, f"upchan{j + 1}", Conv(W[j], W[j + 1], 3, norm="gn", groups=groups))
        self.bottlneck = Conv(W[-1], W[-1], 3, norm="gn", groups=groups)
        for j in range(HOURGLASS_DEPTH):
            hi, lo = W[HOURGLASS_DEPTH - j], W[HOURGLASS_DEPTH - j - 1]
            setattr(self, f"downchan{2 * j + 1}", Conv(hi, lo, 3, norm="gn", groups=groups))
            setattr(self, f"downchan{2 * j + 2}", Conv(2 * lo, lo, 1, norm="gn", groups=groups))
            setattr(self, f"same{j + 5}", Conv(lo, lo, 5, norm="gn", groups=groups))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Down path with skips, bottleneck, up path with residual 5×5 blocks."""
        skips = []
        for j in range(HOURGLASS_DEPTH):
            s = getattr(self, f"same{j + 1}")(x)
            skips.append(s)
            x = getattr(self, f"upchan{j + 1}")(F.avg_pool2d(s, 2, 2))
        x = self.bottlneck(x)
        for j in range(HOURGLASS_DEPTH):
            up = F.interpolate(getattr(self, f"downchan{2 * j + 1}")(x), scale_factor=2, mode="nearest")
            d = getattr(self, f"downchan{2 * j + 2}")(torch.cat([skips[HOURGLASS_DEPTH - 1 - j], up], 1))
            x = getattr(self, f"same{j + 5}")(d) + d
        return x


class Cell(nn.Module):
    """The DEQ cell ``f(z, x)``: 1×1 tail on ``cat(z, x)``, hourglass, 1×1 head, soft-argmax norm."""

    def __init__(self, cfg: LdeqConfig):
        super().__init__()
        W, g = cfg.widths, cfg.cell_gn_groups
        self.tail = Conv(cfg.n_keypoints + cfg.injection_width, W[0], 1, norm="gn", groups=g)
        self.hourglass = Hourglass(W, g)
        self.head = Conv(W[0], cfg.n_keypoints, 1, norm=None, relu=False)
        self.beta = float(cfg.cell_softargmax_beta)
        self.float_norm = False  # set by precision modes: normalise heatmaps in float32

    def forward(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """One cell evaluation; the output maps lie in (0, 1] with each channel's peak exactly 1."""
        h = self.head(self.hourglass(self.tail(torch.cat([z.to(x.dtype), x], 1))))
        if self.float_norm:
            h = h.float()
        hmax = h.amax(dim=(2, 3), keepdim=True)
        return torch.exp(self.beta * (h - hmax))


class DEQLayer(nn.Module):
    """Container whose only parameters are the cell (keeps the ``deq_layer.cell.*`` key names)."""

    def __init__(self, cfg: LdeqConfig):
        super().__init__()
        self.cell = Cell(cfg)


def decode(h: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
    """Spatial soft-argmax: ``[B,K,H,W]`` maps → (``[B,K,2]`` crop units in [0, (H-1)/H],
    uncertainty ``[B,K]``).

    Heatmap cell j ↔ crop unit j/H (no half-pixel offset). The grids are built on ``h``'s device.
    """
    B, K, H, W = h.shape
    h = h.float() if h.dtype in (torch.float16, torch.bfloat16) else h
    p = h / (EPS_DECODE + h.sum(dim=(2, 3), keepdim=True))
    cols = torch.arange(W, device=h.device, dtype=h.dtype)
    rows = torch.arange(H, device=h.device, dtype=h.dtype)
    px, py = p.sum(dim=2), p.sum(dim=3)          # marginals over rows / cols: [B,K,W], [B,K,H]
    x = (px * cols).sum(-1) / W
    y = (py * rows).sum(-1) / H
    var_x = (px * (cols - x[..., None]) ** 2).sum(-1)   # mixed units, as released (§7.8)
    var_y = (py * (rows - y[..., None]) ** 2).sum(-1)
    unc = torch.sqrt(0.5 * var_x + 0.5 * var_y) / W
    return torch.stack([x, y], dim=-1), unc


class LDEQ(nn.Module):
    """Injection stem ``tail`` + ``deq_layer.cell``; :meth:`infer` runs solver + extra step + decode."""

    def __init__(self, cfg: LdeqConfig):
        super().__init__()
        w = cfg.injection_width
        self.cfg = cfg
        self.tail = nn.Sequential(Conv(3, w // 4, 7, stride=2, norm="bn"),
                                  Conv(w // 4, w // 2, 3, norm="bn"),
                                  nn.MaxPool2d(2),
                                  Conv(w // 2, w, 3, norm="bn"))
        self.deq_layer = DEQLayer(cfg)

    @property
    def cell(self) -> Cell:
        """The DEQ cell ``f(z, x)``."""
        return self.deq_layer.cell

    def inject(self, images: torch.Tensor) -> torch.Tensor:
        """Injection features ``x = tail(images)``, computed once per image."""
        return self.tail(images)

    def zeros_state(self, x: torch.Tensor, dtype: Optional[torch.dtype] = None) -> torch.Tensor:
        """The zero initial state for injection ``x``."""
        B, _, H, W = x.shape
        return torch.zeros(B, self.cfg.n_keypoints, H, W, device=x.device, dtype=dtype or x.dtype)

    @torch.no_grad()
    def infer(self, images: torch.Tensor, z0: Optional[torch.Tensor] = None,
              cfg: Optional[LdeqConfig] = None, per_sample: bool = False, trace: bool = False,
              cell_fn: Any = None) -> Dict[str, Any]:
        """Inference as released: solve from ``z0`` (zeros), one extra step unless disabled, decode.

        Returns ``keypoints`` [B,K,2] crop units, ``uncertainty`` [B,K], ``z_star`` (the decoded final
        maps, RwR's next state), ``info`` (solver diagnostics) and ``n_cell_evals``.
        ``per_sample`` stops/selects per image instead of on the batch mean (see solvers).
        """
        cfg = cfg or self.cfg
        x = self.inject(images)
        if z0 is None:
            z0 = self.zeros_state(x, dtype=torch.float32 if self.cell.float_norm else x.dtype)
        cell = cell_fn or self.cell
        counter = [0]

        def f(z: torch.Tensor, idx: Optional[torch.Tensor] = None) -> torch.Tensor:
            counter[0] += 1
            return cell(z, x if idx is None else x[idx])

        z, info = solve(f, z0, cfg, per_sample=per_sample, trace=trace)
        z_solver = z
        if not cfg.take_one_less_inference_step:
            z = f(z)
        kp, unc = decode(z)
        info["n_cell_evals"] = counter[0]
        if cfg.solver == "fpi":  # ‖z* − x_new‖ / (‖z*‖ + 1e-9) over the whole batch tensor
            err = (z - z_solver).flatten().norm() / (z.flatten().norm() + 1e-9)
            info["fwd_final_solver_error"] = float(err)
        return {"keypoints": kp, "uncertainty": unc, "z_star": z, "z_solver": z_solver,
                "injection": x, "info": info}
