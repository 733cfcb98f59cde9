"""Pixel errors between two image batches: L1 (FineGrained Table 3) and MSE (PortraitGAN Table 1).

Images arrive in [-1, 1] and are compared on the [0, 1] scale, which is the
scale on which both papers' numbers (L1 0.02-0.05, MSE 0.025-0.03) make sense.
"""

from __future__ import annotations

import torch
from torchmetrics.functional import mean_absolute_error, mean_squared_error

from gamutlib.metrics.checks import check_images


def to_unit_range(x: torch.Tensor) -> torch.Tensor:
    """[-1, 1] images to [0, 1]."""
    return ((x.float() + 1) / 2).clamp(0, 1)


def _pair(preds: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    check_images(preds, "preds")
    check_images(target, "target")
    if preds.shape != target.shape:
        raise ValueError(f"preds and target must have the same shape, got {tuple(preds.shape)} and {tuple(target.shape)}")
    return to_unit_range(preds), to_unit_range(target.to(preds.device))


def l1_error(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean absolute pixel difference on the [0, 1] scale."""
    p, t = _pair(preds, target)
    return float(mean_absolute_error(p, t))


def mse_error(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean squared pixel difference on the [0, 1] scale."""
    p, t = _pair(preds, target)
    return float(mean_squared_error(p, t))
