"""Inception Score on the emotion judge (FineGrained Table 1).

IS = exp(E_x KL(p(y|x) || p(y))), the mean and standard deviation over 10
splits as GANimation and FineGrained report it. No ImageNet Inception exists
offline, so p(y|x) is the emotion judge's softmax over the 7 classes: the
score then rewards edits that are confidently one emotion (high per-face
confidence) and that cover all emotions (a broad marginal), with a ceiling of
7 instead of 1000; it is not comparable with the paper's absolute values,
only between methods. The maths is torchmetrics' InceptionScore, fed with
the judge's logits.
"""

from __future__ import annotations

import warnings

import torch
from torchmetrics.image.inception import InceptionScore

from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_images


def inception_score_of_logits(logits: torch.Tensor, splits: int = 10, seed: int = 0) -> tuple[float, float]:
    """(mean, std) of IS over ``splits`` random splits (seeded) of (N, C) logits."""
    if logits.ndim != 2 or logits.shape[0] < splits:
        raise ValueError(f"logits must be (N >= splits={splits}, C), got {tuple(logits.shape)}")
    if not torch.isfinite(logits).all():
        raise ValueError("logits contain NaN or inf values")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its note on buffering features; we pass (N, 7) logits
        metric = InceptionScore(feature=torch.nn.Identity(), splits=splits)
    metric.update(logits.double())
    with torch.random.fork_rng(devices=[]):  # torchmetrics shuffles with the global RNG
        torch.manual_seed(seed)
        mean, std = metric.compute()
    return float(mean), float(std)


@torch.no_grad()
def inception_score(
    logits: Judge,
    images: torch.Tensor,
    splits: int = 10,
    seed: int = 0,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """IS of ``images`` under the judge's ``logits`` (images -> (N, 7) logits)."""
    check_images(images)
    mean, std = inception_score_of_logits(map_batches(logits, images, batch_size, device), splits, seed)
    return {"is": mean, "is_std": std, "n_images": int(images.shape[0])}
