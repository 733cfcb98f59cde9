"""Emotion classification accuracy (GANmut Table 3, supplement section 4).

Generated faces: every test face is edited towards each emotion c with the
method's code for c ((theta_c, 1) for GANmut, mu_c for GGANmut, the one-hot
label for StarGAN/GANimation) and the judge's argmax is compared with c.
Real faces (the paper's "Real" row): the judge's argmax against the test
labels; on the benchmark also against the ground-truth mixture's argmax,
which the paper could not know.
"""

from __future__ import annotations

from typing import Sequence

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.metrics.batched import Generator, Judge, judge_edits, map_batches
from gamutlib.metrics.checks import check_images, check_probs, check_same_length


def per_class_accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> dict[str, float]:
    """Accuracy (%) of predicted class indices within each true class present in ``labels``."""
    check_same_length(predicted=predicted, labels=labels)
    out = {}
    for c, name in enumerate(EMOTIONS):
        mask = labels == c
        if mask.any():
            out[name] = 100.0 * float((predicted[mask] == c).float().mean())
    return out


@torch.no_grad()
def accuracy_generated(
    G: Generator,
    judge: Judge,
    images: torch.Tensor,
    class_codes: torch.Tensor,
    classes: Sequence[int] = tuple(range(len(EMOTIONS))),
    chunk_size: int = 2048,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """Per-class accuracy (%) of the judge on faces edited with ``class_codes[i]`` towards ``classes[i]``."""
    check_images(images)
    if class_codes.ndim != 2 or class_codes.shape[0] != len(classes):
        raise ValueError(f"class_codes must be (C={len(classes)}, D), got {tuple(class_codes.shape)}")
    probs = judge_edits(G, judge, images, class_codes, chunk_size, device)  # (N, C, 7)
    hits = probs.argmax(-1) == torch.as_tensor(list(classes), device=probs.device)[None]
    per_class = {EMOTIONS[c]: 100.0 * float(hits[:, i].float().mean()) for i, c in enumerate(classes)}
    return {"accuracy": sum(per_class.values()) / len(per_class), "per_class": per_class, "n_faces": int(images.shape[0])}


@torch.no_grad()
def accuracy_real(
    judge: Judge,
    images: torch.Tensor,
    labels: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """Per-class accuracy (%) of the judge on real faces against class indices ``labels``."""
    check_images(images)
    check_same_length(images=images, labels=labels)
    probs = check_probs(map_batches(judge, images, batch_size, device), "judge(images)")
    per_class = per_class_accuracy(probs.argmax(1), labels.to(probs.device))
    overall = 100.0 * float((probs.argmax(1) == labels.to(probs.device)).float().mean())
    return {"accuracy": overall, "mean_per_class": sum(per_class.values()) / len(per_class), "per_class": per_class}


def accuracy_real_truth(
    judge: Judge,
    images: torch.Tensor,
    emotion: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """Accuracy on real faces against the argmax of the ground-truth mixture ``emotion`` (N, 7)."""
    check_probs(emotion, "emotion")
    return accuracy_real(judge, images, emotion.argmax(1), batch_size, device)
