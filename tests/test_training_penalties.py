"""WGAN-GP and R1 against closed forms (a linear critic has a constant gradient)."""

import pytest
import torch

from gamutlib.losses.gradient_penalty import input_gradient, r1_penalty, wgan_gp


def linear_critic(w: torch.Tensor):
    return lambda x: (x * w).flatten(1).sum(1)


def test_wgan_gp_of_a_linear_critic_is_closed_form():
    w = torch.randn(1, 3, 4, 4, requires_grad=True)
    real, fake = torch.randn(5, 3, 4, 4), torch.randn(5, 3, 4, 4)
    gp = wgan_gp(linear_critic(w), real, fake)
    expected = (w.detach().norm() - 1) ** 2
    torch.testing.assert_close(gp, expected)
    # differentiable in the critic's weights (the double backward D needs)
    gp.backward()
    torch.testing.assert_close(w.grad, 2 * (w.detach().norm() - 1) * w.detach() / w.detach().norm())


def test_r1_of_a_linear_critic_is_closed_form():
    w = torch.randn(1, 3, 4, 4, requires_grad=True)
    r1 = r1_penalty(linear_critic(w), torch.randn(6, 3, 4, 4))
    torch.testing.assert_close(r1, w.detach().square().sum())
    r1.backward()
    torch.testing.assert_close(w.grad, 2 * w.detach())


def test_wgan_gp_matches_the_reference_formulation_on_a_conv_critic():
    torch.manual_seed(1)
    D = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, 2, 1), torch.nn.LeakyReLU(0.01), torch.nn.Conv2d(4, 1, 3))
    real, fake = torch.randn(3, 3, 8, 8), torch.randn(3, 3, 8, 8)
    torch.manual_seed(7)
    ours = wgan_gp(D, real, fake)
    torch.manual_seed(7)
    alpha = torch.rand(3, 1, 1, 1)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    y = D(x_hat)
    (dydx,) = torch.autograd.grad(y, x_hat, grad_outputs=torch.ones_like(y), create_graph=True)
    ref = ((dydx.view(3, -1).pow(2).sum(1).sqrt() - 1) ** 2).mean()
    torch.testing.assert_close(ours, ref)
    assert input_gradient(D, real).shape == real.shape


def test_shape_mismatch_is_named():
    with pytest.raises(ValueError, match="same shape"):
        wgan_gp(lambda x: x.sum(), torch.zeros(2, 3, 4, 4), torch.zeros(2, 3, 8, 8))
