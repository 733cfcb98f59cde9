"""The evaluation protocols of the FineGrained series (Ling et al. 2020, Sec. 4.2-4.5).

Every method of the series edits a face x by action units (AUs): the
relative ones (Ours, GANimation w/ v_rel, the k_MSF ablations) are given
v_rel = (u_tgt - u_src) / 5 (paper Eq. 1, AUs on the paper's [0, 1] scale),
the absolute ones (GANimation, Ours w/o v_rel) the target u_tgt / 5.
``AUGenerator`` holds that difference, so the tables never ask which is which.

Where the paper ran OpenFace on AffectNet faces, the benchmark knows each
test face's exact AUs (the renderer's), and can render the *perfect edit*: the
same face (identity, pose, light, style, grain) with the target AUs
(``truth_renders``). So besides the paper's measures each table reads:

- ED against the judged AUs of the target face (the paper's: OpenFace on both
  sides) and against the exact target AUs (``ed_truth``);
- the "Real" row measured on the perfect edits: the floor the judges leave
  on an edit that is exactly right (the paper leaves these cells empty);
- the human study's expression-similarity rating (Table 2) replaced by a
  judge-based rating of each edit, beside the same rating of its perfect edit.

The AU judge, the identity judge and the emotion judge score; no loss of
the series uses any of them (gamutlib/models/finegrained.py).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.stats
import torch
from torch import nn

from gamutlib.constants import AU_MAX, AU_NAMES
from gamutlib.evaluation.generators import generate
from gamutlib.metrics.batched import map_batches
from gamutlib.metrics.checks import check_images
from gamutlib.metrics.inception_score import inception_score_of_logits
from gamutlib.metrics.pixel_error import l1_error, to_unit_range
from gamutlib.metrics.ssim import ssim
from gamutlib.reproduce.profiles import by_profile

PAPER = "finegrained"
N_AUS = len(AU_NAMES)

#: The series' generators (shipped weights / training-config name -> the paper's row label), Table 1's order.
LABELS = {
    "ganimation_au": "GANimation",
    "ganimation_au__relative": "GANimation w/ v_rel",
    "finegrained__kmsf0": "Ours, k_MSF = 0",
    "finegrained__kmsf1": "Ours, k_MSF = 1",
    "finegrained__kmsf2": "Ours, k_MSF = 2",
    "finegrained": "Ours",
    "finegrained__absolute": "Ours w/o v_rel",
}
TABLE1_METHODS = dict(LABELS)
TABLE3_METHODS = {k: LABELS[k] for k in ("ganimation_au", "ganimation_au__relative", "finegrained__absolute", "finegrained")}
TABLE2_METHODS = {k: LABELS[k] for k in ("ganimation_au", "finegrained")}
#: The k_MSF ablation in order of k (k = 3 is "Ours").
KMSF_ORDER = ("finegrained__kmsf0", "finegrained__kmsf1", "finegrained__kmsf2", "finegrained")

# The paper's numbers (Ling et al., ECCV 2020), copied from its tables, beside ours.
PAPER_TABLE1 = {
    "source": "FineGrained Table 1 (AffectNet, 3234 test faces x 7 target expressions; IS on an Inception "
              "network, ACD on face_recognition's embedding, ED on OpenFace 2.0 AUs in [0, 1])",
    "Real": {"is": 3.024, "is_std": 0.157, "acd": None, "ed": None},
    "GANimation": {"is": 2.861, "is_std": 0.054, "acd": 0.395, "ed": 0.313},
    "GANimation w/ v_rel": {"is": 2.901, "is_std": 0.043, "acd": 0.352, "ed": 0.661},
    "Ours, k_MSF = 0": {"is": 2.809, "is_std": 0.058, "acd": 0.335, "ed": 0.636},
    "Ours, k_MSF = 1": {"is": 2.864, "is_std": 0.042, "acd": 0.349, "ed": 0.609},
    "Ours, k_MSF = 2": {"is": 2.899, "is_std": 0.038, "acd": 0.345, "ed": 0.422},
    "Ours": {"is": 2.940, "is_std": 0.039, "acd": 0.375, "ed": 0.275},
    "Ours w/o v_rel": {"is": 2.808, "is_std": 0.050, "acd": 0.426, "ed": 0.290},
}
PAPER_TABLE2 = {
    "source": "FineGrained Table 2 (20 volunteers x 100 image pairs; % of ratings 0 / 1 / 2 of expression similarity)",
    "GANimation": {"rating_0": 25.04, "rating_1": 43.25, "rating_2": 31.71, "realism": 34.43, "identity": 90.59},
    "Ours": {"rating_0": 17.66, "rating_1": 35.22, "rating_2": 47.12, "realism": 65.57, "identity": 90.56},
}
PAPER_TABLE3 = {
    "source": "FineGrained Table 3 (reconstruction with v_rel = 0, or the source AUs for absolute models; "
              "L1 on [0, 1] pixels, PSNR in dB, SSIM)",
    "GANimation": {"l1": 0.049, "psnr": 23.76, "ssim": 0.901},
    "GANimation w/ v_rel": {"l1": 0.022, "psnr": 29.11, "ssim": 0.954},
    "Ours w/o v_rel": {"l1": 0.025, "psnr": 28.83, "ssim": 0.972},
    "Ours": {"l1": 0.018, "psnr": 31.89, "ssim": 0.986},
}
#: The paper's training settings (Sec. 4.1), for the training chapter.
PAPER_TRAINING = {
    "data": "200,000 AffectNet faces, 128 px, AUs from OpenFace 2.0",
    "epochs": "30 at lr 1e-4, then a linear decay to 1e-5",
    "betas": (0.5, 0.999),
    "n_critic": 4,
    "lambda_1 (D cond)": 150,
    "lambda_2 (G cond)": 150,
    "lambda_3 (rec)": 30,
    "lambda_4 (tv)": 5e-6,
}

#: The held-out faces of every table of the series (test identities; the GANmut series' seed).
TEST_SEED = 1234
#: The seed of the targets drawn for each face.
TARGET_SEED = 7
#: An AU counts as "asked" in the Table 2 rating when the edit asks it to move by at least this (OpenFace units).
ASKED_STEP = 1.0
#: ... and as "reached" when the judged change covers at least this share of the asked change, in its direction.
REACHED_SHARE = 0.5
#: A PSNR of an exact copy is infinite; per-image MSE is floored here (100 dB), which no real edit reaches.
MSE_FLOOR = 1e-10


@dataclass(frozen=True)
class EvalSizes:
    """How much of the protocol a profile affords."""

    n_faces: int  # Table 1 / 2 sources (paper: 3234)
    n_targets: int  # target expressions per source (paper: 7)
    is_splits: int  # IS splits (paper, after GANimation: 10)
    n_recon: int  # Table 3 faces
    n_local: int  # faces of the single-AU edits (Fig. 4/5)
    local_step: float  # the single-AU step, OpenFace units (<= 2.5: every face can take it up or down)
    alphas: tuple[float, ...]  # the interpolation's alpha (Eq. 2)
    n_interp: int  # faces of the interpolation
    chunk_size: int
    image_size: int = 128  # the judges' and the generators' size

    @property
    def n_test(self) -> int:
        return max(self.n_faces, self.n_recon, self.n_local, self.n_interp)


#: smoke: every code path on a handful of faces; cpu: a few dozen faces (two
#: CPU cores edit ~10 faces a second per generator at 128 px); gpu: the
#: paper's 7 targets per face on a thousand faces.
SIZES = {
    "smoke": EvalSizes(n_faces=6, n_targets=2, is_splits=2, n_recon=4, n_local=2, local_step=2.0,
                       alphas=(0.0, 0.5, 1.0), n_interp=3, chunk_size=64),
    "cpu": EvalSizes(n_faces=40, n_targets=7, is_splits=10, n_recon=40, n_local=8, local_step=2.0,
                     alphas=(0.0, 0.25, 0.5, 0.75, 1.0), n_interp=16, chunk_size=128),
    "gpu": EvalSizes(n_faces=1000, n_targets=7, is_splits=10, n_recon=1000, n_local=200, local_step=2.0,
                     alphas=(0.0, 0.25, 0.5, 0.75, 1.0), n_interp=200, chunk_size=1024),
}


def sizes_for(profile: str) -> EvalSizes:
    return by_profile(SIZES, profile)


# ------------------------------------------------------------------ the generators


class AUGenerator(nn.Module):
    """A trained generator of the series with its conditioning: ``edit(x, u_src, u_tgt)``
    takes AUs on OpenFace's [0, 5] scale and gives G the relative or absolute condition."""

    def __init__(self, name: str, method: str, G: nn.Module, relative: bool, image_size: int, source: str) -> None:
        super().__init__()
        self.name, self.method, self.relative = name, method, relative
        self.G, self.image_size, self.source = G.eval(), image_size, source

    def condition(self, u_src: torch.Tensor, u_tgt: torch.Tensor) -> torch.Tensor:
        """(N, 17) what G is given to take u_src to u_tgt: Eq. 1's v_rel, or the target itself."""
        if u_src.shape != u_tgt.shape or u_src.shape[-1] != N_AUS:
            raise ValueError(f"source and target AUs must both be (N, {N_AUS}); got {tuple(u_src.shape)}, {tuple(u_tgt.shape)}")
        return ((u_tgt - u_src) if self.relative else u_tgt) / AU_MAX

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.G(x, c.to(x.dtype)).clamp(-1, 1)

    @torch.no_grad()
    def edit(self, x: torch.Tensor, u_src: torch.Tensor, u_tgt: torch.Tensor, chunk_size: int = 256,
             device: torch.device | str | None = None) -> torch.Tensor:
        return generate(self, x, self.condition(u_src, u_tgt), chunk_size, device)

    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor, u_src: torch.Tensor, chunk_size: int = 256,
                    device: torch.device | str | None = None) -> torch.Tensor:
        """G asked for no change: v_rel = 0, or the source's own AUs (Table 3)."""
        return self.edit(x, u_src, u_src, chunk_size, device)


