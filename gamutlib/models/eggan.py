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

The engine runs four phases (gamutlib.contract.Phase): every step ``D``
(D_img: WGAN-GP on real vs edited faces) and ``C`` (C_exp and C_id on real
faces with their true AU levels and identities); every ``n_critic`` steps
``Z`` (D_z: Eq. 1 on prior samples vs codes) and then ``G`` (E and G: Eq. 7).

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
   C_exp in Eq. 7; its learning rate 2e-4 as stated), from the first step,
   with no warm-up: in the training loop its loss on real faces falls below
   the level prior's entropy within the first ~200 steps (choice 10).
5. The perceptual loss uses the third feature map of the benchmark's own
   feature network (gamutlib.nn.feature_net), never a scoring judge, in
   place of ImageNet VGG19's third layer; its squared form (Johnson et al.,
   the reference the paper cites; gamutlib.losses.perceptual).
6. Eq. 2 is written with logs but the paper trains with WGAN-GP: the critic
   loss is the Wasserstein one (gamutlib.losses.wasserstein).
7. n_critic = 5 for the image critic (WGAN-GP's default; the paper does not
   say); Adam betas (0.5, 0.999) as in the rest of the study (the paper does
   not say).
8. The discretisation: the paper writes a floor but defines it as rounding
   to the nearest integer; rounding is used (gamutlib.losses.au_levels).
9. Widths for the tree budget and a live slider: E keeps the paper's 16-256
   channel layout; G starts from a 4x4 map of 8 * g_conv_dim channels and
   halves with each upsampling block (6 blocks; the first ones at 4 px do not
   upsample when the image is smaller than 256 px). The paper gives no widths
   for G, D_img or the classifiers.
