"""The StarGAN generator and discriminator trunks, shared by the whole series.

StarGAN (Choi et al. 2018), GANimation and GANmut all use the same
encoder - residual bottleneck - decoder generator and the same strided
LeakyReLU discriminator; they differ only in the condition they concatenate
and in the heads on top. The trunks live here so each model file only adds its
heads.
"""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.nn.aligned import AlignedConv2d
from gamutlib.nn.critic_conv import CriticConv2d
from gamutlib.nn.norm import instance_norm
from gamutlib.nn.residual import ResidualBlock


class GeneratorTrunk(nn.Module):
    """7x7 conv, two stride-2 downsamplings, ``repeat_num`` residual blocks,
    two stride-2 transposed upsamplings; returns features of width ``conv_dim``
    at the input resolution (the heads turn them into images)."""

    def __init__(self, in_channels: int, conv_dim: int = 64, repeat_num: int = 6) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            AlignedConv2d(in_channels, conv_dim, 7, 1, 3, bias=False),  # 3 + c_dim channels
            instance_norm(conv_dim),
            nn.ReLU(inplace=True),
        ]
        width = conv_dim
        for _ in range(2):
            layers += [
                nn.Conv2d(width, width * 2, 4, 2, 1, bias=False),
                instance_norm(width * 2),
                nn.ReLU(inplace=True),
            ]
            width *= 2
        layers += [ResidualBlock(width) for _ in range(repeat_num)]
        for _ in range(2):
            layers += [
                nn.ConvTranspose2d(width, width // 2, 4, 2, 1, bias=False),
                instance_norm(width // 2),
                nn.ReLU(inplace=True),
            ]
            width //= 2
        self.main = nn.Sequential(*layers)
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-1] % 4 or x.shape[-2] % 4:
            raise ValueError(f"image height and width must be multiples of 4; got {tuple(x.shape[-2:])}")
        return self.main(x)


class DiscriminatorTrunk(nn.Module):
    """``repeat_num`` 4x4 stride-2 convs with LeakyReLU(0.01), width doubling.

    The convs are ``CriticConv2d``: plain convolutions whose gradient-penalty
    double backward runs on cuDNN's regular kernels.

    Its output is (N, conv_dim * 2**(repeat_num-1), S, S) with
    S = image_size / 2**repeat_num; StarGAN's heads are a 3x3 conv (the PatchGAN
    real/fake map) and an SxS conv (one vector per image).
    """

    def __init__(self, image_size: int = 128, conv_dim: int = 64, repeat_num: int = 6) -> None:
        super().__init__()
        if image_size % (2**repeat_num):
            raise ValueError(
                f"image_size {image_size} must be divisible by 2**repeat_num = {2**repeat_num}"
            )
        layers: list[nn.Module] = [CriticConv2d(3, conv_dim, 4, 2, 1), nn.LeakyReLU(0.01)]
        width = conv_dim
        for _ in range(1, repeat_num):
            layers += [CriticConv2d(width, width * 2, 4, 2, 1), nn.LeakyReLU(0.01)]
            width *= 2
        self.main = nn.Sequential(*layers)
        self.image_size = image_size
        self.out_channels = width
        self.out_size = image_size // 2**repeat_num

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[-2:] != (self.image_size, self.image_size):
            raise ValueError(
                f"D was built for {self.image_size}x{self.image_size} images; got {tuple(x.shape[-2:])}"
            )
        return self.main(x)
