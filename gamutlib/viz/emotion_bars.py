"""Emotion distributions as bars: the judge's softmax, GGANmut's p_z, ground truth.

Bars are drawn horizontally in EMOTIONS order (top to bottom) with the class
colours of the learned maps, so a bar and the direction or mode it belongs to
share a colour.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gamutlib.constants import EMOTIONS
from gamutlib.viz.condition_space import EMOTION_COLORS


def _as_probs(name: str, values: torch.Tensor | np.ndarray) -> np.ndarray:
    p = np.asarray(values.detach().float().cpu() if isinstance(values, torch.Tensor) else values, dtype=float).reshape(-1)
    if p.shape != (len(EMOTIONS),):
        raise ValueError(f"{name}: expected {len(EMOTIONS)} scores in EMOTIONS order; got shape {p.shape}")
    if not np.isfinite(p).all():
        raise ValueError(f"{name}: contains NaN or infinite scores")
    return p


def plot_emotion_bars(
    distributions: Mapping[str, torch.Tensor | np.ndarray] | torch.Tensor | np.ndarray,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """One bar per emotion; several distributions (``{"judge": p, "p_z": q}``)
    are grouped, the first drawn in the class colours, the others hatched."""
    if not isinstance(distributions, Mapping):
        distributions = {"": distributions}
    series = {name: _as_probs(name or "scores", values) for name, values in distributions.items()}
    if ax is None:
        ax = Figure(figsize=(3.2, 2.4), layout="constrained").subplots()
    n = len(series)
    height = 0.8 / n
    y = np.arange(len(EMOTIONS))
    for i, (name, p) in enumerate(series.items()):
        offset = (i - (n - 1) / 2) * height
        ax.barh(y + offset, p, height=height, color=EMOTION_COLORS, edgecolor="0.2", linewidth=0.4,
                hatch=None if i == 0 else "//", alpha=1.0 if i == 0 else 0.45, label=name or None)
    ax.set_yticks(y, EMOTIONS, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.tick_params(axis="x", labelsize=7)
    if n > 1:
        ax.legend(fontsize=7, loc="lower right")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
