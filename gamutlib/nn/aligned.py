"""Convolutions whose channel counts suit tensor cores.

bf16/fp16 tensor-core convolution kernels want channel counts in multiples of
8. The StarGAN family has three convolutions that miss: G's first 7x7 conv
(3 image + c_dim condition channels, 10 for 7 emotions), its 7x7 output heads
(3 colour channels, 1 attention channel) and D's first conv (3 channels).
At 128 px these are the largest convolutions of the network by pixels, and
cuDNN falls back to slow kernels for them in bf16.

``AlignedConv2d`` is an ``nn.Conv2d`` (same parameters, same state dict) that,
when it runs in half precision on CUDA, pads its input with zero channels and
its weight with zero rows/columns up to the next multiple of 8, then drops the
extra output channels. The zero channels add exact zeros, so the result is the
same convolution. On CPU and in fp32 it is a plain ``nn.Conv2d``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MULTIPLE = 8


def _pad_to(n: int) -> int:
    return (-n) % MULTIPLE


class AlignedConv2d(nn.Conv2d):
    """``nn.Conv2d`` padded to multiples of 8 channels under bf16/fp16 on CUDA.

    ``align`` (default True) switches the padding off per layer, for timing.
    """

    align: bool = True

    def _half_on_cuda(self, x: torch.Tensor) -> bool:
        if not x.is_cuda:
            return False
        return x.dtype in (torch.float16, torch.bfloat16) or torch.is_autocast_enabled("cuda")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.align and self.groups == 1 and self.padding_mode == "zeros" and self._half_on_cuda(x) \
                and (_pad_to(self.in_channels) or _pad_to(self.out_channels)):
            return self.padded_forward(x)
        return super().forward(x)

    def padded_forward(self, x: torch.Tensor) -> torch.Tensor:
        """The convolution with in/out channels zero-padded to multiples of 8."""
        pad_in, pad_out = _pad_to(self.in_channels), _pad_to(self.out_channels)
        # weight (out, in, kh, kw): zero input columns and zero output rows
        weight = F.pad(self.weight, (0, 0, 0, 0, 0, pad_in, 0, pad_out))
        bias = F.pad(self.bias, (0, pad_out)) if self.bias is not None else None
        if pad_in:
            x = F.pad(x, (0, 0, 0, 0, 0, pad_in))
        y = self._conv_forward(x, weight, bias)
        return y[:, : self.out_channels] if pad_out else y
