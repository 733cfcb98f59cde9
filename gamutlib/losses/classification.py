"""Domain classification through D's auxiliary head (StarGAN's L_cls)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def loss_cls(logits: torch.Tensor, label: torch.Tensor) -> torch.Tensor:
    """-E[log D_cls(c | x)]: cross-entropy of D's class logits against ``label``.

    Used for L_cls^r (real images, dataset labels; trains D) and L_cls^f (fakes,
    target labels; trains G) in StarGAN, GANimation and both GANmut models.
    """
    if logits.dim() != 2 or label.shape != logits.shape[:1]:
        raise ValueError(f"logits must be (N, C) and label (N,); got {tuple(logits.shape)} and {tuple(label.shape)}")
    return F.cross_entropy(logits.float(), label.long())
