"""What EGGAN and HGAN share about their perceptual loss: the benchmark feature network.

Both read a frozen ``feature_net`` export (gamutlib/nn/feature_net.py), never a
scoring judge, named by their config's ``feature_weights`` (a name under
weights/ or a path; "" = an untrained network, frozen, for tests), and weigh
the loss by ``lambda_per`` (0 switches it off and nothing is loaded).
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from torch import nn

from gamutlib.losses.perceptual import perceptual_loss


class FeatureLossMethod:
    """Mixin for a method whose ``cfg`` has ``feature_weights`` and ``lambda_per``."""

    cfg: Any
    _features: nn.Module | None = None  # loaded on first use, then kept

    def features(self, device: torch.device) -> nn.Module:
        """The frozen feature network, on ``device``."""
        if self._features is None:
            from gamutlib.nn.feature_net import BenchmarkFeatures, frozen, load_benchmark_features

            name = self.cfg.feature_weights
            self._features = load_benchmark_features(name) if name else frozen(BenchmarkFeatures())
        return self._features.to(device)

    def to(self, device: torch.device) -> Any:
        """The trainer calls this first: a missing feature network fails before step 0."""
        if self.cfg.lambda_per > 0:
            self.features(torch.device(device))
        return self

    def perceptual(self, pairs: Sequence[tuple[torch.Tensor, torch.Tensor]],
                   layers: Sequence[int] | None = None) -> torch.Tensor:
        """L_per summed over (generated, target) pairs, on the feature maps ``layers`` (default: all)."""
        (x, y), *rest = pairs
        features = self.features(x.device)
        loss = perceptual_loss(features, x, y, layers)
        for x, y in rest:
            loss = loss + perceptual_loss(features, x, y, layers)
        return loss
