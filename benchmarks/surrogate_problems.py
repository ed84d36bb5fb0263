"""The three surrogate test problems (docs/surrogates.md), built seeded and offline, each as an
optdsl Model whose surrogate is a small trained torch network:

1. `digits`: the analog of the reference's barycentric-image problem on scikit-learn's 8x8 digits.
   A classifier net (64 -> 32 -> 10) is trained; x are logits over K images (image 1 the target),
   Φ(x) = softmax(net(Σ_i softmax(x)_i img_i)), maximize f = -‖Φ(x) - Φ(img_1)‖², x in [-10, 10]^K,
   x0 = 0. Known solution x* = (10, -10, ..., -10) with f(x*) ≈ 0.
2. `analytic`: an MLP (2 -> 32 -> 32 -> 2) fitted to (g, h) on [0, 1]^2 with
   g(x) = 1 - (x1 - 0.8)² - (x2 - 0.7)², h(x) = x1 + x2; maximize g s.t. h <= 1. Known maximizer
   of the exact functions x* = (0.55, 0.45), g(x*) = 0.875, the constraint active.
3. `reactor`: an MLP surrogate of a simulated reactor: A -> B (k1), B -> C (k2), A -> D (k3),
   Arrhenius rates at temperature T = 300 K + x1 (x1 in [0, 120]) over residence time x2 in
   [0, 20] (RK4 on a grid of samples). Φ(x) = (A, B) at the outlet; maximize the yield B subject
   to the energy budget x1·x2 <= 500.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

import optdsl as od


@dataclass
class Problem:
    name: str
    model: od.Model
    net: torch.nn.Module
    n: int
    info: dict[str, Any]


def _train(net: torch.nn.Module, X: torch.Tensor, Y: torch.Tensor, epochs: int, lr: float = 1e-2,
           loss: str = "mse") -> float:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small nets train faster on one thread, and the machine stays usable
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
    fn = torch.nn.functional.mse_loss if loss == "mse" else torch.nn.functional.cross_entropy
    for _ in range(epochs):
        opt.zero_grad()
        value = fn(net(X), Y)
        value.backward()
        opt.step()
        sched.step()
    torch.set_num_threads(threads)
    return float(value.detach())


# ------------------------------------------------------------------------------ 1. digits
class Barycentric(torch.nn.Module):
    """x (B x K) -> softmax(classifier(softmax(x) @ images) / temperature) (B x 10).

    The temperature keeps the class probabilities soft, as a 1000-class ImageNet network's are:
    with a confident 10-class network every image of the target's class would give nearly the
    same one-hot output, and the known solution would not stand out."""

    def __init__(self, classifier: torch.nn.Module, images: torch.Tensor, temperature: float = 1.0) -> None:
        super().__init__()
        self.classifier = classifier
        self.temperature = float(temperature)
        self.register_buffer("images", images)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits = self.classifier(torch.softmax(x, dim=-1) @ self.images)
        return torch.softmax(logits / self.temperature, dim=-1)


def digits_classifier(seed: int = 0) -> tuple[torch.nn.Module, np.ndarray, np.ndarray, float]:
    from sklearn.datasets import load_digits

    data = load_digits()
    X = data.data / 16.0
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.Tanh(), torch.nn.Linear(32, 10)).double()
    Xt, yt = torch.as_tensor(X), torch.as_tensor(data.target)
    _train(net, Xt, yt, 300, lr=1e-2, loss="ce")
    with torch.no_grad():
        acc = float((net(Xt).argmax(1) == yt).double().mean())
    return net.eval(), X, data.target, acc


def digits(K: int = 10, seed: int = 0, temperature: float = 4.0, target: int = 1) -> Problem:
    """`target` (1-based) is the position of the target image among the K; the reference puts it
    first, which favours searches that try the first coordinate first."""
    net, X, y, acc = digits_classifier(seed)
    rng = np.random.default_rng(seed)
    # K images of distinct classes first (the first pick is the target), then any others
    picks = [int(rng.choice(np.flatnonzero(y == c))) for c in rng.permutation(10)[:min(K, 10)]]
    while len(picks) < K:
        picks.append(int(rng.integers(len(X))))
    picks.insert(target - 1, picks.pop(0))
    images = torch.as_tensor(X[picks])
    phi = Barycentric(net, images, temperature).eval()
    for p in phi.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        t_out = phi(torch.as_tensor(np.eye(K)[target - 1:target] * 1e3))[0].numpy()  # the target image alone
    m = od.Model("digits")
    i = m.set("I", list(range(1, K + 1)))
    k = m.set("C", list(range(1, 11)))
    t = m.param("t", k, t_out)
    x = m.var("x", i, lb=-10, ub=10)
    ph = m.surrogate("phi", phi, n_in=K, n_out=10)
    m.maximize("closeness", -od.sum((ph(x)[c] - t[c]) ** 2 for c in k))
    x_star = np.full(K, -10.0)
    x_star[target - 1] = 10.0
    name = "digits" if target == 1 else f"digits_t{target}"
    return Problem(name, m, phi, K, {"x_star": x_star, "target": t_out, "accuracy": acc})


# ------------------------------------------------------------------------------ 2. analytic
def analytic_exact(X: np.ndarray) -> np.ndarray:
    g = 1.0 - (X[:, 0] - 0.8) ** 2 - (X[:, 1] - 0.7) ** 2
    return np.stack([g, X[:, 0] + X[:, 1]], axis=1)


def analytic(seed: int = 0, samples: int = 1000, epochs: int = 800) -> Problem:
    rng = np.random.default_rng(seed)
    X = rng.uniform(0, 1, (samples, 2))
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
                              torch.nn.Linear(32, 2)).double()
    loss = _train(net, torch.as_tensor(X), torch.as_tensor(analytic_exact(X)), epochs, lr=1e-2)
    net.eval()
    m = od.Model("analytic")
    x = m.var("x", range(1, 3), lb=0, ub=1)
    ph = m.surrogate("phi", net, n_in=2, n_out=2)
    m.maximize("g", ph(x)[1])
    m.constraint("h", ph(x)[2] <= 1)
    return Problem("analytic", m, net, 2, {"x_star": np.array([0.55, 0.45]), "g_star": 0.875, "fit_mse": loss})


# ------------------------------------------------------------------------------ 3. reactor
def reactor_simulate(x1: np.ndarray, x2: np.ndarray, steps: int = 200) -> np.ndarray:
    """Outlet (A, B) for temperature 300 K + x1 and residence time x2 (RK4, vectorized)."""
    T = 300.0 + np.asarray(x1, dtype=np.float64)
    tau = np.asarray(x2, dtype=np.float64)
    R = 8.314
    k1 = 2.0e5 * np.exp(-4.0e4 / (R * T))
    k2 = 5.0e8 * np.exp(-7.0e4 / (R * T))
    k3 = 1.0e10 * np.exp(-9.0e4 / (R * T))
    h = tau / steps
    y = np.stack([np.ones_like(T), np.zeros_like(T)])

    def rhs(y: np.ndarray) -> np.ndarray:
        a, b = y
        return np.stack([-(k1 + k3) * a, k1 * a - k2 * b])

    for _ in range(steps):
        s1 = rhs(y)
        s2 = rhs(y + 0.5 * h * s1)
        s3 = rhs(y + 0.5 * h * s2)
        s4 = rhs(y + h * s3)
        y = y + h / 6.0 * (s1 + 2 * s2 + 2 * s3 + s4)
    return y.T


class Scaled(torch.nn.Module):
    """An MLP on normalized inputs x / (120, 20)."""

    def __init__(self, body: torch.nn.Module) -> None:
        super().__init__()
        self.body = body
        self.register_buffer("scale", torch.tensor([120.0, 20.0], dtype=torch.float64))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x / self.scale)


def reactor_net(seed: int = 0, samples: int = 1500, epochs: int = 600) -> tuple[torch.nn.Module, float]:
    rng = np.random.default_rng(seed)
    X = rng.uniform([0, 0], [120, 20], (samples, 2))
    Y = reactor_simulate(X[:, 0], X[:, 1])
    torch.manual_seed(seed)
    body = torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), torch.nn.Tanh(),
                               torch.nn.Linear(32, 2)).double()
    net = Scaled(body)
    loss = _train(net, torch.as_tensor(X), torch.as_tensor(Y), epochs, lr=1e-2)
    return net.eval(), loss


def reactor(seed: int = 0, samples: int = 1500, epochs: int = 600) -> Problem:
    net, loss = reactor_net(seed, samples, epochs)
    m = od.Model("reactor")
    x = m.var("x", range(1, 3), lb=0, ub=[120, 20])
    ph = m.surrogate("phi", net, n_in=2, n_out=2)
    m.maximize("yield", ph(x)[2])
    m.constraint("energy", x[1] * x[2] <= 500)
    return Problem("reactor", m, net, 2, {"fit_mse": loss})


def best_at(history: dict[str, list[float]], evals: int) -> float:
    """The best f̃ after at most `evals` evaluations, from a Result's history."""
    e = np.asarray(history["evaluations"])
    b = np.asarray(history["best"])
    ok = e <= evals
    return float(b[ok][-1]) if np.any(ok) else -np.inf
