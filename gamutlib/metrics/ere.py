"""Emotion Reconstruction Error (GANmut 5.3, Table 2).

How well can a method reproduce a *complex* emotion? The test faces are taken
in batches of 16; the emotion judge scores each batch, and the softmax of the
most ambiguous face (the one whose k-th highest probability is largest:
k = 3 in Setting 1, "at least 3 high values"; k = 2 in Setting 2) becomes the
batch's target distribution. Every face of the batch is then edited with every
code of a grid, and the code whose judged softmax is closest to the target (in
MSE over the 7 classes) is kept. ERE is that smallest MSE averaged over all
test faces.

Grids, as in the paper: GANmut's polar space with radius steps of 0.05 and
angle steps of 2*pi/21 (``polar_code_grid``); GGANmut's square [-1, 1]^2 with
steps of 0.1 (``square_code_grid``); the 7 one-hot labels for categorical
methods (``categorical_codes``).

The paper does not say whether the target keeps the whole softmax or only its
top k entries; we keep the whole softmax of the selected face (it is what the
judge would say of a real face), and say so in the evaluation chapter.
"""

from __future__ import annotations

import math

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.metrics.batched import Generator, Judge, judge_edits, map_batches
from gamutlib.metrics.checks import check_images, check_probs


def polar_code_grid(radius_step: float = 0.05, angle_steps: int = 21, max_radius: float = 1.0, polar: bool = False) -> torch.Tensor:
    """GANmut's search grid: radii 0, step, ..., max_radius and angles 2*pi*i/angle_steps.

    Returns cartesian codes z = rho * (cos theta, sin theta), shape (K, 2), or
    (theta, rho) pairs with ``polar=True``. The origin appears once (every
    angle gives the same code there), so K = angle_steps * n_radii_above_0 + 1.
    """
    n_radii = round(max_radius / radius_step)
    if n_radii < 1 or not math.isclose(n_radii * radius_step, max_radius, rel_tol=1e-6):
        raise ValueError(f"max_radius {max_radius} must be a positive multiple of radius_step {radius_step}")
    rho = torch.arange(1, n_radii + 1, dtype=torch.float64) * radius_step
    theta = torch.arange(angle_steps, dtype=torch.float64) * (2 * math.pi / angle_steps)
    t, r = torch.meshgrid(theta, rho, indexing="ij")
    pairs = torch.cat([torch.zeros(1, 2, dtype=torch.float64), torch.stack([t.flatten(), r.flatten()], 1)])
    if polar:
        return pairs.float()
    return torch.stack([pairs[:, 1] * pairs[:, 0].cos(), pairs[:, 1] * pairs[:, 0].sin()], 1).float()


def square_code_grid(step: float = 0.1, low: float = -1.0, high: float = 1.0) -> torch.Tensor:
    """GGANmut's search grid: every point of [low, high]^2 with spacing ``step``, shape (K, 2)."""
    n = round((high - low) / step)
    if n < 1 or not math.isclose(low + n * step, high, rel_tol=1e-6, abs_tol=1e-9):
        raise ValueError(f"[{low}, {high}] must be a positive multiple of step {step}")
    axis = torch.linspace(low, high, n + 1, dtype=torch.float64)
    x, y = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([x.flatten(), y.flatten()], 1).float()


def categorical_codes(n_classes: int = len(EMOTIONS)) -> torch.Tensor:
    """The one-hot labels a categorical method (StarGAN, GANimation) is searched over."""
    return torch.eye(n_classes)


def ere_targets(probs: torch.Tensor, top_k: int, batch_faces: int = 16) -> tuple[torch.Tensor, torch.Tensor]:
    """Per face, the target distribution of its batch and the index of the face it came from.

    Faces are grouped in consecutive batches of ``batch_faces`` (the last may
    be shorter); within each, the face with the largest k-th highest
    probability (the most ambiguous one) gives the target.
    """
    check_probs(probs)
    if not 1 <= top_k <= probs.shape[1]:
        raise ValueError(f"top_k must be in 1..{probs.shape[1]}, got {top_k}")
    if batch_faces < 1:
        raise ValueError(f"batch_faces must be >= 1, got {batch_faces}")
    n = probs.shape[0]
    kth = probs.topk(top_k, dim=1).values[:, -1]  # (N,) the k-th highest probability
    n_pad = -n % batch_faces
    padded = torch.cat([kth, kth.new_full((n_pad,), -1.0)]).view(-1, batch_faces)
    source = padded.argmax(1) + torch.arange(padded.shape[0], device=probs.device) * batch_faces
    source = source.repeat_interleave(batch_faces)[:n]
    return probs[source], source


@torch.no_grad()
def emotion_reconstruction_error(
    G: Generator,
    judge: Judge,
    images: torch.Tensor,
    codes: torch.Tensor,
    top_k: int,
    batch_faces: int = 16,
    chunk_size: int = 2048,
    device: torch.device | str | None = None,
) -> dict[str, object]:
    """ERE of generator ``G(x, codes)`` judged by ``judge`` (images -> softmax), over a code grid.

    Returns ``ere`` (mean over faces of the smallest MSE), ``ere_std``, and the
    tensors ``errors`` (N,) and ``best_codes`` (N, D) for inspection.
    """
    check_images(images)
    probs_real = map_batches(judge, images, chunk_size, device)
    targets, _ = ere_targets(check_probs(probs_real, "judge(images)"), top_k, batch_faces)
    probs_edit = judge_edits(G, judge, images, codes, chunk_size, device)  # (N, K, 7)
    mse = (probs_edit - targets.to(probs_edit.device)[:, None, :]).pow(2).mean(-1)  # (N, K)
    errors, best = mse.min(1)
    return {
        "ere": float(errors.mean()),
        "ere_std": float(errors.std()) if len(errors) > 1 else 0.0,
        "n_faces": int(images.shape[0]),
        "n_codes": int(codes.shape[0]),
        "top_k": top_k,
        "errors": errors.cpu(),
        "best_codes": codes[best.to(codes.device)].cpu(),
    }
