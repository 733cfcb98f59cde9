"""The residual block of the StarGAN / GANimation / GANmut generators."""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.nn.norm import instance_norm


class ResidualBlock(nn.Module):
    """conv3x3 - IN - ReLU - conv3x3 - IN, plus the identity.

    The bottleneck of every generator in the GANmut series keeps the spatial
    size and the width, so the skip needs no projection.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            instance_norm(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, 1, 1, bias=False),
            instance_norm(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.main(x)
