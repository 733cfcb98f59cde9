"""The papers' image-similarity tables as protocols over the pixel metrics.

FineGrained Table 3 measures reconstruction (the input edited with a zero
relative AU vector) by L1, PSNR and SSIM; PortraitGAN Table 1 measures a
modality transfer against the true target modality by MSE and SSIM. On the
benchmark the target can be rendered exactly (same identity, pose and light,
new AUs or style), so the same protocols also score edits against the true
edited face (``edit_vs_truth``), which neither paper could do.
"""

from __future__ import annotations

import torch

from gamutlib.metrics.pixel_error import l1_error, mse_error
from gamutlib.metrics.psnr import psnr
from gamutlib.metrics.ssim import ms_ssim, ms_ssim_scales, ssim


def reconstruction_quality(preds: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """L1, PSNR, SSIM and MS-SSIM of ``preds`` against ``target`` ([-1, 1] images)."""
    return {
        "l1": l1_error(preds, target),
        "mse": mse_error(preds, target),
        "psnr": psnr(preds, target),
        "ssim": ssim(preds, target),
        "ms_ssim": ms_ssim(preds, target),
        "ms_ssim_scales": ms_ssim_scales(min(preds.shape[-2:])),
        "n_images": int(preds.shape[0]),
    }


def modality_transfer_quality(preds: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """PortraitGAN's MSE and SSIM of ``preds`` against the true target-modality faces."""
    return {"mse": mse_error(preds, target), "ssim": ssim(preds, target), "n_images": int(preds.shape[0])}
