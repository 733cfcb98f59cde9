"""AU regression through D's conditional head (GANimation's and FineGrained's L_cond)."""

from __future__ import annotations

import torch


def loss_cond(au_pred: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """E||D_cond(x) - v||^2 (FineGrained Eq. 5 on real images with v_src, Eq. 6
    on fakes with v_tgt), averaged over the batch *and the 17 AUs*.

    The paper writes a squared l2 norm (a sum over AUs); the reference code of
    both papers uses a mean-squared error, and the paper's lambda_1 = lambda_2
    = 150 were tuned with it, so we take the mean (the sum is 17 times larger).
    """
    if au_pred.shape != v.shape:
        raise ValueError(f"predicted AUs {tuple(au_pred.shape)} do not match the target {tuple(v.shape)}")
    return ((au_pred.float() - v.float()) ** 2).mean()
