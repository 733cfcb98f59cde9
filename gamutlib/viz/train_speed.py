"""The engine's speed record (book/results/engine/train_speed.json) as the
training chapter shows it: a table per batch size and the batch-16 ablation,
each default of the engine switched off in turn, as bars."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from matplotlib.axes import Axes

from gamutlib.reproduce.layout import RECORD_RESULTS
from gamutlib.bench.train import VARIANT_LABELS

TRAIN_SPEED = RECORD_RESULTS / "engine" / "train_speed.json"


def read_train_speed(path: str | Path = TRAIN_SPEED) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: scripts/gpu/bench_train.sh on a GPU makes it")
    return json.loads(path.read_text())


def speed_table(table: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per batch size: the reference loop, the engine, their ratio, and
    the spread of the reference over the benchmark's parts."""
    rows = []
    for row in table["rows"]:
        refs = [p["reference_img_s"] for p in row.get("parts", [])] or [row["reference_img_s"]]
        engines = [p["engine_img_s"] for p in row.get("parts", []) if p.get("engine_img_s")] or [row["engine_img_s"]]
        rows.append({"batch": row["batch"], "reference img/s": row["reference_img_s"], "engine img/s": row["engine_img_s"],
                     "x reference": row["ratio"],
                     "reference over parts": f"{min(refs):.0f}-{max(refs):.0f}",
                     "engine over parts": f"{min(engines):.0f}-{max(engines):.0f}"})
    return rows


def ablation_rows(row: dict[str, Any]) -> list[dict[str, Any]]:
    """The engine's defaults, then each variant of the row (fastest first)."""
    found = [("engine", row["engine_img_s"], row["ratio"])]
    for key, value in row.items():
        name = key[: -len("_img_s")]
        if key.endswith("_img_s") and name in VARIANT_LABELS and name != "engine":
            found.append((name, value, row.get(f"{name}_ratio")))
    found[1:] = sorted(found[1:], key=lambda t: -t[1])
    return [{"setting": VARIANT_LABELS[n], "img/s": v, "x its part's reference": r} for n, v, r in found]


def plot_ablation(row: dict[str, Any], ax: Axes) -> Axes:
    """Horizontal bars of ``ablation_rows`` with the reference loop (and 3x it) as lines."""
    rows = ablation_rows(row)[::-1]
    ax.barh([r["setting"] for r in rows], [r["img/s"] for r in rows],
            color=["tab:blue" if r["setting"] == VARIANT_LABELS["engine"] else "tab:gray" for r in rows])
    ref = row["reference_img_s"]
    ax.axvline(ref, color="k", lw=1, ls="--", label=f"reference loop ({ref:.0f})")
    ax.axvline(3 * ref, color="tab:red", lw=1, ls=":", label="3x reference")
    ax.set_xlabel(f"training images/s, batch {row['batch']}", fontsize=8)
    ax.tick_params(labelsize=7)
    ax.legend(fontsize=7, loc="lower right")
    return ax
