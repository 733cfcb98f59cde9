"""SSIM (FineGrained Table 3, PortraitGAN Table 1) and MS-SSIM (EGGAN's loss), via torchmetrics.

Both on the [0, 1] scale with the standard 11x11 Gaussian window (sigma 1.5).
MS-SSIM's five scales need images larger than 160 px with that window; on
smaller faces the coarsest scales are dropped (and their weights
renormalised) until the image fits, which ``ms_ssim_scales`` reports.
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import (
    multiscale_structural_similarity_index_measure,
    structural_similarity_index_measure,
)

from gamutlib.metrics.pixel_error import _pair

MS_SSIM_BETAS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)  # Wang et al. 2003
KERNEL_SIZE = 11


def ssim(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean SSIM over the window positions that lie fully inside the image.

    That is the reference implementation's 'valid' region (Wang et al.'s
    MATLAB code, scikit-image); torchmetrics' own mean covers a slightly wider
    band of the padded border, which moves the mean by ~1e-3 on 48 px faces.
    """
    p, t = _pair(preds, target)
    if min(p.shape[-2:]) < KERNEL_SIZE:
        raise ValueError(f"SSIM needs images of at least {KERNEL_SIZE} px, got {tuple(p.shape[-2:])}")
    _, full = structural_similarity_index_measure(
        p, t, data_range=1.0, kernel_size=KERNEL_SIZE, sigma=1.5, return_full_image=True
    )
    pad = (KERNEL_SIZE - 1) // 2
    return float(full[..., pad:-pad, pad:-pad].mean())


def ms_ssim_scales(size: int) -> int:
    """How many MS-SSIM scales fit an image of ``size`` pixels with the 11 px window."""
    scales = len(MS_SSIM_BETAS)
    while scales > 1 and size <= (KERNEL_SIZE - 1) * 2 ** (scales - 1):
        scales -= 1
    return scales


def ms_ssim(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean MS-SSIM over as many scales as the image size allows."""
    p, t = _pair(preds, target)
    scales = ms_ssim_scales(min(p.shape[-2:]))
    betas = torch.tensor(MS_SSIM_BETAS[:scales])
    betas = tuple(float(b) for b in betas / betas.sum())
    return float(
        multiscale_structural_similarity_index_measure(
            p, t, data_range=1.0, kernel_size=KERNEL_SIZE, sigma=1.5, betas=betas, normalize="relu"
        )
    )
