"""HomoInterpGAN (Chen et al., CVPR 2019), the EGGAN paper's "HGAN" baseline, compactly.

HomoInterpGAN translates attributes by interpolating in a latent space: an
encoder E maps a face to a feature map z, a decoder Dec maps it back, and an
interpolator I(z_a, z_b, v) moves the source code z_a towards a reference
code z_b by the strength v of each attribute group. The space is made
*homomorphic*: a latent discriminator K, trained on real codes, reads each
group's attribute strength, and the interpolated code must read as the
v-weighted mix of the source's and the reference's strengths, while passing
K's real/fake test. The EGGAN paper transfers expressions with it "using the
target images directly": edit = Dec(I(E(source), E(target), 1)).

This implementation, from the paper's description:

- one attribute group, the expression, whose strength K reads as the 17 AU
  intensities (scaled to [0, 1]); the paper's groups were CelebA attributes
  (several groups, each a set of binary attributes);
- I(z_a, z_b, v) = z_a + v * T(z_a, z_b), T a few residual convolutions, so
  I(., ., 0) = z_a exactly (the paper asks for it with a loss);
- losses: K on real codes (AU regression, real/fake); E, Dec and I on
  reconstruction (L1 + perceptual on the benchmark feature network), the
  homomorphic loss |K_au(I(z_a, z_b, v)) - ((1 - v) u_a + v u_b)|^2 and
  K's adversarial term (non-saturating GAN on codes).

What cannot be had, and why:

- the encoder of the paper is an ImageNet VGG-19 (fixed) and its decoder was
  pre-trained to invert it; ImageNet weights are not part of the study and no
  pretrained network may stand in for them, so E and Dec are trained from
  scratch on the benchmark together with I;
- the multi-group attribute split (e.g. expression vs. hair vs. glasses) has
  no counterpart on renders that vary only in identity, expression, pose,
  light and style, so there is one group;
- the paper's image-space GAN loss on the decoder's output and its exact
  layer sizes are not described in enough detail to reproduce; the decoder
  learns from reconstruction alone (the latent adversary keeps interpolated
  codes where the decoder has seen real ones).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.constants import AU_IDS, AU_MAX
from gamutlib.contract import DataclassConfig, Phase, build_config, register_method
from gamutlib.losses.latent import loss_dz, loss_e_adv
from gamutlib.models.eggan import other_face_targets
from gamutlib.models.feature_loss import FeatureLossMethod
from gamutlib.models.identity_faces import identity_batches
from gamutlib.models.translation import grid

N_AUS = len(AU_IDS)


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), nn.InstanceNorm2d(c_out, affine=True), nn.LeakyReLU(0.2))


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1),
                         nn.InstanceNorm2d(c_out, affine=True), nn.ReLU())


class _Res(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(c, c, 3, 1, 1), nn.InstanceNorm2d(c, affine=True), nn.ReLU(),
                                  nn.Conv2d(c, c, 3, 1, 1), nn.InstanceNorm2d(c, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class Encoder(nn.Module):
    """x -> z (N, 4c, H/8, W/8)."""

    def __init__(self, conv_dim: int = 16) -> None:
        super().__init__()
        c = conv_dim
        self.net = nn.Sequential(nn.Conv2d(3, c, 3, 1, 1), nn.LeakyReLU(0.2), _down(c, 2 * c), _down(2 * c, 4 * c),
                                 _down(4 * c, 4 * c), _Res(4 * c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Decoder(nn.Module):
    """z -> image in [-1, 1]."""

    def __init__(self, conv_dim: int = 16) -> None:
        super().__init__()
        c = conv_dim
        self.net = nn.Sequential(_Res(4 * c), _up(4 * c, 4 * c), _up(4 * c, 2 * c), _up(2 * c, c),
                                 nn.Conv2d(c, 3, 3, 1, 1), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class Interpolator(nn.Module):
    """I(z_a, z_b, v) = z_a + v T(z_a, z_b), v (N,) in [0, 1]."""

    def __init__(self, conv_dim: int = 16, n_res: int = 2) -> None:
        super().__init__()
        c = 4 * conv_dim
        self.T = nn.Sequential(nn.Conv2d(2 * c, c, 3, 1, 1), nn.ReLU(), *(_Res(c) for _ in range(n_res)),
                               nn.Conv2d(c, c, 3, 1, 1))

    def forward(self, z_a: torch.Tensor, z_b: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return z_a + v.to(z_a.dtype).view(-1, 1, 1, 1) * self.T(torch.cat([z_a, z_b], dim=1))


class LatentCritic(nn.Module):
    """K: a code -> (real/fake logit (N,), AU strengths (N, 17) in [0, 1] units)."""

    def __init__(self, conv_dim: int = 16) -> None:
        super().__init__()
        c = 4 * conv_dim
        self.trunk = nn.Sequential(nn.Conv2d(c, 2 * c, 3, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(2 * c, 2 * c, 3, 2, 1),
                                   nn.LeakyReLU(0.2))
        self.src = nn.Linear(2 * c, 1)
        self.au = nn.Linear(2 * c, N_AUS)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.trunk(z).mean((2, 3))
        return self.src(h).squeeze(1), self.au(h)


@dataclass
class HGANConfig:
    image_size: int = 128
    conv_dim: int = 16
    n_res: int = 2
    n_identities: int = 256  # the same faces EGGAN trains on
    lambda_rec: float = 10.0
    lambda_per: float = 1.0
    lambda_homo: float = 10.0
    lambda_adv: float = 1.0
    feature_weights: str = "feature_net"
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    batch_size: int = 8


@register_method("hgan")
class HGAN(DataclassConfig, FeatureLossMethod):
    """HomoInterpGAN, one attribute group (module docstring)."""

    name = "hgan"

    def __init__(self, config: HGANConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(HGANConfig, config, overrides)
        c = self.cfg
        if c.image_size % 32:
            raise ValueError(f"HGAN's codes are image_size / 8 px and K halves them twice; use a multiple of 32, got {c.image_size}")
        self.E, self.Dec = Encoder(c.conv_dim), Decoder(c.conv_dim)
        self.I, self.K = Interpolator(c.conv_dim, c.n_res), LatentCritic(c.conv_dim)

    def networks(self) -> dict[str, nn.Module]:
        return {"E": self.E, "Dec": self.Dec, "I": self.I, "K": self.K}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        return {n: {"lr": self.cfg.lr, "betas": tuple(self.cfg.betas)} for n in self.networks()}

    def phases(self) -> list[Phase]:
        return [Phase("K", ("K",), self.k_phase, capturable=True),
                Phase("H", ("E", "Dec", "I"), self.h_phase, capturable=True)]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        c = self.cfg
        return identity_batches(c.batch_size, c.image_size, c.n_identities, device, seed)

    def _pairs(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Each face's reference: another face of the batch (its image and AUs), and a strength v ~ U(0, 1)."""
        x, aus = batch["image"], batch["aus"]
        both = other_face_targets(torch.cat([x.flatten(1), aus], dim=1))
        x_ref, aus_ref = both[:, : x[0].numel()].view_as(x), both[:, x[0].numel():]
        return x_ref, aus_ref, torch.rand(x.shape[0], device=x.device)

    def k_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        x, aus = batch["image"], batch["aus"]
        x_ref, _, v = self._pairs(batch)
        with torch.no_grad():
            z_a, z_b = self.E(x), self.E(x_ref)
            z_i = self.I(z_a, z_b, v)
        src_real, au_real = self.K(z_a)
        src_fake, _ = self.K(z_i)
        loss_au = F.mse_loss(au_real.float(), aus.float() / AU_MAX)
        loss_adv = loss_dz(src_real, src_fake)
        return {"loss": loss_adv + loss_au, "loss_adv": loss_adv, "loss_au": loss_au}

    def h_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, aus = batch["image"], batch["aus"]
        x_ref, aus_ref, v = self._pairs(batch)
        z_a, z_b = self.E(x), self.E(x_ref)
        x_rec = self.Dec(z_a)
        z_i = self.I(z_a, z_b, v)
        src_i, au_i = self.K(z_i)
        mix = ((1 - v)[:, None] * aus + v[:, None] * aus_ref).float() / AU_MAX
        loss_homo = F.mse_loss(au_i.float(), mix)
        loss_adv = loss_e_adv(src_i)
        loss_rec = (x_rec.float() - x.float()).abs().mean()
        loss = c.lambda_rec * loss_rec + c.lambda_homo * loss_homo + c.lambda_adv * loss_adv
        out = {"loss_rec": loss_rec, "loss_homo": loss_homo, "loss_adv": loss_adv}
        if c.lambda_per > 0:
            out["loss_per"] = self.perceptual([(x_rec, x)])
            loss = loss + c.lambda_per * out["loss_per"]
        out["loss"] = loss
        return out

    @torch.no_grad()
    def transfer(self, x: torch.Tensor, x_ref: torch.Tensor, v: float | torch.Tensor = 1.0) -> torch.Tensor:
        """The expression of ``x_ref`` on ``x`` at strength v (1: the reference's)."""
        v = torch.as_tensor(v, dtype=x.dtype, device=x.device).expand(x.shape[0])
        return self.Dec(self.I(self.E(x), self.E(x_ref), v)).clamp(-1, 1)

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: input, reconstruction, the next face's expression at v = 0.5 and 1, that face."""
        x = batch["image"][:4]
        ref = x.roll(1, 0)
        return grid([x, self.Dec(self.E(x)), self.transfer(x, ref, 0.5), self.transfer(x, ref, 1.0), ref])

    def export(self) -> dict[str, nn.Module]:
        return {"E": self.E, "Dec": self.Dec, "I": self.I}
