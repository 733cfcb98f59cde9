"""The FineGrained series' training record: the conditional losses of Fig. 9.

The GPU run leaves, per training config, ``<results>/finegrained/training/<config>/``
with the engine's ``log.jsonl`` and ``config.json`` of seed 0
(scripts/gpu/score_finegrained.sh copies them from the training jobs). The
paper's Fig. 9 plots the conditional loss of D (Eq. 5, ``D/loss_cond``) and of
G (Eq. 6, ``G/loss_cond``) over training for the k_MSF ablation; the paper
reads from it that the curves of D agree and that G with two MSF modules
converges faster than with fewer. ``convergence_rows`` turns that reading
into numbers: the late level of each curve and the first step at which G's
curve comes within ``CONVERGED`` of its late level.

``tiny_record`` trains narrow generators for a few steps through the same
engine into the same layout, so the chapter's code runs where no GPU record
exists (its curves then say nothing about the methods).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from gamutlib.evaluation.finegrained import KMSF_ORDER, LABELS, training_config
from gamutlib.evaluation.training_record import loss_series

#: Where the record keeps the runs, under the results folder.
TRAINING_DIR = Path("finegrained") / "training"
#: G's curve has converged at the first step its running mean comes within this factor of its late level.
CONVERGED = 1.1
#: The late level: the mean over the last fraction of the logged points.
LATE_FRACTION = 0.1
#: The running mean's length, in logged points (the logs are noisy).
SMOOTH = 3


def condition_curves(log: list[dict[str, Any]]) -> dict[str, tuple[list[int], list[float]]]:
    """{"D": (steps, D/loss_cond), "G": (steps, G/loss_cond)} of one run's log."""
    return {phase: loss_series(log, phase).get(f"{phase}/loss_cond", ([], [])) for phase in ("D", "G")}


def _running_mean(values: Sequence[float], n: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if len(v) < n:
        return v
    return np.convolve(v, np.ones(n) / n, mode="valid")


def convergence(steps: Sequence[int], values: Sequence[float], factor: float = CONVERGED,
                late_fraction: float = LATE_FRACTION, smooth: int = SMOOTH) -> dict[str, Any]:
    """The late level of a loss curve and the first step where its running mean is within ``factor`` of it."""
    if not values:
        return {"late": None, "converged_at": None}
    late = float(np.mean(values[-max(1, int(round(len(values) * late_fraction))):]))
    mean = _running_mean(values, smooth)
    offset = len(values) - len(mean)  # a running mean's point is the step of its last value
    below = np.nonzero(mean <= factor * late)[0] if late > 0 else np.nonzero(mean <= late)[0]
    return {"late": round(late, 5), "converged_at": int(steps[int(below[0]) + offset]) if len(below) else None}


def convergence_rows(record: Mapping[str, Mapping[str, Any]], names: Sequence[str] = KMSF_ORDER) -> list[dict[str, Any]]:
    """One row per recorded config of ``names``: D's and G's late conditional loss, and when G's converged."""
    rows = []
    for name in names:
        if name not in record:
            continue
        curves = condition_curves(record[name]["log"])
        d, g = convergence(*curves["D"]), convergence(*curves["G"])
        steps = curves["G"][0]
        rows.append({"method": LABELS.get(name, name), "config": name, "steps": max(steps) if steps else 0,
                     "d_loss_cond_late": d["late"], "g_loss_cond_late": g["late"],
                     "g_converged_at": g["converged_at"]})
    return rows


def tiny_record(names: Sequence[str], out: str | Path, steps: int = 6, image_size: int = 32, seed: int = 0) -> Path:
    """Train each config of ``names`` narrow and short through the engine into
    ``out/<config>/`` (log.jsonl, config.json): the record's layout, for a
    chapter that has no GPU record to read."""
    from gamutlib.papers import get_method
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    out = Path(out)
    for name in names:
        config = training_config(name)
        config.update({"image_size": image_size, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 3, "batch_size": 4})
        if config["method"] == "ganimation_au":
            config["g_repeat_num"] = 1
        method = get_method(config["method"], {k: v for k, v in config.items() if k != "method"})
        train = TrainConfig(steps=steps, seed=seed, device="cpu", progress=False, log_every=1, sample_every=10**9,
                            checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
        run_dir = out / name
        run_dir.mkdir(parents=True, exist_ok=True)
        Trainer(method, train, run_dir=run_dir).fit()
        (run_dir / "config.json").write_text(json.dumps({"model": method.config, "train": {"steps": steps}}, indent=1))
    return out
