"""GANmut, the linear model (d'Apolito et al., CVPR 2021, Sec. 3-4.1; supp. Sec. 3).

The condition of StarGAN's G becomes a point z of a learned 2-D space. Each
non-neutral basic emotion c owns a learnable unit direction v_c; neutral is
the origin; the code of "emotion c at intensity rho" is

    z = rho * v_c          (polar: theta_c = atan2(v_c), rho in [0, 1]).

Each training batch of n images is split (Fig. 2): the first n_c images get
codes on the directions (S_c, Gaussian noise sigma = 0.1 added), the other
n_r = n - n_c get codes drawn uniformly in polar coordinates (S_r), free to
encode any expression. D gains a third head D_coord that regresses z from an
image. The losses (Eq. 1-8):

    L_D = -L_adv + lambda_cls L_cls^r + lambda_info L_info
    L_G =  L_adv + lambda_cls L_cls^f + lambda_rec L_rec + lambda_info L_info + lambda_rho L_rho

with L_cls^f on S_c only, L_rho = (max_c D_cls(c | G(x, z)) - rho)^2 for
rho > tau = 0.2, and L_rec = |x - G(G(x, z), D_coord(x))|_1.

Choices where the paper leaves room (each also written where it is coded):

1. Neutral has no direction: it is the origin (paper Fig. 1: "every discrete
   emotion as an outgoing vector from the neutral emotion"; the reference code
   learns 6 axes). The space therefore holds 6 learned directions for the 7
   classes; an S_c sample whose target is neutral gets z = 0 (+ noise).
2. S_c intensities: rho ~ U[tau, 1] for non-neutral targets (below tau D must
   see a neutral face, Sec. 4.1); S_c targets are a permutation of the batch's
   labels (c =d c', Eq. 4), as StarGAN draws targets.
3. S_r: theta ~ U[0, 2 pi), rho ~ U[0, 1] (Sec. 3, Approach I); no noise.
4. Noise: sigma = 0.1 (supp. Sec. 3; the reference code used 0.075), added to
   S_c codes only ("added to z_hat"); the noisy code is what G sees and what
   L_info regresses.
5. L_rho covers every sample with rho > tau, S_c and S_r alike (Sec. 4.1: "a
   similar strategy applies for the remaining emotions"), averaged over those
   samples (see gamutlib.losses.coordinates.loss_rho).
6. L_info regresses the fakes' codes only: real images have no code. In the G
   phase the target z keeps its gradient to the directions, as in the reference
   code (the directions are pulled towards where D reads them as well).
7. L_rec uses D_coord(x) of the real image, detached (Eq. 8, the reference's
   "original" cycle; its default "approximate" cycle is not the paper's).
8. The directions are stored unnormalised and normalised on use
   (v_c = u_c / |u_c|), u initialised from U(+-1e-4 sqrt(1/6)) (supp. Sec. 3).
   They live in their own module ``space``, optimised with G's settings and
   exported beside G, because a G is meaningless without its space.
9. Angles are radians, counter-clockwise from the +x axis of z, in [0, 2 pi].
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.contract import Control, build_config, register_method
from gamutlib.losses import loss_cls, loss_d_adv, loss_g_adv, loss_info, loss_rec, loss_rho
from gamutlib.models import stargan
from gamutlib.models.editor import SpaceEditor, check_scalar, emotion_index
from gamutlib.models.translation import (
    N_EMOTIONS,
    TranslationConfig,
    TranslationMethod,
    NEUTRAL,
    grid,
    shuffled_labels,
)
from gamutlib.nn import DiscriminatorTrunk

Z_DIM = 2  # the paper's 2-D space (the reference code also has a 3-D variant)


class LinearConditionSpace(nn.Module):
    """The learned directions v_c of the non-neutral emotions (choice 1, 8 above).

    ``code(label, rho)`` maps class indices in EMOTIONS order and intensities to
    z = rho v_c, with z = 0 for neutral.
    """

    def __init__(self, n_classes: int = N_EMOTIONS, neutral: int = NEUTRAL, init_scale: float = 1e-4) -> None:
        super().__init__()
        self.n_classes = n_classes
        self.neutral = neutral
        bound = init_scale * math.sqrt(1.0 / 6.0)
        self.raw_directions = nn.Parameter(torch.empty(n_classes - 1, Z_DIM).uniform_(-bound, bound))
        # row of each class in the (n_classes, 2) table of directions_with_neutral()
        others = [k for k in range(n_classes) if k != neutral]
        self.register_buffer("emotion_classes", torch.tensor(others, dtype=torch.long), persistent=False)

    def directions(self) -> torch.Tensor:
        """(n_classes - 1, 2) unit vectors v_c, in EMOTIONS order without neutral."""
        return F.normalize(self.raw_directions.float(), dim=1)

    def directions_with_neutral(self) -> torch.Tensor:
        """(n_classes, 2): v_c per class, a zero row for neutral."""
        table = self.directions().new_zeros(self.n_classes, Z_DIM)
        return table.index_copy(0, self.emotion_classes, self.directions())

    def angles(self) -> torch.Tensor:
        """(n_classes - 1,) theta_c in [0, 2 pi), radians counter-clockwise from +x."""
        v = self.directions()
        return torch.remainder(torch.atan2(v[:, 1], v[:, 0]), 2 * math.pi)

    def code(self, label: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        """z = rho v_label, (N, 2); neutral labels give the origin."""
        return rho.float()[:, None] * self.directions_with_neutral()[label.long()]

    def forward(self, label: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
        return self.code(label, rho)


def polar_to_xy(theta: torch.Tensor, rho: torch.Tensor) -> torch.Tensor:
    """(theta, rho) -> z = rho (cos theta, sin theta), (N, 2)."""
    return torch.stack([rho * torch.cos(theta), rho * torch.sin(theta)], dim=1)


class LinearCodes(NamedTuple):
    """One batch of training codes: what G sees and what each loss needs."""

    z: torch.Tensor  # (N, 2) the codes passed to G (S_c with noise)
    rho: torch.Tensor  # (N,) the nominal intensities (0 for neutral targets)
    target: torch.Tensor  # (N,) class of the S_c samples (-1 in S_r)
    on_direction: torch.Tensor  # (N,) bool, True for S_c
    n_c: int  # S_c is the first n_c samples


def sample_linear_codes(
    space: LinearConditionSpace, label: torch.Tensor, n_c: int, tau: float = 0.2, noise: float = 0.1
) -> LinearCodes:
    """The batch split of Sec. 4.1 (choices 2-4): the first n_c samples on the
    directions of permuted batch labels, the rest uniform in the disk."""
    n = label.shape[0]
    if not 1 <= n_c <= n:
        raise ValueError(f"n_c must lie in [1, batch size {n}]; got {n_c}")
    device = label.device
    target = shuffled_labels(label)[:n_c]
    rho_c = torch.rand(n_c, device=device) * (1 - tau) + tau
    rho_c = torch.where(target == space.neutral, torch.zeros_like(rho_c), rho_c)
    z_c = space.code(target, rho_c) + noise * torch.randn(n_c, Z_DIM, device=device)
    n_r = n - n_c
    theta_r = torch.rand(n_r, device=device) * (2 * math.pi)
    rho_r = torch.rand(n_r, device=device)
    z_r = polar_to_xy(theta_r, rho_r)
    return LinearCodes(
        z=torch.cat([z_c, z_r]),
        rho=torch.cat([rho_c, rho_r]),
        target=torch.cat([target, torch.full((n_r,), -1, dtype=torch.long, device=device)]),
        on_direction=torch.arange(n, device=device) < n_c,
        n_c=n_c,
    )


class Discriminator(nn.Module):
    """StarGAN's D with a coordinate head: x -> (src, cls logits, z_hat (N, 2)).

    D_coord is an SxS conv like the class head (the reference code's layout);
    GGANmut uses the same network.
    """

    def __init__(
        self, image_size: int = 128, conv_dim: int = 64, c_dim: int = N_EMOTIONS, repeat_num: int = 6, z_dim: int = Z_DIM
    ) -> None:
        super().__init__()
        self.trunk = DiscriminatorTrunk(image_size, conv_dim, repeat_num)
        width, size = self.trunk.out_channels, self.trunk.out_size
        self.src_head = nn.Conv2d(width, 1, 3, 1, 1, bias=False)
        self.cls_head = nn.Conv2d(width, c_dim, size, 1, 0, bias=False)
        self.coord_head = nn.Conv2d(width, z_dim, size, 1, 0, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        h = self.trunk(x)
        return self.src_head(h), self.cls_head(h).flatten(1), self.coord_head(h).flatten(1)


@dataclass
class GANmutConfig(TranslationConfig):
    """The paper's hyperparameters (Sec. 5; supp. Sec. 3); widths as StarGANConfig."""

    lambda_cls: float = 1.0
    lambda_rec: float = 10.0
    lambda_info: float = 1.0
    lambda_rho: float = 4.0
    tau: float = 0.2
    code_noise: float = 0.1
    n_c: int = 9


@register_method("ganmut")
class GANmut(TranslationMethod):
    """The linear GANmut method (see the module docstring for every loss and choice)."""

    name = "ganmut"
    generator_nets = ("G", "space")

    def __init__(self, config: GANmutConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(GANmutConfig, config, overrides)
        c = self.cfg
        if not 1 <= c.n_c <= c.batch_size:
            raise ValueError(f"n_c must lie in [1, batch_size={c.batch_size}]; got {c.n_c}")
        self.G = stargan.Generator(c.g_conv_dim, Z_DIM, c.g_repeat_num)
        self.space = LinearConditionSpace()
        self.D = Discriminator(c.image_size, c.d_conv_dim, N_EMOTIONS, c.d_repeat_num)

    def codes(self, label: torch.Tensor) -> LinearCodes:
        c = self.cfg
        return sample_linear_codes(self.space, label, min(c.n_c, label.shape[0]), c.tau, c.code_noise)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, label = batch["image"], batch["label"]
        with torch.no_grad():
            codes = self.codes(label)
            x_fake = self.G(x, codes.z)
        (src_real, cls_real, _), (src_fake, _, coord_fake), loss_penalty = self.critic(x, x_fake)
        loss_adv = loss_d_adv(src_real, src_fake)
        loss_cls_real = loss_cls(cls_real, label)
        loss_coord = loss_info(coord_fake, codes.z)
        loss = loss_adv + c.lambda_gp * loss_penalty + c.lambda_cls * loss_cls_real + c.lambda_info * loss_coord
        return {"loss": loss, "loss_adv": loss_adv, "loss_gp": loss_penalty, "loss_cls": loss_cls_real, "loss_info": loss_coord}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x = batch["image"]
        codes = self.codes(batch["label"])
        x_fake = self.G(x, codes.z)
        src_fake, cls_fake, coord_fake = self.D(x_fake)
        with torch.no_grad():
            z_org = self.D(x)[2]
        x_rec = self.G(x_fake, z_org)
        n_c = codes.n_c  # S_c is a prefix: slicing, unlike a boolean mask, needs no host sync
        loss_adv = loss_g_adv(src_fake)
        loss_cls_fake = loss_cls(cls_fake[:n_c], codes.target[:n_c])
        loss_coord = loss_info(coord_fake, codes.z)
        loss_intensity = loss_rho(cls_fake, codes.rho, c.tau)
        loss_reconstruction = loss_rec(x, x_rec)
        loss = (
            loss_adv
            + c.lambda_cls * loss_cls_fake
            + c.lambda_rec * loss_reconstruction
            + c.lambda_info * loss_coord
            + c.lambda_rho * loss_intensity
        )
        return {
            "loss": loss,
            "loss_adv": loss_adv,
            "loss_cls": loss_cls_fake,
            "loss_rec": loss_reconstruction,
            "loss_info": loss_coord,
            "loss_rho": loss_intensity,
        }

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: the input, the origin (neutral), then
        each learned direction at rho = 0.5 and rho = 1."""
        x = batch["image"][:4]
        n = x.shape[0]
        cols = [x, self.G(x, x.new_zeros(n, Z_DIM))]
        for v in self.space.directions():
            for rho in (0.5, 1.0):
                cols.append(self.G(x, (rho * v).to(x.dtype).expand(n, -1)))
        return grid(cols)

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G, "space": self.space}


class GANmutEditor(SpaceEditor):
    """Edit faces with a trained linear GANmut: the API of the widget and ``gamut edit``.

    Codes: ``edit(x, theta, rho)`` with theta in radians in [0, 2 pi] (counter-
    clockwise from the +x axis of the learned map; 2 pi is the same direction
    as 0) and rho in [0, 1]; ``edit_xy(x, x_, y_)`` with the point inside the
    unit disk; ``edit_values(x, {"emotion": "happy", "intensity": 0.8})``.
    Every bad value raises one ValueError that names it.
    """

    method_cls = GANmut
    controls = (
        Control("theta", "direction in the learned plane, counter-clockwise from the map's +x axis",
                0.0, 2 * math.pi, 0.0, unit="radians", label="θ (rad)"),
        Control("rho", "intensity: the distance from the neutral origin (0 = neutral, 1 = full)", 0.0, 1.0, 0.0,
                label="ρ"),
    )
    example_values = ({"theta": 1.0, "rho": 0.5}, {"theta": 2.5, "rho": 0.9}, {"theta": 4.0, "rho": 0.3},
                      {"theta": 5.5, "rho": 1.0})

    def code_of(self, values: dict[str, float]) -> torch.Tensor:
        return polar_to_xy(torch.tensor([values["theta"]]), torch.tensor([values["rho"]]))

    def values_for(self, emotion: str | int, intensity: float = 1.0) -> dict[str, float]:
        """(theta_c, intensity); neutral is the origin (theta 0, rho 0)."""
        theta = self.theta_of(emotion)
        rho = check_scalar("intensity", intensity, 0.0, 1.0)
        return {"theta": 0.0, "rho": 0.0} if theta is None else {"theta": theta % (2 * math.pi), "rho": rho}

    def codes_for(self, emotion: str | int, intensity: float = 1.0) -> torch.Tensor:
        """z (2,) of ``emotion`` at ``intensity`` in [0, 1]: rho v_c (origin for neutral)."""
        k = emotion_index(emotion)
        rho = check_scalar("intensity", intensity, 0.0, 1.0)
        with torch.no_grad():
            return (rho * self.space.directions_with_neutral()[k]).clone()

    def theta_of(self, emotion: str | int) -> float | None:
        """theta_c in radians of a learned direction (None for neutral, the origin)."""
        k = emotion_index(emotion)
        if k == self.space.neutral:
            return None
        with torch.no_grad():
            return float(self.space.angles()[int((self.space.emotion_classes == k).nonzero())])

    def edit(self, x: torch.Tensor, theta: float, rho: float) -> torch.Tensor:
        return self.edit_values(x, {"theta": theta, "rho": rho})

    def edit_xy(self, x: torch.Tensor, x_: float, y_: float) -> torch.Tensor:
        x_ = check_scalar("x", x_, -1.0, 1.0)
        y_ = check_scalar("y", y_, -1.0, 1.0)
        if x_ * x_ + y_ * y_ > 1.0 + 1e-9:
            raise ValueError(f"(x, y) = ({x_:g}, {y_:g}) lies outside the unit disk of the learned space (rho = {math.hypot(x_, y_):.3g} > 1)")
        return self.edit_code(x, torch.tensor([[x_, y_]]))
