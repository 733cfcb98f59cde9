"""Render speed: faces per second of `random_faces` at several sizes.

Warm-up first (allocator, CUDA kernels), then timed batches until at least
``min_seconds`` have passed, synchronising on CUDA so the clock sees the work.
Rows go to a JSON table that keeps the rows of other devices, so the CPU row
measured on one machine and the GPU rows measured on another live together.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import torch

from gamutlib.devices import device_name, resolve_device, synchronize
from gamutlib.faces.batch import random_faces

DEFAULT_BATCH = {"cpu": 64, "cuda": 1024}


def faces_per_second(size: int, batch: int, device: torch.device, warmup: int = 2, min_seconds: float = 3.0,
                     min_iters: int = 3, compile: bool = False) -> float:
    """Faces/s of ``random_faces(batch, size)`` on ``device`` (photo style, fresh faces each batch).
    The warm-up also pays torch.compile's one-off compilation when ``compile``."""
    with torch.no_grad():
        for k in range(warmup):
            random_faces(batch, size=size, seed=k, device=device, compile=compile)
        synchronize(device)
        start, iters = time.perf_counter(), 0
        while iters < min_iters or time.perf_counter() - start < min_seconds:
            random_faces(batch, size=size, seed=warmup + iters, device=device, compile=compile)
            iters += 1
            synchronize(device)
        return iters * batch / (time.perf_counter() - start)


def bench_render(sizes=(64, 128, 256), device: str = "cpu", batch: int | None = None, out: str | Path | None = None,
                 min_seconds: float = 3.0, compile_modes: tuple[bool, ...] = (False,)) -> dict:
    """Measure every size (eager, and compiled where asked), then replace this
    device type's rows in ``out`` (if given)."""
    dev = resolve_device(device)
    if not sizes:
        raise ValueError("give at least one size")
    batch = batch or DEFAULT_BATCH.get(dev.type, 64)
    if batch < 1:
        raise ValueError(f"batch must be >= 1, got {batch}")
    rows = []
    for compiled in compile_modes:
        for size in sizes:
            fps = faces_per_second(int(size), batch, dev, min_seconds=min_seconds, compile=compiled)
            rows.append({"device": dev.type, "device_name": device_name(dev), "size": int(size), "batch": batch,
                         "compiled": compiled, "faces_per_s": round(fps, 1)})
    table = {
        "rows": rows,
        "paper": {"source": "no paper renders its data; targets: >= 500 faces/s at 64 px on 2 CPU cores, >= 20,000 faces/s at 128 px on an H100"},
        "protocol": "random_faces (identity, emotion, AUs, nuisance, photo style) per batch; 2 warm-up batches (which pay torch.compile's one-off compile where compiled), then timed batches for >= 3 s, CUDA synchronised",
        "seeds": [0],
    }
    if out is not None:
        path = Path(out)
        if path.exists():
            old = json.loads(path.read_text())
            table["rows"] = [r for r in old.get("rows", []) if r.get("device") != dev.type] + rows
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(table, indent=1) + "\n")
    return {**table, "measured": rows}
