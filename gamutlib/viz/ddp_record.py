"""The multi-GPU record as the training chapter shows it: tables and loss curves.

scripts/gpu/ddp_scaling.sh leaves ``<record>/ddp_scaling.json`` (what `gamut
bench ddp` wrote) and, per run, ``<record>/ddp/<run>/{config.json,log.jsonl}``.
Everything here reads those committed files, so a chapter shows the same thing
on every profile, with or without a GPU.

Loss curves are drawn against images seen (processes x per-GPU batch x step):
that is the quantity a 2-process run and a 1-process run with twice the batch
share, so their curves lie on one axis whatever the world size.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gamutlib.reproduce.layout import RECORD_RESULTS
from gamutlib.bench.ddp import images_per_step, logged_rates, read_log

DDP_RECORD = RECORD_RESULTS / "engine"


def read_ddp_record(folder: str | Path = DDP_RECORD) -> dict[str, Any]:
    """{"summary": ddp_scaling.json, "runs": {name: {"config", "log", "path"}}} of the committed record.

    Raises FileNotFoundError naming the script that makes the record, so a
    missing file says how to get it rather than only that it is missing."""
    folder = Path(folder)
    summary_path = folder / "ddp_scaling.json"
    if not summary_path.exists():
        raise FileNotFoundError(f"{summary_path} is missing: scripts/gpu/ddp_scaling.sh on a 2-GPU machine makes it")
    runs = {}
    for run in sorted(p for p in (folder / "ddp").glob("*") if (p / "log.jsonl").exists()):
        config, log = read_log(run)
        runs[run.name] = {"config": config, "log": log, "path": run}
    return {"summary": json.loads(summary_path.read_text()), "runs": runs}


def images_seen(config: Mapping[str, Any], log: Sequence[Mapping[str, Any]]) -> list[int]:
    """Images consumed by all processes at each logged step: world x per-GPU batch x step."""
    return [images_per_step(config) * int(r["step"]) for r in log]


def speed_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The speed rows of ddp_scaling.json with the 2-GPU goal beside them, for show_table."""
    goal = summary.get("goal", {}).get("speedup_2_gpus")
    rows = []
    for r in summary["rows"]:
        rows.append({"GPUs": r["gpus"], "per-GPU batch": r["per_gpu_batch"], "img/s": r["img_s"],
                     "speedup": r["speedup"], "efficiency": f"{r['efficiency']:.0%}",
                     "goal": f">= {goal}x" if goal is not None and r["gpus"] == 2 else "",
                     "steps": r["steps"]})
    return rows


def speed_spread(run: Mapping[str, Any], skip: int = 2) -> dict[str, float]:
    """Median and quartiles of one record run's logged img/s (warm-up skipped, as the
    summary skips it): how far one interval strays tells how much a speedup may move."""
    rates = logged_rates(run["log"], skip)
    q1, _, q3 = statistics.quantiles(rates, n=4) if len(rates) > 1 else (rates[0],) * 3
    return {"median": round(statistics.median(rates), 1), "q1": round(q1, 1), "q3": round(q3, 1)}


def run_label(run: Mapping[str, Any]) -> str:
    """'2 GPUs x 16': processes and per-GPU batch, what a reader compares the runs by."""
    world, batch = int(run["config"].get("world_size", 1)), run["config"]["model"].get("batch_size", 16)
    return f"{world} GPU{'s' if world > 1 else ''} x {batch}"


def loss_check_rows(summary: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The loss check of ddp_scaling.json, one row per loss, for show_table."""
    check = summary["loss_check"]
    return [{"loss": r["loss"], check["multi_run"]: r["multi_mean"], check["single_run"]: r["single_mean"],
             "difference": r["difference"], "spread (std)": r["spread"],
             "within 2 spreads": "yes" if r["within_spread"] else "NO"} for r in check["rows"]]


def plot_ddp_losses(
    runs: Mapping[str, Mapping[str, Any]],
    keys: Sequence[str] = ("D/loss", "G/loss", "G/loss_cls"),
    tail: float | None = 0.25,
    axes: Sequence[Axes] | None = None,
) -> Sequence[Axes]:
    """One panel per loss key, one line per run (labelled by GPUs x per-GPU batch),
    against thousands of images seen.

    ``tail`` shades the last fraction of training, the window the loss check
    averages over, so the figure shows what the table compares."""
    if axes is None:
        axes = Figure(figsize=(2.6 * len(keys), 2.2), layout="constrained").subplots(1, len(keys), squeeze=False)[0]
    for ax, key in zip(axes, keys):
        for run in runs.values():
            pts = [(n, r[key]) for n, r in zip(images_seen(run["config"], run["log"]), run["log"]) if key in r]
            if pts:
                x, y = np.asarray(pts, dtype=float).T
                ax.plot(x / 1000, y, lw=1, label=run_label(run))
        if tail:
            right = ax.get_xlim()[1] if not ax.lines else max(line.get_xdata().max() for line in ax.lines)
            ax.axvspan(right * (1 - tail), right, color="0.9", zorder=0)
        ax.set_title(key, fontsize=9)
        ax.set_xlabel("images seen (thousands)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    return axes
