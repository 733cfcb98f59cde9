"""Gradient penalties on the discriminator: WGAN-GP and R1.

Both take the gradient of D's output with respect to its input with
``create_graph=True`` so the penalty itself is differentiable in D's weights
(a double backward). Neither calls ``.item()`` or branches on values, so they
run inside a captured CUDA graph.
"""

from __future__ import annotations

from typing import Callable, Literal, Sequence

import torch

ScoreFn = Callable[[torch.Tensor], torch.Tensor]
CriticFn = Callable[[torch.Tensor], Sequence[torch.Tensor]]
Batching = Literal["separate", "pair", "all"]
BATCHINGS: tuple[str, ...] = ("separate", "pair", "all")


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
    grad = input_gradient(D, interpolates(real, fake)).flatten(1).float()
    return _gp_from_gradient(grad, target)


def interpolates(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """x_hat = a*real + (1-a)*fake with a ~ U(0, 1) per sample (one ``torch.rand`` draw)."""
    alpha = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), device=real.device, dtype=real.dtype)
    return alpha * real.detach() + (1 - alpha) * fake.detach()


def _gp_from_gradient(grad: torch.Tensor, target: float) -> torch.Tensor:
    return ((grad.flatten(1).float().norm(2, dim=1) - target) ** 2).mean()


def critic_with_gp(
    D: CriticFn,
    real: torch.Tensor,
    fake: torch.Tensor,
    batching: Batching = "all",
    target: float = 1.0,
) -> tuple[tuple[torch.Tensor, ...], tuple[torch.Tensor, ...], torch.Tensor]:
    """A WGAN-GP critic step's three passes: D(real), D(fake) and the penalty.

    ``D`` returns a tuple whose first element is the real/fake score map (the
    StarGAN family's discriminators). Returns (D's outputs on real, D's
    outputs on fake, the WGAN-GP on interpolates), the same values as
    ``D(real)``, ``D(fake)`` and ``wgan_gp`` and the same random draw.

    ``batching`` says how the passes share a forward:
    ``"separate"`` three forwards of N (as the reference code writes it);
    ``"pair"`` real and fake in one forward of 2N, the interpolates alone;
    ``"all"`` one forward of 3N, the penalty's gradient taken on its last third.
    Joining samples in one forward is the same maths only for a critic without
    batch-coupled layers (no batch norm; the StarGAN family has none, and a
    module ``D`` is checked); it reads D's weights once instead of two or
    three times, which is what a small batch on a GPU pays for (timed per
    batching in book/results/engine/train_speed.json).
    """
    if batching not in BATCHINGS:
        raise ValueError(f"batching must be one of {BATCHINGS}; got {batching!r}")
    if batching != "separate" and isinstance(D, torch.nn.Module) and not joinable_critic(D):
        raise ValueError(f"{type(D).__name__} has batch norm in training mode: real, fake and interpolates "
                         "cannot share a forward; use batching='separate'")
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape; got {tuple(real.shape)} and {tuple(fake.shape)}")
    n = real.shape[0]
    fake = fake.detach()
    x_hat = interpolates(real, fake).requires_grad_(True)
    if batching == "separate":
        out_real, out_fake, out_hat = tuple(D(real)), tuple(D(fake)), tuple(D(x_hat))
    elif batching == "pair":
        joint = tuple(t.split(n) for t in D(torch.cat([real, fake.to(real.dtype)])))
        out_real, out_fake = tuple(t[0] for t in joint), tuple(t[1] for t in joint)
        out_hat = tuple(D(x_hat))
    else:
        joint = tuple(t.split(n) for t in D(torch.cat([real, fake.to(real.dtype), x_hat])))
        out_real, out_fake, out_hat = (tuple(t[i] for t in joint) for i in range(3))
    (grad,) = torch.autograd.grad(outputs=out_hat[0].float().sum(), inputs=x_hat, create_graph=True)
    return out_real, out_fake, _gp_from_gradient(grad, target)


def joinable_critic(D: torch.nn.Module) -> bool:
    """True when no layer of ``D`` couples the samples of a batch (batch norm
    in training mode), so joining real, fake and interpolates in one forward
    gives each the outputs it would get alone."""
    return not any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) and m.training for m in D.modules())


def r1_penalty(D: ScoreFn, real: torch.Tensor) -> torch.Tensor:
    """R1 (Mescheder et al. 2018): E[||grad D(real)||^2]; add ``gamma / 2`` times it."""
    grad = input_gradient(D, real).flatten(1).float()
    return grad.square().sum(dim=1).mean()
