"""GANimation (Pumarola et al., ECCV 2018) with categorical conditioning.

GANmut's baseline (paper Sec. 5, "Baselines"): GANimation's generator regresses
a colour image C and an attention mask A and composes

    y = A * x + (1 - A) * C,

so it only paints where A is low. GANimation conditions on AU intensities; the
GANmut authors trained it on the 7 categorical emotions like every other
method, and raised lambda_A to 1 "to make L_A effective on AffectNet".

Choices where the papers leave room (each written where it applies):

- conditioning: a one-hot emotion, tiled over the image like StarGAN's;
- L_cond: GANimation's MSE on AUs (lambda 4000) becomes the cross-entropy of
  D's class head, with StarGAN's lambda_cls = 1;
- L_A: the mean of A (GANimation's code; its paper writes an l2 norm) on both
  the forward and the cycle masks, lambda_A = 1 (GANmut's setting);
- TV on A with lambda_tv = 1e-5 (GANimation's default), averaged over the batch;
- D is StarGAN's (the same trunk with a class head instead of an AU head).

The FineGrained series (Ling et al. 2020) compares against GANimation on AUs,
so the same method also takes ``conditioning = "absolute"`` (G sees the target
AUs, GANimation's own setting) or ``"relative"`` (G sees v_rel = v_tgt - v_src,
"GANimation w/ v_rel"); the default ``"categorical"`` is the GANmut series'
and runs exactly as before (same networks, losses and random draws, so the
shipped weights load and edit unchanged). With AUs, D's class head regresses
the 17 AUs and L_cond is its MSE (see ``ganimation_au.py``, registered by the
FineGrained paper).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from gamutlib.constants import AU_NAMES
from gamutlib.losses import loss_attention, loss_attention_tv, loss_cls, loss_cond, loss_d_adv, loss_g_adv, loss_rec
from gamutlib.models.au_condition import au_batches, condition, target_aus
from gamutlib.models.stargan import Discriminator
from gamutlib.models.translation import (
    N_EMOTIONS,
    TranslationConfig,
    TranslationMethod,
    grid,
    one_hot,
    shuffled_labels,
)
from gamutlib.nn import AlignedConv2d, GeneratorTrunk, tile_condition
from gamutlib.contract.method import build_config
from gamutlib.contract.registry import register_method

N_AUS = len(AU_NAMES)


class Generator(nn.Module):
    """x, c -> y = A x + (1 - A) C; ``render`` also returns C and A."""

    def __init__(self, conv_dim: int = 64, c_dim: int = N_EMOTIONS, repeat_num: int = 6) -> None:
        super().__init__()
        self.c_dim = c_dim
        self.trunk = GeneratorTrunk(3 + c_dim, conv_dim, repeat_num)
        width = self.trunk.out_channels
        self.to_color = nn.Sequential(AlignedConv2d(width, 3, 7, 1, 3, bias=False), nn.Tanh())
        self.to_attention = nn.Sequential(AlignedConv2d(width, 1, 7, 1, 3, bias=False), nn.Sigmoid())

    def render(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(y, C, A): the composed image, the colour regression and the
        attention mask (1 keeps the input pixel)."""
        if c.shape[-1] != self.c_dim:
            raise ValueError(f"G expects a condition of size {self.c_dim}; got {tuple(c.shape)}")
        h = self.trunk(tile_condition(x, c))
        C, A = self.to_color(h), self.to_attention(h)
        return A * x + (1 - A) * C, C, A

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.render(x, c)[0]


@dataclass
class GANimationConfig(TranslationConfig):
    """GANimation's hyperparameters (its code's defaults) with GANmut's lambda_A = 1."""

    c_dim: int = N_EMOTIONS
    lambda_cls: float = 1.0
    lambda_cyc: float = 10.0
    lambda_A: float = 1.0
    lambda_tv: float = 1e-5
    #: "categorical" (GANmut's baseline), "absolute" or "relative" AUs (FineGrained's baselines)
    conditioning: str = "categorical"
    #: AU conditionings only: the weight of the AU regression loss L_cond (see ganimation_au.py)
    lambda_cond: float = 160.0
    #: AU conditionings only: uniform noise +-target_noise on the target AUs (in [0, 1] units)
    target_noise: float = 0.1


CONDITIONINGS = ("categorical", "absolute", "relative")


