"""Drawing GANmut's learned conditional spaces (paper Fig. 1-3).

Used by the model chapter, the evaluation chapter and the explorer widget, so
the learned map looks the same everywhere: the linear space as 6 unit
directions out of a neutral origin, the Gaussian space as 7 covariance
ellipses over the map of the class that p_z favours.
"""

from __future__ import annotations

import math
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.patches import Circle, Ellipse

from gamutlib.constants import EMOTIONS

#: One colour per class, in EMOTIONS order, shared by every figure of the series.
EMOTION_COLORS = ("#7f7f7f", "#e6a100", "#1f77b4", "#17becf", "#9467bd", "#2ca02c", "#d62728")


def _axes(ax: Axes | None, lim: float) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.axhline(0, color="0.85", lw=0.8, zorder=0)
    ax.axvline(0, color="0.85", lw=0.8, zorder=0)
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    return ax


def plot_linear_space(
    space: Any,
    ax: Axes | None = None,
    codes: torch.Tensor | None = None,
    on_direction: torch.Tensor | None = None,
    point: tuple[float, float] | None = None,
) -> Axes:
    """The unit disk with each emotion's direction v_c (neutral at the origin).

    ``codes`` (N, 2) are scattered, blue for S_c and red for S_r when
    ``on_direction`` (N,) bool is given (the colours of paper Fig. 2);
    ``point`` marks one code, e.g. the explorer's current (x, y).
    """
    ax = _axes(ax, 1.25)
    ax.add_patch(Circle((0, 0), 1.0, fill=False, color="0.6", lw=1))
    ax.add_patch(Circle((0, 0), 0.2, fill=False, color="0.75", lw=0.8, ls="--"))  # tau
    with torch.no_grad():
        table = space.directions_with_neutral().cpu()
    for k, name in enumerate(EMOTIONS):
        v = table[k]
        if k == space.neutral:
            ax.plot(0, 0, "o", color=EMOTION_COLORS[k], ms=7)
            ax.annotate(name, (0, 0), xytext=(4, -12), textcoords="offset points", fontsize=8)
            continue
        ax.annotate("", xy=(float(v[0]), float(v[1])), xytext=(0, 0),
                    arrowprops=dict(arrowstyle="->", color=EMOTION_COLORS[k], lw=2))
        ax.text(1.12 * float(v[0]), 1.12 * float(v[1]), name, color=EMOTION_COLORS[k],
                ha="center", va="center", fontsize=8)
    if codes is not None:
        codes = codes.detach().cpu()
        if on_direction is None:
            ax.scatter(codes[:, 0], codes[:, 1], s=12, color="k", zorder=3)
        else:
            m = on_direction.cpu()
            ax.scatter(codes[m, 0], codes[m, 1], s=14, color="tab:blue", label="$S_c$ (on a direction)", zorder=3)
            ax.scatter(codes[~m, 0], codes[~m, 1], s=14, color="tab:red", label="$S_r$ (anywhere)", zorder=3)
            ax.legend(loc="lower left", fontsize=7)
    if point is not None:
        ax.plot(*point, marker="X", color="k", ms=10, zorder=4)
    return ax


def p_z_map(space: Any, resolution: int = 121, lim: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """p_z on a grid over [-lim, lim]^2: (classes (R, R) argmax, confidence (R, R) max p)."""
    axis = torch.linspace(-lim, lim, resolution)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    z = torch.stack([xx.flatten(), yy.flatten()], dim=1)
    with torch.no_grad():
        p = space.p_z(z).cpu()
    top = p.max(dim=1)
    return top.indices.reshape(resolution, resolution).numpy(), top.values.reshape(resolution, resolution).numpy()


def plot_gaussian_space(
    space: Any, ax: Axes | None = None, resolution: int = 121, point: tuple[float, float] | None = None
) -> Axes:
    """The square [-1, 1]^2 coloured by the class p_z favours (paler where p_z is
    less sure), each mode's mean and its 1-sigma covariance ellipse."""
    ax = _axes(ax, 1.05)
    classes, confidence = p_z_map(space, resolution)
    colors = np.array([to_rgb(c) for c in EMOTION_COLORS])
    weight = ((confidence - 1 / len(EMOTIONS)) / (1 - 1 / len(EMOTIONS)))[..., None].clip(0, 1)
    image = 1 - weight * (1 - colors[classes])  # blend the class colour with white
    ax.imshow(image, origin="lower", extent=(-1, 1, -1, 1), interpolation="nearest")
    with torch.no_grad():
        mu = space.means().cpu()
        eig = space.eigenvalues().cpu()
        angle = space.orientation.detach().cpu()
    for k, name in enumerate(EMOTIONS):
        ax.add_patch(Ellipse((float(mu[k, 0]), float(mu[k, 1])), 2 * math.sqrt(float(eig[k, 0])),
                             2 * math.sqrt(float(eig[k, 1])), angle=math.degrees(float(angle[k])),
                             fill=False, edgecolor="0.15", lw=0.9, alpha=0.8))
        ax.plot(float(mu[k, 0]), float(mu[k, 1]), "o", color=EMOTION_COLORS[k], mec="k", ms=6)
        ax.annotate(name, (float(mu[k, 0]), float(mu[k, 1])), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if point is not None:
        ax.plot(*point, marker="X", color="k", ms=10, zorder=4)
    return ax
