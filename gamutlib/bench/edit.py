"""Latency of one live edit (``gamut bench edit``): what a slider move costs.

One edit is the editor's own path, the one the explorers call: the checks of
its declared controls, the code from their values (GANmut's theta and rho,
GGANmut's x and y), G, clamping back to a float32 image. Every timed call
edits the same face, as a slider move does: an editor that keeps what depends
on the face alone (EGGAN's E(x), FineGrained's encoder features) runs only
the part of G that depends on the control. The codes timed are
the editor's declared ``example_values``; the editor comes from the paper
registry, so any editable method can be timed. It
is timed call by call with ``time.perf_counter`` after warm-up (batch 1, 128 px,
a benchmark face), so the median and the 90th percentile are of single edits.
The variants' calls are interleaved (A B C A B C ...), so a burst of load from
other work on a shared CPU hits them all alike.

Each speed variant of ``gamutlib.models.editor.SPEED_VARIANTS`` is timed and
its output compared with the float32 output of the same face and codes: a
variant keeps quality when its largest pixel difference stays within
``QUALITY_TOL`` (two grey levels of an 8-bit image). The chosen variant is the
fastest that keeps quality. For "compiled" (torch.compile) the one-off compile
time is recorded too; a variant that fails (no C++ compiler) gets its error.

The timing is repeated ``runs`` times and each variant reports the run with
its best median (the least disturbed one).
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from gamutlib.models.editor import SPEED_VARIANTS

QUALITY_TOL = 2 * 2 / 255  # two 8-bit grey levels, in [-1, 1] units
TARGET_MEDIAN_MS = 40.0


def load_bench_editor(method: str, weights: str | None = None) -> tuple[Any, str]:
    """The editor of ``method`` from its weights, else a random-init one of the
    shipped architecture (latency does not depend on training); and which it is."""
    from gamutlib.papers import editor_class
    from gamutlib.weights import SHIPPED_ROOT, has_weights

    Editor = editor_class(method)
    path = Path(weights) if weights else SHIPPED_ROOT / f"{method}.safetensors"
    if has_weights(path.parent, path.stem):  # plain or packed
        return Editor.from_weights(path.stem, root=str(path.parent)), str(path)
    if weights:
        raise ValueError(f"no weights at {path}; make them with `gamut train {method} --export {path.stem}`")
    torch.manual_seed(0)
    shown = os.path.relpath(path) if path.is_absolute() else str(path)
    return Editor.from_method(Editor.method_cls()), f"random init (no {shown} yet; same architecture as the shipped export)"


def _edit_fn(editor: Any) -> Callable[[torch.Tensor, dict[str, float]], torch.Tensor]:
    return editor.edit_values


def quality(edit: Callable, face: torch.Tensor, codes: list, reference: list[torch.Tensor]) -> tuple[float, float]:
    """(max, mean) absolute difference to the float32 outputs over ``codes``."""
    diffs = [(edit(face, code) - ref).abs() for code, ref in zip(codes, reference)]
    return max(float(d.max()) for d in diffs), float(torch.stack([d.mean() for d in diffs]).mean())


def bench_edit(
    method: str = "ganmut",
    threads: int = 2,
    repeats: int = 50,
    runs: int = 3,
    variants: tuple[str, ...] = tuple(SPEED_VARIANTS),
    weights: str | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Time every variant; returns {"rows", "protocol", "seeds", "chosen"}."""
    from gamutlib.face_source import benchmark_face

    if threads < 1 or repeats < 5 or runs < 1:
        raise ValueError(f"threads >= 1, repeats >= 5 and runs >= 1 are needed; got {threads}, {repeats}, {runs}")
    for v in variants:
        if v not in SPEED_VARIANTS:
            raise ValueError(f"unknown variant {v!r}; choose from {', '.join(SPEED_VARIANTS)}")
    torch.set_num_threads(threads)
    editor, origin = load_bench_editor(method, weights)
    face = benchmark_face(seed, editor.image_size).face
    codes = list(editor.example_values)
    edit = _edit_fn(editor)
    editor.use_variant("fp32")
    reference = [edit(face, code) for code in codes]

    # One editor (own copy of G) per variant, so that the variants can be timed
    # in turns: on a shared CPU, load changes from second to second, and calls
    # interleaved A B C A B C ... see the same load.
    rows, timed = [], []
    for variant in variants:
        row: dict[str, Any] = {"method": method, "device": "cpu", "threads": threads, "variant": variant}
        candidate = copy.deepcopy(editor)
        try:
            candidate.use_variant(variant)
            fn_edit = _edit_fn(candidate)
            if variant == "compiled":
                t0 = time.perf_counter()
                fn_edit(face, codes[0])  # compiles here
                row["compile_s"] = round(time.perf_counter() - t0, 1)
            max_diff, mean_diff = quality(fn_edit, face, codes, reference)
        except Exception as err:  # e.g. inductor without a C++ toolchain: say why, time the others
            row["error"] = f"{type(err).__name__}: {str(err).strip().splitlines()[0][:200] if str(err).strip() else ''}"
            log(f"{variant} failed: {row['error']}")
            rows.append(row)
            continue
        row.update(max_abs_diff=round(max_diff, 5), mean_abs_diff=round(mean_diff, 6), keeps_quality=max_diff <= QUALITY_TOL)
        rows.append(row)
        timed.append((row, lambda fn_edit=fn_edit: fn_edit(face, codes[0])))
    for _, fn in timed:  # warm-up (oneDNN primitive caches, allocator)
        for _ in range(5):
            fn()
    load_before = _load_average()
    per_run: list[list[np.ndarray]] = []
    for _ in range(runs):
        times = np.empty((len(timed), repeats))
        for i in range(repeats):
            for k, (_, fn) in enumerate(timed):
                t0 = time.perf_counter()
                fn()
                times[k, i] = (time.perf_counter() - t0) * 1e3
        per_run.append(list(times))
    load_after = _load_average()
    for k, (row, _) in enumerate(timed):
        medians = [float(np.median(run[k])) for run in per_run]
        best = int(np.argmin(medians))
        row.update(median_ms=round(medians[best], 2), p90_ms=round(float(np.percentile(per_run[best][k], 90)), 2),
                   run_medians_ms=[round(m, 2) for m in medians])
        log(f"{row['variant']}: median {row['median_ms']} ms, p90 {row['p90_ms']} ms (run medians {row['run_medians_ms']}), "
            f"max |diff| {row['max_abs_diff']}")
    good = [r for r in rows if r.get("keeps_quality")]
    chosen = min(good, key=lambda r: r["median_ms"])["variant"] if good else None
    for row in rows:
        row["chosen"] = row["variant"] == chosen
        if "median_ms" in row:
            row["target_median_ms"] = TARGET_MEDIAN_MS
            row["meets_target"] = row["median_ms"] <= TARGET_MEDIAN_MS
    cpu = _cpu_name()
    protocol = (
        f"one {editor.image_size} px edit of benchmark face {seed} (batch 1) through the {method} editor's path "
        f"(input checks, code, G, clamp; every call edits that face, so what the editor keeps from the face alone, "
        f"such as an encoding, is not recomputed, as in a slider move), CPU ({cpu}), {threads} threads, "
        f"torch {torch.__version__}; "
        f"{repeats} timed calls per variant after 5 warm-up calls, the variants' calls interleaved, "
        f"best median of {runs} runs (the CPU is shared with other work: 1-minute load average "
        f"{load_before} as the timing began and {load_after} as it ended, this benchmark's own threads included, "
        f"on {os.cpu_count()} cores); "
        f"quality: max |output - float32 output| over {len(codes)} codes <= {QUALITY_TOL:.4f} (2 grey levels); "
        f"weights: {origin}"
    )
    return {"rows": rows, "protocol": protocol, "seeds": [seed], "chosen": chosen}


def _load_average() -> str:
    """The 1-minute load average, so a record says how busy the machine was ("unknown" where the OS has none)."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except (AttributeError, OSError):
        return "unknown"


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return f"{line.split(':', 1)[1].strip()} x{os.cpu_count()}"
    except OSError:
        pass
    return f"{os.cpu_count()} cores"
