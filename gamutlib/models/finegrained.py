"""FineGrained: relative action units and a U-Net with multi-scale fusion
(Ling et al., "Toward Fine-grained Facial Expression Manipulation", ECCV 2020).

G(x, v) edits face x by the condition v, which is the relative AU vector
v_rel = v_tgt - v_src (Eq. 1; 17 OpenFace AUs in [0, 1], so v_rel in [-1, 1])
or, for the "w/o v_rel" ablation (``use_relative = False``), the absolute
target v_tgt. G is a U-Net (Sec. 3.2): four 4x4 stride-2 convolutions down,
four 4x4 stride-2 transposed convolutions up, 5x5 kernels elsewhere; the
condition is tiled onto the bottleneck, and the ``k_msf`` deepest skip
connections are replaced by MSF modules (gamutlib/models/msf.py) that fuse
each encoder level with the fused level below it, conditioned on v again.
``k_msf = 0`` is the plain U-Net of Table 1, 3 (every skip) is "Ours".
D is GANimation's (Sec. 3.2): six 4x4 stride-2 convs shared by D_adv (a 3x3
conv) and D_cond (a regression head for the 17 AUs) - StarGAN's critic with
17 outputs, as in gamutlib/models/stargan.py.

Losses (Sec. 3.4, Eq. 3-9) and weights (Sec. 4.1):

    L_D = -L_Dadv (WGAN-GP) + lambda_1 L_Dcond
    L_G = -L_Gadv + lambda_2 L_Gcond + lambda_3 L_rec + lambda_4 L_tv
    L_rec = |x - G(x, 0)|_1 + |G(G(x, v_rel), -v_rel) - x|_1
    lambda_1 = lambda_2 = 150, lambda_3 = 30, lambda_4 = 5e-6; 4 D steps per G step;
    Adam lr 1e-4, betas (0.5, 0.999).

Choices where the paper leaves room (each also written where it is coded):

1. Output: the paper's G regresses the image directly (a tanh on the last
   5x5 conv; its introduction argues against GANimation's attention blend,
   and its Eq. 9 has no attention term), so there is no attention mask here;
   GANimation's mask lives in ganimation.py for the baselines.
2. L_cond is a mean over the 17 AUs (the reference code's MSE), not the sum
   Eq. 5-6 write; see gamutlib.losses.action_units.
3. L_tv is taken on the generated RGB image (Sec. 3.4: "in RGB color
   space"), summed over pixels and averaged over the batch.
4. lambda_gp is not given; 10 (WGAN-GP's and GANimation's).
5. Targets: another face's AUs from the batch, no noise (the reference
   code's draw). Without v_rel, the reconstruction asks for v_src.
6. Widths (the paper gives none): ``g_conv_dim`` 8, channels 8-16-32-64-64
   from 128 px down to the 8 px bottleneck (which keeps 8x the base width
   instead of growing to 16x), MSF streams at half their level's width:
   0.82 M parameters with k_msf = 3 (1.6 MB in fp16, 0.59 GFLOP per 128 px
   face), so the shipped G fits the tree's budget and a live slider.
7. Which skips get an MSF for k_msf < 3: the deepest ones first, because each
   MSF takes the fused features of the level below it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Iterator, Mapping

import torch
from torch import nn

from gamutlib.constants import AU_ALIASES, AU_IDS, AU_MAX, AU_NAMES
from gamutlib.contract.controls import Control, VectorControl
from gamutlib.contract.method import build_config
from gamutlib.contract.registry import register_method
from gamutlib.losses import loss_cond, loss_d_adv, loss_g_adv, loss_rec, loss_tv
from gamutlib.models.au_condition import N_AUS, au_batches, condition, identity_condition, target_aus
from gamutlib.models.editor import (NetPart, SourceCache, as_image, check_image, codes_per_image, prepare_generator,
                                    run_as, run_generator)
from gamutlib.models.msf import MSF, conv_unit, down_unit, up_unit
from gamutlib.models.stargan import Discriminator
from gamutlib.models.translation import TranslationMethod, grid
from gamutlib.nn import tile_condition

N_LEVELS = 4  # stride-2 convolutions of the encoder (Sec. 3.2)
MAX_MSF = N_LEVELS - 1  # skips at 1/2, 1/4 and 1/8 resolution; the 1/16 level is the bottleneck


class Generator(nn.Module):
    """x (N,3,H,W) in [-1,1], v (N,17) -> the edited image (N,3,H,W) in [-1,1]."""

    def __init__(self, conv_dim: int = 8, c_dim: int = N_AUS, k_msf: int = MAX_MSF, kernel: int = 5) -> None:
        super().__init__()
        if not 0 <= k_msf <= MAX_MSF:
            raise ValueError(f"k_msf must lie in [0, {MAX_MSF}]; got {k_msf}")
        self.c_dim, self.k_msf = c_dim, k_msf
        d = conv_dim
        widths = [d, 2 * d, 4 * d, 8 * d, 8 * d]  # level 0 (full resolution) .. 4 (the bottleneck)
        self.stem = nn.Sequential(nn.Conv2d(3, d, kernel, 1, kernel // 2, bias=False), nn.InstanceNorm2d(d, affine=True),
                                  nn.LeakyReLU(0.2, inplace=True))
        self.down = nn.ModuleList(down_unit(widths[i], widths[i + 1]) for i in range(N_LEVELS))
        self.bottleneck = conv_unit(widths[4] + c_dim, widths[4], kernel)
        # msf[j] sits at level MAX_MSF - j (the deepest first): levels 3, 2, 1
        self.msf = nn.ModuleList(MSF(widths[level], widths[level + 1], c_dim, kernel)
                                 for level in range(MAX_MSF, MAX_MSF - k_msf, -1))
        # up[i] takes level i+1 (with its skip, but the bottleneck's) to level i
        self.up = nn.ModuleList(up_unit(widths[i + 1] * (1 if i + 1 == N_LEVELS else 2), widths[i])
                                for i in range(N_LEVELS))
        self.to_rgb = nn.Sequential(nn.Conv2d(d, 3, kernel, 1, kernel // 2, bias=False), nn.Tanh())

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x), v)

    def encode(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The encoder's features of every level (0 .. the bottleneck's input): they depend on
        the image alone, so an editor computes them once per face (``FineGrainedEditor``)."""
        side = 2**N_LEVELS
        if x.shape[-1] % side or x.shape[-2] % side:
            raise ValueError(f"image height and width must be multiples of {side}; got {tuple(x.shape[-2:])}")
        feats = [self.stem(x)]
        for layer in self.down:
            feats.append(layer(feats[-1]))
        return feats

    def decode(self, feats: list[torch.Tensor], v: torch.Tensor) -> torch.Tensor:
        """The edited image from ``encode``'s features and the condition v (N, 17); reads, never changes, feats."""
        if v.dim() != 2 or v.shape[-1] != self.c_dim:
            raise ValueError(f"G expects a condition of shape (N, {self.c_dim}); got {tuple(v.shape)}")
        h = self.bottleneck(tile_condition(feats[-1], v))
        skips = {level: feats[level] for level in range(1, MAX_MSF + 1)}
        low = h
        for j, msf in enumerate(self.msf):
            level = MAX_MSF - j
            low = skips[level] = msf(feats[level], low, v)
        for level in range(N_LEVELS, 0, -1):
            h = self.up[level - 1](h if level == N_LEVELS else torch.cat([h, skips[level]], dim=1))
        return self.to_rgb(h)


