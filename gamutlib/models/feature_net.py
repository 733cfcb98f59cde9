"""The ``feature_net`` method: trains the benchmark feature network of the perceptual loss.

``BenchmarkFeatures`` (gamutlib/nn/feature_net.py) learns two tasks on the
benchmark's renders at once: which of ``n_identities`` training identities a
face shows (cross-entropy over a closed pool, linear head on the pooled last
map) and its 17 AU intensities (smooth-L1 regression from the pooled third
and fourth maps). Identity makes its features care about who the face is,
the AUs about the expression's local shape: what EGGAN's L_per should keep.

Nothing here is a scoring judge (gamutlib/judges): another architecture
(group norm, GELU, residual stages), another objective (no emotion classes,
no verification margin), another seed offset, other faces (random styles, a
larger identity pool), and it never reads the judges' weights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.constants import AU_IDS, AU_MAX
from gamutlib.contract import DataclassConfig, Phase, build_config, register_method
from gamutlib.models.identity_faces import identity_batches
from gamutlib.nn.feature_net import BenchmarkFeatures

#: Added to the run's seed: the feature net never sees the judges' stream of faces.
SEED_OFFSET = 7919


class FeatureHeads(nn.Module):
    """The training heads: identity logits from the last map, AUs from the last two."""

    def __init__(self, channels: tuple[int, ...], n_identities: int) -> None:
        super().__init__()
        self.identity = nn.Linear(channels[-1], n_identities)
        self.aus = nn.Sequential(nn.Linear(channels[-2] + channels[-1], 128), nn.GELU(), nn.Linear(128, len(AU_IDS)))

    def forward(self, feats: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        last = feats[-1].mean((2, 3))
        both = torch.cat([feats[-2].mean((2, 3)), last], dim=1)
        return self.identity(last), self.aus(both)


@dataclass
class FeatureNetConfig:
    image_size: int = 128
    width: int = 24
    n_identities: int = 1024
    style: str = "random"
    lambda_au: float = 1.0
    lr: float = 3e-4
    weight_decay: float = 1e-4
    batch_size: int = 64


@register_method("feature_net")
class FeatureNet(DataclassConfig):
    name = "feature_net"

    def __init__(self, config: FeatureNetConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(FeatureNetConfig, config, overrides)
        self.F = BenchmarkFeatures(self.cfg.width)
        self.heads = FeatureHeads(self.F.channels, self.cfg.n_identities)

    def networks(self) -> dict[str, nn.Module]:
        return {"F": self.F, "heads": self.heads}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        c = self.cfg
        return {n: {"optimizer": "adamw", "lr": c.lr, "weight_decay": c.weight_decay} for n in ("F", "heads")}

    def phases(self) -> list[Phase]:
        return [Phase("F", ("F", "heads"), self.phase, capturable=True)]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        c = self.cfg
        return identity_batches(c.batch_size, c.image_size, c.n_identities, device, seed + SEED_OFFSET, style=c.style)

    def losses(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        id_logits, aus = self.heads(self.F(batch["image"]))
        loss_id = F.cross_entropy(id_logits.float(), batch["identity"])
        loss_au = F.smooth_l1_loss(aus.float(), batch["aus"].float() / AU_MAX)
        return {"loss": loss_id + self.cfg.lambda_au * loss_au, "loss_id": loss_id, "loss_au": loss_au}

    def phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        return self.losses(batch)

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """The first 8 training faces beside the mean of each one's first feature map (a sanity view)."""
        x = batch["image"][:8]
        f1 = self.F(x)[0].mean(1, keepdim=True)
        f1 = F.interpolate(f1, size=x.shape[-2:], mode="nearest")
        f1 = (f1 - f1.amin((2, 3), keepdim=True)) / (f1.amax((2, 3), keepdim=True) - f1.amin((2, 3), keepdim=True) + 1e-6)
        from gamutlib.models.translation import grid

        return grid([x, (2 * f1 - 1).expand_as(x)])

    def export(self) -> dict[str, nn.Module]:
        return {"F": self.F}
