"""CycleGAN (Zhu et al. 2017): PortraitGAN's two-domain baseline, photo <-> one style.

Two generators, G: X -> Y (photo -> ``target`` style) and F: Y -> X, two
least-squares PatchGAN critics D_Y and D_X, the cycle losses
||F(G(x)) - x||_1 + ||G(F(y)) - y||_1 with weight ``lambda_cyc`` 10 and the
identity mapping term with weight 0.5 * lambda_cyc (Zhu et al., Sec. 5.2,
used for photo <-> painting). Training is unpaired, as CycleGAN is: each batch
holds photos and sketches of *different* faces (two benchmark streams).

Generators are the ResNet generator of Johnson et al. that CycleGAN uses (a
7x7 conv, two stride-2 convs, residual blocks, two transposed convs, a 7x7
head): the house's ``GeneratorTrunk``. At 128 px Zhu et al. use 6 residual
blocks of width 64; the shipped width is smaller for the tree and matched to
PortraitGAN's size (PortraitGAN Table 1 compares them at equal footing).
Only G (photo -> style, Table 1's direction) ships. The paper's 50-image
history pool of fakes is left out (the renderer's stream never repeats).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from gamutlib.constants import STYLES
from gamutlib.contract.method import Phase, build_config
from gamutlib.contract.registry import register_method
from gamutlib.losses import loss_d_lsgan, loss_g_lsgan, loss_rec
from gamutlib.models.translation import grid
from gamutlib.nn import AlignedConv2d, GeneratorTrunk, PatchDiscriminator


class ResnetGenerator(nn.Module):
    """x (N,3,S,S) in [-1,1] -> translated image (N,3,S,S) in [-1,1]."""

    def __init__(self, conv_dim: int = 24, repeat_num: int = 4) -> None:
        super().__init__()
        self.trunk = GeneratorTrunk(3, conv_dim, repeat_num)
        self.to_rgb = nn.Sequential(AlignedConv2d(self.trunk.out_channels, 3, 7, 1, 3, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 4 or x.shape[1] != 3:
            raise ValueError(f"G expects images (N, 3, H, W); got {tuple(x.shape)}")
        return self.to_rgb(self.trunk(x))


@dataclass
class CycleGANConfig:
    image_size: int = 128
    source: str = "photo"  # domain X
    target: str = "sketch"  # domain Y
    g_conv_dim: int = 24
    g_repeat_num: int = 4
    d_conv_dim: int = 64
    d_n_layers: int = 3
    lambda_cyc: float = 10.0
    lambda_idt: float = 0.5  # times lambda_cyc
    lr: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 16  # Zhu et al.: 1; batches keep the GPU busy

    def __post_init__(self) -> None:
        for name in ("source", "target"):
            if getattr(self, name) not in STYLES:
                raise ValueError(f"{name} must be one of {STYLES}; got {getattr(self, name)!r}")
        if self.source == self.target:
            raise ValueError(f"source and target are both {self.source!r}; CycleGAN needs two domains")


class UnpairedBatches:
    """Two benchmark streams, one per domain, of different faces: {"x": photos, "y": styled faces}."""

    def __init__(self, cfg: CycleGANConfig, device: torch.device, seed: int) -> None:
        from gamutlib.data import FaceStream

        self.x = FaceStream(cfg.batch_size, size=cfg.image_size, split="train", seed=seed, device=device, style=cfg.source)
        # another seed: the y batch shows other identities and expressions than the x batch
        self.y = FaceStream(cfg.batch_size, size=cfg.image_size, split="train", seed=seed + 1_000_003, device=device,
                            style=cfg.target)

    def __iter__(self) -> "UnpairedBatches":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        return {"x": next(self.x)["image"], "y": next(self.y)["image"]}

    def state_dict(self) -> dict[str, Any]:
        return {"x": self.x.state_dict(), "y": self.y.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.x.load_state_dict(state["x"])
        self.y.load_state_dict(state["y"])


@register_method("cyclegan")
class CycleGAN:
    name = "cyclegan"

    def __init__(self, config: CycleGANConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = c = build_config(CycleGANConfig, config, overrides)
        self.G = ResnetGenerator(c.g_conv_dim, c.g_repeat_num)  # X -> Y
        self.F = ResnetGenerator(c.g_conv_dim, c.g_repeat_num)  # Y -> X
        self.D_Y = PatchDiscriminator(c.image_size, c.d_conv_dim, c.d_n_layers)
        self.D_X = PatchDiscriminator(c.image_size, c.d_conv_dim, c.d_n_layers)

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.name, **asdict(self.cfg)}

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "F": self.F, "D_Y": self.D_Y, "D_X": self.D_X}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        return {name: {"lr": self.cfg.lr, "betas": tuple(self.cfg.betas)} for name in self.networks()}

    def phases(self) -> list[Phase]:
        return [Phase("D", ("D_Y", "D_X"), self.d_phase, capturable=True),
                Phase("G", ("G", "F"), self.g_phase, capturable=True)]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        return UnpairedBatches(self.cfg, device, seed)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        x, y = batch["x"], batch["y"]
        with torch.no_grad():
            fake_y, fake_x = self.G(x), self.F(y)
        loss_d_y = loss_d_lsgan(self.D_Y(y)[0], self.D_Y(fake_y)[0])
        loss_d_x = loss_d_lsgan(self.D_X(x)[0], self.D_X(fake_x)[0])
        return {"loss": loss_d_y + loss_d_x, "loss_d_y": loss_d_y, "loss_d_x": loss_d_x}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, y = batch["x"], batch["y"]
        fake_y, fake_x = self.G(x), self.F(y)
        loss_adv = loss_g_lsgan(self.D_Y(fake_y)[0]) + loss_g_lsgan(self.D_X(fake_x)[0])
        loss_cyc = loss_rec(x, self.F(fake_y)) + loss_rec(y, self.G(fake_x))
        loss_idt = loss_rec(y, self.G(y)) + loss_rec(x, self.F(x)) if c.lambda_idt > 0 else loss_cyc.new_zeros(())
        loss = loss_adv + c.lambda_cyc * loss_cyc + c.lambda_idt * c.lambda_cyc * loss_idt
        return {"loss": loss, "loss_adv": loss_adv, "loss_cyc": loss_cyc, "loss_idt": loss_idt}

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 photos; columns: x, G(x), F(G(x))."""
        x = batch["x"][:4]
        fake = self.G(x)
        return grid([x, fake, self.F(fake)])

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}
