"""The perceptual loss (Johnson et al. 2016; EGGAN's Eq. 5) on any feature network.

``features`` is any callable image (N, 3, H, W) in [-1, 1] -> list of feature
maps (gamutlib.nn.feature_net.BenchmarkFeatures, never a scoring judge). The
loss is the mean squared difference of the chosen maps, i.e. the squared L2
distance divided by C*H*W as in Johnson et al.; EGGAN's Eq. 5 writes an
unsquared norm over C*H*W, which at these sizes is a far weaker, non-smooth
term, so the squared form of the reference it cites is used. EGGAN uses one
layer, the third (``layers=(2,)``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

Features = Callable[[torch.Tensor], Sequence[torch.Tensor]]


def perceptual_loss(features: Features, x: torch.Tensor, y: torch.Tensor, layers: Sequence[int] | None = None) -> torch.Tensor:
    """Mean over ``layers`` (default: all) of mean((phi_l(x) - phi_l(y))^2).

    ``x`` is the generated image (gradients flow into it); ``y`` the target,
    whose features are taken without a graph."""
    fx = list(features(x))
    with torch.no_grad():
        fy = list(features(y))
    chosen = range(len(fx)) if layers is None else layers
    terms = []
    for i in chosen:
        if not -len(fx) <= i < len(fx):
            raise ValueError(f"layer {i} asked for; the feature network returns {len(fx)} maps")
        terms.append((fx[i].float() - fy[i].float()).pow(2).mean())
    if not terms:
        raise ValueError("perceptual_loss needs at least one layer")
    return torch.stack(terms).mean()