@dataclass
class FineGrainedConfig:
    """FineGrained's hyperparameters (Sec. 4.1) at the house's sizes (batch 16, 128 px)."""

    image_size: int = 128
    g_conv_dim: int = 8
    kernel: int = 5
    k_msf: int = MAX_MSF
    use_relative: bool = True
    c_dim: int = N_AUS
    d_conv_dim: int = 64
    d_repeat_num: int = 6
    lambda_gp: float = 10.0
    lambda_1: float = 150.0  # L_Dcond
    lambda_2: float = 150.0  # L_Gcond
    lambda_3: float = 30.0  # L_rec (self- and cycle-reconstruction)
    lambda_4: float = 5e-6  # L_tv
    lr: float = 1e-4
    betas: tuple[float, float] = (0.5, 0.999)
    n_critic: int = 4
    batch_size: int = 16


@register_method("finegrained")
class FineGrained(TranslationMethod):
    """The FineGrained method; every loss term is logged under its own name
    (the D and G phases both log ``loss_cond``: the paper's Fig. 9 curves)."""

    name = "finegrained"

    def __init__(self, config: FineGrainedConfig | Mapping[str, Any] | None = None, **overrides: Any) -> None:
        self.cfg = build_config(FineGrainedConfig, config, overrides)
        c = self.cfg
        if c.c_dim != N_AUS:
            raise ValueError(f"FineGrained conditions on the {N_AUS} OpenFace AUs; got c_dim {c.c_dim}")
        self.G = Generator(c.g_conv_dim, c.c_dim, c.k_msf, c.kernel)
        self.D = Discriminator(c.image_size, c.d_conv_dim, c.c_dim, c.d_repeat_num)

    @property
    def config(self) -> dict[str, Any]:
        return {"method": self.name, **asdict(self.cfg)}

    def data(self, device: torch.device, seed: int) -> Iterator[dict[str, torch.Tensor]]:
        return au_batches(self.cfg.batch_size, self.cfg.image_size, device, seed)

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, v_src = batch["image"], batch["v_src"]
        v_tgt = target_aus(v_src)
        with torch.no_grad():
            x_fake = self.G(x, condition(v_src, v_tgt, c.use_relative))
        (src_real, au_real), (src_fake, _), loss_penalty = self.critic(x, x_fake)
        loss_adv = loss_d_adv(src_real, src_fake)  # -L_Dadv without its penalty (Eq. 3)
        loss_cond_real = loss_cond(au_real, v_src)  # L_Dcond (Eq. 5)
        loss = loss_adv + c.lambda_gp * loss_penalty + c.lambda_1 * loss_cond_real  # Eq. 8
        return {"loss": loss, "loss_adv": loss_adv, "loss_gp": loss_penalty, "loss_cond": loss_cond_real}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        c = self.cfg
        x, v_src = batch["image"], batch["v_src"]
        v_tgt = target_aus(v_src)
        x_fake = self.G(x, condition(v_src, v_tgt, c.use_relative))
        src_fake, au_fake = self.D(x_fake)
        x_self = self.G(x, identity_condition(v_src, c.use_relative))  # G(x, 0)
        x_cyc = self.G(x_fake, condition(v_tgt, v_src, c.use_relative))  # G(G(x, v_rel), -v_rel)
        loss_adv = loss_g_adv(src_fake)  # -L_Gadv (Eq. 4)
        loss_cond_fake = loss_cond(au_fake, v_tgt)  # L_Gcond (Eq. 6)
        loss_self, loss_cyc = loss_rec(x, x_self), loss_rec(x, x_cyc)  # the two terms of L_rec (Eq. 7)
        loss_smooth = loss_tv(x_fake)
        loss = (loss_adv + c.lambda_2 * loss_cond_fake + c.lambda_3 * (loss_self + loss_cyc)
                + c.lambda_4 * loss_smooth)  # Eq. 9
        return {"loss": loss, "loss_adv": loss_adv, "loss_cond": loss_cond_fake, "loss_self": loss_self,
                "loss_cyc": loss_cyc, "loss_tv": loss_smooth}

    @torch.no_grad()
    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Rows: up to 4 inputs; columns: the input, its reconstruction with no
        change asked, then its edit towards each row's AUs."""
        x, v_src = batch["image"][:4], batch["v_src"][:4]
        rel = self.cfg.use_relative
        cols = [x, self.G(x, identity_condition(v_src, rel))]
        cols += [self.G(x, condition(v_src, v_src[k].expand_as(v_src), rel)) for k in range(x.shape[0])]
        return grid(cols)

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}


