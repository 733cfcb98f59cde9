"""Inference time per image: one clean timing function for every generator.

PortraitGAN's Table 1 reports seconds per image for CycleGAN, StarGAN and
PortraitGAN; ours reports milliseconds, on the GPU and on 2 CPU threads, from
one function so that every method is timed the same way:

- ``fn(*inputs)`` is called under ``torch.inference_mode`` (no autograd
  bookkeeping), the inputs already on the device (no host-device copies timed);
- ``warmup`` calls first (cuDNN autotuning, oneDNN primitive caches, the allocator);
- each timed call is bracketed by ``torch.cuda.synchronize`` on CUDA, so a call
  is timed to the end of its kernels, not to their launch;
- the CPU thread count is set for the measurement and restored afterwards;
- the median (and the 90th percentile) of single calls, divided by the batch
  size: the time per image.

What ``fn`` includes is the caller's statement (e.g. PortraitGAN's landmark
rasterisation), to be written into the table's protocol.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

import numpy as np
import torch


def time_per_image(
    fn: Callable[..., Any],
    inputs: Sequence[torch.Tensor],
    threads: int | None = None,
    repeats: int = 50,
    warmup: int = 10,
) -> dict[str, Any]:
    """Median and p90 milliseconds per image of ``fn(*inputs)``; the batch is ``inputs[0].shape[0]``.

    ``threads`` sets ``torch.set_num_threads`` for the CPU (left as is when None)."""
    if repeats < 5 or warmup < 1:
        raise ValueError(f"repeats >= 5 and warmup >= 1 are needed; got {repeats}, {warmup}")
    if not inputs or not isinstance(inputs[0], torch.Tensor):
        raise ValueError("inputs must be a non-empty sequence of tensors, the first a batch (N, ...)")
    device = inputs[0].device
    if any(isinstance(t, torch.Tensor) and t.device != device for t in inputs):
        raise ValueError(f"every input must be on {device}, the device timed")
    cuda = device.type == "cuda"
    batch = int(inputs[0].shape[0])
    previous = torch.get_num_threads()
    if threads is not None:
        if threads < 1:
            raise ValueError(f"threads must be >= 1; got {threads}")
        torch.set_num_threads(threads)
    try:
        times = np.empty(repeats)
        with torch.inference_mode():
            for _ in range(warmup):
                fn(*inputs)
            if cuda:
                torch.cuda.synchronize(device)
            for i in range(repeats):
                t0 = time.perf_counter()
                fn(*inputs)
                if cuda:
                    torch.cuda.synchronize(device)
                times[i] = (time.perf_counter() - t0) * 1e3 / batch
    finally:
        torch.set_num_threads(previous)
    return {
        "median_ms": round(float(np.median(times)), 3),
        "p90_ms": round(float(np.percentile(times, 90)), 3),
        "device": str(device) if cuda else "cpu",
        "threads": threads if threads is not None else previous,
        "batch": batch,
        "repeats": repeats,
        "warmup": warmup,
        "torch": torch.__version__,
    }
