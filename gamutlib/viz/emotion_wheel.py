"""Wheels of emotion (GANmut supplement, Fig. 9-11).

The input face sits at the centre of the learned map, and its edits are placed
where their codes lie: K faces evenly spaced in theta on each ring of radius
rho (the supplement uses rho_1 = 0.6, and rho_1 = 0.4 with rho_2 = 1). The
learned directions are drawn underneath, so one sees which part of the
gamut each face comes from.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gamutlib.viz.image_grid import to_uint8


def wheel_codes(n_angles: int = 12, rhos: Sequence[float] = (0.4, 1.0)) -> tuple[torch.Tensor, torch.Tensor]:
    """(theta, rho) of a wheel: ``n_angles`` angles from 0, on every ring in ``rhos``."""
    if n_angles < 1:
        raise ValueError(f"n_angles must be >= 1; got {n_angles}")
    if not rhos or any(not 0 < float(r) <= 1 for r in rhos):
        raise ValueError(f"rhos must be radii in (0, 1]; got {list(rhos)}")
    theta = torch.arange(n_angles, dtype=torch.float32) * (2 * math.pi / n_angles)
    thetas = theta.repeat(len(rhos))
    rho = torch.tensor([float(r) for r in rhos]).repeat_interleave(n_angles)
    return thetas, rho


def plot_emotion_wheel(
    center: torch.Tensor,
    images: torch.Tensor,
    theta: torch.Tensor,
    rho: torch.Tensor,
    space: Any | None = None,
    ax: Axes | None = None,
    tile: float | None = None,
) -> Axes:
    """Place ``images`` (K, 3, H, W) at rho (cos theta, sin theta) around ``center``.

    ``space`` (a LinearConditionSpace) draws the learned directions beneath;
    ``tile`` is the side of one face in map units (default: as large as the
    tightest ring allows without overlaps).
    """
    theta, rho = torch.as_tensor(theta).float().cpu(), torch.as_tensor(rho).float().cpu()
    if images.dim() != 4 or images.shape[0] != theta.numel() or theta.shape != rho.shape:
        raise ValueError(
            f"need one image per code: images {tuple(images.shape)}, theta {tuple(theta.shape)}, rho {tuple(rho.shape)}"
        )
    if ax is None:
        ax = Figure(figsize=(6, 6), layout="constrained").subplots()
    if tile is None:
        radii = sorted(set(rho.tolist()))
        per_ring = max(int((rho == r).sum()) for r in radii)
        gaps = [b - a for a, b in zip(radii, radii[1:])]
        tile = 0.9 * min([2 * math.pi * radii[0] / per_ring, 2 * radii[0] * 0.8] + gaps)
    lim = float(rho.max()) + tile
    if space is not None:
        from gamutlib.viz.condition_space import plot_linear_space

        plot_linear_space(space, ax=ax)
        for artist in list(ax.patches) + list(ax.texts) + list(ax.lines):
            artist.set_alpha(0.35)
    half = tile / 2
    ax.imshow(to_uint8(center), extent=(-half, half, -half, half), zorder=5)
    for t, r, image in zip(theta.tolist(), rho.tolist(), images):
        x, y = r * math.cos(t), r * math.sin(t)
        ax.imshow(to_uint8(image), extent=(x - half, x + half, y - half, y + half), zorder=5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    return ax

