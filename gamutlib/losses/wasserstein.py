"""The Wasserstein adversarial terms (Arjovsky et al. 2017) as StarGAN uses them.

D's PatchGAN map is averaged over patches and batch, so each term is a plain
mean of critic scores; the gradient penalty that makes it WGAN-GP lives in
gradient_penalty.py.
"""

from __future__ import annotations

import torch


def loss_d_adv(score_real: torch.Tensor, score_fake: torch.Tensor) -> torch.Tensor:
    """-L_adv without its penalty, as D minimises it: E[D(G(x))] - E[D(x)]."""
    return score_fake.mean() - score_real.mean()


def loss_g_adv(score_fake: torch.Tensor) -> torch.Tensor:
    """G's side of L_adv: -E[D(G(x, c))] (the real term does not depend on G)."""
    return -score_fake.mean()
