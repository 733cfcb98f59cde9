"""PortraitGAN's texture-consistency loss (Eq. 8-9): Gram matrices of feature maps.

Gatys et al. (2016) describe a texture by the correlations between the
feature maps of a network layer: for the vectorised maps psi^k of layer L,
G(k, l) = <psi^k, psi^l> (Eq. 8). PortraitGAN compares the Gram matrices of
the generated and the target image, ||G_A - G_B||^2 summed over k, l (Eq. 9),
over several layers.

Normalisation: Eq. 8 sums over pixels, so the loss would grow with the
image's area and the layer's width. Like Johnson et al. (2016), whose
style-transfer networks made the paper's targets, we divide each Gram matrix
by C*H*W, so that ``lambda_texture`` keeps its meaning at 64, 128 or 256 px.

Balance across layers (``per_layer="relative"``): Eq. 9 sums the layers as
they come, so the layer whose activations are largest decides the loss. With
the benchmark's feature network the deepest layer's squared Gram norms are 70-260
times the others', so that one layer decides the summed loss. The
relative form divides each layer's distance by the target's squared Gram norm
and averages over layers (Gatys et al.'s equal layer weights), so every layer
counts alike whatever its scale. ``per_layer="sum"`` is Eq. 9 as written.
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch


def gram_matrix(feature: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) feature maps -> (N, C, C) Gram matrices, divided by C*H*W (Eq. 8)."""
    if feature.dim() != 4:
        raise ValueError(f"a feature map must be (N, C, H, W); got {tuple(feature.shape)}")
    n, c, h, w = feature.shape
    flat = feature.float().reshape(n, c, h * w)
    return flat @ flat.transpose(1, 2) / (c * h * w)


PER_LAYER = ("sum", "relative")


def gram_distance(fx: Sequence[torch.Tensor], fy: Sequence[torch.Tensor], per_layer: str = "sum") -> torch.Tensor:
    """Eq. 9 over layers, averaged over the batch: ``"sum"``: sum_L sum_{k,l} (G_x - G_y)^2;
    ``"relative"``: mean_L of sum_{k,l} (G_x - G_y)^2 / sum_{k,l} G_y^2 (see the module docstring)."""
    if per_layer not in PER_LAYER:
        raise ValueError(f"per_layer must be one of {PER_LAYER}; got {per_layer!r}")
    if len(fx) != len(fy) or not fx:
        raise ValueError(f"need the same, non-zero number of feature maps for both images; got {len(fx)} and {len(fy)}")
    total = fx[0].new_zeros((), dtype=torch.float32)
    for a, b in zip(fx, fy):
        if a.shape != b.shape:
            raise ValueError(f"feature maps differ in shape: {tuple(a.shape)} vs {tuple(b.shape)}")
        gx, gy = gram_matrix(a), gram_matrix(b)
        distance = (gx - gy).pow(2).sum((1, 2))
        if per_layer == "relative":
            distance = distance / gy.pow(2).sum((1, 2)).clamp_min(1e-12)
        total = total + distance.mean()
    return total / len(fx) if per_layer == "relative" else total


def gram_loss(features: Callable[[torch.Tensor], Sequence[torch.Tensor]], x: torch.Tensor, y: torch.Tensor,
              per_layer: str = "sum") -> torch.Tensor:
    """L_texture(x, y) of Eq. 9 on the maps ``features(.)`` returns (a list, one per layer).

    ``features`` is any callable (the benchmark's feature network in training,
    a fixed stand-in in tests); it is not trained by this loss. Gradients flow
    into ``x`` and ``y`` alike; detach the target yourself if it is data.
    """
    return gram_distance(list(features(x)), list(features(y)), per_layer)
