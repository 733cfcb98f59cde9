"""Figures of the PortraitGAN chapters: faces in a grid, with their landmarks drawn over them."""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from gamutlib.viz.image_grid import to_uint8


def plot_faces(columns: Sequence[tuple[str, torch.Tensor, torch.Tensor | None]], rows: int | None = None,
               tile: float = 1.6) -> Figure:
    """A grid of faces: one column per (title, images (N, 3, S, S), landmarks (N, 68, 2) or None),
    one row per face; landmarks, where given, are drawn as small dots over the face."""
    if not columns:
        raise ValueError("plot_faces needs at least one column")
    n = min(int(images.shape[0]) for _, images, _ in columns) if rows is None else rows
    fig, axes = plt.subplots(n, len(columns), figsize=(tile * len(columns), tile * n), squeeze=False,
                             constrained_layout=True)
    for j, (title, images, marks) in enumerate(columns):
        for i in range(n):
            ax = axes[i][j]
            ax.imshow(to_uint8(images[i].detach().float().cpu()))
            if marks is not None:
                points = marks[i].detach().float().cpu()
                ax.scatter(points[:, 0], points[:, 1], s=2.5, c="#00e5ff", linewidths=0)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(title, fontsize=8)
    return fig


def plot_portraitgan_losses() -> Figure:
    """The forward cycle of one training step and the loss each comparison feeds (Eq. 3, 5, 6, 9, 11).

    The backward cycle is the same diagram started from I_B with the conditions swapped."""
    from gamutlib.viz.architecture import DIS, GEN, LOSS, SPACE, _arrow, _box

    fig, ax = plt.subplots(figsize=(10.5, 3.9))
    ax.set(xlim=(0, 10.5), ylim=(0, 3.9))
    ax.axis("off")
    _box(ax, 0.1, 1.7, 1.0, 0.6, r"$I_A$" "\n(photo, expr. A)", SPACE)
    _box(ax, 0.1, 2.9, 1.0, 0.6, r"$L_B, c_B$" "\n(map, one-hot)", SPACE)
    _box(ax, 1.6, 1.6, 1.3, 0.8, r"$G(I \mid L, c)$" "\n3+1+n channels in", GEN)
    _box(ax, 3.4, 2.6, 1.0, 0.6, r"$\hat{I}_B$ (full)", SPACE)
    _box(ax, 3.4, 1.6, 1.0, 0.6, r"$\hat{I}_B$ (1/2, aux.)", SPACE)
    _box(ax, 5.0, 2.6, 1.2, 0.6, r"$D_0$ (PatchGAN)", DIS)
    _box(ax, 5.0, 1.6, 1.2, 0.6, r"$D_1$ (PatchGAN)", DIS)
    _box(ax, 6.8, 2.1, 1.6, 0.9, r"$L_{GAN}$ (least sq.)" "\n" r"+ $\beta\, L_{FM}$ (D's layers)", LOSS)
    _box(ax, 3.4, 0.25, 1.0, 0.6, r"$I_B$ (exact" "\nrendered target)", SPACE)
    _box(ax, 5.0, 0.25, 1.8, 0.6, r"$\gamma$ L1 identity + $\eta$ texture" "\n(Gram of feature_net)", LOSS)
    _box(ax, 7.4, 0.25, 1.3, 0.6, r"$G(\hat{I}_B \mid L_A, c_A)$", GEN)
    _box(ax, 9.1, 0.25, 1.3, 0.6, r"$\alpha\, L_{cyc}$" "\n" r"(vs $I_A$)", LOSS)
    _arrow(ax, (1.1, 2.0), (1.6, 2.0))
    _arrow(ax, (1.1, 3.2), (1.9, 2.4))
    _arrow(ax, (2.9, 2.2), (3.4, 2.9))
    _arrow(ax, (2.9, 1.9), (3.4, 1.9))
    _arrow(ax, (4.4, 2.9), (5.0, 2.9))
    _arrow(ax, (4.4, 1.9), (5.0, 1.9))
    _arrow(ax, (4.4, 2.75), (5.0, 2.0), "↓2", rad=0.1)
    _arrow(ax, (6.2, 2.9), (6.8, 2.6))
    _arrow(ax, (6.2, 1.9), (6.8, 2.4))
    _arrow(ax, (3.9, 2.6), (5.5, 0.85), rad=-0.2)
    _arrow(ax, (4.4, 0.55), (5.0, 0.55))
    _arrow(ax, (4.2, 2.7), (7.6, 0.85), rad=-0.25)
    _arrow(ax, (8.7, 0.55), (9.1, 0.55))
    ax.text(0.1, 0.05, "backward cycle: the same from I_B with (L_A, c_A), then back with (L_B, c_B); "
            "the feature network is trained on the benchmark and is never a scoring judge", fontsize=6.5, color="0.3")
    return fig
