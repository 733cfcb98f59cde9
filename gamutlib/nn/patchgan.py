"""The PatchGAN discriminator of pix2pix and CycleGAN (Isola et al. 2017; Zhu et al. 2017).

``n_layers`` 4x4 stride-2 convolutions, then a 4x4 stride-1 convolution and
a 4x4 one-channel head: with ``n_layers = 3`` every output element sees a
70x70 patch of the input. LeakyReLU(0.2), instance norm after the first layer
(CycleGAN's choice). PortraitGAN uses "two 3-layer PatchGAN discriminators",
CycleGAN one per domain. ``forward`` returns the score map and the
intermediate features (PortraitGAN's feature matching, Eq. 5, reads them).
"""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.nn.norm import instance_norm


class PatchDiscriminator(nn.Module):
    """x (N, 3, S, S) -> (scores (N, 1, S', S'), [features of each hidden layer])."""

    def __init__(self, image_size: int, conv_dim: int = 64, n_layers: int = 3) -> None:
        super().__init__()
        # the two stride-1 4x4 convolutions each take 1 px: the last strided map must be >= 3 px
        if image_size // 2**n_layers < 3:
            raise ValueError(
                f"a {n_layers}-layer PatchGAN needs images of at least {3 * 2**n_layers} px; got {image_size} "
                "(use fewer levels or a larger image)"
            )
        blocks: list[nn.Module] = [nn.Sequential(nn.Conv2d(3, conv_dim, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True))]
        width = conv_dim
        for i in range(1, n_layers + 1):
            stride = 2 if i < n_layers else 1
            out = conv_dim * min(2**i, 8)
            blocks.append(nn.Sequential(nn.Conv2d(width, out, 4, stride, 1, bias=False), instance_norm(out),
                                        nn.LeakyReLU(0.2, inplace=True)))
            width = out
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Conv2d(width, 1, 4, 1, 1)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return self.head(x), features
