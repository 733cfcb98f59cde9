"""Feeding a condition vector to a fully convolutional generator."""

from __future__ import annotations

import torch


def tile_condition(x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Broadcast ``c`` (N, C) over the image ``x`` (N, K, H, W) and concatenate.

    This is how StarGAN, GANimation and GANmut condition G: every pixel sees the
    whole code, as C extra constant channels.
    """
    if c.dim() != 2 or c.shape[0] != x.shape[0]:
        raise ValueError(
            f"condition must be (N, C) with N={x.shape[0]} like the image; got {tuple(c.shape)}"
        )
    c_map = c.to(x.dtype)[:, :, None, None].expand(-1, -1, x.shape[2], x.shape[3])
    return torch.cat([x, c_map], dim=1)
