"""Choosing a device, naming it, and waiting for it: shared by training and the benchmarks."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def resolve_device(spec: str | torch.device = "auto", local_rank: int = 0) -> torch.device:
    """``auto`` is this process's GPU (``cuda:local_rank``) where there is one, else the CPU.

    Asking for CUDA on a machine without it fails here, with one clear message,
    rather than at the first tensor moved there."""
    if str(spec) == "auto":
        return torch.device("cuda", local_rank) if torch.cuda.is_available() else torch.device("cpu")
    device = torch.device(spec)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(spec)!r} was asked for, but torch sees no CUDA device")
    return device


def synchronize(device: torch.device) -> None:
    """Wait for queued CUDA work, so a wall clock read afterwards sees it (a no-op on the CPU)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU with its thread count: what a timing was measured on."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({torch.get_num_threads()} threads)"


@contextlib.contextmanager
def plain_fp32() -> Iterator[None]:
    """Convolutions and matrix products in true fp32 (no TF32) while inside:
    the arithmetic a CPU does, so a cpu-sized table made on a GPU agrees
    with a reader's CPU run to rounding."""
    saved = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = torch.backends.cuda.matmul.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = saved
