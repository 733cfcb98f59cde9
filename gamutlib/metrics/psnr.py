"""PSNR (FineGrained Table 3), torchmetrics on the [0, 1] scale (data range 1).

PSNR is computed per image and averaged, as reconstruction papers report it
(one PSNR over the pooled batch would weight the worst images differently).
"""

from __future__ import annotations

import torch
from torchmetrics.functional.image import peak_signal_noise_ratio

from gamutlib.metrics.pixel_error import _pair


def psnr(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean per-image PSNR in dB."""
    p, t = _pair(preds, target)
    per_image = peak_signal_noise_ratio(p, t, data_range=1.0, reduction="none", dim=(1, 2, 3))
    return float(per_image.mean())
