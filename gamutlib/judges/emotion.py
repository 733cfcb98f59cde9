"""The emotion judge as a trainable method (``gamut train judge_emotion``).

Trained like GANmut's VGG: cross-entropy on the categorical labels only, i.e.
on the benchmark's noisy proxy (argmax of the true mixture, low intensity read
as neutral, annotator confusions), never on the true mixture, so its errors
and its calibration are those of a classifier trained on AffectNet-style
labels. The report then measures it against the truth the labels come from.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F

from gamutlib.judges.judge_method import JudgeMethod
from gamutlib.contract.method import build_config
from gamutlib.judges.networks import EmotionJudge
from gamutlib.contract.method import Phase
from gamutlib.contract.registry import register_method


@dataclass
class EmotionJudgeConfig:
    """Architecture (``image_size``, ``width``, ``feature_dim``, ``dropout``) and training settings."""

    image_size: int = 128
    width: int = 32
    feature_dim: int = 256
    dropout: float = 0.3
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.0


ARCHITECTURE_KEYS = ("image_size", "width", "feature_dim", "dropout")


@register_method("judge_emotion")
class JudgeEmotion(JudgeMethod):
    """Cross-entropy on ``batch["label"]`` (the noisy categorical proxy)."""

    name = "judge_emotion"
    key = "judge"

    def __init__(self, config: EmotionJudgeConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(EmotionJudgeConfig, config, overrides)
        c = self.cfg
        self.net = EmotionJudge(c.image_size, c.width, c.feature_dim, c.dropout)

    def phases(self) -> list[Phase]:
        return [Phase("classify", (self.key,), self.classify, capturable=True)]

    def classify(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        logits = self.net.logits(batch["image"]).float()
        label = batch["label"]
        loss = F.cross_entropy(logits, label, label_smoothing=self.cfg.label_smoothing)
        return {"loss": loss, "acc_label": (logits.argmax(1) == label).float().mean()}

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        from gamutlib.judges.judge_data import face_batches

        return face_batches(self.cfg.batch_size, self.cfg.image_size, device, seed)

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return batch["image"][:16]
