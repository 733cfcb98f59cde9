"""One training engine for every method (see trainer.py and method.py)."""

from gamutlib.training.config import TrainConfig
from gamutlib.training.method import Method, Phase
from gamutlib.training.registry import available_methods, get_method, register_method
from gamutlib.training.trainer import NonFiniteLossError, Trainer, start_run

__all__ = [
    "Method",
    "NonFiniteLossError",
    "Phase",
    "TrainConfig",
    "Trainer",
    "available_methods",
    "get_method",
    "register_method",
    "start_run",
]
