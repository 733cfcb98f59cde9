"""Exponential moving average of a network's weights (e.g. of G)."""

from __future__ import annotations

import copy

import torch
from torch import nn


class EMA:
    """``ema = beta * ema + (1 - beta) * net`` after every step; buffers are copied.

    The EMA network is a separate module (eval mode, no grads) so exports and
    sample grids can use it while training updates the live one.
    """

    def __init__(self, net: nn.Module, beta: float) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"EMA beta must be in [0, 1); got {beta}")
        self.beta = beta
        self.net = net
        self.module = copy.deepcopy(net).eval().requires_grad_(False)
        # in-place compile state (if any) must not be shared with the copy
        self.module._compiled_call_impl = None  # type: ignore[assignment]

    @torch.no_grad()
    def update(self, beta: float | None = None) -> None:
        beta = self.beta if beta is None else beta
        ema_params = [p for p in self.module.parameters()]
        params = [p.detach() for p in self.net.parameters()]
        if ema_params:
            torch._foreach_lerp_(ema_params, params, 1.0 - beta)
        for b_ema, b in zip(self.module.buffers(), self.net.buffers()):
            b_ema.copy_(b)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.module.state_dict()

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.module.load_state_dict(state)
