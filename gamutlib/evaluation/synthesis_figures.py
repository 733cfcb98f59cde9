"""The synthesis' figures: the methods over normalised metrics, accuracy against identity, the same edit by every method.

Each degrades to what is recorded: a metric enters the parallel coordinates
once two methods have a number for it; the scatter shows the series' records
where a method has both numbers and the common task's single measurement
beside them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import torch

from gamutlib.evaluation.claims import Estimate
from gamutlib.evaluation.synthesis import METRIC_BY_COLUMN, METRICS, Cell, SynthMethod


# ----------------------------------------------------------------- figures


def normalised(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
               columns: Sequence[str] | None = None) -> tuple[list[str], dict[str, list[float | None]]]:
    """Per metric with numbers for at least two methods: each method's mean scaled to [0, 1],
    1 the best of the methods (flipped where lower is better); None where it has no number."""
    chosen = []
    for column in columns or [m.column for m in METRICS]:
        means = [cells[m.label][column].mean for m in methods]
        if sum(v is not None for v in means) >= 2 and len({v for v in means if v is not None}) > 1:
            chosen.append(column)
    scaled: dict[str, list[float | None]] = {m.label: [] for m in methods}
    for column in chosen:
        values = {m.label: cells[m.label][column].mean for m in methods}
        kept = [v for v in values.values() if v is not None]
        lo, hi = min(kept), max(kept)
        for label, v in values.items():
            if v is None:
                scaled[label].append(None)
                continue
            t = (v - lo) / (hi - lo)
            scaled[label].append(t if METRIC_BY_COLUMN[column].higher_is_better else 1.0 - t)
    return chosen, {k: v for k, v in scaled.items() if any(x is not None for x in v)}


def parallel_figure(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]], dpi: int = 60) -> Any:
    """Parallel coordinates over the normalised metrics (1 = best of the methods with a number)."""
    import matplotlib.pyplot as plt

    columns, scaled = normalised(methods, cells)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(columns) + 2), 3.2), dpi=dpi)
    if not columns:
        ax.text(0.5, 0.5, "fewer than two methods share a metric yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for label, values in scaled.items():
        xs = [i for i, v in enumerate(values) if v is not None]
        ax.plot(xs, [values[i] for i in xs], marker="o", label=label)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("normalised (1 = best)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def tradeoff_points(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
                    x: str = "identity", y: str = "accuracy") -> list[tuple[str, Estimate, Estimate]]:
    """The methods with both numbers: (label, x estimate, y estimate)."""
    return [(m.label, cells[m.label][x].estimate, cells[m.label][y].estimate) for m in methods
            if cells[m.label][x].estimate is not None and cells[m.label][y].estimate is not None]


def tradeoff_figure(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
                    common_rows: Sequence[Mapping[str, Any]] = (), dpi: int = 60) -> Any:
    """Emotion accuracy of edits against identity verification: the series' records (circles, seed
    spreads as error bars) and the common task's single measurement (crosses; the exact edit a star)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7.0, 3.4), dpi=dpi)
    points = tradeoff_points(methods, cells)
    for label, ex, ey in points:
        ax.errorbar(ex.mean, ey.mean, xerr=ex.spread, yerr=ey.spread, marker="o", capsize=2, label=f"{label} (records)")
    for row in common_rows:
        exact = row["method"] == "exact edit"
        ax.scatter(row["identity"], row["accuracy"], marker="*" if exact else "x", s=60 if exact else 30,
                   label=f"{row['method']} (common task)")
    ax.set_xlabel("identity verification, %")
    ax.set_ylabel("emotion accuracy of edits, %")
    ax.set_xlim(-5, 105)
    ax.set_ylim(-5, 105)
    if points or common_rows:
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    else:
        has = {c: [m.label for m in methods if cells[m.label][c].estimate is not None] for c in ("accuracy", "identity")}
        ax.text(0.5, 0.5, "no method has both numbers yet\n" + "\n".join(
            f"{c}: {', '.join(v) or 'none'}" for c, v in has.items()), ha="center", va="center", fontsize=7,
            transform=ax.transAxes, wrap=True)
    fig.tight_layout()
    return fig


def edits_figure(sources: torch.Tensor, truth: torch.Tensor, edits: Mapping[str, torch.Tensor], dpi: int = 60) -> Any:
    """Rows: the faces; columns: the source, its exact edit, then each method's edit."""
    import matplotlib.pyplot as plt

    from gamutlib.viz.image_grid import to_uint8

    columns = {"source": sources, "exact edit": truth, **edits}
    n = sources.shape[0]
    fig, axes = plt.subplots(n, len(columns), figsize=(1.25 * len(columns), 1.35 * n), dpi=dpi, squeeze=False)
    for j, (title, images) in enumerate(columns.items()):
        for i in range(n):
            axes[i][j].imshow(to_uint8(images[i]))
            axes[i][j].set_axis_off()
        axes[0][j].set_title(title.replace(" (", "\n("), fontsize=7)
    fig.tight_layout()
    return fig
