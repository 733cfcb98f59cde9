"""Batched evaluation of networks over large sets of faces and codes.

The grid-search metrics (ERE, smoothness, accuracy of generated images) judge
every face under every code: N faces x K codes edits. These are produced in
chunks of ``chunk_size`` edits over the flattened (face, code) index, so the
only Python loop is over chunks, never over images, and memory stays bounded
whatever N and K are.
"""

from __future__ import annotations

from typing import Callable

import torch

Generator = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
Judge = Callable[[torch.Tensor], torch.Tensor]


@torch.no_grad()
def map_batches(fn: Judge, x: torch.Tensor, batch_size: int = 512, device: torch.device | str | None = None) -> torch.Tensor:
    """``fn`` applied to ``x`` in batches (on ``device``), concatenated on x's device."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    device = torch.device(device) if device is not None else x.device
    outs = [fn(chunk.to(device, non_blocking=True)).float().to(x.device) for chunk in x.split(batch_size)]
    return torch.cat(outs)


@torch.no_grad()
def judge_edits(
    G: Generator,
    judge: Judge,
    images: torch.Tensor,
    codes: torch.Tensor,
    chunk_size: int = 2048,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """``judge(G(x_n, c_k))`` for every face n and code k, shaped (N, K, ...).

    ``codes`` is (K, D), shared by every face. The edits of one chunk are built
    by indexing (face = i // K, code = i % K), so the N*K images never exist
    at once.
    """
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape (K, D), got {tuple(codes.shape)}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    device = torch.device(device) if device is not None else images.device
    n, k = images.shape[0], codes.shape[0]
    codes = codes.to(device)
    outs = []
    for start in range(0, n * k, chunk_size):
        index = torch.arange(start, min(start + chunk_size, n * k), device=device)
        faces = images[(index // k).to(images.device)].to(device, non_blocking=True)
        outs.append(judge(G(faces, codes[index % k])).float())
    out = torch.cat(outs)
    return out.reshape(n, k, *out.shape[1:])
