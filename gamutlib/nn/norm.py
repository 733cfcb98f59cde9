"""Normalisation layers as the StarGAN family uses them."""

from __future__ import annotations

from torch import nn


def instance_norm(channels: int) -> nn.InstanceNorm2d:
    """Instance norm with a learned affine and no running statistics.

    StarGAN builds ``InstanceNorm2d(affine=True, track_running_stats=True)`` but
    never calls ``G.eval()``, so at test time it normalises with the statistics
    of the image itself. Not tracking running statistics gives that behaviour in
    both modes, and keeps an exported G independent of train/eval mode.
    """
    return nn.InstanceNorm2d(channels, affine=True, track_running_stats=False)
