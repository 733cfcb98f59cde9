"""Learning-rate schedules.

The reference StarGAN and GANmut solvers "decay linearly" with
``lr -= lr / num_iters_decay`` once every ``lr_update_step`` iterations: with
their defaults (100k decay iterations, update every 1000) that multiplies the
LR by (1 - 1e-5) a hundred times, i.e. it decays by about 0.1% instead of to 0.
Here the factor is a pure function of the step, so it reaches exactly 0 and
resumes exactly.
"""

from __future__ import annotations

import torch


def linear_decay_factor(step: int, total_steps: int, decay_steps: int) -> float:
    """1 until ``total - decay`` steps, then linearly down to exactly 0 at ``total``.

    The update at step ``s`` (0-based) uses ``(total - s) / decay``; the last
    update uses ``1 / decay`` and the LR after the final step is 0.
    """
    if decay_steps <= 0:
        return 1.0
    return min(1.0, max(0.0, (total_steps - step) / decay_steps))


def linear_decay(optimizer: torch.optim.Optimizer, total_steps: int, decay_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """A LambdaLR with ``linear_decay_factor``; step it once per training step."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: linear_decay_factor(step, total_steps, decay_steps)
    )
