"""The AU judge as a trainable method (``gamut train judge_au``).

The OpenFace stand-in regresses the 17 AU intensities the renderer used,
exactly known here, so unlike OpenFace it is trained and tested on true
intensities. A second head regresses the 68 landmarks (in [-1, 1] image
units), which the landmark metrics use on generated faces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F

from gamutlib.judges.judge_method import JudgeMethod
from gamutlib.contract.method import build_config
from gamutlib.judges.networks import AUJudge, unit_from_pixels
from gamutlib.contract.method import Phase
from gamutlib.contract.registry import register_method


@dataclass
class AUJudgeConfig:
    image_size: int = 128
    width: int = 32
    hidden: int = 256
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    #: Weight of the landmark loss (MSE in [-1, 1] units: 1e-3 is ~2 px at 128 px).
    lambda_landmarks: float = 100.0
    #: Share of each batch whose AUs are drawn independently of emotion (judge_data.sample_sparse_aus).
    sparse_fraction: float = 0.5


ARCHITECTURE_KEYS = ("image_size", "width", "hidden")


@register_method("judge_au")
class JudgeAU(JudgeMethod):
    """MSE on the true AUs plus lambda_landmarks x MSE on the true landmarks."""

    name = "judge_au"
    key = "judge"

    def __init__(self, config: AUJudgeConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(AUJudgeConfig, config, overrides)
        c = self.cfg
        self.net = AUJudge(c.image_size, c.width, c.hidden)

    def phases(self) -> list[Phase]:
        return [Phase("regress", (self.key,), self.regress, capturable=True)]

    def regress(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        aus, marks = self.net.raw(batch["image"])
        aus, marks = aus.float(), marks.float()
        loss_au = F.mse_loss(aus, batch["aus"])
        loss_landmarks = F.mse_loss(marks, unit_from_pixels(batch["landmarks"], self.cfg.image_size))
        loss = loss_au + self.cfg.lambda_landmarks * loss_landmarks
        mae = (aus.clamp(0, 5) - batch["aus"]).abs().mean()
        return {"loss": loss, "loss_au": loss_au, "loss_landmarks": loss_landmarks, "au_mae": mae}

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        from gamutlib.judges.judge_data import au_batches

        return au_batches(self.cfg.batch_size, self.cfg.image_size, device, seed, sparse_fraction=self.cfg.sparse_fraction)

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"][:16]
