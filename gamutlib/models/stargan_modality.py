"""StarGAN with domain dimension 2 (photo / one style): PortraitGAN's Table 1 baseline.

The paper retrains StarGAN "with domain dimension set as two" and treats the
modalities as visual attributes. This is GANmut's StarGAN method unchanged
(its networks, WGAN-GP, L_cls, L_rec, n_critic, Adam): only the condition
size (c_dim = 2) and the data differ, so it subclasses ``StarGAN`` rather
than copying it. A batch is benchmark faces, each rendered as a photo or in
``style`` at random, labelled 0 (photo) or 1 (style); a mirrored face keeps
its label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch

from gamutlib.constants import STYLES
from gamutlib.contract.method import build_config
from gamutlib.contract.registry import register_method
from gamutlib.models.stargan import Discriminator, Generator, StarGAN, StarGANConfig
from gamutlib.models.translation import random_flip

MODALITY_DIM = 2


@dataclass
class StarGANModalityConfig(StarGANConfig):
    c_dim: int = MODALITY_DIM
    style: str = "sketch"  # domain 1; domain 0 is the photo
    g_conv_dim: int = 24  # the size of PortraitGAN's and CycleGAN's shipped generators
    g_repeat_num: int = 4

    def __post_init__(self) -> None:
        if self.c_dim != MODALITY_DIM:
            raise ValueError(f"stargan_modality has two domains (photo, {self.style}); c_dim must be 2, got {self.c_dim}")
        if self.style not in STYLES or self.style == "photo":
            raise ValueError(f"style must be one of {[s for s in STYLES if s != 'photo']}; got {self.style!r}")


class ModalityBatches:
    """{"image", "label"}: faces in photo (label 0) or ``style`` (label 1), mirrored at random."""

    def __init__(self, cfg: StarGANModalityConfig, device: torch.device, seed: int) -> None:
        from gamutlib.data import PairStream

        # side A of the pair stream: a random face in a random one of the two modalities
        self.stream = PairStream(cfg.batch_size, size=cfg.image_size, split="train", seed=seed, device=device,
                                 modalities=("photo", cfg.style))

    def __iter__(self) -> "ModalityBatches":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        batch = next(self.stream)
        return {"image": random_flip(batch["image_a"]), "label": batch["modality_a"]}

    def state_dict(self) -> dict[str, Any]:
        return self.stream.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.stream.load_state_dict(state)


@register_method("stargan_modality")
class StarGANModality(StarGAN):
    name = "stargan_modality"

    def __init__(self, config: StarGANModalityConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(StarGANModalityConfig, config, overrides)
        c = self.cfg
        self.G = Generator(c.g_conv_dim, c.c_dim, c.g_repeat_num)
        self.D = Discriminator(c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num)

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        return ModalityBatches(self.cfg, device, seed)
