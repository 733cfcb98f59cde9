"""The adversarial autoencoder's loss on the latent code (EGGAN's Eq. 1; Makhzani et al. 2016).

D_z tells prior samples z ~ N(mu_z, sigma_z) from codes E(I); E is trained to
make its codes pass as prior samples. Both are the standard (non-saturating
for E) GAN cross-entropies on D_z's logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def loss_dz(logit_prior: torch.Tensor, logit_code: torch.Tensor) -> torch.Tensor:
    """D_z's side of Eq. 1: -log D_z(z) - log(1 - D_z(E(I)))."""
    return (F.binary_cross_entropy_with_logits(logit_prior.float(), torch.ones_like(logit_prior.float()))
            + F.binary_cross_entropy_with_logits(logit_code.float(), torch.zeros_like(logit_code.float())))


def loss_e_adv(logit_code: torch.Tensor) -> torch.Tensor:
    """E's side: -log D_z(E(I)) (the non-saturating form of minimising Eq. 1)."""
    return F.binary_cross_entropy_with_logits(logit_code.float(), torch.ones_like(logit_code.float()))
