"""EGGAN's expression constraint (its Eq. 3): AU intensities as multi-level classes.

Each of the d AUs' intensity u in [0, m] becomes the class [u] in {0..m} (the
paper's text: "rounding a number to the nearest integer"; m = 5, the OpenFace
scale), and C_exp outputs d (m + 1) logits. L_au is the cross-entropy per AU,
averaged over the d AUs (the 1/d of Eq. 3) and over the batch.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

AU_LEVELS = 6  # m + 1 with m = 5


def au_levels(aus: torch.Tensor, levels: int = AU_LEVELS) -> torch.Tensor:
    """(N, d) intensities in [0, levels - 1] -> (N, d) long classes (nearest integer)."""
    return aus.float().round().clamp(0, levels - 1).long()


def loss_au(logits: torch.Tensor, aus: torch.Tensor, levels: int = AU_LEVELS) -> torch.Tensor:
    """Eq. 3: -1/d sum_j log C_exp^(j, [u^j]), averaged over the batch.

    ``logits`` (N, d * levels) laid out AU-major (AU j owns columns j*levels ..
    j*levels + levels - 1); ``aus`` (N, d) target intensities."""
    n, d = aus.shape
    if logits.shape != (n, d * levels):
        raise ValueError(f"C_exp logits must be (N, {d} * {levels}) = {(n, d * levels)}; got {tuple(logits.shape)}")
    return F.cross_entropy(logits.float().reshape(n * d, levels), au_levels(aus, levels).reshape(-1))


def expected_au(logits: torch.Tensor, levels: int = AU_LEVELS) -> torch.Tensor:
    """(N, d): the intensity C_exp predicts, the mean level under its softmax."""
    n = logits.shape[0]
    p = logits.float().reshape(n, -1, levels).softmax(-1)
    return (p * torch.arange(levels, device=logits.device, dtype=p.dtype)).sum(-1)
