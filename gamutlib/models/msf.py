"""The multi-scale fusion (MSF) module of FineGrained (Ling et al. 2020, Sec. 3.3, Fig. 3 right).

An MSF replaces one skip connection of a U-Net. At encoder level i (resolution
r) it takes the encoder features f_i, the fused features f'_{i+1} of the level
below (resolution r/2; the conditioned bottleneck for the deepest MSF) and the
condition vector, and returns f'_i at resolution r, which goes both to the
decoder (concatenated, as a U-Net skip) and to the MSF above. Following the
paper's description:

1. f_i is concatenated with the tiled condition (depth-wise);
2. a convolutional unit keeps resolution r; a stride-2 conv takes it to r/2,
   where it is concatenated with f'_{i+1};
3. one parallel fusion unit exchanges the two streams (HRNet's exchange, Sun
   et al. 2019): each resolution gets a conv of itself plus a resampling of
   the other (stride-2 conv down, transposed conv up);
4. the low stream is brought up to r and fused with the high stream into f'_i.

Kernel sizes as the paper states them: 4x4 for down- and up-sampling, 5x5
(``kernel``) for the other convolutions. Widths (the paper gives none):
inside the module both streams carry C/2 channels, C being f_i's width, and
f'_i has C channels like the skip it replaces; at half width three MSFs cost
about what the U-Net itself costs (the shipped-size budget, finegrained.py).
"""

from __future__ import annotations

import torch
from torch import nn

from gamutlib.nn import tile_condition
from gamutlib.nn.norm import instance_norm


def conv_unit(c_in: int, c_out: int, kernel: int = 5) -> nn.Sequential:
    """kxk conv (resolution kept), instance norm, ReLU."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, 1, kernel // 2, bias=False), instance_norm(c_out),
                         nn.ReLU(inplace=True))


def down_unit(c_in: int, c_out: int) -> nn.Sequential:
    """4x4 stride-2 conv (r -> r/2), instance norm, LeakyReLU(0.2)."""
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1, bias=False), instance_norm(c_out), nn.LeakyReLU(0.2, inplace=True))


def up_unit(c_in: int, c_out: int) -> nn.Sequential:
    """4x4 stride-2 transposed conv (r/2 -> r), instance norm, ReLU."""
    return nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1, bias=False), instance_norm(c_out),
                         nn.ReLU(inplace=True))


class MSF(nn.Module):
    """(f_i (N,C,r,r), f'_{i+1} (N,C_low,r/2,r/2), v (N,c_dim)) -> f'_i (N,C,r,r)."""

    def __init__(self, channels: int, low_channels: int, c_dim: int, kernel: int = 5) -> None:
        super().__init__()
        C, W = channels, max(1, channels // 2)  # W: the width of both streams inside the module
        self.c_dim = c_dim
        self.high_in = conv_unit(C + c_dim, W, kernel)  # the convolutional unit at r
        self.low_in = down_unit(C + c_dim, W)  # the down-sample layer to r/2
        half = W // 2
        # the parallel fusion unit across resolutions
        self.high_to_high = conv_unit(W, half, kernel)
        self.low_to_high = up_unit(W + low_channels, W - half)
        self.high_to_low = down_unit(W, half)
        self.low_to_low = conv_unit(W + low_channels, W - half, kernel)
        # the output: the low stream up to r, fused with the high stream
        self.low_out = up_unit(W, W)
        self.out = conv_unit(2 * W, C, kernel)

    def forward(self, f: torch.Tensor, f_low: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        h = tile_condition(f, v)
        high, low = self.high_in(h), torch.cat([self.low_in(h), f_low], dim=1)
        high, low = (torch.cat([self.high_to_high(high), self.low_to_high(low)], dim=1),
                     torch.cat([self.high_to_low(high), self.low_to_low(low)], dim=1))
        return self.out(torch.cat([high, self.low_out(low)], dim=1))
