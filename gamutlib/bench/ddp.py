"""Multi-GPU scaling from run folders: `gamut bench ddp`.

Reads the ``log.jsonl`` of runs made with ``torchrun --nproc_per_node N gamut
train ...`` (see scripts/gpu/ddp_scaling.sh) and writes
``book/results/engine/ddp_scaling.json``:

* speed rows (``gpus``, ``per_gpu_batch``, ``img_s``, ``efficiency``): img/s is
  the median of the logged intervals after the first ``skip`` (cudnn autotune,
  allocator warm-up), counted over all ranks; efficiency is
  img_s(N) / (N * img_s(1 GPU)) at the same per-GPU batch and settings.
* a loss check: an N-process run and a 1-process run with the N-times batch
  see the same number of images per step, so after the same steps they should
  reach comparable losses. Compared on the mean of each loss over the last
  ``tail`` fraction of steps, beside the spread (std) of that loss over the
  same window, because GAN losses are noisy from step to step.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

from gamutlib.atomic import atomic_write_text


def read_log(run: str | Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(resolved config, log records) of a run folder."""
    run = Path(run)
    config = json.loads((run / "config.json").read_text())
    records = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    records = [r for r in records if "img_s" in r]
    if not records:
        raise ValueError(f"{run}/log.jsonl has no logged steps")
    return config, records


def images_per_step(config: dict[str, Any]) -> int:
    """Images all processes consume in one step: world size x per-GPU batch."""
    return int(config.get("world_size", 1)) * int(config["model"].get("batch_size", 16))


def logged_rates(records: list[dict[str, Any]], skip: int = 2) -> list[float]:
    """img/s of the logged intervals after the first ``skip`` (all of them for a shorter run)."""
    return [r["img_s"] for r in records[skip:]] or [r["img_s"] for r in records]


def run_speed(run: str | Path, skip: int = 2) -> dict[str, Any]:
    """gpus, per-GPU batch and median img/s of one run folder."""
    config, records = read_log(run)
    world = int(config.get("world_size", 1))
    batch = int(config["model"].get("batch_size", 16))
    rates = logged_rates(records, skip)
    return {"run": f"{Path(run).parent.name}/{Path(run).name}", "gpus": world, "per_gpu_batch": batch, "img_s": round(statistics.median(rates), 1),
            "steps": records[-1]["step"], "intervals": len(rates)}


def loss_tail(records: list[dict[str, Any]], tail: float) -> dict[str, dict[str, float]]:
    last = records[-1]["step"]
    window = [r for r in records if r["step"] > last * (1 - tail)]
    keys = sorted(k for k in window[0] if "/" in k and not k.startswith("lr"))
    out = {}
    for k in keys:
        vals = [r[k] for r in window if k in r]
        out[k] = {"mean": statistics.fmean(vals), "std": statistics.pstdev(vals) if len(vals) > 1 else 0.0}
    return out


def compare_losses(multi: str | Path, single: str | Path, tail: float = 0.25) -> dict[str, Any]:
    """Loss means over the last ``tail`` of training: N processes vs 1 process with the N-times batch."""
    cfg_m, rec_m = read_log(multi)
    cfg_s, rec_s = read_log(single)
    images_m = images_per_step(cfg_m) * rec_m[-1]["step"]
    images_s = images_per_step(cfg_s) * rec_s[-1]["step"]
    a, b = loss_tail(rec_m, tail), loss_tail(rec_s, tail)
    rows = []
    for k in sorted(set(a) & set(b)):
        spread = max(a[k]["std"], b[k]["std"], 1e-8)
        rows.append({"loss": k, "multi_mean": round(a[k]["mean"], 4), "single_mean": round(b[k]["mean"], 4),
                     "difference": round(a[k]["mean"] - b[k]["mean"], 4), "spread": round(spread, 4),
                     "within_spread": abs(a[k]["mean"] - b[k]["mean"]) <= 2 * spread})
    return {"multi_run": Path(multi).parent.name, "single_run": Path(single).parent.name, "images_multi": images_m,
            "images_single": images_s, "tail": tail, "rows": rows,
            "all_within_two_spreads": all(r["within_spread"] for r in rows)}


def summarise(speed_runs: list[str | Path], multi: str | Path | None = None, single: str | Path | None = None,
              out: str | Path | None = "book/results/engine/ddp_scaling.json", device: str = "",
              goal: float = 1.8) -> dict[str, Any]:
    """Speed rows with efficiency against the 1-GPU run of the same batch, plus the loss check."""
    rows = [run_speed(r) for r in speed_runs]
    for row in rows:
        base = [r for r in rows if r["gpus"] == 1 and r["per_gpu_batch"] == row["per_gpu_batch"]]
        if not base:
            raise ValueError(f"no 1-GPU run at per-GPU batch {row['per_gpu_batch']} to compare {row['run']} with")
        row["speedup"] = round(row["img_s"] / base[0]["img_s"], 3)
        row["efficiency"] = round(row["speedup"] / row["gpus"], 3)
    result: dict[str, Any] = {
        "rows": rows,
        "protocol": ("GANmut (gamutlib/models/configs/ganmut.toml) at 128 px through `torchrun --nproc_per_node N "
                     "gamut train ganmut`, one process per GPU, same per-GPU batch and settings (CUDA graphs off: "
                     "the DDP path runs eager); img/s = median of the logged intervals over all ranks"),
        "device": device,
        "seeds": [0],
        "paper": {"source": "none of the four papers reports multi-GPU training; the goal (>= "
                            f"{goal:g}x at 2 GPUs) is this project's"},
        "goal": {"speedup_2_gpus": goal},
    }
    two = [r for r in rows if r["gpus"] == 2]
    if two:
        result["passes"] = {"speedup_2_gpus": two[0]["speedup"] >= goal}
    if multi is not None and single is not None:
        result["loss_check"] = compare_losses(multi, single)
    if out is not None:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(Path(out), json.dumps(result, indent=2) + "\n")
    return result
