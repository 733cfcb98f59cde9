"""StarGAN (Choi et al., CVPR 2018): the backbone and baseline of GANmut.

G(x, c) edits image x towards the target domain c (one-hot over the 7 emotion
classes); D(x) returns a PatchGAN real/fake map and domain logits. GANmut keeps
both networks and changes only the condition and D's extra head.

Widths: the paper uses conv_dim 64 (8.4 M parameters, 16.8 MB in fp16); the
shipped default is conv_dim 32 (2.1 M, 4.2 MB, ~50 ms per 128 px face on
2 CPU cores), see the README's "Sizes". ``StarGANConfig(g_conv_dim=64)`` is the paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
from torch import nn

from gamutlib.losses import loss_cls, loss_d_adv, loss_g_adv, loss_rec
from gamutlib.models.translation import (
    N_EMOTIONS,
    TranslationConfig,
    TranslationMethod,
    grid,
    one_hot,
    shuffled_labels,
)
from gamutlib.nn import AlignedConv2d, DiscriminatorTrunk, GeneratorTrunk, tile_condition
from gamutlib.contract.method import build_config
from gamutlib.contract.registry import register_method


class Generator(nn.Module):
    """x (N,3,H,W) in [-1,1], c (N,c_dim) -> edited image (N,3,H,W) in [-1,1]."""

    def __init__(self, conv_dim: int = 64, c_dim: int = 7, repeat_num: int = 6) -> None:
        super().__init__()
        self.c_dim = c_dim
        self.trunk = GeneratorTrunk(3 + c_dim, conv_dim, repeat_num)
        self.to_rgb = nn.Sequential(AlignedConv2d(self.trunk.out_channels, 3, 7, 1, 3, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        if c.shape[-1] != self.c_dim:
            raise ValueError(f"G expects a condition of size {self.c_dim}; got {tuple(c.shape)}")
        return self.to_rgb(self.trunk(tile_condition(x, c)))


class Discriminator(nn.Module):
    """x -> (out_src (N,1,S,S) PatchGAN scores, out_cls (N,c_dim) domain logits)."""

    def __init__(self, image_size: int = 128, conv_dim: int = 64, c_dim: int = 7, repeat_num: int = 6) -> None:
        super().__init__()
        self.trunk = DiscriminatorTrunk(image_size, conv_dim, repeat_num)
        width, size = self.trunk.out_channels, self.trunk.out_size
        self.src_head = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.cls_head = nn.Conv2d(width, c_dim, size, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.src_head(h), self.cls_head(h).flatten(1)


@dataclass
class StarGANConfig(TranslationConfig):
    """StarGAN's hyperparameters (Choi et al. 2018, Sec. 4; its official code);
    sizes, critic and optimizer in TranslationConfig."""

    c_dim: int = N_EMOTIONS
    lambda_cls: float = 1.0
    lambda_rec: float = 10.0


@register_method("stargan")
class StarGAN(TranslationMethod):
    """The StarGAN method: one-hot emotion targets, WGAN-GP, L_cls, L_rec.

    L_D = -L_adv + lambda_cls L_cls^r;  L_G = L_adv + lambda_cls L_cls^f + lambda_rec L_rec,
    with targets drawn by permuting the batch's labels (the official code).
    """

    name = "stargan"

    def __init__(self, config: StarGANConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(StarGANConfig, config, overrides)
        c = self.cfg
        self.G = Generator(c.g_conv_dim, c.c_dim, c.g_repeat_num)
        self.D = Discriminator(c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, label = batch["image"], batch["label"]
        c_trg = one_hot(shuffled_labels(label), c.c_dim)
        with torch.no_grad():
            x_fake = self.G(x, c_trg)
        (src_real, cls_real), (src_fake, _), loss_penalty = self.critic(x, x_fake)
        loss_adv = loss_d_adv(src_real, src_fake)
        loss_cls_real = loss_cls(cls_real, label)
        loss = loss_adv + c.lambda_gp * loss_penalty + c.lambda_cls * loss_cls_real
        return {"loss": loss, "loss_adv": loss_adv, "loss_gp": loss_penalty, "loss_cls": loss_cls_real}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, label = batch["image"], batch["label"]
        label_trg = shuffled_labels(label)
        x_fake = self.G(x, one_hot(label_trg, c.c_dim))
        src_fake, cls_fake = self.D(x_fake)
        x_rec = self.G(x_fake, one_hot(label, c.c_dim))
        loss_adv = loss_g_adv(src_fake)
        loss_cls_fake = loss_cls(cls_fake, label_trg)
        loss_reconstruction = loss_rec(x, x_rec)
        loss = loss_adv + c.lambda_cls * loss_cls_fake + c.lambda_rec * loss_reconstruction
        return {"loss": loss, "loss_adv": loss_adv, "loss_cls": loss_cls_fake, "loss_rec": loss_reconstruction}

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: the input, then G(x, c) for each class."""
        x = batch["image"][:4]
        cols = [x] + [self.G(x, one_hot(torch.full((x.shape[0],), k, device=x.device), self.cfg.c_dim))
                      for k in range(self.cfg.c_dim)]
        return grid(cols)

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}
