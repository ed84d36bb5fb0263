"""The penalty reformulation of a SurrogateForm (Bouchet and Vidal 2025, the "tilde" problem).

    max_x f̃(Φ̃(x)),   Φ̃(x) = (x_F, y_F, w·ReLU(l - c(x, y)), w·ReLU(c(x, y) - u), w·ReLU(lo - x), w·ReLU(x - hi)),
                     f̃(a, b, z) = g(x, y) - ‖z‖²,   ∇_z f̃ = -2z,

with y = Φ(x), g the objective in the maximize sense (-f for minimize), x_F and y_F the inputs and
outputs g uses (the others are dropped: an attack has nothing to steer there), one penalty entry
per finite side of each constraint row and, when bounds are not enforced by projection, per finite
variable bound. The penalty is squared, so feasible points keep their objective and f̃ is smooth
where c is. `weight` w scales the violations (the reference scales its constraints by 1000).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from optdsl.lower.forms import SurrogateForm
from optdsl.results import Result


@dataclass
class Evaluation:
    """f̃, the model's objective, the largest violation and z = (x, Φ(x)) at a batch of points."""

    ftilde: np.ndarray
    objective: np.ndarray
    violation: np.ndarray
    Z: np.ndarray
    out: np.ndarray  # Φ̃ (B x p)


class PenalizedSurrogate:
    """Φ̃ and f̃ of a SurrogateForm (see the module docstring)."""

    def __init__(self, form: SurrogateForm, weight: float = 1000.0, bounds: str = "project") -> None:
        self.form, self.weight, self.bounds = form, float(weight), bounds
        self.n = form.n
        o = form.outer
        self.x_idx = np.flatnonzero(form.objective_inputs)
        self.y_idx = np.flatnonzero(form.objective_outputs)
        self.lo_rows = np.flatnonzero(np.isfinite(o.con_lower))
        self.hi_rows = np.flatnonzero(np.isfinite(o.con_upper))
        pen_bounds = bounds == "penalty"
        self.lo_cols = np.flatnonzero(np.isfinite(form.col_lower)) if pen_bounds else np.zeros(0, dtype=np.int64)
        self.hi_cols = np.flatnonzero(np.isfinite(form.col_upper)) if pen_bounds else np.zeros(0, dtype=np.int64)
        self.p_obj = len(self.x_idx) + len(self.y_idx)
        self.p = self.p_obj + len(self.lo_rows) + len(self.hi_rows) + len(self.lo_cols) + len(self.hi_cols)

    # ---------------------------------------------------------------------------- numpy
    def penalties(self, x: np.ndarray, c: np.ndarray) -> np.ndarray:
        o, f = self.form.outer, self.form
        parts = [np.maximum(o.con_lower[self.lo_rows] - c[self.lo_rows], 0.0),
                 np.maximum(c[self.hi_rows] - o.con_upper[self.hi_rows], 0.0),
                 np.maximum(f.col_lower[self.lo_cols] - x[self.lo_cols], 0.0),
                 np.maximum(x[self.hi_cols] - f.col_upper[self.hi_cols], 0.0)]
        return np.concatenate(parts)

    def evaluate(self, X: np.ndarray) -> Evaluation:
        X = np.atleast_2d(np.asarray(X, dtype=np.float64))
        form, o = self.form, self.form.outer
        Y = form.phi(X)
        Z = np.concatenate([X, Y], axis=1)
        B = X.shape[0]
        fmin = np.array([o.f(z) for z in Z])
        pen = np.zeros((B, self.p - self.p_obj))
        viol = np.zeros(B)
        for b in range(B):  # per point: the outer functions are algebraic and small next to Phi
            c = o.c(Z[b]) if o.m else np.zeros(0)
            v = self.penalties(X[b], c)
            pen[b] = self.weight * v
            box = max(float(np.max(form.col_lower - X[b], initial=0.0)),
                      float(np.max(X[b] - form.col_upper, initial=0.0)))
            viol[b] = max(float(np.max(v, initial=0.0)), box)
        g = -fmin
        ftilde = g - np.sum(pen * pen, axis=1)
        out = np.concatenate([X[:, self.x_idx], Y[:, self.y_idx], pen], axis=1)
        objective = -g if form.sense == "min" else g
        return Evaluation(ftilde, objective, viol, Z, out)

    def target(self, z: np.ndarray, out: np.ndarray) -> np.ndarray:
        """∇f̃ at Φ̃(x): (∂g/∂x_F, ∂g/∂y_F, -2 z_pen); `z` = (x, Φ(x)), `out` = Φ̃(x)."""
        dg = -np.asarray(self.form.outer.grad(z), dtype=np.float64)
        n = self.n
        return np.concatenate([dg[self.x_idx], dg[n + self.y_idx], -2.0 * out[self.p_obj:]])

    # ---------------------------------------------------------------------------- torch
    def torch_map(self, device: str) -> Any:
        """Φ̃ as a differentiable torch function of x (n,) -> (p,) on `device`; None when a network
        gives values only."""
        maps = self.form.torch_maps(device)
        if maps is None:
            return None
        import torch

        phi_t, con_t = maps
        dev = torch.device(device)
        o, f = self.form.outer, self.form

        def t(a: np.ndarray, dtype: Any = torch.float64) -> Any:
            return torch.as_tensor(np.asarray(a), device=dev, dtype=dtype)

        x_idx, y_idx = t(self.x_idx, torch.long), t(self.y_idx, torch.long)
        lo_r, hi_r = t(self.lo_rows, torch.long), t(self.hi_rows, torch.long)
        lo_c, hi_c = t(self.lo_cols, torch.long), t(self.hi_cols, torch.long)
        cl, cu = t(o.con_lower[self.lo_rows]), t(o.con_upper[self.hi_rows])
        bl, bu = t(f.col_lower[self.lo_cols]), t(f.col_upper[self.hi_cols])
        w = self.weight
        has_c = bool(o.m)

        def phi_tilde(xt: Any) -> Any:
            y = phi_t(xt)
            parts = [xt[x_idx], y[y_idx]]
            if has_c:
                c = con_t(torch.cat([xt, y]))
                parts += [w * torch.relu(cl - c[lo_r]), w * torch.relu(c[hi_r] - cu)]
            parts += [w * torch.relu(bl - xt[lo_c]), w * torch.relu(xt[hi_c] - bu)]
            return torch.cat(parts)

        return phi_tilde


class SurrogatePenalty:
    """The pass surrogate -> penalized surrogate: constraints move into Φ̃ and f̃ (see module)."""

    name: ClassVar[str] = "surrogate_penalty"
    form_in: ClassVar[str] = "surrogate"
    form_out: ClassVar[str] = "surrogate_penalized"
    requires: ClassVar[frozenset[str]] = frozenset({"surrogate"})
    removes: ClassVar[frozenset[str]] = frozenset({"inequalities"})
    adds: ClassVar[frozenset[str]] = frozenset()

    def __init__(self, weight: float = 1000.0, bounds: str = "project") -> None:
        self.weight, self.bounds = weight, bounds

    def accepts(self, form: Any) -> str | None:
        return None if isinstance(form, SurrogateForm) else "not a surrogate form"

    def apply(self, form: SurrogateForm, options: Any = None) -> tuple[PenalizedSurrogate, None]:
        bo = getattr(options, "backend_options", {}) or {}
        return PenalizedSurrogate(form, float(bo.get("penalty", self.weight)), str(bo.get("bounds", self.bounds))), None

    def invert(self, result: Result, inverse: Any) -> Result:
        return result  # x is unchanged; the backend reports the model's own objective
