"""Layers that keep the GPU on its fast paths under channels_last and bf16.

Both are drop-in subclasses of the torch layers they replace: same
parameters, same state-dict keys (shipped weights load unchanged), and on a
plain NCHW tensor they run the parent's code, so CPU inference is untouched.

* ``AlignedConv2d``: cuDNN's tensor-core convolutions want channel counts that
  are multiples of 8 in NHWC. The generators' first conv sees 3 + code channels
  (5 or 10), the critic's first conv 3, the colour heads output 3. Such a conv
  falls back to a slow kernel (on an H100 one 7x7 conv with 10 input channels
  took 1.9 ms of a 15 ms training step). Padding the input and the weight with
  zero channels (and the weight with zero filters on the output side, sliced off
  afterwards) computes exactly the same sums on the fast kernel; gradients reach
  the real weights and inputs through the pad and the slice.
* ``InstanceNorm2d``: torch's instance norm reshapes its input to (1, N*C, H, W),
  which forces a channels_last tensor through two layout copies per layer in
  each direction (a third of the GPU time of a StarGAN step). On channels_last
  input the statistics are taken with ``var_mean`` over H, W instead, in fp32,
  which keeps the layout.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

ALIGN = 8


def _pad_to(n: int) -> int:
    return -n % ALIGN


def _channels_last(t: torch.Tensor) -> bool:
    """Strictly channels_last (a tensor with C == 1 or H == W == 1 is both layouts: not this)."""
    return t.dim() == 4 and t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()


class AlignedConv2d(nn.Conv2d):
    """nn.Conv2d that pads odd channel counts to a multiple of 8 on the channels_last GPU path."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pad_in, pad_out = _pad_to(self.in_channels), _pad_to(self.out_channels)
        # The layer is on the fast path when the engine made it channels_last.
        if self.groups != 1 or not (pad_in or pad_out) or not _channels_last(self.weight):
            return super().forward(x)
        weight, bias = self.weight, self.bias
        if pad_in:
            x = F.pad(x, (0, 0, 0, 0, 0, pad_in))
            weight = F.pad(weight, (0, 0, 0, 0, 0, pad_in))
        if pad_out:
            weight = F.pad(weight, (0, 0, 0, 0, 0, 0, 0, pad_out))
            bias = F.pad(bias, (0, pad_out)) if bias is not None else None
        x = x.contiguous(memory_format=torch.channels_last)
        weight = weight.contiguous(memory_format=torch.channels_last)
        y = self._conv_forward(x, weight, bias)
        return y[:, : self.out_channels] if pad_out else y


class InstanceNorm2d(nn.InstanceNorm2d):
    """nn.InstanceNorm2d (no running statistics) that keeps channels_last on the GPU."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.track_running_stats or not _channels_last(x):
            return super().forward(x)
        compute = torch.promote_types(x.dtype, torch.float32)  # bf16 in, fp32 statistics
        xf = x.to(compute)
        var, mean = torch.var_mean(xf, dim=(2, 3), keepdim=True, correction=0)
        y = (xf - mean) * torch.rsqrt(var + self.eps)
        if self.affine:
            y = y * self.weight.to(compute)[:, None, None] + self.bias.to(compute)[:, None, None]
        return y.to(x.dtype)
