"""Inference time (PortraitGAN Table 1): seconds per forward pass.

Timed with torch.utils.benchmark, which synchronises CUDA around each run,
after warm-up passes (cuDNN autotuning, lazy initialisation). The median
and inter-quartile range over ``repeats`` runs are reported, per batch and
per image.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch.utils import benchmark



@torch.no_grad()
def inference_time(fn: Callable[..., Any], inputs: tuple[Any, ...], repeats: int = 20, warmup: int = 3) -> dict[str, float]:
    """Median seconds of ``fn(*inputs)``; ``inputs[0]`` is the image batch."""
    if repeats < 1 or warmup < 0:
        raise ValueError(f"repeats must be >= 1 and warmup >= 0, got {repeats} and {warmup}")
    for _ in range(warmup):
        fn(*inputs)
    m = benchmark.Timer(stmt="fn(*inputs)", globals={"fn": fn, "inputs": inputs}).timeit(repeats)
    batch = int(inputs[0].shape[0]) if isinstance(inputs[0], torch.Tensor) else 1
    device = str(inputs[0].device) if isinstance(inputs[0], torch.Tensor) else "cpu"
    return {
        "median_s": float(m.median),
        "iqr_s": float(m.iqr),
        "per_image_s": float(m.median) / batch,
        "batch": batch,
        "repeats": repeats,
        "device": device,
        "threads": torch.get_num_threads(),
    }
