"""The VGG-style trunk every judge of the benchmark shares.

GANmut measured with a VGGNet trained on AffectNet; gamut's judges keep that
shape (stacks of 3x3 conv + BatchNorm + ReLU, halved by max-pooling) at a
width that ships in a few MB: widths (w, 2w, 4w, 8w, 8w), two convs per stage,
five stages, global average pooling. w = 32 gives 2.3 M parameters, a 4.7 MB
fp16 file, 8x8 maps before pooling at 64 px and 4x4 at 128 px.
"""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.metrics.checks import check_images


def _stage(c_in: int, c_out: int) -> list[nn.Module]:
    return [
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    ]


class VGGTrunk(nn.Module):
    """(N, 3, size, size) images in [-1, 1] -> (N, 8 * width) pooled features."""

    def __init__(self, size: int = 128, width: int = 32, stages: int = 5) -> None:
        super().__init__()
        if size % 2**stages:
            raise ValueError(f"image size {size} must be divisible by 2**stages = {2**stages}")
        widths = [width * m for m in (1, 2, 4, 8, 8, 8, 8)[:stages]]
        layers: list[nn.Module] = []
        c_in = 3
        for c_out in widths:
            layers += _stage(c_in, c_out)
            c_in = c_out
        self.body = nn.Sequential(*layers)
        self.size = size
        self.out_features = c_in

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and not self.training:
            check_images(x, "judge input", self.size)
        elif x.shape[-2:] != (self.size, self.size):
            raise ValueError(f"judge input must be {self.size}x{self.size} pixels, got {tuple(x.shape[-2:])}")
        return self.body(x).mean((2, 3))