def is_relative(config: Mapping[str, Any]) -> bool:
    """Whether a weights file's config conditions on relative AUs."""
    method = config.get("method")
    if method == "finegrained":
        return bool(config.get("use_relative", True))
    if method == "ganimation_au":
        return config.get("conditioning", "absolute") == "relative"
    raise ValueError(f"the FineGrained series evaluates finegrained and ganimation_au generators; got method {method!r}")


def _build(config: Mapping[str, Any]) -> Any:
    from gamutlib.papers import get_method

    return get_method(str(config["method"]), {k: v for k, v in config.items() if k != "method"})


def load_generator(name: str, root: str | Path = "weights", device: torch.device | str = "cpu",
                   verify: bool = True) -> AUGenerator:
    """``<root>/<name>.safetensors`` as an AUGenerator (refuses a file of another series)."""
    from gamutlib.weights import has_weights, load_into, load_weights, plain_path

    path = plain_path(root, name)
    if not has_weights(root, name):
        raise FileNotFoundError(f"{path} is missing: train it with scripts/gpu/train_finegrained.sh "
                                f"(config {name}) and stage its export with scripts/gpu/score_finegrained.sh")
    _, config = load_weights(name, root=root, verify=verify)
    relative = is_relative(config)
    method = _build(config)
    load_into({"G": method.G}, name, root=root, verify=verify)
    return AUGenerator(name, str(config["method"]), method.G, relative, int(config.get("image_size", 128)),
                       str(path)).to(device)


