"""MS-SSIM as a differentiable loss term (EGGAN's Eq. 6: 1 - MS-SSIM).

The same Gaussian window (11 px, sigma 1.5), the same scale weights (Wang et
al.) and the same rule for how many scales fit an image as the MS-SSIM metric
(gamutlib.metrics.ssim), computed with torchmetrics, which that metric wraps
and which keeps the graph. Negative contrast terms are clipped at 0 before
the fractional powers (torchmetrics' ``normalize="relu"``, the reference's
choice), so the gradient stays finite. It differs from the metric in
torchmetrics' border handling by at most ~1e-2 (tests/test_eggan.py).
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import multiscale_structural_similarity_index_measure

from gamutlib.metrics.ssim import KERNEL_SIZE, MS_SSIM_BETAS, ms_ssim_scales


def ms_ssim_value(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """MS-SSIM of two (N, 3, H, W) batches in [-1, 1], as a tensor with a graph."""
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"MS-SSIM needs two equally shaped (N, C, H, W) batches; got {tuple(x.shape)} and {tuple(y.shape)}")
    size = min(x.shape[-2:])
    if size <= KERNEL_SIZE:
        raise ValueError(f"MS-SSIM needs images larger than {KERNEL_SIZE} px; got {size}")
    scales = ms_ssim_scales(size)
    betas = torch.tensor(MS_SSIM_BETAS[:scales])
    betas = tuple(float(b) for b in betas / betas.sum())
    a = ((x.float() + 1) / 2).clamp(0, 1)
    b = ((y.float() + 1) / 2).clamp(0, 1)
    # in float32 even under the engine's bf16 autocast: the windowed means of
    # near-identical images cancel, which bf16's 8 bits cannot resolve
    with torch.autocast(x.device.type, enabled=False):
        return multiscale_structural_similarity_index_measure(
            a, b, data_range=1.0, kernel_size=KERNEL_SIZE, sigma=1.5, betas=betas, normalize="relu"
        )


def loss_ms_ssim(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """1 - MS-SSIM(x, y): 0 for identical images."""
    return 1.0 - ms_ssim_value(x, y)
