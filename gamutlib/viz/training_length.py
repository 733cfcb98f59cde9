"""Each table metric against training iterations, beside the paper's value."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

PANELS = (("accuracy", "accuracy % (higher is better)"), ("fed", "FED (lower is better)"),
          ("ere_setting1", "ERE setting 1"), ("ere_setting2", "ERE setting 2"), ("smoothness", "smoothness (lower is smoother)"))
COLORS = {"StarGAN": "tab:blue", "GANmut": "tab:orange", "GGANmut": "tab:green", "GANimation": "tab:purple"}


def plot_training_length(rows: Sequence[Mapping[str, Any]], paper: Mapping[str, Any], ncols: int = 5) -> Figure:
    """One panel per metric, log x: each method's long run (filled markers, a
    line), its shipped 10k-schedule run (a hollow square: LR decayed, unlike the
    long run's 10k point) and the paper's value (dashed horizontal line, drawn
    at the right edge with the paper's iteration count)."""
    nrows = -(-len(PANELS) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.7 * nrows), squeeze=False, constrained_layout=True)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    for ax, (metric, title) in zip(axes.flat, PANELS):
        for method in methods:
            color = COLORS.get(method)
            mine = [r for r in rows if r["method"] == method and r.get(metric) is not None]
            long = [r for r in mine if not r["run"].startswith("10k schedule")]
            shipped = [r for r in mine if r["run"].startswith("10k schedule")]
            if long:
                line, = ax.plot([r["iterations"] for r in long], [r[metric] for r in long], "o-", ms=4, color=color, label=method)
                color = line.get_color()
            for r in shipped:
                ax.plot([r["iterations"]], [r[metric]], "s", ms=6, mfc="none", color=color)
            value = (paper.get(method) or {}).get(metric)
            if value is not None:
                ax.axhline(value, ls="--", lw=1, color=color)
        ax.set_xscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("iterations", fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(PANELS):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    handles += [plt.Line2D([], [], ls="--", color="grey"), plt.Line2D([], [], ls="none", marker="s", mfc="none", color="grey")]
    labels += ["paper (1M; GGANmut 1.8M)", "10k schedule, LR decayed"]
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=7, frameon=False)
    return fig
