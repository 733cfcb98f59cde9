"""How long Table 2 of the GANmut chapter takes to measure (``gamut bench metrics``).

The target: ERE (both settings) and FED over the chapter's test set in at most
``TARGET_S`` seconds on one H100, which is only reachable when generation and
judging are batched over (face, code) chunks rather than looped per image.

What is timed is what the evaluation chapter (notebooks/ganmut/03_evaluation.py)
runs for GANmut on a profile: the same test faces (``FaceTestSet``, seed
``TEST_SEED``, as many faces as the chapter renders), the same shipped emotion
judge, the same grid (``Conditioned.search_grid``) and the same calls
(``ere_both_settings``, ``fed_generated``, ``fed_real``). Rendering the test
set and loading the networks happen once per chapter and are left out; the
clock covers generation and judging, synchronised on CUDA so it sees the work.

A cheap warm-up (one chunk through G and the judge) pays for kernel loading
first; then the whole measurement runs ``repeats`` times, and both the first
and the second timed call are reported: the first is what a chapter run sees,
the second what a warm process sees. The target is judged on the first.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch

from gamutlib.devices import device_name, resolve_device, synchronize
from gamutlib.evaluation import ganmut as ev

TARGET_S = 60.0
#: The evaluation chapter's test-face seed; the faces must be the chapter's.
TEST_SEED = ev.TEST_SEED


@dataclass
class MetricInputs:
    """Everything the timed calls need, built once (not timed)."""

    profile: str
    device: torch.device
    sizes: ev.EvalSizes
    model: ev.Conditioned
    judge: Any
    grid: torch.Tensor
    x_ere: torch.Tensor
    x_fed: torch.Tensor
    y_fed: torch.Tensor
    n_test: int


def chapter_inputs(profile: str = "gpu", device: str | torch.device = "auto", weights_dir: str | Path = "weights",
                   allow_fallback: bool = False) -> MetricInputs:
    """The test set, judge, GANmut and grid exactly as the evaluation chapter builds them for ``profile``.

    ``allow_fallback`` stands in a two-step GANmut when the shipped file is absent,
    as the chapter does on its smoke profile; a timing of it says nothing about the
    shipped network's cost beyond the code path."""
    from gamutlib.judges.loading import load_emotion_judge

    sizes = ev.sizes_for(profile)  # refuses an unknown profile, naming the known ones
    dev = resolve_device(device)
    torch.manual_seed(0)  # as the chapter, before anything is built
    judge = load_emotion_judge(dev)
    model = ev.load_or_fallback("ganmut", root=weights_dir, device=dev, allow_fallback=allow_fallback)
    images, labels = ev.test_faces(sizes, dev)
    return MetricInputs(profile, dev, sizes, model, judge, model.search_grid(sizes), images[: sizes.n_faces],
                        images[: sizes.n_fed], labels[: sizes.n_fed], sizes.n_test)


def timed(fn: Callable[[], Any], device: torch.device) -> tuple[Any, float]:
    """``fn()`` and its wall-clock seconds; CUDA is synchronised on both sides so queued work counts."""
    synchronize(device)
    start = time.perf_counter()
    out = fn()
    synchronize(device)
    return out, time.perf_counter() - start


@torch.no_grad()
def warm_up(inputs: MetricInputs) -> None:
    """One small chunk through G and both judge heads: loads kernels so the timed calls measure the metrics."""
    n = min(len(inputs.x_ere), 4)
    codes = inputs.grid[:1].expand(n, -1).to(inputs.device)
    fake = inputs.model(inputs.x_ere[:n].to(inputs.device), codes)
    inputs.judge.probs(fake)
    inputs.judge.features(fake)
    synchronize(inputs.device)


def measure_once(inputs: MetricInputs) -> dict[str, tuple[Any, float]]:
    """One pass of the chapter's Table 2 calls for GANmut: ERE (both settings), FED, FED of the real halves."""
    s, dev, model, judge = inputs.sizes, inputs.device, inputs.model, inputs.judge
    return {
        "ere": timed(lambda: ev.ere_both_settings(model, judge.probs, inputs.x_ere, inputs.grid, 16, s.chunk_size, dev), dev),
        "fed": timed(lambda: ev.fed_generated(model, judge.features, inputs.x_fed, inputs.y_fed, 0, s.chunk_size, dev), dev),
        "fed_real": timed(lambda: ev.fed_real(judge.features, inputs.x_fed, 0, s.chunk_size, dev), dev),
    }


