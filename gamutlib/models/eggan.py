"""EGGAN (Tang, Shao and Ma, ICASSP 2021, Sec. 3-4.1): expressions from 17 AU intensities.

An adversarial autoencoder maps a face I_i to a structured latent code
l_i = E(I_i), pushed towards a Gaussian prior by a latent discriminator D_z
(Eq. 1); a conditional generator G(l_i, u_t) draws the face with the target
AU intensities u_t (17 AUs, OpenFace order, gamutlib.constants.AU_IDS),
against an image critic D_img with WGAN-GP (Eq. 2, lambda_gp = 20). The
constraints (Eq. 3-6): C_exp classifies each AU's intensity among the levels
0..5, C_id the source identity, a perceptual loss on a benchmark feature
network, and the self-reconstruction I^_i = G(E(I_i), u_i) by L1 + MS-SSIM.
Eq. 7, minimised by E, G (and C_exp on real faces), maximised by D_z, D_img:

    L = L_adv^z + L_adv^img + lambda_au L_au + lambda_id L_id + lambda_per L_per + lambda_rec L_rec

with lambda_au 100, lambda_id 60, lambda_per 20, lambda_rec 100; Adam 1e-4
(C_exp 2e-4), batch 8 (Sec. 4.1).

The engine runs three phases per step (gamutlib.contract.Phase):
``D`` (D_img and D_z: WGAN-GP on real vs edited faces, Eq. 1 on prior
samples vs codes), ``C`` (C_exp and C_id on real faces with their true AU
levels and identities) and, every ``n_critic`` steps, ``G`` (E and G: Eq. 7).

Choices where the paper leaves room, or where ours differs (each also written
where it is coded):

1. Data: the benchmark's renders (gamutlib.data.FaceStream) in place of RaFD
   and MMI; the AUs are the renderer's exact intensities, not OpenFace's
   estimates. The target u_t of each face is the AU vector of *another* face
   of the batch (a cyclic shift by a random offset 1..N-1), i.e. taken from
   another face's render, as the paper takes targets from other images.
2. Identities: C_id classifies a closed pool of ``n_identities`` training
   identities (RaFD has 67 people); the stream draws faces from that pool.
3. C_id is "pre-trained independently" in the paper. Here it learns, in its
   own phase, from real faces only (never from G's output), so G cannot
   shape it; in the first steps its guidance is therefore weak.
4. C_exp learns from real faces' rounded AUs in phase ``C`` (the min over
   C_exp in Eq. 7; its learning rate 2e-4 as stated).
5. The perceptual loss uses the third feature map of the benchmark's own
   feature network (gamutlib.nn.feature_net), never a scoring judge, in
   place of ImageNet VGG19's third layer; its squared form (Johnson et al.,
   the reference the paper cites; gamutlib.losses.perceptual).
6. Eq. 2 is written with logs but the paper trains with WGAN-GP: the critic
   loss is the Wasserstein one (gamutlib.losses.wasserstein).
7. n_critic = 5 (WGAN-GP's default; the paper does not say); Adam betas
   (0.5, 0.999) as in the rest of the study (the paper does not say).
8. The discretisation: the paper writes a floor but defines it as rounding
   to the nearest integer; rounding is used (gamutlib.losses.au_levels).
9. Widths for the tree budget and a live slider: E keeps the paper's 16-256
   channel layout; G starts from a 4x4 map of 8 * g_conv_dim channels and
   halves with each upsampling block (6 blocks; the first ones at 4 px do not
   upsample when the image is smaller than 256 px). The paper gives no widths
   for G, D_img or the classifiers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.constants import AU_ALIASES, AU_IDS, AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.contract import Control, DataclassConfig, Phase, build_config, register_method
from gamutlib.contract.controls import VectorControl
from gamutlib.losses import critic_with_gp, loss_cls, loss_d_adv, loss_g_adv
from gamutlib.losses.au_levels import AU_LEVELS, loss_au
from gamutlib.losses.latent import loss_dz, loss_e_adv
from gamutlib.losses.structural import loss_ms_ssim
from gamutlib.models.editor import (EMOTION, INTENSITY, SourceCache, SpaceEditor, as_image, check_image,
                                    codes_per_image, run_as)
from gamutlib.models.feature_loss import FeatureLossMethod
from gamutlib.models.identity_faces import IdentityBatches, identity_batches
from gamutlib.models.translation import grid
from gamutlib.nn import DiscriminatorTrunk

N_AUS = len(AU_IDS)


# ----------------------------------------------------------------- networks


class Encoder(nn.Module):
    """E: image (N, 3, H, W) -> latent code l (N, latent_dim).

    Five stride-2 convolutions of 16, 32, 64, 128, 256 channels (x e_conv_dim/16),
    then one fully connected layer (Sec. 4.1)."""

    def __init__(self, image_size: int = 128, e_conv_dim: int = 16, latent_dim: int = 128) -> None:
        super().__init__()
        if image_size % 32:
            raise ValueError(f"E's five stride-2 convolutions need an image size divisible by 32; got {image_size}")
        widths = [e_conv_dim * 2**i for i in range(5)]
        layers: list[nn.Module] = []
        c_in = 3
        for w in widths:  # no normalisation: the paper names none, and at 32 px the last map is 1x1
            layers += [nn.Conv2d(c_in, w, 3, 2, 1), nn.LeakyReLU(0.2)]
            c_in = w
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[-1] * (image_size // 32) ** 2, latent_dim)
        self.image_size = image_size

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.convs(x).flatten(1))


class UpResBlock(nn.Module):
    """A residual block with Instance Norm and PReLU (Sec. 4.1), upsampling x2 when ``up``."""

    def __init__(self, c_in: int, c_out: int, up: bool) -> None:
        super().__init__()
        self.up = up
        self.body = nn.Sequential(
            nn.InstanceNorm2d(c_in, affine=True), nn.PReLU(c_in),
            nn.Upsample(scale_factor=2, mode="nearest") if up else nn.Identity(),
            nn.Conv2d(c_in, c_out, 3, 1, 1),
            nn.InstanceNorm2d(c_out, affine=True), nn.PReLU(c_out),
            nn.Conv2d(c_out, c_out, 3, 1, 1),
        )
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = F.interpolate(x, scale_factor=2.0, mode="nearest") if self.up else x
        return self.skip(s) + self.body(x)


def generator_widths(image_size: int, g_conv_dim: int, n_blocks: int) -> list[tuple[int, int, bool]]:
    """(c_in, c_out, upsample) of each block, from a 4x4 start to ``image_size``."""
    n_up = int(math.log2(image_size // 4))
    if 4 * 2**n_up != image_size or n_up > n_blocks:
        raise ValueError(f"G's {n_blocks} blocks reach 4 * 2**k px with k <= {n_blocks}; got image_size {image_size}")

    def width(res: int) -> int:  # 8c at 4-8 px, then halved per doubling, at least c
        return g_conv_dim * min(8, max(1, 64 // res))

    out, res = [], 4
    for i in range(n_blocks):
        up = i >= n_blocks - n_up
        c_in = width(res)
        res = res * 2 if up else res
        out.append((c_in, width(res), up))
    return out


class Generator(nn.Module):
    """G(l, u): code (N, latent_dim) and target AUs (N, 17) in [0, 5] -> image in [-1, 1]."""

    def __init__(self, image_size: int = 128, g_conv_dim: int = 16, latent_dim: int = 128, n_blocks: int = 6) -> None:
        super().__init__()
        plan = generator_widths(image_size, g_conv_dim, n_blocks)
        self.c0 = plan[0][0]
        self.fc = nn.Linear(latent_dim + N_AUS, self.c0 * 16)
        self.blocks = nn.Sequential(*(UpResBlock(a, b, up) for a, b, up in plan))
        c_last = plan[-1][1]
        self.to_rgb = nn.Sequential(nn.InstanceNorm2d(c_last, affine=True), nn.PReLU(c_last),
                                    nn.Conv2d(c_last, 3, 3, 1, 1), nn.Tanh())

    def forward(self, code: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
        if aus.shape[-1] != N_AUS:
            raise ValueError(f"G expects {N_AUS} AU intensities (OpenFace order {AU_IDS}); got {tuple(aus.shape)}")
        # AUs enter on the 0..1 scale so that they weigh like the N(0, 1) code
        h = self.fc(torch.cat([code, aus.to(code.dtype) / AU_MAX], dim=1))
        return self.to_rgb(self.blocks(h.view(-1, self.c0, 4, 4)))


class LatentDiscriminator(nn.Module):
    """D_z: six fully connected layers of 256, 128, 64, 32, 16 and 1 units (Sec. 4.1) -> a logit."""

    def __init__(self, latent_dim: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = latent_dim
        for w in (256, 128, 64, 32, 16):
            layers += [nn.Linear(c_in, w), nn.LeakyReLU(0.2)]
            c_in = w
        layers.append(nn.Linear(c_in, 1))
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z.float()).squeeze(1)


class ImageCritic(nn.Module):
    """D_img: six stride-2 convolutions (Sec. 4.1; StarGAN's trunk) and a 3x3 score head.

    Returns a 1-tuple, the score map, as ``critic_with_gp`` expects."""

    def __init__(self, image_size: int = 128, d_conv_dim: int = 32, d_repeat_num: int = 6) -> None:
        super().__init__()
        self.trunk = DiscriminatorTrunk(image_size, d_conv_dim, d_repeat_num)
        self.src_head = nn.Conv2d(self.trunk.out_channels, 1, 3, 1, 1, bias=False)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor]:
        return (self.src_head(self.trunk(x)),)


class AttributeClassifier(nn.Module):
    """C_exp and C_id share this VGG-like layout (Sec. 3.3): four blocks of two 3x3
    convolutions and a max-pool, global average pooling, one linear layer."""

    def __init__(self, n_out: int, c_conv_dim: int = 32) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for i in range(4):
            w = c_conv_dim * 2**i
            layers += [nn.Conv2d(c_in, w, 3, 1, 1), nn.LeakyReLU(0.2), nn.Conv2d(w, w, 3, 1, 1), nn.LeakyReLU(0.2),
                       nn.MaxPool2d(2)]
            c_in = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


class EditNet(nn.Module):
    """E and G as one module, x and u_t -> G(E(x), u_t): what an edit runs."""

    def __init__(self, E: Encoder, G: Generator) -> None:
        super().__init__()
        self.E, self.G = E, G

    def forward(self, x: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
        return self.G(self.E(x), aus)


# ----------------------------------------------------------------- config and method


@dataclass
class EGGANConfig:
    """The paper's hyperparameters (Sec. 4.1) and the study's sizes (choice 9)."""

    image_size: int = 128
    latent_dim: int = 128
    e_conv_dim: int = 16
    g_conv_dim: int = 16
    g_blocks: int = 6
    d_conv_dim: int = 32
    d_repeat_num: int = 6
    c_conv_dim: int = 32
    n_identities: int = 256
    prior_mean: float = 0.0  # mu_z of the Gaussian prior p_z
    prior_std: float = 1.0  # sigma_z
    lambda_au: float = 100.0
    lambda_id: float = 60.0
    lambda_per: float = 20.0
    lambda_rec: float = 100.0
    lambda_gp: float = 20.0
    use_ms_ssim: bool = True  # False: L_rec is L1 alone (the ablation E_wtS)
    per_layers: tuple[int, ...] = (2,)  # the third feature map (phi_3)
    feature_weights: str = "feature_net"  # a feature_net export: name under weights/ or a path; "" = untrained
    lr: float = 1e-4
    lr_c: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5
    batch_size: int = 8


def other_face_targets(aus: torch.Tensor) -> torch.Tensor:
    """Each face's target u_t: the AUs of another face of the batch (choice 1).

    A cyclic shift by a random offset in 1..N-1, so no face gets its own AUs
    (a single face keeps them). The offset is drawn on the device with
    ``randint`` so a captured CUDA graph draws a new one at each replay."""
    n = aus.shape[0]
    if n < 2:
        return aus
    offset = torch.randint(1, n, (1,), device=aus.device)
    index = (torch.arange(n, device=aus.device) + offset) % n
    return aus[index]


#: EGGAN's batches: image, AUs and identity class (gamutlib.models.identity_faces).
EGGANBatches = IdentityBatches


@register_method("eggan")
class EGGAN(DataclassConfig, FeatureLossMethod):
    """The EGGAN method (module docstring: every loss and choice); its perceptual
    loss's frozen feature network (choice 5) comes from FeatureLossMethod."""

    name = "eggan"

    def __init__(self, config: EGGANConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(EGGANConfig, config, overrides)
        c = self.cfg
        self.E = Encoder(c.image_size, c.e_conv_dim, c.latent_dim)
        self.G = Generator(c.image_size, c.g_conv_dim, c.latent_dim, c.g_blocks)
        self.D_z = LatentDiscriminator(c.latent_dim)
        self.D_img = ImageCritic(c.image_size, c.d_conv_dim, c.d_repeat_num)
        self.C_exp = AttributeClassifier(N_AUS * AU_LEVELS, c.c_conv_dim)
        self.C_id = AttributeClassifier(c.n_identities, c.c_conv_dim)
        self.edit_net = EditNet(self.E, self.G)

    # -- the trainer's interface ------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        return {"E": self.E, "G": self.G, "D_z": self.D_z, "D_img": self.D_img, "C_exp": self.C_exp, "C_id": self.C_id}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        c = self.cfg
        groups = {n: {"lr": c.lr, "betas": tuple(c.betas)} for n in ("E", "G", "D_z", "D_img")}
        groups.update({n: {"lr": c.lr_c, "betas": tuple(c.betas)} for n in ("C_exp", "C_id")})
        return groups

    def phases(self) -> list[Phase]:
        return [
            Phase("D", ("D_img", "D_z"), self.d_phase, every=1, capturable=True, double_backward=True),
            Phase("C", ("C_exp", "C_id"), self.c_phase, every=1, capturable=True),
            Phase("G", ("E", "G"), self.g_phase, every=self.cfg.n_critic, capturable=True),
        ]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        c = self.cfg
        return identity_batches(c.batch_size, c.image_size, c.n_identities, device, seed)

    def prior(self, n: int, device: torch.device) -> torch.Tensor:
        c = self.cfg
        return c.prior_mean + c.prior_std * torch.randn(n, c.latent_dim, device=device)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """max over D_img (WGAN-GP, Eq. 2) and D_z (Eq. 1)."""
        c = self.cfg
        x = batch["image"]
        with torch.no_grad():
            code = self.E(x)
            x_fake = self.G(code, other_face_targets(batch["aus"]))
        (src_real,), (src_fake,), loss_gp = critic_with_gp(self.D_img, x, x_fake)
        loss_adv_img = loss_d_adv(src_real, src_fake)
        loss_adv_z = loss_dz(self.D_z(self.prior(x.shape[0], x.device)), self.D_z(code))
        loss = loss_adv_img + c.lambda_gp * loss_gp + loss_adv_z
        return {"loss": loss, "loss_adv_img": loss_adv_img, "loss_gp": loss_gp, "loss_adv_z": loss_adv_z}

    def c_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """C_exp on the real faces' AU levels, C_id on their identities (choices 3, 4)."""
        x = batch["image"]
        loss_au_real = loss_au(self.C_exp(x), batch["aus"])
        loss_id_real = loss_cls(self.C_id(x), batch["identity"])
        return {"loss": loss_au_real + loss_id_real, "loss_au": loss_au_real, "loss_id": loss_id_real}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """min over E and G of Eq. 7."""
        c = self.cfg
        x, aus = batch["image"], batch["aus"]
        u_t = other_face_targets(aus)
        code = self.E(x)
        x_edit = self.G(code, u_t)  # I~_i = G(E(I_i) | u_t)
        x_rec = self.G(code, aus)  # I^_i = G(E(I_i) | u_i)
        loss_adv_z = loss_e_adv(self.D_z(code))
        loss_adv_img = loss_g_adv(self.D_img(x_edit)[0])
        loss_au_fake = loss_au(self.C_exp(x_edit), u_t)
        loss_id = loss_cls(self.C_id(x_edit), batch["identity"])
        loss_rec = (x_rec.float() - x.float()).abs().mean()
        loss_ssim = loss_ms_ssim(x_rec, x) if c.use_ms_ssim else x.new_zeros(())
        out = {"loss_adv_z": loss_adv_z, "loss_adv_img": loss_adv_img, "loss_au": loss_au_fake, "loss_id": loss_id,
               "loss_l1": loss_rec, "loss_ms_ssim": loss_ssim}
        loss = (loss_adv_z + loss_adv_img + c.lambda_au * loss_au_fake + c.lambda_id * loss_id
                + c.lambda_rec * (loss_rec + loss_ssim))
        if c.lambda_per > 0:
            loss_per = self.perceptual([(x_edit, x), (x_rec, x)], c.per_layers)
            loss = loss + c.lambda_per * loss_per
            out["loss_per"] = loss_per
        out["loss"] = loss
        return out

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: the input, its reconstruction, then each
        other row's AUs applied to it."""
        x, aus = batch["image"][:4], batch["aus"][:4]
        code = self.E(x)
        cols = [x, self.G(code, aus)] + [self.G(code, aus[j:j + 1].expand(x.shape[0], -1)) for j in range(x.shape[0])]
        return grid(cols)

    def export(self) -> dict[str, nn.Module]:
        return {"E": self.E, "G": self.G}


# ----------------------------------------------------------------- editor

#: One control per AU, 0-5, in OpenFace order, named as OpenFace names them (AU01 ... AU45).
AU_CONTROLS = tuple(
    Control(name, f"intensity of action unit {au} on the OpenFace scale (0 = absent, 5 = maximal)",
            0.0, AU_MAX, 0.0, label=f"AU{au}", step=0.1)
    for au, name in zip(AU_IDS, AU_NAMES)
)
AU_VECTOR = VectorControl(
    "au", "target intensity of one action unit, NAME=VALUE (e.g. AU12=3.5 or AU6=2); unset AUs are 0",
    AU_CONTROLS, aliases=AU_ALIASES,
)


class EGGANEditor(SpaceEditor):
    """Edit faces with a trained EGGAN: the 17 target AU intensities, or an emotion preset.

    ``edit_values(x, {"AU12": 3.5, "AU06": 2})`` (unset AUs are 0) or
    ``edit_values(x, {"emotion": "happy", "intensity": 0.8})`` (the benchmark's
    prototype AUs of that emotion, scaled). Every bad value raises one
    ValueError that names the AU.
    """

    method_cls = EGGAN
    controls = AU_CONTROLS
    vectors = (AU_VECTOR,)
    shortcuts = (EMOTION, INTENSITY)
    example_values = ({"AU12": 3.5, "AU06": 2.0}, {"AU01": 3.0, "AU02": 3.0, "AU05": 2.5, "AU26": 3.0},
                      {"AU04": 3.0, "AU07": 2.0, "AU23": 2.0}, {"AU15": 2.5, "AU17": 1.5})

    def __init__(self, net: EditNet, image_size: int = 128, variant: str = "fp32") -> None:
        super().__init__(net, nn.Identity(), image_size, variant)
        # l = E(x) depends on the face alone: encoded once per face, so a slider move runs G only
        self._codes = SourceCache(net.E)

    @classmethod
    def from_method(cls, method: Any) -> "EGGANEditor":
        return cls(method.edit_net, method.cfg.image_size)

    @classmethod
    def from_weights(cls, name: str | None = None, root: str = "weights", verify: bool = True) -> "EGGANEditor":
        from gamutlib.weights import load_into, load_weights

        name = name or EGGAN.name
        expected = {"method": EGGAN.name}
        _, config = load_weights(name, expected=expected, root=root, verify=verify)
        # the editor never computes a loss: no feature network to load
        method = EGGAN(config, feature_weights="")
        load_into({"E": method.E, "G": method.G}, name, expected=expected, root=root, verify=verify)
        return cls.from_method(method)

    def code_of(self, values: dict[str, float]) -> torch.Tensor:
        return torch.tensor([[float(values[c.name]) for c in AU_CONTROLS]])

    def values_for(self, emotion: str | int, intensity: float = 1.0) -> dict[str, float]:
        """The AUs of ``emotion``'s prototype face times ``intensity`` (neutral: all 0)."""
        from gamutlib.faces import emotion_prototypes
        from gamutlib.models.editor import check_scalar, emotion_index

        k = emotion_index(emotion)
        s = check_scalar("intensity", intensity, 0.0, 1.0)
        aus = (emotion_prototypes()[k].float() * s).clamp(0, AU_MAX)
        return {c.name: round(float(a), 4) for c, a in zip(AU_CONTROLS, aus)}

    def edit_aus(self, x: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
        """G(E(x), aus) for a checked (17,) or (N, 17) AU tensor (Eq. 8's interpolation calls this)."""
        aus = torch.as_tensor(aus, dtype=torch.float32).reshape(-1, N_AUS)
        for row in aus:
            self.check({c.name: float(v) for c, v in zip(AU_CONTROLS, row)})
        return self.edit_code(x, aus)

    def edit_code(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G(E(x), z) for AU vectors z already checked; E(x) is reused while the face stays."""
        x = check_image(x, self.image_size)
        code = self._codes.get(x, self.variant, lambda face: run_as(self.G.E, self.variant, face))
        return as_image(run_as(self.G.G, self.variant, code, codes_per_image(z, x)))


__all__ = ["AU_CONTROLS", "EGGAN", "EGGANConfig", "EGGANEditor", "EMOTIONS"]
