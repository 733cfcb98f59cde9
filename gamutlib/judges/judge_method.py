"""What the three judge methods share when they train through the engine.

A judge is a one-network method: one phase (a supervised loss on the
benchmark's ground truth), AdamW, batches from the renderer. The config is a
dataclass whose JSON form goes into the run folder and the weights file, so a
shipped judge can be rebuilt exactly (``from_config``).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping, TypeVar

import torch
from torch import nn

ConfigT = TypeVar("ConfigT")


def build_config(cls: type[ConfigT], config: ConfigT | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> ConfigT:
    """A config dataclass from an instance, a dict (a weights file's metadata
    carries ``method`` too, which is dropped) or nothing, plus overrides.
    Unknown keys raise: a typo must never train or load the wrong judge."""
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


class JudgeMethod:
    """Base of the judge methods: one network ``net`` registered as ``key``."""

    name: str
    key: str
    cfg: Any
    net: nn.Module

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.name, **dataclasses.asdict(self.cfg)}

    def networks(self) -> dict[str, nn.Module]:
        return {self.key: self.net}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        return {
            self.key: {
                "optimizer": "adamw",
                "lr": self.cfg.lr,
                "betas": (0.9, 0.999),
                "weight_decay": self.cfg.weight_decay,
            }
        }

    def export(self) -> dict[str, nn.Module]:
        return {self.key: self.net}

    def to(self, device: torch.device | str) -> "JudgeMethod":
        self.net.to(device)
        return self