def training_config(name: str) -> dict[str, Any]:
    """The [model] table and method of gamutlib/models/configs/<name>.toml (the series' training configs)."""
    import tomllib

    path = Path(__file__).resolve().parents[1] / "models" / "configs" / f"{name}.toml"
    if not path.exists():
        raise ValueError(f"{name!r} is not a training config of the series ({sorted(LABELS)})")
    raw = tomllib.loads(path.read_text())
    return {"method": raw["method"], **raw.get("model", {})}


def tiny_fallback(name: str, steps: int = 2, image_size: int = 128, seed: int = 0,
                  device: torch.device | str = "cpu") -> AUGenerator:
    """A narrow generator of config ``name`` trained ``steps`` steps on the spot
    through the engine (smoke only: its numbers say nothing about the method)."""
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    config = training_config(name)
    d_layers = max(1, min(6, int(math.log2(image_size)) - 1))
    config.update({"image_size": image_size, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": d_layers, "batch_size": 4})
    if config["method"] == "ganimation_au":
        config["g_repeat_num"] = 1
    method = _build(config)
    train = TrainConfig(steps=steps, seed=seed, device=str(device), progress=False, log_every=max(steps, 1),
                        sample_every=10**9, checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
    Trainer(method, train, run_dir=None).fit()
    return AUGenerator(name, config["method"], method.G, is_relative(config), image_size,
                       f"tiny fallback (width 4, {steps} training steps): weights/{name}.safetensors is absent").to(device)


def load_or_fallback(name: str, root: str | Path = "weights", device: torch.device | str = "cpu",
                     allow_fallback: bool = False, fallback_steps: int = 2) -> AUGenerator:
    from gamutlib.weights import has_weights

    if has_weights(root, name) or not allow_fallback:
        return load_generator(name, root, device)
    return tiny_fallback(name, steps=fallback_steps, device=device)


# ------------------------------------------------------------------ the test faces and their perfect edits


def test_faces(n: int, size: int = 128, device: torch.device | str = "cpu", aus: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
    """``n`` held-out faces (seed TEST_SEED), the same on every device; with
    ``aus`` (N, 17) the *same* faces rendered with those AUs instead (every
    other random draw of the batch is made all the same: identity, pose,
    light, style, background and grain stay)."""
    from gamutlib.faces.batch import random_faces

    if aus is not None and tuple(aus.shape) != (n, N_AUS):
        raise ValueError(f"aus must be ({n}, {N_AUS}); got {tuple(aus.shape)}")
    return random_faces(n, size=size, split="test", seed=TEST_SEED, device=device,
                        aus=None if aus is None else aus.detach().float().cpu().clamp(0, AU_MAX))


def target_indices(n: int, k: int, seed: int = TARGET_SEED) -> torch.Tensor:
    """(k, n): for each of k rounds, the face whose AUs each face is edited to; never itself
    (a cyclic shift by a random offset in 1..n-1, a different one each round where n allows)."""
    if n < 2:
        raise ValueError(f"targets come from other faces: need n >= 2 faces, got {n}")
    g = torch.Generator().manual_seed(seed)
    offsets = torch.randperm(n - 1, generator=g)[:k] + 1
    if len(offsets) < k:  # fewer other faces than rounds: reuse offsets
        offsets = offsets.repeat(math.ceil(k / len(offsets)))[:k]
    return (torch.arange(n)[None] + offsets[:, None]) % n


# ------------------------------------------------------------------ Tables 1 and 2: edits to other faces' AUs


Judge = Callable[[torch.Tensor], torch.Tensor]


@dataclass
class JudgeSet:
    """The three scoring functions (images in [-1, 1] -> numbers), ``gamutlib.judges.loading.Judges`` or toys."""

    emotion_logits: Judge
    aus: Judge  # (N, 17) OpenFace units
    embed: Judge


def judges_of(loaded: Any) -> JudgeSet:
    return JudgeSet(loaded.emotion.logits, loaded.au.aus, loaded.identity.embed)


@dataclass
class EditScores:
    """What the judges read from one generator's edits of every (face, target) pair."""

    logits: torch.Tensor  # (K*N, 7)
    judged: torch.Tensor  # (K*N, 17) judged AUs of the edits
    acd: torch.Tensor  # (K*N,) identity distance source -> edit
    n_faces: int
    n_targets: int


@dataclass
class SourceReadings:
    """The judges' readings of the real faces, their targets and their perfect edits (shared by every generator)."""

    images: torch.Tensor
    aus: torch.Tensor  # (N, 17) exact
    targets: torch.Tensor  # (K, N) face indices
    judged_src: torch.Tensor  # (N, 17)
    embed_src: torch.Tensor
    real_logits: torch.Tensor  # (N, 7)
    truth: EditScores  # the perfect edits' readings


def read_sources(faces: Mapping[str, torch.Tensor], judges: JudgeSet, n_targets: int, chunk_size: int = 256,
                 device: torch.device | str | None = None,
                 render: Callable[[torch.Tensor], torch.Tensor] | None = None) -> SourceReadings:
    """The judges' readings of the faces, and of their perfect edits ``render(target AUs)``
    (default: the same test faces rendered with those AUs, ``test_faces``)."""
    x, aus = faces["image"], faces["aus"].float()
    check_images(x)
    n = x.shape[0]
    targets = target_indices(n, n_targets)
    render = render or (lambda u: test_faces(n, x.shape[-1], x.device, aus=u)["image"])
    judged_src = map_batches(judges.aus, x, chunk_size, device)
    embed_src = map_batches(judges.embed, x, chunk_size, device)
    logits, judged, dist = [], [], []
    for idx in targets:
        truth = render(aus[idx])
        logits.append(map_batches(judges.emotion_logits, truth, chunk_size, device))
        judged.append(map_batches(judges.aus, truth, chunk_size, device))
        dist.append((map_batches(judges.embed, truth, chunk_size, device) - embed_src).norm(dim=1))
    truth_scores = EditScores(torch.cat(logits), torch.cat(judged), torch.cat(dist), n, len(targets))
    return SourceReadings(x, aus, targets, judged_src, embed_src, map_batches(judges.emotion_logits, x, chunk_size, device),
                          truth_scores)


@torch.no_grad()
def score_edits(model: Callable[..., torch.Tensor] | AUGenerator, src: SourceReadings, judges: JudgeSet,
                chunk_size: int = 256, device: torch.device | str | None = None) -> EditScores:
    """Edit every face to each of its targets' exact AUs and read the edits (one round of N at a time)."""
    logits, judged, dist = [], [], []
    for idx in src.targets:
        edits = model.edit(src.images, src.aus, src.aus[idx], chunk_size, device)
        logits.append(map_batches(judges.emotion_logits, edits, chunk_size, device))
        judged.append(map_batches(judges.aus, edits, chunk_size, device))
        dist.append((map_batches(judges.embed, edits, chunk_size, device) - src.embed_src).norm(dim=1))
    return EditScores(torch.cat(logits), torch.cat(judged), torch.cat(dist), src.images.shape[0], len(src.targets))


def _flat_targets(src: SourceReadings) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(K*N, 17) each edit's source AUs, exact target AUs and judged target-face AUs, in EditScores' order."""
    idx = src.targets.reshape(-1)
    k = src.targets.shape[0]
    return src.aus.repeat(k, 1), src.aus[idx], src.judged_src[idx]


def table1_numbers(scores: EditScores, src: SourceReadings, is_splits: int = 10) -> dict[str, Any]:
    """IS (mean, std over splits), ACD, and ED against the judged target-face AUs (the paper's)
    and against the exact target AUs; AU distances on the [0, 1] scale (``gamutlib.metrics.expression_distance``)."""
    _, u_tgt, judged_tgt = _flat_targets(src)
    is_mean, is_std = inception_score_of_logits(scores.logits, is_splits)
    ed = ((scores.judged - judged_tgt) / AU_MAX).norm(dim=1)
    ed_truth = ((scores.judged - u_tgt) / AU_MAX).norm(dim=1)
    return {"is": round(is_mean, 4), "is_std": round(is_std, 4), "acd": round(float(scores.acd.mean()), 4),
            "ed": round(float(ed.mean()), 4), "ed_truth": round(float(ed_truth.mean()), 4),
            "n_edits": int(scores.logits.shape[0])}


def real_row(src: SourceReadings, is_splits: int = 10) -> dict[str, Any]:
    """Table 1's "Real": IS of the real faces; ACD and ED of the perfect edits (the judges' floor)."""
    floors = table1_numbers(src.truth, src, is_splits)
    is_mean, is_std = inception_score_of_logits(src.real_logits, is_splits)
    return {**floors, "is": round(is_mean, 4), "is_std": round(is_std, 4), "n_faces": int(src.images.shape[0])}


def expression_ratings(judged_edit: torch.Tensor, judged_src: torch.Tensor, u_src: torch.Tensor, u_tgt: torch.Tensor,
                       asked_step: float = ASKED_STEP, reached_share: float = REACHED_SHARE) -> dict[str, Any]:
    """The judge-based stand-in for Table 2's expression-similarity rating, per edit:

    the AUs the edit asks to move by >= ``asked_step`` (exact target - exact
    source) are its asked AUs; one is *reached* when the judged change (edit
    minus source, both judged) covers >= ``reached_share`` of the asked change
    in its direction. Rating 2: every asked AU reached ("the same
    expression"), 1: some, 0: none. Edits that ask no AU to move are left
    out. Returns the % of each rating and how many edits were rated."""
    asked = u_tgt - u_src
    mask = asked.abs() >= asked_step
    rated = mask.any(dim=1)
    reached = ((judged_edit - judged_src) * asked.sign() >= reached_share * asked.abs()) & mask
    n_reached, n_asked = reached.sum(1)[rated], mask.sum(1)[rated]
    rating = torch.where(n_reached == n_asked, 2, torch.where(n_reached > 0, 1, 0))
    n = int(rated.sum())
    share = {f"rating_{r}": round(100.0 * float((rating == r).sum()) / n, 2) if n else None for r in (0, 1, 2)}
    return {**share, "n_rated": n}


def table2_numbers(scores: EditScores, src: SourceReadings) -> dict[str, Any]:
    """The judge's ratings of a generator's edits and, beside them, of the same edits done perfectly."""
    u_src, u_tgt, _ = _flat_targets(src)
    judged_src = src.judged_src.repeat(src.targets.shape[0], 1)
    ours = expression_ratings(scores.judged, judged_src, u_src, u_tgt)
    truth = expression_ratings(src.truth.judged, judged_src, u_src, u_tgt)
    return {**ours, **{f"truth_{k}": v for k, v in truth.items() if k != "n_rated"}}


# ------------------------------------------------------------------ Table 3: reconstruction


def psnr_floored(preds: torch.Tensor, target: torch.Tensor) -> float:
    """Mean per-image PSNR (dB, [0, 1] scale) with each image's MSE floored at MSE_FLOOR (an exact copy: 100 dB)."""
    p, t = to_unit_range(preds), to_unit_range(target.to(preds.device))
    mse = (p - t).pow(2).flatten(1).mean(1).clamp_min(MSE_FLOOR)
    return float((10 * torch.log10(1.0 / mse)).mean())


@torch.no_grad()
def reconstruction_numbers(model: AUGenerator, images: torch.Tensor, aus: torch.Tensor, chunk_size: int = 256,
                           device: torch.device | str | None = None) -> dict[str, Any]:
    """L1, PSNR, SSIM between faces and G asked for no change (Table 3)."""
    recon = model.reconstruct(images, aus.float(), chunk_size, device)
    return {"l1": round(l1_error(recon, images), 5), "psnr": round(psnr_floored(recon, images), 3),
            "ssim": round(ssim(recon, images), 4), "n_faces": int(images.shape[0])}


# ------------------------------------------------------------------ single-AU edits (Fig. 4/5): the locality matrix


def single_au_asks(aus: torch.Tensor, step: float) -> torch.Tensor:
    """(17, N): the signed step of each AU alone for each face: +step where the
    face's AU is below the middle of [0, 5], -step above, so every asked
    target stays inside [0, 5] and every ask has the same size."""
    if not 0 < step <= AU_MAX / 2:
        raise ValueError(f"the single-AU step must lie in (0, {AU_MAX / 2}] so that every face can take it; got {step}")
    return torch.where(aus.T.float() < AU_MAX / 2, step, -step)


def locality_from_changes(changes: torch.Tensor, asks: torch.Tensor) -> torch.Tensor:
    """(17, 17) matrix: row i = the mean judged change of every AU when AU i alone
    was asked to move, signed by the ask and divided by its size (the diagonal
    is 1 where the asked AU moved by exactly its step, off-diagonal 0 where
    nothing else moved). ``changes`` (17, N, 17), ``asks`` (17, N)."""
    return (changes * asks.sign()[..., None] / asks.abs()[..., None]).mean(1)


def locality_summary(matrix: torch.Tensor) -> dict[str, Any]:
    """Own response (mean diagonal), leakage (mean |off-diagonal|) and their ratio."""
    eye = torch.eye(matrix.shape[0], dtype=torch.bool)
    own, leak = float(matrix[eye].mean()), float(matrix[~eye].abs().mean())
    return {"own_response": round(own, 4), "leakage": round(leak, 4),
            "locality": round(own / leak, 3) if leak > 1e-12 else None}


@torch.no_grad()
def single_au_changes(edit: Callable[[torch.Tensor], torch.Tensor], judge_aus: Judge, images: torch.Tensor,
                      aus: torch.Tensor, step: float, chunk_size: int = 256,
                      device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """((17, N, 17) judged change from the source, (17, N) asks) for ``edit(target AUs) -> images``."""
    asks = single_au_asks(aus, step)
    base = map_batches(judge_aus, images, chunk_size, device)
    changes = []
    for i in range(N_AUS):
        target = aus.float().clone()
        target[:, i] += asks[i].to(target)
        changes.append(map_batches(judge_aus, edit(target), chunk_size, device) - base)
    return torch.stack(changes), asks


@torch.no_grad()
def region_shares(edit: Callable[[torch.Tensor], torch.Tensor], images: torch.Tensor, aus: torch.Tensor,
                  landmarks: torch.Tensor, step: float) -> torch.Tensor:
    """(17,) for each AU asked alone (``single_au_asks``): the share of the edit's
    pixel change (|edit - source|, summed over channels and faces) that lies
    inside that AU's FACS region, drawn from the face's own landmarks (the
    renderer's; gamutlib.evaluation.benchmark_truth.au_region). 1: the edit
    touched nothing outside the region the asked muscle moves."""
    from gamutlib.constants import AU_IDS
    from gamutlib.evaluation.benchmark_truth import au_region

    asks = single_au_asks(aus, step)
    size = images.shape[-1]
    shares = []
    for i, au in enumerate(AU_IDS):
        target = aus.float().clone()
        target[:, i] += asks[i].to(target)
        change = (edit(target) - images).abs().sum(1)  # (N, H, W)
        region = au_region(landmarks.to(change.device), au, size)
        total = float(change.sum())
        shares.append(float(change[region].sum()) / total if total > 0 else float("nan"))
    return torch.tensor(shares)


def locality_rows(name: str, matrix: torch.Tensor, truth: torch.Tensor, shares: torch.Tensor | None = None,
                  truth_shares: torch.Tensor | None = None) -> dict[str, Any]:
    row = {"method": name, **locality_summary(matrix), **{f"truth_{k}": v for k, v in locality_summary(truth).items()}}
    for key, value in (("region_share", shares), ("truth_region_share", truth_shares)):
        if value is not None:
            finite = value[torch.isfinite(value)]
            row[key] = round(float(finite.mean()), 4) if len(finite) else None
    row["matrix"] = [[round(float(v), 3) for v in r] for r in matrix]
    if shares is not None:
        row["region_share_per_au"] = {n: (round(float(v), 3) if math.isfinite(float(v)) else None)
                                      for n, v in zip(AU_NAMES, shares)}
    return row


# ------------------------------------------------------------------ interpolation (Eq. 2)


def interpolation_targets(u1: torch.Tensor, u2: torch.Tensor, alphas: Sequence[float]) -> torch.Tensor:
    """(A, N, 17) the absolute targets u1 + alpha (u2 - u1) of Eq. 2 (its v_inter adds - v_src for a relative G)."""
    a = torch.as_tensor(list(alphas), dtype=u1.dtype, device=u1.device)[:, None, None]  # on u1's device (a GPU run's)
    return u1[None] + a * (u2 - u1)[None]


def interpolation_numbers(judged: torch.Tensor, u1: torch.Tensor, u2: torch.Tensor, alphas: Sequence[float]) -> dict[str, Any]:
    """Along Eq. 2's path: ED (judged vs asked, [0, 1] scale) at each alpha, and
    Pearson's r between alpha and where the judged AUs sit along u1 -> u2
    (least-squares position t of judged - u1 on u2 - u1; r = 1 for a path the
    edits follow in order). ``judged`` (A, N, 17)."""
    asked = interpolation_targets(u1, u2, alphas)
    ed = ((judged - asked) / AU_MAX).norm(dim=-1).mean(1)
    d = (u2 - u1)[None]
    t = ((judged - u1[None]) * d).sum(-1) / d.pow(2).sum(-1).clamp_min(1e-12)  # (A, N)
    x = np.repeat(np.asarray(alphas, dtype=float), t.shape[1])
    y = t.flatten().numpy()
    r = scipy.stats.pearsonr(x, y)[0] if np.std(y) > 1e-9 and np.std(x) > 0 else float("nan")
    return {**{f"ed_alpha_{a:g}": round(float(v), 4) for a, v in zip(alphas, ed)},
            "pearson_r": round(float(r), 4) if np.isfinite(r) else None, "n_faces": int(u1.shape[0])}


# ------------------------------------------------------------------ staging a training job's export for scoring


def stage_export(export: str | Path, name: str, dest: str | Path) -> Path:
    """A training job's export (``<CONFIG>-seed<K>.safetensors``, checked against the
    registry of its own folder) written again as ``<dest>/<name>.safetensors``,
    the name ``gamut evaluate finegrained NAME`` loads; refuses a file whose
    method is not of the series. The tensors are the same fp16 values."""
    from gamutlib.weights import export_weights, load_into, load_weights

    export = Path(export)
    _, config = load_weights(export, root=export.parent)
    is_relative(config)  # a file of another series fails here, naming its method
    method = _build(config)
    load_into({"G": method.G}, export, root=export.parent)
    return export_weights(name, method.export(), method.config, root=dest)


def _main(argv: Sequence[str]) -> int:
    """``python -m gamutlib.evaluation.finegrained stage EXPORT NAME DEST`` (scripts/gpu/score_finegrained.sh)."""
    if len(argv) == 4 and argv[0] == "stage":
        print(stage_export(argv[1], argv[2], argv[3]))
        return 0
    print("usage: python -m gamutlib.evaluation.finegrained stage EXPORT NAME DEST")
    return 2


if __name__ == "__main__":
    import sys

    raise SystemExit(_main(sys.argv[1:]))
