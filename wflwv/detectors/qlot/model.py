"""QLOT network (released "QLOT-final" configuration): correlator, encoder, update operator, tracker step.

Definitions in ``docs/qlot.md``. Parameter names match the official checkpoint so that its
``model_state_dict`` loads strictly. All tensors follow the dtype of the module's parameters, so
a ``.double()`` model reproduces the official float64 run exactly (no default-dtype tensors).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from wflwv.detectors.qlot.layers import PMPE, FeatureExtractor, HeadedLinear, glu

HEADS = (2, 3, 4)            # correlation heads per FPN level
KSIZE = (2, 1, 1)            # correlation kernel size per level
BRANCH_OUT = (14, 15, 16)    # grouped-conv channels of each correlation branch
WIDTH = 96                   # FPN width
GRID = 5                     # sampling grid side
LOGSIG_MIN, LOGSIG_MAX = -10.0, 3.0


def mlp2(cin: int, mid: int, out: int) -> nn.Sequential:
    """Linear → SiLU → Linear → SiLU."""
    return nn.Sequential(nn.Linear(cin, mid), nn.SiLU(), nn.Linear(mid, out), nn.SiLU())


class Correlator(nn.Module):
    """Query-conditioned correlation kernels, correlation maps, and 5×5 bilinear patch sampling."""

    def __init__(self):
        super().__init__()
        self.query_encoder = mlp2(147, 128, 192)
        self.query_encoder_p = nn.ModuleList(
            nn.Linear(192, k * (WIDTH // k) * r * r) for k, r in zip(HEADS, KSIZE))

    def kernels(self, pre_enc: torch.Tensor) -> List[torch.Tensor]:
        """Per-level kernels ``[N, K, C, R, R]`` for PMPE codes ``[N, 147]``."""
        q = self.query_encoder(pre_enc)
        n = q.shape[0]
        return [proj(q).view(n, k, WIDTH // k, r, r) for proj, k, r in zip(self.query_encoder_p, HEADS, KSIZE)]

    @staticmethod
    def correlate(fmaps: Sequence[torch.Tensor], kernels: Sequence[torch.Tensor]) -> List[torch.Tensor]:
        """Valid cross-correlation of each head's channel group: maps ``[B, N, K, H', W']``."""
        out = []
        for f, w in zip(fmaps, kernels):
            n, k, c, r, _ = w.shape
            weight = w.transpose(0, 1).reshape(k * n, c, r, r)       # output channel = head·N + n
            s = F.conv2d(f, weight, groups=k)
            b, _, h, wd = s.shape
            out.append(s.view(b, k, n, h, wd).transpose(1, 2))
        return out

    @staticmethod
    def sample(maps: Sequence[torch.Tensor], fsizes: Sequence[Sequence[int]], coords: torch.Tensor) -> List[torch.Tensor]:
        """``[B, N, K, 5, 5]`` patches at ±2 map pixels around normalised ``coords [B, N, 2]`` (border padding)."""
        b, n, _ = coords.shape
        r = torch.arange(-(GRID // 2), GRID // 2 + 1, dtype=coords.dtype, device=coords.device)
        out = []
        for m, (fh, fw) in zip(maps, fsizes):
            _, _, k, h, w = m.shape
            cx = coords[..., 0] * (fw / w)
            cy = coords[..., 1] * (fh / h)
            gx = cx[..., None, None] + (r * (2.0 / w))[None, :]        # column = x offset
            gy = cy[..., None, None] + (r * (2.0 / h))[:, None]        # row = y offset
            grid = torch.stack(torch.broadcast_tensors(gx, gy), dim=-1).view(b * n, GRID, GRID, 2)
            p = F.grid_sample(m.reshape(b * n, k, h, w), grid, mode="bilinear", padding_mode="border",
                              align_corners=False)
            out.append(p.view(b, n, k, GRID, GRID))
        return out


class SoftShrink(nn.Module):
    """``x·sigmoid(|x| / exp(log_temp))`` with one learned temperature per head."""

    def __init__(self, heads: int):
        super().__init__()
        self.log_temp = nn.Parameter(torch.zeros(1, heads, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(x.abs() / torch.exp(self.log_temp))


def corr_branch(k: int, c: int) -> nn.Sequential:
    """Soft-shrink, grouped valid 3×3 conv, flatten, SiLU, Linear → 96, RMSNorm, SiLU."""
    return nn.Sequential(SoftShrink(k), nn.Conv2d(k, c, 3, groups=k), nn.Flatten(1), nn.SiLU(),
                         nn.Linear(c * 9, WIDTH), nn.RMSNorm(WIDTH), nn.SiLU())


class Encoder(nn.Module):
    """Per-iteration features: correlation feature f and context c (with image-context FiLM)."""

    def __init__(self):
        super().__init__()
        self.query_encoder = mlp2(147, 96, 96)
        self.pred_encoder = nn.Sequential(HeadedLinear(3, 3, 32), nn.Flatten(-2), nn.SiLU(),
                                          nn.Linear(96, 96), nn.SiLU())
        self.corr_feat_head_convs = nn.ModuleList(corr_branch(k, c) for k, c in zip(HEADS, BRANCH_OUT))
        self.corr_feat_mlp = nn.Sequential(nn.Linear(288, 256), nn.SiLU(), nn.Linear(256, 256),
                                           nn.RMSNorm(256, elementwise_affine=False))
        self.image_feature_proj = nn.Linear(96, 192)
        self.context_feat_mlp = nn.Sequential(nn.Linear(288, 256), nn.RMSNorm(256), nn.SiLU())
        self.context_feat_proj = nn.Linear(256, 256)

    def forward(self, patches: Sequence[torch.Tensor], q_n: torch.Tensor, g: torch.Tensor,
                coords: torch.Tensor, theta: torch.Tensor, delta: torch.Tensor):
        """``(c, f)``, each ``[B, N, 256]``."""
        b, n = coords.shape[:2]
        branch = [conv(p.reshape(b * n, *p.shape[2:])).view(b, n, WIDTH)
                  for conv, p in zip(self.corr_feat_head_convs, patches)]
        f0 = self.corr_feat_mlp(torch.cat(branch, dim=-1))
        gamma, beta = self.image_feature_proj(branch[2]).chunk(2, dim=-1)
        cond = gamma * g[:, None, :] + beta
        ones = torch.ones_like(coords[..., :1])
        scale = torch.tensor([1 / 6, 1 / 6, 1.0], dtype=theta.dtype, device=theta.device)
        tokens = torch.stack([theta * scale, torch.cat([delta, ones], -1),
                              torch.cat([coords, -ones], -1)], dim=-2)
        pred = self.pred_encoder(tokens)
        c = self.context_feat_mlp(torch.cat([pred, q_n.expand(b, n, -1), cond], dim=-1))
        return c, f0 + self.context_feat_proj(c)


class Mixer(nn.Module):
    """Mean-only Write-Mix-Read over 8 slots × 4 heads, with a FiLM local bypass."""

    H, S, D = 4, 8, 64

    def __init__(self):
        super().__init__()
        H, S, D = self.H, self.S, self.D
        self.write_temperature = nn.Parameter(torch.zeros(1, 1, 2 * H * S))
        self.residual_weights = nn.Parameter(torch.zeros(3, 1, H, 1, 1))
        self.write_route = nn.Sequential(nn.Linear(256, 128), nn.SiLU())
        self.read_route = nn.Sequential(nn.Linear(224, 128), nn.SiLU())
        self.write_proj = nn.Linear(128, 2 * H * S)
        self.read_proj = nn.Linear(128, H * S)
        self.value_proj = nn.Linear(256, H * D)
        self.query_proj = nn.Linear(224, H * D)
        self.basis_query_proj = nn.Sequential(HeadedLinear(H, D, 2 * D))
        self.attn_qkv_proj = HeadedLinear(H, D, 2 * D)
        self.attn_out_proj = HeadedLinear(H, D, D)
        self.basis_mlp = nn.Sequential(HeadedLinear(H, D, 2 * D), nn.SiLU(), HeadedLinear(H, 2 * D, D))
        self.local_proj = nn.Sequential(nn.Linear(256, 128), nn.SiLU())
        self.local_head_proj = HeadedLinear(H, 32, 2 * D)
        self.out_proj = nn.Linear(H * D, 256)

    def forward(self, c: torch.Tensor, f: torch.Tensor, r: torch.Tensor) -> torch.Tensor:
        """``[B, N, 256]`` mixed features from context c, correlation feature f and read input r."""
        H, S, D = self.H, self.S, self.D
        b, n = c.shape[:2]
        w = self.write_proj(self.write_route(c)) / torch.pow(2.0, self.write_temperature / 3.0)
        w = torch.softmax(w.view(b, n, 2, H, S), dim=1)                  # over landmarks
        v = self.value_proj(f).view(b, n, H, D)
        u = self.query_proj(r).view(b, n, H, D)
        slots = torch.einsum("bnhs,bnhd->bshd", w[:, :, 0], v)          # [B, S, H, D]
        query = torch.einsum("bnhs,bnhd->bshd", w[:, :, 1], u)
        rw = self.residual_weights.view(3, H, 1)
        slots = slots + rw[0] * glu(self.basis_query_proj(query))
        q, k, vv = self.attn_qkv_proj(slots).transpose(1, 2).split([D // 2, D // 2, D], dim=-1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // 2), dim=-1) @ vv   # [B, H, S, D]
        slots = slots + rw[1] * self.attn_out_proj(att.transpose(1, 2))
        slots = slots + rw[2] * self.basis_mlp(slots)
        read = torch.softmax(self.read_proj(self.read_route(r)).view(b, n, H, S), dim=-1)
        m = torch.einsum("bnhs,bshd->bnhd", read, slots)
        lam, beta = self.local_head_proj(self.local_proj(f).view(b, n, H, 32)).split([D, D], dim=-1)
        return self.out_proj((m * lam + beta).reshape(b, n, H * D))


class UpdatePredictor(nn.Module):
    """Gated recurrent update of the 128-d hidden state and the Δ / covariance heads."""

    def __init__(self):
        super().__init__()
        self.hidden_norm = nn.RMSNorm(128)
        self.mixer = Mixer()
        self.gate_proj = nn.Sequential(nn.SiLU(), nn.Linear(128, 384))
        self.hidden_proj = nn.Linear(128, 128)
        self.pred_head = nn.Sequential(HeadedLinear(2, 128, 128))
        self.coord_proj = nn.Linear(64, 2)
        self.cov_proj = nn.Linear(64, 3)

    def forward(self, c: torch.Tensor, f: torch.Tensor, h: torch.Tensor, q_n: torch.Tensor):
        """``(h_next, delta, theta)`` in normalised units."""
        hn = self.hidden_norm(h)
        r = torch.cat([hn, q_n.expand(*hn.shape[:2], -1)], dim=-1)
        z, gate_feat = self.mixer(c, f, r).chunk(2, dim=-1)
        reset, update, gain = torch.sigmoid(self.gate_proj(gate_feat)).chunk(3, dim=-1)
        cand = torch.tanh(reset * self.hidden_proj(hn) + z) * gain
        h_next = h + update * (cand - h)
        heads = glu(self.pred_head(h_next.unsqueeze(-2).expand(*h_next.shape[:-1], 2, h_next.shape[-1])))
        return h_next, self.coord_proj(heads[..., 0, :]), self.cov_proj(heads[..., 1, :])


@dataclass
class Prediction:
    """One tracker step's output, in crop pixels (``cov`` = log σx, log σy, atanh ρ)."""

    mean: torch.Tensor      # [B, N, 2]
    cov: torch.Tensor       # [B, N, 3]
    delta: torch.Tensor     # [B, N, 2]
    hidden: torch.Tensor    # [B, N, 128], unclamped


class QLOT(nn.Module):
    """The QLOT tracker. ``forward(x, queries, iterations, prefill, hidden)`` runs one frame."""

    def __init__(self):
        super().__init__()
        self.query_encoder = PMPE()
        self.feature_extractor = FeatureExtractor()
        self.encoder = Encoder()
        self.image_feature_correlator = Correlator()
        self.update_predictor = UpdatePredictor()
        self.register_buffer("query_flip", torch.tensor([1.0, -1.0, -1.0]), persistent=False)

    def encode_queries(self, queries: torch.Tensor) -> Dict[str, torch.Tensor]:
        """Per-query tensors reused every frame: flipped points, PMPE, q_n, correlation kernels."""
        p = queries.to(self.query_flip.dtype) * self.query_flip
        pre = self.query_encoder(p)
        return {"points": p, "pre_enc": pre, "q_n": self.encoder.query_encoder(pre),
                "kernels": self.image_feature_correlator.kernels(pre)}

    def forward(self, x: torch.Tensor, queries: torch.Tensor, iterations: int = 4,
                prefill: Optional[Prediction] = None, enc: Optional[Dict[str, torch.Tensor]] = None,
                trace: Optional[Dict[str, list]] = None) -> Prediction:
        """One frame: ``x`` RGB in [0, 1] ``[B, 3, S, S]``; ``prefill`` = the previous returned prediction.

        ``trace`` (a dict) collects per-iteration internals for parity checks.
        """
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        enc = enc if enc is not None else self.encode_queries(queries)
        size = x.shape[-1]
        fmaps, g, feats = self.feature_extractor(x)
        maps = self.image_feature_correlator.correlate(fmaps, enc["kernels"])
        fsizes = [m.shape[-2:] for m in fmaps]
        b, n = x.shape[0], enc["points"].shape[0]
        if prefill is None:
            coords = enc["points"][:, :2].expand(b, n, 2)
            theta = coords.new_zeros(b, n, 3)
            delta = coords.new_zeros(b, n, 2)
            h = coords.new_zeros(b, n, 128)
        else:
            coords, theta, delta = to_normalised(prefill, size)
            h = prefill.hidden
        if trace is not None:
            trace.update(fmaps=fmaps, global_feat=g, backbone=feats, enc=enc, init=(coords, theta, delta))
        for _ in range(iterations):
            patches = self.image_feature_correlator.sample(maps, fsizes, coords)
            c, f = self.encoder(patches, enc["q_n"], g, coords, theta, delta)
            h, delta, theta = self.update_predictor(c, f, h, enc["q_n"])
            coords = coords + delta
            if trace is not None:
                for key, val in (("corr", patches), ("context_feat", c), ("corr_feat", f), ("coords", coords),
                                 ("cov", theta), ("delta", delta), ("hidden", h)):
                    trace.setdefault(key, []).append(val)
        return to_pixels(coords, theta, delta, h, size)


def to_pixels(coords, theta, delta, hidden, size: int) -> Prediction:
    """Clamp and map normalised state to crop pixels (align_corners=False convention)."""
    half = size / 2.0
    mean = (coords.clamp(-2.0, 2.0) + 1.0) * half - 0.5
    logsig = theta[..., :2].clamp(LOGSIG_MIN, LOGSIG_MAX) + math.log(half)
    return Prediction(mean, torch.cat([logsig, theta[..., 2:]], dim=-1), delta * half, hidden)


def to_normalised(pred: Prediction, size: int):
    """Inverse of :func:`to_pixels` (without the clamp): ``(coords, theta, delta)`` normalised."""
    coords = pred.mean * (2.0 / size) + (1.0 / size - 1.0)
    theta = torch.cat([pred.cov[..., :2] + math.log(2.0 / size), pred.cov[..., 2:]], dim=-1)
    return coords, theta, pred.delta * (2.0 / size)


def expected_shapes() -> Dict[str, tuple]:
    """Key → shape of the released architecture's ``model_state_dict`` (413 entries)."""
    return {k: tuple(v.shape) for k, v in QLOT().state_dict().items()}
