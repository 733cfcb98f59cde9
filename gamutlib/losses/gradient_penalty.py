"""Gradient penalties on the discriminator: WGAN-GP and R1.

Both take the gradient of D's output with respect to its input with
``create_graph=True`` so the penalty itself is differentiable in D's weights
(a double backward). Neither calls ``.item()`` or branches on values, so they
run inside a captured CUDA graph.
"""

from __future__ import annotations

from typing import Callable

import torch

ScoreFn = Callable[[torch.Tensor], torch.Tensor]


def input_gradient(D: ScoreFn, x: torch.Tensor) -> torch.Tensor:
    """d sum(D(x)) / dx, kept in the autograd graph. ``D`` returns the scores
    to penalise (for StarGAN's D, the real/fake map: ``lambda x: D(x)[0]``)."""
    x = x.detach().requires_grad_(True)
    out = D(x)
    (grad,) = torch.autograd.grad(outputs=out.float().sum(), inputs=x, create_graph=True)
    return grad


def wgan_gp(D: ScoreFn, real: torch.Tensor, fake: torch.Tensor, target: float = 1.0) -> torch.Tensor:
    """WGAN-GP (Gulrajani et al. 2017): E[(||grad D(x_hat)||_2 - 1)^2] on random
    interpolates x_hat = a*real + (1-a)*fake, a ~ U(0, 1) per sample. Add it to
    the D loss times ``lambda_gp`` (10 in StarGAN and GANmut)."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    x_hat = alpha * real.detach() + (1 - alpha) * fake.detach()
    grad = input_gradient(D, x_hat).flatten(1).float()
    return ((grad.norm(2, dim=1) - target) ** 2).mean()


def r1_penalty(D: ScoreFn, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad D(real)||^2]; add ``gamma / 2`` times it."""
    grad = input_gradient(D, real).flatten(1).float()
    return grad.square().sum(dim=1).mean()
