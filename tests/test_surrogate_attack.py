"""The attack step against explicit formulas (FGSM, PGD, the soft-label cross-entropy)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from optdsl.solvers.attack_dfo.attack import AttackCount, attack  # noqa: E402

RNG = np.random.default_rng(0)
A = torch.as_tensor(RNG.standard_normal((4, 3)))
W = torch.as_tensor(RNG.standard_normal((5, 3)))
B = torch.as_tensor(RNG.standard_normal(5))
T4 = torch.as_tensor(RNG.standard_normal(4))
T5 = torch.as_tensor(RNG.standard_normal(5))
X = torch.as_tensor(RNG.uniform(-1, 1, 3))


def linear(x: torch.Tensor) -> torch.Tensor:
    return A @ x


def smooth(x: torch.Tensor) -> torch.Tensor:
    return torch.tanh(W @ x + B)


def test_fgsm_linear_loss_is_r_times_the_sign_of_the_chain_rule_gradient() -> None:
    count = AttackCount()
    delta = attack(linear, X, T4, 0.3, base=linear(X), count=count)
    np.testing.assert_array_equal(delta.numpy(), 0.3 * np.sign(A.numpy().T @ T4.numpy()))
    assert (count.forward, count.backward) == (1, 1)
    # smooth map: grad_x <t, tanh(Wx + b)> = W^T (t * (1 - tanh^2)), written out
    s = np.tanh(W.numpy() @ X.numpy() + B.numpy())
    g = W.numpy().T @ (T5.numpy() * (1 - s * s))
    delta = attack(smooth, X, T5, 0.05)
    np.testing.assert_allclose(delta.numpy(), 0.05 * np.sign(g))
    # eps < 1/2: the step is 2 r eps along the sign
    delta = attack(smooth, X, T5, 0.05, eps=0.2)
    np.testing.assert_allclose(delta.numpy(), 2 * 0.05 * 0.2 * np.sign(g), rtol=1e-12)


def test_fgsm_cross_entropy_loss_of_the_soft_label_attack() -> None:
    # at d0 the logits Φ(x+δ) - Φ(x) are 0, softmax is uniform: grad = J^T (t - sum(t) / p)
    s = np.tanh(W.numpy() @ X.numpy() + B.numpy())
    J = (1 - s * s)[:, None] * W.numpy()
    t = T5.numpy()
    g = J.T @ (t - t.sum() / 5)
    delta = attack(smooth, X, T5, 0.1, loss="cross_entropy")
    np.testing.assert_allclose(delta.numpy(), 0.1 * np.sign(g))


def test_pgd_steps_and_counts() -> None:
    count = AttackCount()
    r, alpha = 0.4, 0.15
    sign = np.sign(A.numpy().T @ T4.numpy())
    for steps in (1, 2, 5):
        delta = attack(linear, X, T4, r, base=linear(X), method="pgd", steps=steps, alpha=alpha, count=count)
        np.testing.assert_allclose(delta.numpy(), 2 * r * min(steps * alpha, 0.5) * sign, rtol=1e-12)
    assert count.forward == count.backward == 1 + 2 + 5
    # projection onto the eps-ball around d0
    delta = attack(linear, X, T4, r, base=linear(X), method="pgd", steps=10, alpha=0.1, eps=0.25)
    np.testing.assert_allclose(delta.numpy(), 2 * r * 0.25 * sign, rtol=1e-12)


def test_forward_differences_match_autograd() -> None:
    count = AttackCount()
    d_fd = attack(smooth, X, T5, 0.05, base=smooth(X), fd_step=1e-7, count=count)
    d_ad = attack(smooth, X, T5, 0.05, base=smooth(X))
    np.testing.assert_array_equal(d_fd.numpy(), d_ad.numpy())
    assert count.forward == 3 + 1 and count.backward == 0
