"""What a method gives the trainer.

A method (StarGAN, GANmut, a judge, ...) owns its networks and the maths of
its loss phases; the trainer owns everything else: the loop, optimizers,
schedules, mixed precision, checkpoints, logs, progress and DDP. This keeps
GAN maths out of the loop (the stylegan2-ada layout) and lets one loop train
every method of the study.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Protocol, TypeVar

import torch
from torch import nn


@dataclass
class Phase:
    """One optimisation phase: which networks it updates, and how often.

    ``fn(batch, step)`` returns a dict of scalar tensors; the key ``"loss"`` is
    the one back-propagated, the rest are logged (detached by the trainer).
    ``every`` runs the phase on steps where ``step % every == every - 1``
    (StarGAN's n_critic: D every step, G every 5th).
    ``capturable`` declares ``fn`` graph-safe, so on CUDA the trainer may
    capture the whole phase as a CUDA graph (gamutlib/training/graphs.py): no
    ``.item()`` or other host syncs, no Python branches or shapes that depend
    on tensor values or on ``step`` (a captured graph replays what it saw).
    Random ops are fine. Leave it False when unsure: the phase then runs eagerly.
    ``double_backward`` declares that the loss differentiates through the
    networks the phase updates twice (a WGAN-GP or R1 penalty): the trainer
    then never compiles those networks. AOTAutograd refuses that second
    backward when called directly (scripts/gpu/compile_check.py), yet inside
    the engine's captured D phase a compiled critic ran it without error and
    diverged (PyTorch 2.11 on an H100: D loss 2.7e14 within 70 iterations; see
    the experiments in book/results/engine/train_speed.json).
    """

    name: str
    nets: tuple[str, ...]
    fn: Callable[[dict[str, torch.Tensor], int], dict[str, torch.Tensor]]
    every: int = 1
    capturable: bool = False
    double_backward: bool = False


class Method(Protocol):
    """The interface the trainer drives (see gamutlib/training/trainer.py)."""

    name: str
    config: dict[str, Any]

    def networks(self) -> dict[str, nn.Module]:
        """Every trainable network by name, e.g. {"G": G, "D": D}."""

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        """Per-network optimizer settings, e.g. {"G": {"lr": 1e-4, "betas": (0.5, 0.999)}}.
        Learnable method parameters (GANmut's directions) belong to a network
        module so that they are saved and optimised with it."""

    def phases(self) -> list[Phase]:
        """Loss phases in the order they run within one step."""

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        """An endless iterator of training batches already on ``device``."""

    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """An image grid (N, 3, H, W) in [-1, 1] to save as a PNG during training."""

    def export(self) -> dict[str, nn.Module]:
        """The networks that ship (normally {"G": G}); weights/ holds only these.
        Return the same module objects as ``networks()``: the trainer then ships
        their EMA copies when EMA is on."""

    # Optional: ``to(device)`` moves whatever else the method holds (frozen
    # judges, constant tensors); the trainer calls it before training. A data
    # iterator with ``state_dict()``/``load_state_dict()`` is resumed from its
    # state; any other is re-opened from (seed, rank, step) at each checkpoint.


class DataclassConfig:
    """Mixin: ``config`` of a method whose settings are the dataclass ``cfg``;
    the dict the trainer saves with a run and a weights file carries, its
    method named so that a file of another method is refused on load."""

    name: str
    cfg: Any

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.name, **dataclasses.asdict(self.cfg)}


ConfigT = TypeVar("ConfigT")


def build_config(cls: type[ConfigT], config: ConfigT | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> ConfigT:
    """A method's config dataclass from an instance, a dict (a weights file's
    metadata carries ``method`` too, which is dropped) or nothing, plus
    overrides. Unknown keys raise: a typo must never train or load the wrong
    network. JSON lists become tuples (the dataclasses hold tuples)."""
    if config is None:
        base: dict[str, Any] = {}
    elif isinstance(config, Mapping):
        base = dict(config)
    elif isinstance(config, cls):
        base = dataclasses.asdict(config)
    else:
        raise TypeError(f"config must be a {cls.__name__} or a dict, got {type(config).__name__}")
    base.update(overrides)
    base.pop("method", None)
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(base) - known)
    if unknown:
        raise ValueError(f"unknown {cls.__name__} keys {unknown}; known keys are {sorted(known)}")
    for key, value in base.items():
        if isinstance(value, list):
            base[key] = tuple(value)
    return cls(**base)
