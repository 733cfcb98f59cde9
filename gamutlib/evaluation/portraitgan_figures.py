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