# ----------------------------------------------------------------- the editor

#: The editing range of one AU, in OpenFace intensity units (the house's AU
#: scale, [0, 5]): a change from any intensity to any other lies in [-5, 5].
DELTA_RANGE = AU_MAX

DELTA = VectorControl(
    "delta",
    "the change of each action unit, in OpenFace intensity units (0 = leave it as it is)",
    tuple(Control(name, f"change of {name} (OpenFace intensity units; + strengthens, - weakens)",
                  -DELTA_RANGE, DELTA_RANGE, 0.0, label=f"Δ{name}", step=0.1) for name in AU_NAMES),
    aliases=AU_ALIASES,
)


class FineGrainedEditor:
    """Edit faces with a trained relative FineGrained G: ``edit_values(x, {"AU12": 2})``.

    The controls are one relative change per AU (``DELTA``'s components, one
    slider each; ``gamut edit finegrained --delta AU12=+2``). G takes v_rel =
    delta / 5 directly, so an edit needs no source AUs. The source's AUs are
    needed to show them beside the result and to keep the asked target
    u_src + delta inside [0, 5] (``clip_to_range``); an ``au_judge``
    (x -> (N, 17) OpenFace AUs, the study's AU judge) reads them at edit time:
    inference only, no loss of the study uses a judge.
    """

    method_cls = FineGrained
    controls: tuple[Control, ...] = DELTA.components
    shortcuts: tuple[Control, ...] = ()
    vectors: tuple[VectorControl, ...] = (DELTA,)
    example_values = ({"AU12": 2.0}, {"AU04": 1.5, "AU15": 1.0}, {"AU01": 1.0, "AU02": 1.0, "AU05": 1.0, "AU26": 2.0},
                      {"AU12": -1.0, "AU06": -1.0})

    def __init__(self, G: nn.Module, image_size: int = 128, variant: str = "fp32", au_judge: Any = None,
                 relative: bool = True) -> None:
        if not relative:
            raise ValueError("the editor edits relative FineGrained models; an absolute one (use_relative = False) "
                             "needs the full target AU vector")
        self.G = G.eval()
        self.image_size = image_size
        self.au_judge = au_judge
        self.variant = prepare_generator(self.G, variant)
        # G's encoder features and the judged AUs depend on the face alone: computed once
        # per face, so a slider move runs the conditioned decoder only
        # (a G without encode/decode, such as a test's stand-in, runs whole)
        self._split = hasattr(self.G, "encode") and hasattr(self.G, "decode")
        self._encode, self._decode = NetPart(self.G, "encode"), NetPart(self.G, "decode")
        self._features = SourceCache(self.G)
        self._judged: SourceCache | None = None
        self._judged_by: Any = None

    def use_variant(self, variant: str) -> None:
        self.variant = prepare_generator(self.G, variant)

    @classmethod
    def from_method(cls, method: FineGrained, **kwargs: Any) -> "FineGrainedEditor":
        return cls(method.G, method.cfg.image_size, relative=method.cfg.use_relative, **kwargs)

    @classmethod
    def from_weights(cls, name: str | None = None, root: str = "weights", verify: bool = True,
                     **kwargs: Any) -> "FineGrainedEditor":
        from gamutlib.weights import load_into, load_weights

        name = name or cls.method_cls.name
        expected = {"method": cls.method_cls.name}
        _, config = load_weights(name, expected=expected, root=root, verify=verify)
        method = cls.method_cls(config)
        load_into({"G": method.G}, name, expected=expected, root=root, verify=verify)
        return cls.from_method(method, **kwargs)

    def check(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Every AU's change checked (a missing one is 0); a bad one raises naming the AU."""
        return DELTA.check(values)

    resolve = check

    def code_of(self, values: Mapping[str, float]) -> torch.Tensor:
        """(1, 17): v_rel in the paper's [0, 1] AU units from checked changes."""
        return torch.tensor([[values[name] for name in AU_NAMES]]) / AU_MAX

    def source_aus(self, x: torch.Tensor) -> torch.Tensor:
        """(N, 17) the judged OpenFace AUs of the faces ``x`` (needs ``au_judge``)."""
        if self.au_judge is None:
            raise ValueError("no AU judge attached: the source's AUs are read by the AU judge (au_judge=...)")
        x = check_image(x, self.image_size)

        def judge(face: torch.Tensor) -> torch.Tensor:
            with torch.inference_mode():
                return self.au_judge(face).float().clamp(0, AU_MAX)

        # the readings are kept only where the judge's weights can be watched: a module or a
        # module's method (load_au_judge(...).aus); any other callable is asked every time
        net = self.au_judge if isinstance(self.au_judge, nn.Module) else getattr(self.au_judge, "__self__", None)
        if not isinstance(net, nn.Module):
            return judge(x)
        if self._judged is None or self._judged_by != self.au_judge:  # a judge attached since
            self._judged, self._judged_by = SourceCache(net), self.au_judge
        return self._judged.get(x, "fp32", judge).clone()

    def clip_to_range(self, x: torch.Tensor, values: Mapping[str, Any]) -> torch.Tensor:
        """(N, 17) changes cut so that each judged u_src + delta stays in [0, 5]."""
        delta = self.code_of(self.check(values)) * AU_MAX
        u_src = self.source_aus(x)
        return (u_src + delta).clamp(0, AU_MAX) - u_src

    def edit_values(self, x: torch.Tensor, values: Mapping[str, Any]) -> torch.Tensor:
        """G(x, v_rel) for the checked per-AU changes ``values`` (keys AU12, AU1, au12 ...)."""
        return self.edit_code(x, self.code_of(self.check(values)))

    def edit_code(self, x: torch.Tensor, v_rel: torch.Tensor) -> torch.Tensor:
        """G(x, v_rel) for v_rel (17,) or (N, 17) in [0, 1] AU units, already checked."""
        x = check_image(x, self.image_size)
        if not self._split:
            return run_generator(self.G, x, v_rel, self.variant)
        feats = self._features.get(x, self.variant, lambda face: run_as(self._encode, self.variant, face))
        return as_image(run_as(self._decode, self.variant, feats, codes_per_image(v_rel, x)))

