"""The trainer's settings, and how a run's config is resolved.

A run's config is one JSON object: ``{"method": name, "train": {...},
"model": {...}}``. ``train`` holds the engine's settings (TrainConfig below);
``model`` holds the method's own (widths, lambdas, batch size), resolved by the
method itself. ``--config FILE`` reads the same layout from JSON or TOML.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

if TYPE_CHECKING:
    from torch import nn


@dataclass
class TrainConfig:
    """Engine settings. Every field is plain JSON so a run folder records it."""

    steps: int = 10_000
    seed: int = 0
    #: Linear LR decay to exactly 0 over the last ``lr_decay_steps`` steps (0: constant LR).
    lr_decay_steps: int = 0
    #: EMA of the listed networks (decay per step; 0 turns it off); exports use the EMA copy.
    ema_beta: float = 0.0
    ema_nets: list[str] = field(default_factory=lambda: ["G"])
    ema_start: int = 0
    #: "auto" (bf16 autocast on CUDA, fp32 on CPU), "bf16" or "fp32".
    precision: str = "auto"
    #: Keep autocast's bf16 copy of each weight for the rest of a phase (one cast per
    #: weight per phase instead of one per forward; works inside CUDA graphs).
    autocast_cache: bool = True
    #: channels_last memory format: true/false for every network and the 4-D batch
    #: tensors; "auto": on CUDA, the networks without instance norm (in channels_last
    #: eager instance norm pays a layout copy per layer); or network names ("D" or
    #: "D,G"). The batch follows only when every network converts.
    channels_last: str | bool = "auto"
    #: torch.compile the networks in place ("auto": on CUDA), except those a
    #: double-backward phase updates (Phase.double_backward); a phase that still
    #: fails compiled falls back to eager for its networks. Compilation costs
    #: about half a minute when a run starts (GANmut on an H100: 37 s for its
    #: first 100 steps, then ~0.7 s per 100).
    compile: str | bool = "auto"
    compile_backend: str = "inductor"
    #: Capture phases marked ``Phase.capturable`` as CUDA graphs ("auto": on CUDA, one process).
    cuda_graphs: str | bool = "auto"
    graph_warmup: int = 3
    #: Fused Adam ("auto": on CUDA).
    fused_adam: str | bool = "auto"
    cudnn_benchmark: bool = True
    device: str = "auto"
    #: Logging: JSONL (and the NaN check) every ``log_every`` steps, a one-line summary every ``summary_every``.
    log_every: int = 50
    summary_every: int = 500
    sample_every: int = 2000
    checkpoint_every: int = 2000
    keep_checkpoints: int = 3
    #: Stop cleanly (checkpoint first) after this many minutes; 0: no limit.
    max_minutes: float = 0.0
    progress: bool = True

    def __post_init__(self) -> None:
        if self.steps < 0:
            raise ValueError(f"steps must be >= 0; got {self.steps}")
        if not 0 <= self.lr_decay_steps <= max(self.steps, 0):
            raise ValueError(f"lr_decay_steps must be in [0, steps={self.steps}]; got {self.lr_decay_steps}")
        if not 0.0 <= self.ema_beta < 1.0:
            raise ValueError(f"ema_beta must be in [0, 1); got {self.ema_beta}")
        if self.precision not in ("auto", "bf16", "fp32"):
            raise ValueError(f"precision must be 'auto', 'bf16' or 'fp32'; got {self.precision!r}")
        for name in ("log_every", "summary_every", "sample_every", "checkpoint_every", "keep_checkpoints"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1; got {getattr(self, name)}")

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown train settings {unknown}; known: {sorted(known)}")
        return cls(**values)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """A JSON or TOML file with optional ``method``, ``train`` and ``model`` entries."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no config file at {path}")
    text = path.read_text()
    if path.suffix == ".toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise ValueError(f"{path} is not valid TOML: {err}") from None
    elif path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is not valid JSON: {err}") from None
    else:
        raise ValueError(f"config files are .json or .toml; got {path.name}")
    if not isinstance(data, dict):
        raise ValueError(f"{path} must hold a table/object at the top level")
    unknown = sorted(set(data) - {"method", "train", "model"})
    if unknown:
        raise ValueError(f"{path}: unknown top-level entries {unknown}; use 'method', 'train' and 'model'")
    return data


def channels_last_nets(value: str | bool, on_cuda: bool, nets: "Mapping[str, nn.Module]") -> set[str]:
    """The networks that take the channels_last format: all or none for
    true/false; for "auto", on CUDA, those without instance norm; else the
    comma-separated names (each must exist)."""
    names = list(nets)
    if isinstance(value, bool):
        return set(names) if value else set()
    if value == "auto":
        return {n for n, net in nets.items() if not _has_instance_norm(net)} if on_cuda else set()
    if not isinstance(value, str):
        raise ValueError(f"channels_last must be true, false, 'auto' or network names like 'D'; got {value!r}")
    chosen = {n.strip() for n in value.split(",") if n.strip()}
    unknown = sorted(chosen - set(names))
    if not chosen or unknown:
        raise ValueError(f"channels_last names unknown networks {unknown or [value]}; networks: {sorted(names)}")
    return chosen


def _has_instance_norm(net: "nn.Module") -> bool:
    from torch import nn

    return any(isinstance(m, nn.modules.instancenorm._InstanceNorm) for m in net.modules())


def enabled(value: str | bool, on_cuda: bool) -> bool:
    """Resolve an "auto"/bool switch: "auto" means on for CUDA."""
    if value == "auto":
        return on_cuda
    if isinstance(value, bool):
        return value
    raise ValueError(f"expected true, false or 'auto'; got {value!r}")
