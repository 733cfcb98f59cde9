"""Total variation of an image (Johnson et al. 2016; FineGrained's L_tv)."""

from __future__ import annotations

import torch


def loss_tv(image: torch.Tensor) -> torch.Tensor:
    """Sum of absolute neighbour differences over pixels and channels, averaged
    over the batch. FineGrained (Sec. 3.4) puts it on the generated RGB image
    ("smooth spatial transformation ... in RGB color space"), lambda_4 = 5e-6;
    the reference code sums over the batch as well, averaging keeps lambda_4
    independent of the batch size."""
    x = image.float()
    tv = (x[:, :, :, 1:] - x[:, :, :, :-1]).abs().sum() + (x[:, :, 1:, :] - x[:, :, :-1, :]).abs().sum()
    return tv / x.shape[0]
