"""Smoothness of an intensity interpolation (GANmut 5.2, Table 1).

For each face and each emotion c, the method generates the series
x_j = G(x, z_{c, rho_j}) with rho_j = 0.1 j, j = 0..10 (GANmut: along the
learned direction theta_c from the origin; StarGAN: linearly from the one-hot
neutral label to c). The judge scores C(c | x_j); the score of the series is
the largest increase in one step divided by the range the score covers,

    s = max_j (C_{j+1} - C_j) / (max_j C_j - min_j C_j),

1 for a sudden switch, 1/10 for a perfectly even ramp. The paper averages s
over the dataset, per emotion. We read "total variation range" as the range
max - min (for a monotone series it equals the total variation); a series
whose range is below ``eps`` has no defined score and is left out and counted.
"""

from __future__ import annotations

from typing import Sequence

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.metrics.batched import Generator, Judge, judge_edits
from gamutlib.metrics.checks import check_images

RHO_STEPS = 11  # rho_j = 0.1 j, j = 0..10


def interpolation_path(start: torch.Tensor, end: torch.Tensor, steps: int = RHO_STEPS) -> torch.Tensor:
    """Codes start + (end - start) * j / (steps - 1), j = 0..steps-1, shape (steps, D).

    GANmut: ``interpolation_path(zeros(2), v_c)`` (rho_j v_c); StarGAN:
    ``interpolation_path(onehot(neutral), onehot(c))``.
    """
    if start.shape != end.shape or start.ndim != 1:
        raise ValueError(f"start and end must be equal-shape vectors, got {tuple(start.shape)} and {tuple(end.shape)}")
    t = torch.linspace(0, 1, steps, dtype=start.dtype, device=start.device)[:, None]
    return start[None] + (end - start)[None] * t


def smoothness_score(series: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Largest one-step increase over the range, along the last dimension; NaN where undefined."""
    if series.shape[-1] < 2:
        raise ValueError(f"a series needs >= 2 steps, got {series.shape[-1]}")
    rise = series.diff(dim=-1).amax(-1).clamp_min(0)
    span = series.amax(-1) - series.amin(-1)
    return torch.where(span > eps, rise / span.clamp_min(eps), torch.full_like(span, float("nan")))


@torch.no_grad()
def smoothness(
    G: Generator,
    judge: Judge,
    images: torch.Tensor,
    path_codes: torch.Tensor,
    classes: Sequence[int],
    chunk_size: int = 2048,
    device: torch.device | str | None = None,
    eps: float = 1e-3,
    steps: int | None = None,
) -> dict[str, object]:
    """Smoothness per emotion: ``path_codes`` is (C, J, D), the code path towards ``classes[i]``.

    Returns ``smoothness`` (mean over the classes of the per-class mean),
    ``per_class`` {emotion: score}, ``undefined`` {emotion: number of flat
    series left out}, and ``scores`` (N, C) for inspection.
    """
    check_images(images)
    if path_codes.ndim != 3 or path_codes.shape[0] != len(classes):
        raise ValueError(f"path_codes must be (C={len(classes)}, J, D), got {tuple(path_codes.shape)}")
    if steps is not None and path_codes.shape[1] != steps:
        raise ValueError(f"this protocol uses {steps} codes per path (rho = 0.1 j), got {path_codes.shape[1]}")
    if any(not 0 <= c < len(EMOTIONS) for c in classes):
        raise ValueError(f"classes must be emotion indices 0..{len(EMOTIONS) - 1}, got {list(classes)}")
    n_classes, n_steps, dim = path_codes.shape
    probs = judge_edits(G, judge, images, path_codes.reshape(-1, dim), chunk_size, device)  # (N, C*J, 7)
    probs = probs.reshape(images.shape[0], n_classes, n_steps, -1)
    target = torch.as_tensor(list(classes), device=probs.device)
    series = probs.gather(3, target.view(1, -1, 1, 1).expand(probs.shape[0], -1, n_steps, 1)).squeeze(3)
    scores = smoothness_score(series, eps)  # (N, C)
    per_class = {EMOTIONS[c]: float(scores[:, i].nanmean()) for i, c in enumerate(classes)}
    undefined = {EMOTIONS[c]: int(scores[:, i].isnan().sum()) for i, c in enumerate(classes)}
    return {
        "smoothness": float(torch.tensor(list(per_class.values())).nanmean()),
        "per_class": per_class,
        "undefined": undefined,
        "n_faces": int(images.shape[0]),
        "scores": scores.cpu(),
    }