@register_method("ganimation")
class GANimation(TranslationMethod):
    """L_D = -L_adv + lambda_cls L_cls^r;
    L_G = L_adv + lambda_cls L_cls^f + lambda_cyc L_cyc + lambda_A (L_A + L_A^cyc) + lambda_tv (TV(A) + TV(A^cyc))."""

    name = "ganimation"
    config_cls: type = GANimationConfig

    def __init__(self, config: GANimationConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(self.config_cls, config, overrides)
        c = self.cfg
        if c.conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {', '.join(CONDITIONINGS)}; got {c.conditioning!r}")
        if c.conditioning != "categorical" and c.c_dim != N_AUS:
            raise ValueError(f"AU conditioning needs c_dim = {N_AUS} (the OpenFace AUs); got {c.c_dim}")
        self.G = Generator(c.g_conv_dim, c.c_dim, c.g_repeat_num)
        self.D = Discriminator(c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num)

    @property
    def on_aus(self) -> bool:
        return self.cfg.conditioning != "categorical"

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        if self.on_aus:
            return au_batches(self.cfg.batch_size, self.cfg.image_size, device, seed)
        return super().data(device, seed)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        if self.on_aus:
            return self.d_phase_aus(batch)
        c = self.cfg
        x, label = batch["image"], batch["label"]
        with torch.no_grad():
            x_fake = self.G(x, one_hot(shuffled_labels(label), c.c_dim))
        (src_real, cls_real), (src_fake, _), loss_penalty = self.critic(x, x_fake)
        loss_adv = loss_d_adv(src_real, src_fake)
        loss_cls_real = loss_cls(cls_real, label)
        loss = loss_adv + c.lambda_gp * loss_penalty + c.lambda_cls * loss_cls_real
        return {"loss": loss, "loss_adv": loss_adv, "loss_gp": loss_penalty, "loss_cls": loss_cls_real}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        if self.on_aus:
            return self.g_phase_aus(batch)
        c = self.cfg
        x, label = batch["image"], batch["label"]
        label_trg = shuffled_labels(label)
        x_fake, _, A_fake = self.G.render(x, one_hot(label_trg, c.c_dim))
        src_fake, cls_fake = self.D(x_fake)
        x_rec, _, A_rec = self.G.render(x_fake, one_hot(label, c.c_dim))
        loss_adv = loss_g_adv(src_fake)
        loss_cls_fake = loss_cls(cls_fake, label_trg)
        loss_cyc = loss_rec(x, x_rec)
        loss_A = loss_attention(A_fake) + loss_attention(A_rec)
        loss_tv = loss_attention_tv(A_fake) + loss_attention_tv(A_rec)
        loss = (
            loss_adv
            + c.lambda_cls * loss_cls_fake
            + c.lambda_cyc * loss_cyc
            + c.lambda_A * loss_A
            + c.lambda_tv * loss_tv
        )
        return {
            "loss": loss,
            "loss_adv": loss_adv,
            "loss_cls": loss_cls_fake,
            "loss_cyc": loss_cyc,
            "loss_A": loss_A,
            "loss_tv": loss_tv,
        }

    # -- AU conditioning (FineGrained's baselines) ---------------------------------
    # L_D = -L_adv + lambda_gp L_gp + lambda_cond L_cond(D(x), v_src);
    # L_G = L_adv + lambda_cond L_cond(D(y), v_tgt) + lambda_cyc L_cyc + lambda_A (L_A + L_A^cyc)
    #       + lambda_tv (TV(A) + TV(A^cyc)): GANimation's own objective, D's class head regressing AUs.

    def d_phase_aus(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        c = self.cfg
        relative = c.conditioning == "relative"
        x, v_src = batch["image"], batch["v_src"]
        v_tgt = target_aus(v_src, c.target_noise)
        with torch.no_grad():
            x_fake = self.G(x, condition(v_src, v_tgt, relative))
        (src_real, au_real), (src_fake, _), loss_penalty = self.critic(x, x_fake)
        loss_adv = loss_d_adv(src_real, src_fake)
        loss_cond_real = loss_cond(au_real, v_src)
        loss = loss_adv + c.lambda_gp * loss_penalty + c.lambda_cond * loss_cond_real
        return {"loss": loss, "loss_adv": loss_adv, "loss_gp": loss_penalty, "loss_cond": loss_cond_real}

    def g_phase_aus(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        c = self.cfg
        relative = c.conditioning == "relative"
        x, v_src = batch["image"], batch["v_src"]
        v_tgt = target_aus(v_src, c.target_noise)
        x_fake, _, A_fake = self.G.render(x, condition(v_src, v_tgt, relative))
        src_fake, au_fake = self.D(x_fake)
        x_rec, _, A_rec = self.G.render(x_fake, condition(v_tgt, v_src, relative))  # -v_rel, or v_src
        loss_adv = loss_g_adv(src_fake)
        loss_cond_fake = loss_cond(au_fake, v_tgt)
        loss_cyc = loss_rec(x, x_rec)
        loss_A = loss_attention(A_fake) + loss_attention(A_rec)
        loss_tv = loss_attention_tv(A_fake) + loss_attention_tv(A_rec)
        loss = (loss_adv + c.lambda_cond * loss_cond_fake + c.lambda_cyc * loss_cyc + c.lambda_A * loss_A
                + c.lambda_tv * loss_tv)
        return {"loss": loss, "loss_adv": loss_adv, "loss_cond": loss_cond_fake, "loss_cyc": loss_cyc,
                "loss_A": loss_A, "loss_tv": loss_tv}

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: the input, then each class's edit and,
        last, the attention mask of the final class (white = input kept).
        On AUs: the input, its edit towards each of the 4 rows' AUs, the last mask."""
        if self.on_aus:
            x, v_src = batch["image"][:4], batch["v_src"][:4]
            relative = self.cfg.conditioning == "relative"
            cols, A = [x], x
            for k in range(x.shape[0]):
                y, _, A = self.G.render(x, condition(v_src, v_src[k].expand_as(v_src), relative))
                cols.append(y)
            return grid(cols + [(A * 2 - 1).expand_as(x)])
        x = batch["image"][:4]
        cols = [x]
        A = x
        for k in range(self.cfg.c_dim):
            y, _, A = self.G.render(x, one_hot(torch.full((x.shape[0],), k, device=x.device), self.cfg.c_dim))
            cols.append(y)
        cols.append((A * 2 - 1).expand_as(x))
        return grid(cols)

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}
