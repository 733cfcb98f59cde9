"""Each table metric against training iterations, beside the paper's value."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from gamutlib.evaluation.training_length import run_of

PANELS = (("accuracy", "accuracy % (higher is better)"), ("fed", "FED (lower is better)"),
          ("ere_setting1", "ERE setting 1"), ("ere_setting2", "ERE setting 2"), ("smoothness", "smoothness (lower is smoother)"))
RUN_MARKERS = ("o-", "D-", "^-")  # the first, second, third run (in order of their first point)
COLORS = {"StarGAN": "tab:blue", "GANmut": "tab:orange", "GGANmut": "tab:green", "GANimation": "tab:purple"}


def plot_training_length(rows: Sequence[Mapping[str, Any]], paper: Mapping[str, Any], ncols: int = 5) -> Figure:
    """One panel per metric, log x: each method's long runs (filled markers, one
    line per run: circles for the first run, diamonds for a second), its shipped
    10k-schedule run (a hollow square: LR decayed, unlike the long run's 10k
    point) and the paper's value (dashed horizontal line)."""
    nrows = -(-len(PANELS) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(3.0 * ncols, 2.7 * nrows), squeeze=False, constrained_layout=True)
    methods = list(dict.fromkeys(r["method"] for r in rows))
    # every run id in order of its first point, so a run keeps one marker across methods
    runs = list(dict.fromkeys(run_of(r) for r in sorted(rows, key=lambda r: r["iterations"])
                              if not r["run"].startswith("10k schedule")))
    for ax, (metric, title) in zip(axes.flat, PANELS):
        for method in methods:
            color = COLORS.get(method)
            mine = [r for r in rows if r["method"] == method and r.get(metric) is not None]
            long = [r for r in mine if not r["run"].startswith("10k schedule")]
            shipped = [r for r in mine if r["run"].startswith("10k schedule")]
            # one line per run: two runs of a method are not one curve
            for first, run in enumerate(dict.fromkeys(run_of(r) for r in long)):
                k = runs.index(run)
                points = [r for r in long if run_of(r) == run]
                line, = ax.plot([r["iterations"] for r in points], [r[metric] for r in points], RUN_MARKERS[k % len(RUN_MARKERS)],
                                ms=4 if k == 0 else 6, color=color, label=method if first == 0 else None)
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
    if any(runs):
        handles += [plt.Line2D([], [], ls="-", marker=RUN_MARKERS[k % len(RUN_MARKERS)][0], color="grey") for k in range(len(runs))]
        labels += [f"run {run}" if run else "long run" for run in runs]
    fig.legend(handles, labels, loc="outside lower center", ncols=len(labels), fontsize=7, frameon=False)
    return fig
