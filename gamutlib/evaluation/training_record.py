"""Reading a series' training record, and showing that a resume is exact.

The GPU run leaves, per method, ``<record>/<method>/log.jsonl`` (the engine's
log lines), ``config.json`` (the resolved config) and sample grids
``samples-<step>.jpg`` (the engine writes PNG; the record keeps JPEG).
``resume_demo`` trains a tiny model twice through the engine, once straight through and once stopped and resumed, so a chapter can
show the two logs agree.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import torch

from gamutlib.training.run_folder import JsonlLog

SAMPLE_PATTERN = re.compile(r"samples-(\d+)\.(?:png|jpg)$")


def read_training_record(folder: str | Path) -> dict[str, dict[str, Any]]:
    """{method: {"log": [records], "config": {...}, "samples": [(step, path), ...]}} for every
    method folder under ``folder`` holding a log.jsonl; {} when there is none."""
    folder = Path(folder)
    out: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return out
    for sub in sorted(p for p in folder.iterdir() if (p / "log.jsonl").exists()):
        config_path = sub / "config.json"
        out[sub.name] = {
            "log": JsonlLog(sub / "log.jsonl").read(),
            "config": json.loads(config_path.read_text()) if config_path.exists() else {},
            "samples": sample_grids(sub),
        }
    return out


def sample_grids(folder: str | Path) -> list[tuple[int, Path]]:
    """(step, path) of every samples-<step>.png/.jpg in ``folder`` or its samples/ subfolder, by step."""
    folder = Path(folder)
    found = [*folder.glob("samples-*"), *folder.glob("samples/samples-*")]
    steps = [(int(m.group(1)), p) for p in found if (m := SAMPLE_PATTERN.search(p.name))]
    return sorted(steps)


def keep_sample_grids(run: str | Path, dest: str | Path) -> list[Path]:
    """Copy a run's first, middle and last sample grid to ``dest`` at half size,
    as JPEG (quality 85; the book shows them as JPEG strips anyway): the record
    travels with every clone and every device call. Returns the copies.

        python -c "from gamutlib.evaluation.training_record import keep_sample_grids as k; k('RUN', 'DEST')"
    """
    from PIL import Image

    grids = sample_grids(run)
    picks = sorted({0, len(grids) // 2, len(grids) - 1}) if grids else []
    Path(dest).mkdir(parents=True, exist_ok=True)
    out = []
    for i in picks:
        image = Image.open(grids[i][1]).convert("RGB")
        small = image.resize((max(1, image.width // 2), max(1, image.height // 2)), Image.LANCZOS)
        path = Path(dest) / f"samples-{grids[i][0]:07d}.jpg"
        small.save(path, quality=85, optimize=True)
        out.append(path)
    return out


def loss_series(log: list[dict[str, Any]], phase: str) -> dict[str, tuple[list[int], list[float]]]:
    """{key: (steps, values)} of every logged scalar of one phase (``"D"`` or ``"G"``)."""
    keys = sorted({k for r in log for k in r if k.startswith(f"{phase}/")})
    out = {}
    for key in keys:
        pts = [(int(r["step"]), float(r[key])) for r in log if key in r]
        out[key] = ([s for s, _ in pts], [v for _, v in pts])
    return out


def late_change(log: list[dict[str, Any]], key: str, window: int = 1000) -> dict[str, Any]:
    """Is a logged loss still moving at the end of a run? The mean of ``key``
    over the last ``window`` steps against its mean over the ``window`` steps
    before, and the change in % of the earlier mean (a mean over a window,
    because a single logged interval is noisy). A log too short to hold two
    windows (a run a time guard stopped early) gives ``None`` for the three
    numbers, so that a chapter's table says so instead of failing."""
    phase = key.split("/", 1)[0]
    steps, values = loss_series(log, phase).get(key, ([], []))
    if not steps:
        raise ValueError(f"the log holds no {key!r}")
    last = max(steps)
    before = [v for s, v in zip(steps, values) if last - 2 * window < s <= last - window]
    after = [v for s, v in zip(steps, values) if s > last - window]
    if not before or not after:
        return {"steps": last, "before": None, "last": None, "change_pct": None}
    a, b = sum(before) / len(before), sum(after) / len(after)
    return {"steps": last, "before": round(a, 4), "last": round(b, 4),
            "change_pct": round(100 * (b - a) / abs(a), 1) if a else None}


def training_summary(record: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per method: steps reached, resolution, batch, width, throughput."""
    rows = []
    for method, entry in record.items():
        log, config = entry["log"], entry["config"]
        model, train = config.get("model", {}), config.get("train", {})
        img_s = [r["img_s"] for r in log if r.get("img_s")]
        rows.append({
            "run": method,
            "steps": max((int(r["step"]) for r in log), default=0),
            "planned_steps": train.get("steps"),
            "image_size": model.get("image_size"),
            "batch_size": model.get("batch_size"),
            "g_conv_dim": model.get("g_conv_dim"),
            "median_img_s": round(sorted(img_s)[len(img_s) // 2], 1) if img_s else None,
        })
    return rows


def resume_demo(method_name: str, model: dict[str, Any], steps: int, stop_at: int, out: str | Path,
                seed: int = 0) -> dict[str, Any]:
    """Train ``steps`` steps straight through, and again with a stop request at
    ``stop_at`` (what SIGTERM or ``--max-minutes`` does) followed by a resume
    from the run folder. Returns both logs, the step the resumed trainer
    started from, and the largest difference between the two logs' losses."""
    from gamutlib.papers import get_method
    from gamutlib.training import TrainConfig, start_run

    if not 0 < stop_at < steps:
        raise ValueError(f"stop_at must lie strictly between 0 and steps={steps}; got {stop_at}")
    config = TrainConfig(steps=steps, seed=seed, device="cpu", precision="fp32", log_every=1, sample_every=10**9,
                         checkpoint_every=10**9, progress=False)
    out = Path(out)

    def build() -> Any:  # the same initial weights for both runs (the trainer seeds only what follows)
        torch.manual_seed(seed)
        return get_method(method_name, model)

    straight = start_run(build(), config, out=out / "straight")
    straight.fit()

    first = start_run(build(), config, out=out / "stopped")
    step_once = first.train_step

    def step_then_stop() -> None:  # a stop request lands after step stop_at
        step_once()
        if first.step == stop_at:
            first.request_stop()

    first.train_step = step_then_stop  # type: ignore[method-assign]
    first_result = first.fit()
    resumed = start_run(build(), config, resume=first.run_dir)
    resumed_from = resumed.step
    resumed.fit()

    log_a = JsonlLog(straight.run_dir / "log.jsonl").read()
    log_b = JsonlLog(resumed.run_dir / "log.jsonl").read()
    by_step = {r["step"]: r for r in log_a}
    diffs = [abs(float(r[k]) - float(by_step[r["step"]][k])) for r in log_b if r["step"] in by_step
             for k in r if k.endswith("loss") and k in by_step[r["step"]]]
    return {
        "straight": log_a,
        "resumed": log_b,
        "stopped_early": bool(first_result.get("stopped_early")),
        "stopped_at": first.step,
        "resumed_from": resumed_from,
        "final_step": resumed.step,
        "max_loss_difference": max(diffs) if diffs else float("nan"),
        "checkpoints": sorted(p.name for p in (first.run_dir / "checkpoints").glob("*.pt")),
        "weights_equal": all(torch.equal(a, b) for a, b in zip(
            straight.nets["G"].state_dict().values(), resumed.nets["G"].state_dict().values())),
    }