10. The classifiers' trunk is normalised: BatchNorm after each convolution
    (VGG-19-BN's layout; the paper says only "inspired by VGG19"), and when
    C_exp and C_id score G's edits they run in eval mode (``judging``), with
    the running statistics of real faces. Without normalisation C_exp learns
    nothing beyond the level prior: at PyTorch's initialisation its pooled
    features differ between faces by a standard deviation of 6e-5, so its
    logits are the same for every face and L_au gives G no signal (a 3750-step
    run at 128 px: C_exp's loss 0.91-1.05 throughout, edits uncorrelated with
    their targets, PCC 0.005). Measured on 64 px renders (C_exp alone, 400
    steps of batch 8, Adam 2e-4, beta1 0.5; cross-entropy on 1024 held-out
    test-split faces, whose level prior has entropy 0.931): no normalisation
    0.942 (PCC of the expected level with the true intensity 0.00),
    BatchNorm 0.789 (PCC 0.50; a second seed 0.804), InstanceNorm 0.856,
    GroupNorm (batch 16) 0.935; with BatchNorm, neither width 64 (0.804),
    a learning rate of 1e-3 (0.832), a flattened head (0.838) nor levels
    weighted by inverse frequency^0.5 (0.932: more high levels found, a worse
    cross-entropy) helped, and He initialisation without normalisation
    stays at 0.941 (batch 16). C_id likewise (256 identities, 400 steps):
    cross-entropy 5.548 without normalisation (chance 5.545), 4.170 with
    BatchNorm.
    Inside the training loop (64 px on a CPU, batch 8, 600 steps) C_exp's
    loss on real faces reached 0.79 (before: 0.95; the stream's level prior
    0.94), and 0.62 after 1200 steps. At 128 px with this configuration (an
    H100, 2000 steps, one seed, an untrained feature network for L_per) it
    reached 0.58 (the failed run: 0.93 at step 2000), and G's edits began to
    carry their targets: C_exp's cross-entropy on the edits against u_t 0.80,
    against the source's own AUs 1.19 (logged as ``ce_au_source``).
11. The adversarial autoencoder. Two measures keep D_z from winning at once,
    neither changing Eq. 1 or Eq. 7: (a) E starts from He et al.'s
    initialisation (``e_init``): with PyTorch's default its six layers shrink
    the signal so much that every face starts at nearly the same code (a
    spread across faces of 0.0013 per dimension against the prior's 1, which
    D_z separates trivially, and little of the source reaches G); with He's
    scale the spread is about 0.3. (b) D_z steps once per E step
    (``dz_with_e``, every n_critic steps), as Makhzani et al.'s AAE
    alternates them, rather than five times per E step with the image
    critic. Measured in the 64 px CPU loop after 600 steps (D_z's loss; E's
    adversarial loss, ln 2 = 0.69 at balance): before 0.013 and 5.2 (D_z had
    won by step 350); (b) alone 1.06 and 0.78 (the codes still collapsed,
    spread 0.05); (a) and (b) 0.37 and 1.96, with the edits' L_id on C_id
    at 1.9 against 2.9 with PyTorch's initialisation; (a) alone 0.006 and 6.7.
    At 128 px on a GPU (the run of choice 10) the two stayed in contest from
    step 800 to 2000 (D_z 0.15-0.31, E 2.4-2.8; the failed run: 0.0008 and
    9.1 at step 2100), but at 64 px on a CPU D_z still pulls ahead later
    (0.046 and 4.3 at step 1200): the codes keep E's initial spread
    (0.21-0.30 throughout), because at weight 1 beside terms of weight
    20-100 and Adam's 1e-4 per step E does not move its codes towards the
    prior; a weight of 10 on L_adv^z (``lambda_z``, 0.43 and 1.63
    at step 600, spread 0.27) and a 10x lower rate for D_z (``lr_dz``, which
    only stops D_z from learning) did not change that, and are not used. The
    authors' public code (junshutang/EGGAN) never passes L_adv^z to E at
    all, so the published results were obtained without this pull either.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
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


#: How E's weights start (EGGANConfig.e_init): "he" (choice 11) or "torch" (PyTorch's default).
E_INITS = ("he", "torch")


class Encoder(nn.Module):
    """E: image (N, 3, H, W) -> latent code l (N, latent_dim).

    Five stride-2 convolutions of 16, 32, 64, 128, 256 channels (x e_conv_dim/16),
    then one fully connected layer (Sec. 4.1). No normalisation: the paper
    names none, and at 32 px the last map is 1x1.

    ``init`` "he" (the default, choice 11) starts every layer at He et al.'s
    scale, so the codes of different faces differ from step 0 (a spread of
    about 0.3 per dimension at 64-128 px); PyTorch's default ("torch") shrinks
    the signal at each of the six layers and starts every face at nearly the
    same code (a spread of 0.0013 against the prior's 1)."""

    def __init__(self, image_size: int = 128, e_conv_dim: int = 16, latent_dim: int = 128, init: str = "he") -> None:
        super().__init__()
        if image_size % 32:
            raise ValueError(f"E's five stride-2 convolutions need an image size divisible by 32; got {image_size}")
        if init not in E_INITS:
            raise ValueError(f"E's init must be one of {E_INITS}; got {init!r}")
        widths = [e_conv_dim * 2**i for i in range(5)]
        layers: list[nn.Module] = []
        c_in = 3
        for w in widths:
            layers += [nn.Conv2d(c_in, w, 3, 2, 1), nn.LeakyReLU(0.2)]
            c_in = w
        self.convs = nn.Sequential(*layers)
        self.fc = nn.Linear(widths[-1] * (image_size // 32) ** 2, latent_dim)
        self.image_size = image_size
        if init == "he":
            for conv in self.convs:
                if isinstance(conv, nn.Conv2d):
                    nn.init.kaiming_normal_(conv.weight, a=0.2, nonlinearity="leaky_relu")
                    nn.init.zeros_(conv.bias)
            nn.init.kaiming_normal_(self.fc.weight, nonlinearity="linear")
            nn.init.zeros_(self.fc.bias)

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


#: The classifiers' normalisation (EGGANConfig.c_norm): VGG-19-BN's BatchNorm by default (choice 10).
C_NORMS = ("batch", "instance", "none")


class AttributeClassifier(nn.Module):
    """C_exp and C_id share this VGG-like layout (Sec. 3.3): four blocks of two 3x3
    convolutions (each followed by ``norm`` and a LeakyReLU) and a max-pool, global
    average pooling, one linear layer.

    ``norm`` "batch" (the default; VGG-19-BN's layout) is what lets C_exp learn
    the AU levels at all (choice 10); "none" is the unnormalised trunk, kept to
    measure that. When a classifier judges G's output it runs in eval mode
    (``judging``), so a BatchNorm trunk reads edits with the running statistics
    of real faces."""

    def __init__(self, n_out: int, c_conv_dim: int = 32, norm: str = "batch") -> None:
        super().__init__()
        if norm not in C_NORMS:
            raise ValueError(f"classifier norm must be one of {C_NORMS}; got {norm!r}")

        def conv(c_in: int, c_out: int) -> list[nn.Module]:
            layer = nn.Conv2d(c_in, c_out, 3, 1, 1, bias=norm == "none")
            if norm == "batch":
                return [layer, nn.BatchNorm2d(c_out), nn.LeakyReLU(0.2)]
            if norm == "instance":
                return [layer, nn.InstanceNorm2d(c_out, affine=True), nn.LeakyReLU(0.2)]
            return [layer, nn.LeakyReLU(0.2)]

        layers: list[nn.Module] = []
        c_in = 3
        for i in range(4):
            w = c_conv_dim * 2**i
            layers += [*conv(c_in, w), *conv(w, w), nn.MaxPool2d(2)]
            c_in = w
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c_in, n_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).mean((2, 3)))


@contextmanager
def judging(*nets: nn.Module) -> Iterator[None]:
    """Run ``nets`` in eval mode inside the block, then restore each one's mode.

    The G phase reads its edits with C_exp and C_id this way: a BatchNorm
    classifier then normalises an edit with the running statistics of the real
    faces it learnt from, never with the batch statistics of G's own output,
    and G's batches never shift those statistics. Python-side only, so a
    captured CUDA graph replays the eval-mode forward."""
    modes = [net.training for net in nets]
    try:
        for net in nets:
            net.train(False)
        yield
    finally:
        for net, mode in zip(nets, modes):
            net.train(mode)


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
    e_init: str = "he"  # E's initial weights (choice 11): he | torch
    g_conv_dim: int = 16
    g_blocks: int = 6
    d_conv_dim: int = 32
    d_repeat_num: int = 6
    c_conv_dim: int = 32
    c_norm: str = "batch"  # the classifiers' normalisation (choice 10): batch | instance | none
    n_identities: int = 256
    prior_mean: float = 0.0  # mu_z of the Gaussian prior p_z
    prior_std: float = 1.0  # sigma_z
    lambda_z: float = 1.0  # E's weight on L_adv^z (Eq. 7: 1; choice 11)
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
    lr_dz: float = 0.0  # D_z's learning rate; 0: lr (choice 11)
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 5
    dz_with_e: bool = True  # D_z steps once per E step, every n_critic steps (choice 11); False: every step with D_img
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
        self.E = Encoder(c.image_size, c.e_conv_dim, c.latent_dim, c.e_init)
        self.G = Generator(c.image_size, c.g_conv_dim, c.latent_dim, c.g_blocks)
        self.D_z = LatentDiscriminator(c.latent_dim)
        self.D_img = ImageCritic(c.image_size, c.d_conv_dim, c.d_repeat_num)
        self.C_exp = AttributeClassifier(N_AUS * AU_LEVELS, c.c_conv_dim, c.c_norm)
        self.C_id = AttributeClassifier(c.n_identities, c.c_conv_dim, c.c_norm)
        self.edit_net = EditNet(self.E, self.G)

    # -- the trainer's interface ------------------------------------------------

    def networks(self) -> dict[str, nn.Module]:
        return {"E": self.E, "G": self.G, "D_z": self.D_z, "D_img": self.D_img, "C_exp": self.C_exp, "C_id": self.C_id}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        c = self.cfg
        groups = {n: {"lr": c.lr, "betas": tuple(c.betas)} for n in ("E", "G", "D_z", "D_img")}
        if c.lr_dz > 0:
            groups["D_z"]["lr"] = c.lr_dz
        groups.update({n: {"lr": c.lr_c, "betas": tuple(c.betas)} for n in ("C_exp", "C_id")})
        return groups

    def phases(self) -> list[Phase]:
        c = self.cfg
        if not c.dz_with_e:  # D_z every step, beside the image critic
            return [
                Phase("D", ("D_img", "D_z"), self.d_phase, every=1, capturable=True, double_backward=True),
                Phase("C", ("C_exp", "C_id"), self.c_phase, every=1, capturable=True),
                Phase("G", ("E", "G"), self.g_phase, every=c.n_critic, capturable=True),
            ]
        return [
            Phase("D", ("D_img",), self.d_phase, every=1, capturable=True, double_backward=True),
            Phase("C", ("C_exp", "C_id"), self.c_phase, every=1, capturable=True),
            Phase("Z", ("D_z",), self.z_phase, every=c.n_critic, capturable=True),
            Phase("G", ("E", "G"), self.g_phase, every=c.n_critic, capturable=True),
        ]

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        c = self.cfg
        return identity_batches(c.batch_size, c.image_size, c.n_identities, device, seed)

    def prior(self, n: int, device: torch.device) -> torch.Tensor:
        c = self.cfg
        return c.prior_mean + c.prior_std * torch.randn(n, c.latent_dim, device=device)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        """max over D_img (WGAN-GP, Eq. 2); with ``dz_with_e`` off, over D_z (Eq. 1) too."""
        c = self.cfg
        x = batch["image"]
        with torch.no_grad():
            code = self.E(x)
            x_fake = self.G(code, other_face_targets(batch["aus"]))
        (src_real,), (src_fake,), loss_gp = critic_with_gp(self.D_img, x, x_fake)
        loss_adv_img = loss_d_adv(src_real, src_fake)
        loss = loss_adv_img + c.lambda_gp * loss_gp
        out = {"loss_adv_img": loss_adv_img, "loss_gp": loss_gp}
        if not c.dz_with_e:
            out.update(self.z_phase(batch, step, code))
            loss = loss + out.pop("loss")
        out["loss"] = loss
        return out

    def z_phase(self, batch: dict[str, torch.Tensor], step: int,
                code: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """max over D_z (Eq. 1): prior samples z ~ N(mu_z, sigma_z) against the codes E(I_i).

        Also logs how far the codes are from the prior: ``code_mean`` (the
        batch mean's average size over the dimensions, 0 under the prior) and
        ``code_std`` (the per-dimension spread, sigma_z under the prior)."""
        if code is None:
            with torch.no_grad():
                code = self.E(batch["image"])
        loss_adv_z = loss_dz(self.D_z(self.prior(code.shape[0], code.device)), self.D_z(code))
        code = code.detach().float()
        return {"loss": loss_adv_z, "loss_adv_z": loss_adv_z, "code_mean": code.mean(0).abs().mean(),
                "code_std": code.std(0).mean()}

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
        with judging(self.C_exp, self.C_id):  # the classifiers read edits as they read real faces (choice 10)
            logits_au = self.C_exp(x_edit)
            loss_id = loss_cls(self.C_id(x_edit), batch["identity"])
        loss_au_fake = loss_au(logits_au, u_t)
        # logged only: how well the edits' AU levels match the *source's*; while G ignores u_t this stays below loss_au
        ce_au_source = loss_au(logits_au.detach(), aus)
        loss_rec = (x_rec.float() - x.float()).abs().mean()
        loss_ssim = loss_ms_ssim(x_rec, x) if c.use_ms_ssim else x.new_zeros(())
        out = {"loss_adv_z": loss_adv_z, "loss_adv_img": loss_adv_img, "loss_au": loss_au_fake, "loss_id": loss_id,
               "loss_l1": loss_rec, "loss_ms_ssim": loss_ssim, "ce_au_source": ce_au_source}
        loss = (c.lambda_z * loss_adv_z + loss_adv_img + c.lambda_au * loss_au_fake + c.lambda_id * loss_id
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