def _seconds(value: float) -> float:
    return round(float(value), 3)


def speed_rows(inputs: MetricInputs, passes: list[dict[str, tuple[Any, float]]]) -> list[dict[str, Any]]:
    """The table: one row per metric (first and, where run, second timed call) and the total against the target."""
    first, second = passes[0], passes[-1] if len(passes) > 1 else None
    ere, fed = first["ere"][0], first["fed"][0]
    n_codes = int(inputs.grid.shape[0])
    specs = [
        ("ere", {"metric": "ERE (settings 1+2)", "faces": len(inputs.x_ere), "codes": n_codes,
                 "edits": len(inputs.x_ere) * n_codes, "ere_setting1": round(ere["ere_setting1"], 5),
                 "ere_setting2": round(ere["ere_setting2"], 5)}),
        ("fed", {"metric": "FED", "faces": len(inputs.x_fed), "codes": 1, "edits": len(inputs.x_fed),
                 "fed": round(float(fed["fed"]), 4)}),
        ("fed_real", {"metric": "FED (Real halves)", "faces": len(inputs.x_fed), "codes": 0, "edits": 0,
                      "fed": round(float(first["fed_real"][0]), 4)}),
    ]
    rows = []
    for key, row in specs:
        row["seconds"] = _seconds(first[key][1])
        if second is not None:
            row["seconds_second_call"] = _seconds(second[key][1])
        rows.append(row)
    total = {"metric": "ERE+FED", "faces": inputs.n_test, "seconds": _seconds(sum(t for _, t in first.values()))}
    if second is not None:
        total["seconds_second_call"] = _seconds(sum(t for _, t in second.values()))
    total.update(target_s=TARGET_S, meets_target=total["seconds"] <= TARGET_S)
    return rows + [total]


def metric_speed(profile: str = "gpu", device: str | torch.device = "auto", weights_dir: str | Path = "weights",
                 allow_fallback: bool = False, repeats: int = 2) -> dict[str, Any]:
    """Time the chapter's ERE and FED for GANmut on ``profile``; returns {"rows", "protocol", "seeds", "device"}."""
    if repeats < 1:
        raise ValueError(f"repeats must be >= 1, got {repeats}")
    inputs = chapter_inputs(profile, device, weights_dir, allow_fallback)
    warm_up(inputs)
    passes = [measure_once(inputs) for _ in range(repeats)]
    name = device_name(inputs.device)
    rows = [{**row, "profile": profile, "device": name} for row in speed_rows(inputs, passes)]
    s = inputs.sizes
    grid = "paper grid" if s.is_paper_grid else "reduced grid"
    protocol = (
        f"GANmut Table 2 metrics as the evaluation chapter runs them on the {profile} profile: {inputs.n_test} benchmark "
        f"test faces (seed {TEST_SEED}, 128 px, rendered once, not timed); ERE settings 1+2 on {len(inputs.x_ere)} faces x "
        f"{int(inputs.grid.shape[0])} codes ({grid}: radius {s.ere_radius_step}, {s.ere_angle_steps} angles), chunks of "
        f"{s.chunk_size}; FED of generated faces and of the real halves on {len(inputs.x_fed)} faces; shipped emotion "
        f"judge; generator {inputs.model.source}; wall clock of generation + judging (CUDA synchronised) after a "
        f"one-chunk warm-up, first and second call; {name}, torch {torch.__version__}"
    )
    return {"rows": rows, "protocol": protocol, "seeds": [0, TEST_SEED], "device": name}


def write_metric_speed(result: dict[str, Any], out: str | Path = "book/results/judges/metric_speed.json") -> Path:
    """Write the table at ``out`` (``<results>/<folder>/<name>.json``) with the record's keys; no tolerance:
    timings depend on the machine, so the table is never compared with the record."""
    from gamutlib.reproduce.tables import write_table

    target = Path(out)
    if target.suffix != ".json":
        raise ValueError(f"--out must name a .json file, got {out}")
    return write_table(
        target.parent.parent, target.parent.name, target.stem, rows=result["rows"],
        paper_numbers={"source": "GANmut reports no evaluation time; the target (ERE + FED in <= "
                       f"{TARGET_S:g} s on one H100) is this project's"},
        protocol=result["protocol"], seeds=result["seeds"], producer="gamut bench metrics",
    )
