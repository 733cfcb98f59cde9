"""Cycle reconstruction (Zhu et al. 2017; StarGAN's L_rec)."""

from __future__ import annotations

import torch


def loss_rec(x: torch.Tensor, x_rec: torch.Tensor) -> torch.Tensor:
    """E||x - G(G(x, c), c_org)||_1, the mean absolute error over pixels.

    Averaged over pixels and channels as StarGAN does, so lambda_rec = 10 keeps
    its meaning at any resolution.
    """
    if x.shape != x_rec.shape:
        raise ValueError(f"reconstruction {tuple(x_rec.shape)} does not match the input {tuple(x.shape)}")
    return (x.float() - x_rec.float()).abs().mean()
