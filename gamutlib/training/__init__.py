"""One training engine for every method (see trainer.py).

The engine knows methods only through the contract (gamutlib.contract): it
never imports a model or a judge. Finding a method by name is the paper
registry's job (``gamutlib.papers.get_method``).
"""

from gamutlib.contract.method import Method, Phase
from gamutlib.training.config import TrainConfig
from gamutlib.training.trainer import NonFiniteLossError, Trainer, start_run

__all__ = ["Method", "NonFiniteLossError", "Phase", "TrainConfig", "Trainer", "start_run"]
