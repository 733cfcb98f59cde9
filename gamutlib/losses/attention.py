"""GANimation's attention-mask regularisers (Pumarola et al. 2018, Sec. 4.2)."""

from __future__ import annotations

import torch


def loss_attention(A: torch.Tensor) -> torch.Tensor:
    """E[mean(A)]: keeps the attention mask A (1 = keep the input pixel) from
    saturating to 1, where G would change nothing and still fool nobody.

    The GANimation paper writes an l2 norm; its code, which the GANmut authors
    trained, uses the mean of A (A >= 0, so an l1 norm). We follow the code.
    """
    return A.float().mean()


def loss_attention_tv(A: torch.Tensor) -> torch.Tensor:
    """Total variation of A, summed over pixels and averaged over the batch:
    a smooth mask avoids speckle artefacts where A flips between 0 and 1.

    GANimation's code sums over the whole batch as well; averaging over the
    batch keeps lambda_tv independent of the batch size.
    """
    A = A.float()
    tv = (A[:, :, :, 1:] - A[:, :, :, :-1]).abs().sum() + (A[:, :, 1:, :] - A[:, :, :-1, :]).abs().sum()
    return tv / A.shape[0]
