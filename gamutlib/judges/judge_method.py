"""What the three judge methods share when they train through the engine.

A judge is a one-network method: one phase (a supervised loss on the
benchmark's ground truth), AdamW, batches from the renderer. The config is a
dataclass whose JSON form goes into the run folder and the weights file, so a
shipped judge can be rebuilt exactly (``from_config``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch import nn



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
