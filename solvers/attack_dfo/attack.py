"""Targeted directional attacks written directly in torch (no attack library).

At x with radius r the attacked map is Φ_{x,r}(d) = Φ̃(x + 2r(d - ½)) - Φ̃(x), d in [0, 1]^n, started
at d0 = ½ (no perturbation), with the direction t = ∇f̃(Φ̃(x)) as the target. The loss ascended is

    "linear"         L(d) = <t, Φ_{x,r}(d)>                     (a first-order model of the gain in f̃)
    "cross_entropy"  L(d) = Σ_i t_i log softmax(Φ_{x,r}(d))_i   (what a targeted attack with the soft
                                                                label t ascends, as in the reference)

FGSM: d = clip(d0 + eps·sign(∇L(d0)), 0, 1).  PGD (no random start): `steps` times
d <- clip(d + alpha·sign(∇L(d)), [d0 - eps, d0 + eps] ∩ [0, 1]).  The step is δ = 2r(d - ½), in the
∞-ball of radius r; with eps = ½ an FGSM step is δ = r·sign(∇_x L).
Forward and backward passes are counted; when Φ gives values only, ∇L comes from forward
differences (n + 1 forward passes, no backward).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

LOSSES = ("linear", "cross_entropy")
METHODS = ("fgsm", "pgd")


@dataclass
class AttackCount:
    forward: int = 0
    backward: int = 0


def _loss(out: torch.Tensor, base: torch.Tensor, t: torch.Tensor, loss: str) -> torch.Tensor:
    if loss == "linear":
        return torch.dot(t, out - base)
    return torch.dot(t, torch.log_softmax(out - base, dim=-1))


def attack(phi: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, t: torch.Tensor, r: float | torch.Tensor,
           base: torch.Tensor | None = None, method: str = "fgsm", loss: str = "linear", eps: float = 0.5,
           steps: int = 10, alpha: float = 0.1, count: AttackCount | None = None,
           fd_step: float | None = None) -> torch.Tensor:
    """The attack step δ at x (see the module docstring). `phi` maps x (n,) to Φ̃(x) (p,); `base`
    is Φ̃(x) when already known. `fd_step` set: gradients by forward differences of `phi`."""
    count = count if count is not None else AttackCount()
    n = x.shape[0]
    if base is None:
        with torch.no_grad():
            base = phi(x)
        count.forward += 1
    base = base.detach()
    t = t.detach()

    def perturb(d: torch.Tensor) -> torch.Tensor:
        return x + 2.0 * r * (d - 0.5)

    def grad(d: torch.Tensor) -> torch.Tensor:
        if fd_step is None:
            d = d.detach().requires_grad_(True)
            value = _loss(phi(perturb(d)), base, t, loss)
            count.forward += 1
            (g,) = torch.autograd.grad(value, d, allow_unused=True)
            count.backward += 1
            return torch.zeros_like(d) if g is None else g
        with torch.no_grad():
            h = fd_step
            D = d[None, :] + h * torch.eye(n, dtype=d.dtype, device=d.device)
            l0 = _loss(phi(perturb(d)), base, t, loss)
            li = torch.stack([_loss(phi(perturb(row)), base, t, loss) for row in D])
            count.forward += n + 1
            return (li - l0) / h

    d0 = torch.full((n,), 0.5, dtype=x.dtype, device=x.device)
    if method == "fgsm":
        d = torch.clamp(d0 + eps * torch.sign(grad(d0)), 0.0, 1.0)
    elif method == "pgd":
        lo, hi = torch.clamp(d0 - eps, min=0.0), torch.clamp(d0 + eps, max=1.0)
        d = d0.clone()
        for _ in range(int(steps)):
            d = torch.minimum(torch.maximum(d + alpha * torch.sign(grad(d)), lo), hi)
    else:
        raise ValueError(f"unknown attack '{method}'")
    return (2.0 * r * (d - 0.5)).detach()


def numpy_phi(evaluate: Callable[[np.ndarray], np.ndarray], device: torch.device) -> Callable:
    """A values-only Φ̃ (numpy batch -> batch) as a torch function of one point, for differences."""

    def phi(x: torch.Tensor) -> torch.Tensor:
        out = evaluate(x.detach().cpu().numpy()[None, :])[0]
        return torch.as_tensor(out, dtype=torch.float64, device=device)

    return phi
