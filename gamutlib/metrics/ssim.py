"""SSIM (FineGrained Table 3, PortraitGAN Table 1) and MS-SSIM (EGGAN's loss), via torchmetrics.

Both on the [0, 1] scale with the standard 11x11 Gaussian window (sigma 1.5).
MS-SSIM's five scales need images larger than 160 px with that window; on
smaller faces the coarsest scales are dropped (and their weights
renormalised) until the image fits, which ``ms_ssim_scales`` reports.

MS-SSIM follows Wang et al.'s reference (as ``pytorch_msssim.ms_ssim``, which
the tests compare against to 1e-4): every scale's SSIM and contrast term
averaged over the window positions inside the image, per colour channel,
combined across scales per channel and then averaged; odd sizes padded by
one pixel before each 2x2 average. torchmetrics' own MS-SSIM differs in
three ways that move it by up to ~7e-3 at 256 px: the coarsest scale's SSIM
includes windows over its reflection padding, channels are averaged before
the product over scales, and odd sizes are cropped. So the per-scale terms
come from torchmetrics and only their combination is written here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torchmetrics.functional.image import structural_similarity_index_measure

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


def _valid_terms(p: torch.Tensor, t: torch.Tensor, last: bool) -> torch.Tensor:
    """Per (image, channel): the contrast-structure term, or SSIM at the last scale.

    Channels go through torchmetrics as separate grey images, because the
    reference multiplies scales per channel. Both means are over the valid
    window positions (torchmetrics already crops its contrast term so).
    """
    n, c, h, w = p.shape
    p1, t1 = p.reshape(n * c, 1, h, w), t.reshape(n * c, 1, h, w)
    kwargs = dict(data_range=1.0, kernel_size=KERNEL_SIZE, sigma=1.5, reduction="none")
    if last:
        _, full = structural_similarity_index_measure(p1, t1, return_full_image=True, **kwargs)
        pad = (KERNEL_SIZE - 1) // 2
        value = full[..., pad:-pad, pad:-pad].reshape(n * c, -1).mean(-1)
    else:
        _, value = structural_similarity_index_measure(p1, t1, return_contrast_sensitivity=True, **kwargs)
    return value.reshape(n, c)


def ms_ssim(preds: torch.Tensor, target: torch.Tensor, scales: int | None = None) -> float:
    """Mean MS-SSIM over ``scales`` scales (default: as many as the image size allows)."""
    p, t = _pair(preds, target)
    fit = ms_ssim_scales(min(p.shape[-2:]))
    if min(p.shape[-2:]) < KERNEL_SIZE:
        raise ValueError(f"MS-SSIM needs images of at least {KERNEL_SIZE} px, got {tuple(p.shape[-2:])}")
    scales = fit if scales is None else scales
    if not 1 <= scales <= fit:
        raise ValueError(f"{tuple(p.shape[-2:])} px images allow 1..{fit} MS-SSIM scales, got {scales}")
    betas = torch.tensor(MS_SSIM_BETAS[:scales], dtype=torch.float64)
    betas = betas / betas.sum()
    terms = []
    for scale in range(scales):
        last = scale == scales - 1
        # relu as the reference: a negative term to a fractional power is undefined.
        terms.append(torch.relu(_valid_terms(p, t, last)).double())
        if not last:
            padding = [s % 2 for s in p.shape[-2:]]
            p = F.avg_pool2d(p, kernel_size=2, padding=padding)
            t = F.avg_pool2d(t, kernel_size=2, padding=padding)
    per_channel = torch.prod(torch.stack(terms) ** betas.view(-1, 1, 1), dim=0)
    return float(per_channel.mean())
