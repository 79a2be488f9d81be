"""Fixed-point solvers ``fpi`` and ``anderson`` exactly as released (``docs/detectors.md`` (LDEQ)).

``f(z, idx=None)`` evaluates the cell on the whole batch, or on the rows ``idx`` only. Two stopping
policies:

* ``per_sample=False`` — the reference: stop tests and Anderson's best-iterate selection use the
  **batch-mean** residual, so a sample's result depends on its batch-mates.
* ``per_sample=True`` — each sample stops and selects on its own residual, exactly what the
  reference gives for that sample run alone (batch of 1, like the released sequential video
  evaluator); finished samples are dropped from further cell evaluations. The result of a sample
  is independent of how the harness batches videos.

With RwR (``max_iters = 1``) nothing can stop early, and both policies give identical results.
Diagnostics (``info``) follow the reference's ``fwd_logs`` plus traces used by the parity tests.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Dict, List, Tuple

import torch

from wflwv.detectors.ldeq.config import LdeqConfig

Fn = Callable[..., torch.Tensor]


def solve(f: Fn, z0: torch.Tensor, cfg: LdeqConfig, per_sample: bool = False,
          trace: bool = False) -> Tuple[torch.Tensor, Dict[str, Any]]:
    """Run the solver named by ``cfg.solver`` from ``z0``; returns ``(z, info)``."""
    if cfg.solver == "fpi":
        return fpi(f, z0, cfg.max_iters, cfg.stop_target, cfg.stop_mode, per_sample, trace)
    if cfg.solver == "anderson":
        return anderson(f, z0, cfg.max_iters, cfg.stop_target, cfg.stop_mode, cfg.anderson_m,
                        cfg.anderson_lam, cfg.anderson_beta, per_sample, trace)
    raise ValueError(f"unknown LDEQ solver {cfg.solver!r}; use 'fpi' or 'anderson'")


def _norms(a: torch.Tensor) -> torch.Tensor:
    return a.reshape(a.shape[0], -1).norm(dim=1)


def fpi(f: Fn, z0: torch.Tensor, max_iters: int, tol: float, stop_mode: str = "rel",
        per_sample: bool = False, trace: bool = False) -> Tuple[torch.Tensor, Dict[str, Any]]:
    """Fixed-point iteration; residual ``‖z_new − z‖ / (1e-5 + ‖z_new‖)``; returns the last ``f`` output."""
    B = z0.shape[0]
    z = z0
    out = z0.clone() if per_sample else None
    active = torch.arange(B, device=z0.device)
    n_iters = torch.zeros(B, dtype=torch.long)
    rel_s = torch.full((B,), math.nan, dtype=torch.float64)
    abs_s = torch.full((B,), math.nan, dtype=torch.float64)
    rel_trace: List[float] = []
    abs_trace: List[float] = []
    traj: List[torch.Tensor] = [z0.clone()] if trace else []
    for _ in range(max_iters):
        idx = None if (not per_sample or len(active) == B) else active
        z_new = f(z, idx)
        diff = _norms(z_new - z)
        rel = diff / (1e-5 + _norms(z_new))
        rel_trace.append(float(rel.mean()))
        abs_trace.append(float(diff.mean()))
        if trace:
            traj.append(z_new.clone())
        metric = rel if stop_mode == "rel" else diff
        if not per_sample:
            z = z_new
            n_iters += 1
            rel_s, abs_s = rel.double().cpu(), diff.double().cpu()
            if float(metric.mean()) < tol:
                break
            continue
        act_cpu = active.cpu()
        n_iters[act_cpu] += 1
        rel_s[act_cpu], abs_s[act_cpu] = rel.double().cpu(), diff.double().cpu()
        out[active] = z_new
        keep = metric >= tol
        if not bool(keep.any()):
            break
        active, z = active[keep], z_new[keep]
    info = {"solver": "fpi", "n_iters": n_iters, "rel_diff": rel_s, "abs_diff": abs_s,
            "rel_trace": rel_trace, "abs_trace": abs_trace,
            "fwd_n_iters": int(n_iters.max()),
            "fwd_final_rel_diff": float(rel_s.mean()), "fwd_final_abs_diff": float(abs_s.mean())}
    if trace:
        info["traj"] = traj
    return (out if per_sample else z), info


def anderson(f: Fn, z0: torch.Tensor, max_iters: int, tol: float, stop_mode: str = "rel",
             m: int = 6, lam: float = 1e-4, beta: float = 1.0, per_sample: bool = False,
             trace: bool = False) -> Tuple[torch.Tensor, Dict[str, Any]]:
    """Anderson acceleration as released; returns the lowest-residual mixed iterate ``X_k``.

    Ring buffers of ``m`` slots; step k mixes slots ``0..min(k,m)-1`` (slot order) and writes slot
    ``k % m``; residual ``‖F_k − X_k‖ / ‖F_k + 1e-5‖``; candidates are k = 2 … max_iters+1.
    """
    B = z0.shape[0]
    shape = z0.shape
    dev, dt = z0.device, z0.dtype
    X = torch.zeros(B, m, z0[0].numel(), dtype=dt, device=dev)
    Fb = torch.zeros_like(X)
    X[:, 0] = z0.reshape(B, -1)
    Fb[:, 0] = f(z0).reshape(B, -1)
    X[:, 1] = Fb[:, 0]
    Fb[:, 1] = f(Fb[:, 0].view(shape)).reshape(B, -1)
    H = torch.zeros(B, m + 1, m + 1, dtype=dt, device=dev)
    H[:, 0, 1:] = H[:, 1:, 0] = 1
    y = torch.zeros(B, m + 1, 1, dtype=dt, device=dev)
    y[:, 0] = 1

    best = X[:, 1].clone()                   # overwritten at k = 2 (always accepted)
    best_rel = torch.full((B,), math.inf, dtype=torch.float64)
    best_abs = torch.full((B,), math.inf, dtype=torch.float64)
    nstep_best = torch.zeros(B, dtype=torch.long)
    n_iters = torch.zeros(B, dtype=torch.long)
    batch_best, batch_best_abs, batch_nstep = math.inf, math.inf, 0
    active = torch.arange(B, device=dev)
    rel_trace: List[float] = []
    abs_trace: List[float] = []
    Hs: List[torch.Tensor] = []
    alphas: List[torch.Tensor] = []
    traj: List[torch.Tensor] = [z0.clone()] if trace else []
    for k in range(2, max_iters + 2):
        full = len(active) == B
        rows = slice(None) if full else active
        n = min(k, m)
        Xa, Fa = (X, Fb) if full else (X[active], Fb[active])
        G = Fa[:, :n] - Xa[:, :n]
        Ha = H[rows].clone() if not full else H
        Ha[:, 1:n + 1, 1:n + 1] = torch.bmm(G, G.transpose(1, 2)) + lam * torch.eye(
            n, dtype=dt, device=dev)[None]
        alpha = torch.linalg.solve(Ha[:, :n + 1, :n + 1], y[:len(active), :n + 1])[:, 1:n + 1, 0]
        if not full:
            H[active] = Ha
        slot = k % m
        xk = beta * (alpha[:, None] @ Fa[:, :n])[:, 0] + (1 - beta) * (alpha[:, None] @ Xa[:, :n])[:, 0]
        fk = f(xk.view((len(active),) + tuple(shape[1:])), None if full else active).reshape(len(active), -1)
        X[rows, slot] = xk
        Fb[rows, slot] = fk
        gap = _norms(fk - xk)
        rel = gap / _norms(fk + 1e-5)
        rel_trace.append(float(rel.mean()))
        abs_trace.append(float(gap.mean()))
        if trace:
            Hs.append(Ha[:, :n + 1, :n + 1].clone())
            alphas.append(alpha.clone())
            traj.append(xk.view((len(active),) + tuple(shape[1:])).clone())
        metric = rel if stop_mode == "rel" else gap
        act_cpu = active.cpu()
        n_iters[act_cpu] = k - 1
        if not per_sample:
            r = float(rel.mean())
            if r < batch_best:
                batch_best, batch_nstep = r, k
                best = xk.clone()
                best_rel = rel.double().cpu()
            batch_best_abs = min(batch_best_abs, float(gap.mean()))
            if float(metric.mean()) < tol:
                break
            continue
        rel_c, gap_c = rel.double().cpu(), gap.double().cpu()
        better = rel_c < best_rel[act_cpu]
        if bool(better.any()):
            sel = act_cpu[better]
            best[sel.to(dev)] = xk[better.to(dev)]
            best_rel[sel] = rel_c[better]
            nstep_best[sel] = k
        best_abs[act_cpu] = torch.minimum(best_abs[act_cpu], gap_c)
        keep = metric >= tol
        if not bool(keep.any()):
            break
        active = active[keep]
    info: Dict[str, Any] = {"solver": "anderson", "n_iters": n_iters, "rel_trace": rel_trace,
                            "abs_trace": abs_trace}
    if per_sample:
        info.update(rel_diff=best_rel, abs_diff=best_abs, nstep_best=nstep_best,
                    fwd_n_iters=int(n_iters.max()), fwd_final_rel_diff=float(best_rel.mean()),
                    fwd_final_abs_diff=float(best_abs.mean()))
    else:
        info.update(rel_diff=best_rel, nstep_best=torch.full((B,), batch_nstep, dtype=torch.long),
                    fwd_n_iters=int(n_iters.max()), fwd_final_rel_diff=batch_best,
                    fwd_final_abs_diff=batch_best_abs)
    if trace:
        info.update(H=Hs, alpha=alphas, traj=traj)
    return best.view(shape), info
