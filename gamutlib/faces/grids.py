"""Image grids of the benchmark, as tensors with their labels.

Each function returns ``(images, row_labels, col_labels)`` with images
(R, C, 3, size, size) in [-1, 1], ready for `gamutlib.viz.image_grid.plot_image_grid`.
Faces are frontal with the default light, so only what the grid varies moves.
"""

from __future__ import annotations

import torch

from gamutlib.constants import AU_IDS, AU_MAX, EMOTIONS, STYLES

from gamutlib.faces.emotion import emotion_to_aus
from gamutlib.faces.identity import Identity, identities_from_ids, split_ids
from gamutlib.faces.render import render

INTENSITIES = (0.25, 0.5, 0.75, 1.0)
AU_LEVELS = (0, 1, 2, 3, 4, 5)

Grid = tuple[torch.Tensor, list[str], list[str]]


def benchmark_identity(index: int, split: str = "test") -> Identity:
    """One face of ``split`` by its index (test faces by default: never trained on)."""
    return identities_from_ids(split_ids(split, torch.tensor([index])))


def _repeat(identity: Identity, n: int) -> Identity:
    return identity[torch.zeros(n, dtype=torch.long)]


def emotion_grid(identity: Identity, size: int = 128, intensities: tuple[float, ...] = INTENSITIES) -> Grid:
    """Rows: the 7 emotions; columns: intensities (the identity's own AU gains)."""
    if len(identity) != 1:
        raise ValueError(f"emotion_grid draws one identity, got {len(identity)}")
    k, m = len(EMOTIONS), len(intensities)
    emotion = torch.eye(k).repeat_interleave(m, 0)
    intensity = torch.tensor(intensities, dtype=torch.float32).repeat(k)
    ident = _repeat(identity, k * m)
    aus = emotion_to_aus(emotion, intensity, ident)
    image = render(ident, aus, size=size)["image"]
    return image.view(k, m, 3, size, size), list(EMOTIONS), [f"{v:g}" for v in intensities]


def style_grid(identity: Identity, size: int = 128, emotions: tuple[str, ...] = ("neutral", "happy", "surprised", "angry")) -> Grid:
    """Rows: expressions at full intensity; columns: the styles of STYLES (the same face)."""
    if len(identity) != 1:
        raise ValueError(f"style_grid draws one identity, got {len(identity)}")
    unknown = [e for e in emotions if e not in EMOTIONS]
    if unknown:
        raise ValueError(f"unknown emotions {unknown}; choose from {EMOTIONS}")
    r, c = len(emotions), len(STYLES)
    emotion = torch.zeros(r, len(EMOTIONS))
    emotion[torch.arange(r), torch.tensor([EMOTIONS.index(e) for e in emotions])] = 1
    aus = emotion_to_aus(emotion, torch.ones(r), _repeat(identity, r)).repeat_interleave(c, 0)
    styles = torch.arange(c).repeat(r)
    image = render(_repeat(identity, r * c), aus, style=styles, size=size)["image"]
    return image.view(r, c, 3, size, size), list(emotions), list(STYLES)


def au_strips(identity: Identity, size: int = 64, levels: tuple[float, ...] = AU_LEVELS, aus: tuple[int, ...] = AU_IDS) -> Grid:
    """Rows: single AUs; columns: that AU alone at each level (all others 0)."""
    if len(identity) != 1:
        raise ValueError(f"au_strips draws one identity, got {len(identity)}")
    r, c = len(aus), len(levels)
    values = torch.zeros(r, c, len(AU_IDS))
    for row, au in enumerate(aus):
        values[row, :, AU_IDS.index(au)] = torch.tensor(levels, dtype=torch.float32).clamp(0, AU_MAX)
    image = render(_repeat(identity, r * c), values.view(r * c, -1), size=size)["image"]
    return image.view(r, c, 3, size, size), [f"AU{a}" for a in aus], [f"{v:g}" for v in levels]


def identity_grid(rows: int = 3, cols: int = 6, size: int = 64, seed: int = 0, style: str = "photo") -> Grid:
    """Random test faces with random expressions, poses and light."""
    from gamutlib.faces.batch import random_faces

    faces = random_faces(rows * cols, size=size, split="test", seed=seed, style=style)
    names = [EMOTIONS[i] for i in faces["emotion"].argmax(1).tolist()]
    return faces["image"].view(rows, cols, 3, size, size), [""] * rows, names[:cols]


__all__ = ["au_strips", "benchmark_identity", "confusion_figure", "emotion_grid", "identity_grid", "style_grid"]


def confusion_figure(dpi: int = 80):
    """Heatmap of the annotator confusion (row: perceived class, column: label given)."""
    from matplotlib.figure import Figure

    from gamutlib.faces.labels import confusion_matrix

    m = confusion_matrix().numpy()
    fig = Figure(figsize=(4.6, 3.9), dpi=dpi, layout="constrained")
    ax = fig.subplots()
    im = ax.imshow(m, cmap="viridis", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS, fontsize=8)
    ax.set_xlabel("label the annotator gives")
    ax.set_ylabel("class the face shows")
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            if m[i, j] > 0:
                ax.text(j, i, f"{m[i, j]:.2f}", ha="center", va="center", fontsize=6, color="white" if m[i, j] < 0.5 else "black")
    fig.colorbar(im, ax=ax, shrink=0.8)
    return fig
