"""Data parallelism under ``torchrun``: one process per GPU (gloo on CPU).

Gradients are averaged by hand after each phase's backward (flatten, one
all_reduce, unflatten), as stylegan2-ada does, instead of wrapping networks in
DistributedDataParallel: DDP's hooks do not support the double backward of
gradient penalties, and methods call their own networks directly, so no
wrapper has to be threaded through their loss code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, Iterable

import torch
import torch.distributed as dist
from torch import nn


#: Set to 1 to join a process group even as a single process (``torchrun
#: --nproc_per_node 1``): the multi-process code path (collectives, their
#: capture in CUDA graphs) then runs, and can be checked, on one device.
FORCE_GROUP_ENV = "GAMUT_PROCESS_GROUP"


@dataclass(frozen=True)
class World:
    rank: int = 0
    local_rank: int = 0
    size: int = 1
    group: bool = False  # a process group was joined (size > 1, or forced with one process)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.size > 1 or self.group


def init_from_env(device_kind: str) -> World:
    """Join the process group torchrun describes (WORLD_SIZE > 1, or GAMUT_PROCESS_GROUP=1), else one process."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    forced = os.environ.get(FORCE_GROUP_ENV, "0") == "1"
    if size <= 1 and not forced:
        return World()
    if "RANK" not in os.environ or "MASTER_ADDR" not in os.environ:
        raise RuntimeError(f"{FORCE_GROUP_ENV}=1 or WORLD_SIZE > 1 needs a torchrun launch (RANK, MASTER_ADDR unset)")
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if not dist.is_initialized():
        backend = "nccl" if device_kind == "cuda" else "gloo"
        if device_kind == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
    return World(rank=rank, local_rank=local_rank, size=size, group=True)


def rank_seed(seed: int, rank: int) -> int:
    """Per-rank seed: rank 0 keeps ``seed``, so one process equals rank 0."""
    return seed + 1_000_003 * rank


def broadcast_modules(modules: Iterable[nn.Module], src: int = 0) -> None:
    """Give every rank rank 0's parameters and buffers."""
    with torch.no_grad():
        for module in modules:
            for t in list(module.parameters()) + list(module.buffers()):
                dist.broadcast(t.data, src=src)


def average_gradients(params: list[nn.Parameter], world: World) -> None:
    """Average .grad of ``params`` over ranks with one flat all_reduce."""
    if not world.distributed or not params:
        return
    grads = []
    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        grads.append(p.grad)
    flat = torch.cat([g.flatten() for g in grads])
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    flat /= world.size
    offset = 0
    for g in grads:
        n = g.numel()
        g.copy_(flat[offset: offset + n].view_as(g))
        offset += n


def all_mean(t: torch.Tensor, world: World) -> torch.Tensor:
    if world.distributed:
        t = t.clone()
        dist.all_reduce(t, op=dist.ReduceOp.SUM)
        t /= world.size
    return t


def any_flag(flag: bool, world: World, device: torch.device) -> bool:
    """True on every rank if it is True on any rank."""
    if not world.distributed:
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item())


def gather_objects(obj: Any, world: World) -> list[Any]:
    """Every rank's ``obj`` (in-memory between our own processes), rank order."""
    if not world.distributed:
        return [obj]
    out: list[Any] = [None] * world.size
    dist.all_gather_object(out, obj)
    return out


def barrier(world: World) -> None:
    if world.distributed:
        dist.barrier()
