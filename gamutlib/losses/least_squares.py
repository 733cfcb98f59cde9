"""Least-squares GAN losses (Mao et al. 2017), as PortraitGAN and CycleGAN train.

PortraitGAN writes its critic loss with logs (Eq. 6) but trains with the
least-squares form "for stable training" (Implementation Details), keeping
Eq. 6's factor 1/2 on each term.
"""

from __future__ import annotations

import torch


def loss_d_lsgan(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * (real.float() - 1).pow(2).mean() + 0.5 * fake.float().pow(2).mean()


def loss_g_lsgan(fake: torch.Tensor) -> torch.Tensor:
    """E[(D(G(z)) - 1)^2]: the generator pushes its scores towards "real"."""
    return (fake.float() - 1).pow(2).mean()
