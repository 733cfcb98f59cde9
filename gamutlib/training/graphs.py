"""CUDA-graph capture of one training phase.

At batch 16 a 128 px GAN step is dominated by kernel launches and Python,
not arithmetic (the reference StarGAN loop spends most of each iteration
there). Capturing a whole phase (forward, the double-backward gradient
penalty, gradient averaging, the optimizer step) as one CUDA graph replays it
with a single launch. torch.compile's own graph modes cannot do this: its
AOTAutograd backward does not support double backward.

A phase may be captured only when its ``fn`` is graph-safe (``Phase.capturable``):
no host syncs (``.item()``, printing tensors), no shapes or Python branches that
depend on data or on ``step`` (the captured graph replays what it saw at
capture). Random ops are fine: the default generator is graph-aware.

Under torchrun the phase's gradient all_reduce (NCCL) is captured with the
rest and replays with it: the ranks' collectives stay paired because every
rank captures the same phases at the same step (the warm-up counts are equal)
and the trainer drops a graph on all ranks if any rank failed to capture it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from gamutlib.contract.method import Phase

if TYPE_CHECKING:
    from gamutlib.training.trainer import Trainer


class PhaseGraph:
    """One captured phase with static input and output tensors."""

    def __init__(self, trainer: "Trainer", phase: Phase, batch: dict[str, torch.Tensor], thread_local: bool = False) -> None:
        self.phase = phase
        self.static_batch = {k: v.clone() if torch.is_tensor(v) else v for k, v in batch.items()}
        self.shapes = {k: (v.shape, v.dtype, v.stride()) for k, v in self.static_batch.items() if torch.is_tensor(v)}
        self.graph = torch.cuda.CUDAGraph()
        device = trainer.device
        torch.cuda.synchronize(device)
        # thread_local: under torchrun the process group's watchdog thread polls
        # CUDA events while this thread captures; the global mode forbids that.
        with torch.cuda.graph(self.graph, capture_error_mode="thread_local" if thread_local else "global"):
            out = trainer.phase_body(phase, self.static_batch)
        self.static_out = {k: v.detach() for k, v in out.items()}

    def accepts(self, batch: dict[str, torch.Tensor]) -> bool:
        """Same keys, shapes, dtypes and layout as at capture (a short last batch is not)."""
        if batch.keys() != self.static_batch.keys():
            return False
        return all(
            (v.shape, v.dtype, v.stride()) == self.shapes[k] for k, v in batch.items() if torch.is_tensor(v)
        )

    def replay(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        for k, v in batch.items():
            if torch.is_tensor(v):
                self.static_batch[k].copy_(v, non_blocking=True)
        self.graph.replay()
        return self.static_out
