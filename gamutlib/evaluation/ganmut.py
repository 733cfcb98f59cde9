"""The evaluation protocols of the GANmut series (paper Sec. 5.1-5.4, supp. Sec. 4-5).

The metrics themselves live in gamutlib.metrics (smoothness, ERE, FED,
accuracy); this module knows how each method of the series is *conditioned*:

- categorical methods (StarGAN, GANimation): a 7-d one-hot label; "emotion c
  at intensity t" interpolates one-hot(neutral) -> one-hot(c) (paper 5.2);
- linear GANmut: z = rho v_c in the unit disk, neutral at the origin;
- Gaussian GGANmut: z in [-1, 1]^2, emotion c at its mode mean mu_c; the
  intensity path runs from mu_neutral to mu_c (the paper gives GGANmut no
  intensity path; this is the editor's choice, see GGANmutEditor.codes_for).

Everything is batched over faces and codes through gamutlib.metrics.batched;
the only Python loops are over chunks, methods or emotions.

Beyond the paper, the benchmark's ground truth lets us ask
whether the learned space recovers the true gamut: ``direction_similarity``,
``rho_vs_au_intensity`` and ``compound_aus``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import scipy.optimize
import scipy.stats
import torch
from torch import nn

from gamutlib.constants import EMOTIONS
from gamutlib.evaluation import generators
from gamutlib.evaluation.generators import Conditioned, RealFeatures, generate
from gamutlib.metrics.accuracy import accuracy_generated
from gamutlib.metrics.batched import judge_edits, map_batches
from gamutlib.metrics.checks import check_images, check_probs
from gamutlib.metrics.ere import categorical_codes, ere_targets, polar_code_grid, square_code_grid
from gamutlib.metrics.frechet import fed_real_halves, frechet_distance_of_features
from gamutlib.metrics.smoothness import RHO_STEPS, interpolation_path, smoothness
from gamutlib.models.translation import N_EMOTIONS, NEUTRAL
from gamutlib.papers import method_of
from gamutlib.reproduce.profiles import by_profile

KINDS = {"stargan": "categorical", "ganimation": "categorical", "ganmut": "linear", "gganmut": "gaussian"}
EMOTION_CLASSES = tuple(c for c in range(N_EMOTIONS) if c != NEUTRAL)  # the 6 non-neutral classes

# The paper's numbers (d'Apolito et al., CVPR 2021), stored beside ours.
PAPER_TABLE1 = {
    "source": "GANmut Table 1 (lower is smoother); lambda_rho = 1 appears only in Fig. 4, without numbers",
    "StarGAN": {"happy": 0.79, "sad": 0.44, "surprised": 0.43, "fearful": 0.49, "disgusted": 0.55, "angry": 0.59},
    "GANmut": {"happy": 0.38, "sad": 0.38, "surprised": 0.35, "fearful": 0.37, "disgusted": 0.36, "angry": 0.33},
}
PAPER_TABLE2 = {
    "source": "GANmut Table 2 (AffectNet test set, VGG emotion classifier)",
    "Real": {"ere_setting1": None, "ere_setting2": None, "fed": 0.21},
    "StarGAN": {"ere_setting1": 0.038, "ere_setting2": 0.037, "fed": 4.89},
    "GANimation": {"ere_setting1": 0.036, "ere_setting2": 0.037, "fed": 2.17},
    "SMIT": {"ere_setting1": 0.028, "ere_setting2": 0.029, "fed": 1.89},
    "GGANmut": {"ere_setting1": 0.020, "ere_setting2": 0.018, "fed": 18.32},
    "GANmut": {"ere_setting1": 0.025, "ere_setting2": 0.025, "fed": 0.71},
}
PAPER_TABLE3 = {
    "source": "GANmut Table 3 (accuracy % of the VGG classifier on generated images)",
    "Real": dict(zip(EMOTIONS, (76.4, 93.4, 57.8, 46.0, 46.4, 30.4, 57.2))),
    "StarGAN": dict(zip(EMOTIONS, (92.6, 96.1, 96.9, 95.4, 94.7, 95.1, 95.8))),
    "GANmut": dict(zip(EMOTIONS, (87.8, 99.2, 96.5, 91.6, 87.5, 77.4, 97.9))),
    "GGANmut": dict(zip(EMOTIONS, (95.8, 99.6, 99.9, 99.1, 97.6, 97.8, 99.5))),
    "GANimation": dict(zip(EMOTIONS, (78.4, 96.4, 76.0, 76.0, 59.7, 52.4, 79.6))),
    "SMIT": dict(zip(EMOTIONS, (87.4, 98.7, 87.5, 85.5, 80.0, 78.8, 84.6))),
}
#: The paper's training settings (Sec. 5, supp. Sec. 3), for the training chapter.
PAPER_TRAINING = {
    "iterations": "1M (GGANmut 1.8M)",
    "image_size": 128,
    "batch_size": 16,
    "g_conv_dim": 64,
    "lr": 1e-4,
    "betas": (0.5, 0.999),
    "n_critic": 5,
    "lambda_cls": "1 (GGANmut 0.5)",
    "lambda_gp": 10,
    "lambda_info": 1,
    "lambda_rho": 4,
    "lambda_div": 2,
    "n_c": "9 (GGANmut 7)",
    "tau": 0.2,
}


@dataclass(frozen=True)
class EvalSizes:
    """How much of the protocol a profile affords (faces, grids, points)."""

    n_faces: int  # test faces for ERE, accuracy, the gamut-vs-truth measures
    n_fed: int  # test faces for FED (and t-SNE)
    n_smooth_faces: int
    smooth_classes: tuple[int, ...]
    ere_radius_step: float  # paper: 0.05
    ere_angle_steps: int  # paper: 21
    ere_square_step: float  # paper: 0.1
    n_tsne: int
    truth_rhos: tuple[float, ...]
    wheel_angles: int
    chunk_size: int

    @property
    def is_paper_grid(self) -> bool:
        return (self.ere_radius_step, self.ere_angle_steps, self.ere_square_step) == (0.05, 21, 0.1)

    @property
    def n_test(self) -> int:
        """Test faces the run draws (every measure takes a prefix of them)."""
        return max(self.n_fed, self.n_faces, self.n_smooth_faces)


#: smoke: every code path on a handful of faces; cpu: coarser grids on a few
#: dozen faces; gpu: the paper's grids (Table 2) on hundreds of faces.
SIZES = {
    "smoke": EvalSizes(
        n_faces=1, n_fed=8, n_smooth_faces=1, smooth_classes=(3,), ere_radius_step=0.5, ere_angle_steps=4,
        ere_square_step=1.0, n_tsne=8, truth_rhos=(0.0, 1.0), wheel_angles=6, chunk_size=64,
    ),
    # two CPU cores edit about 6 faces a second at 128 px: the paper's grids
    # (876 codes a face for GANmut + GGANmut) would take hours, so the cpu
    # profile searches coarser grids and says so in each table's protocol
    "cpu": EvalSizes(
        n_faces=16, n_fed=200, n_smooth_faces=8, smooth_classes=EMOTION_CLASSES, ere_radius_step=0.1,
        ere_angle_steps=14, ere_square_step=0.2, n_tsne=200, truth_rhos=(0.0, 0.5, 1.0),
        wheel_angles=12, chunk_size=128,
    ),
    "gpu": EvalSizes(
        n_faces=320, n_fed=3500, n_smooth_faces=500, smooth_classes=EMOTION_CLASSES, ere_radius_step=0.05,
        ere_angle_steps=21, ere_square_step=0.1, n_tsne=600, truth_rhos=(0.0, 0.2, 0.4, 0.6, 0.8, 1.0),
        wheel_angles=12, chunk_size=2048,
    ),
}


def sizes_for(profile: str) -> EvalSizes:
    """The series' sizes on ``profile`` (gamutlib.reproduce.profiles owns the profile names)."""
    return by_profile(SIZES, profile)


# ------------------------------------------------------------------ conditioning of the series' methods


@dataclass(frozen=True)
class SeriesConditioning:
    """How a method of the series is conditioned (see the module docstring)."""

    kind: str  # "categorical" | "linear" | "gaussian"

    @property
    def code_dim(self) -> int:
        return N_EMOTIONS if self.kind == "categorical" else 2

    def class_codes(self, model: Conditioned) -> torch.Tensor:
        """(7, D): the code of each emotion at full intensity (Table 3's conditioning:
        (theta_c, 1) for GANmut, mu_c for GGANmut, one-hot for the rest)."""
        if self.kind == "categorical":
            return categorical_codes()
        if self.kind == "linear":
            return model.space.directions_with_neutral().cpu()
        return model.space.means().cpu()

    def search_grid(self, model: Conditioned, sizes: EvalSizes) -> torch.Tensor:
        """ERE's grid (paper 5.3): polar for GANmut, square for GGANmut, one-hots otherwise."""
        if self.kind == "categorical":
            return categorical_codes()
        if self.kind == "linear":
            return polar_code_grid(sizes.ere_radius_step, sizes.ere_angle_steps)
        return square_code_grid(sizes.ere_square_step)

    def sampling_codes(self, model: Conditioned, labels: torch.Tensor, generator: torch.Generator,
                       noise: float = 0.1) -> torch.Tensor:
        """(N, D) codes for FED (paper Sec. 5): GANmut uniform over its space
        (theta ~ U[0, 2 pi), rho ~ U[0, 1], as its S_r); categorical methods the
        labels given; GGANmut the mean of each label's mode plus Gaussian noise
        (the paper says "some noise"; we take sigma = 0.1, the linear model's
        code noise), clamped to its square."""
        n = labels.shape[0]
        if self.kind == "categorical":
            return categorical_codes()[labels.long().cpu()]
        if self.kind == "linear":
            theta = torch.rand(n, generator=generator) * 2 * math.pi
            rho = torch.rand(n, generator=generator)
            return torch.stack([rho * theta.cos(), rho * theta.sin()], 1)
        mu = self.class_codes(model)[labels.long().cpu()]
        return (mu + noise * torch.randn(n, 2, generator=generator)).clamp(-1, 1)


def conditioning_for(method: str) -> SeriesConditioning:
    """The conditioning of one of the series' methods."""
    if method not in KINDS:
        raise ValueError(f"method must be one of the GANmut series ({sorted(KINDS)}); got {method!r}")
    return SeriesConditioning(KINDS[method])


def conditioned(name: str, method: str, G: nn.Module, space: nn.Module | None, image_size: int, source: str) -> Conditioned:
    """A generator of the series with its conditioning."""
    return Conditioned(name, method, G, space, image_size, source, conditioning_for(method))


def neutral_code(model: Conditioned) -> torch.Tensor:
    return model.class_codes()[NEUTRAL]


def path_codes(model: Conditioned, classes: Sequence[int], steps: int = RHO_STEPS) -> torch.Tensor:
    """(C, steps, D): neutral -> emotion c in equal steps (rho_j = j / (steps - 1))."""
    codes = model.class_codes()
    return torch.stack([interpolation_path(codes[NEUTRAL], codes[c], steps) for c in classes])


@torch.no_grad()
def emotion_vectors(model: Conditioned) -> torch.Tensor:
    """(6, D) the displacement from neutral to each non-neutral emotion's code."""
    codes = model.class_codes()
    return codes[list(EMOTION_CLASSES)] - codes[NEUTRAL]


# ------------------------------------------------------------------ loading


def load_conditioned(name: str, root: str | Path = "weights", device: torch.device | str = "cpu", verify: bool = True) -> Conditioned:
    """A shipped generator of the series ``<root>/<name>.safetensors`` with its condition space."""
    return generators.load_conditioned(name, conditioning_for, root, device, verify)


def tiny_fallback(name: str, steps: int = 2, image_size: int = 128, seed: int = 0, device: torch.device | str = "cpu") -> Conditioned:
    """A width-8 generator of ``name``'s method trained ``steps`` steps on the spot (smoke only)."""
    overrides: dict[str, Any] = {}
    if name == "ganmut_rho1":
        overrides["lambda_rho"] = 1.0
    if method_of(name) in ("ganmut", "gganmut"):
        overrides["n_c"] = 2
    return generators.tiny_fallback(name, conditioning_for, overrides, steps, image_size, seed, device)


def load_or_fallback(name: str, root: str | Path = "weights", device: torch.device | str = "cpu", allow_fallback: bool = False,
                     fallback_steps: int = 2, verify: bool = True) -> Conditioned:
    """The shipped generator, or (only where ``allow_fallback``) a tiny one trained on the spot."""
    from gamutlib.weights import has_weights

    if has_weights(root, name) or not allow_fallback:
        return load_conditioned(name, root, device, verify)
    return tiny_fallback(name, steps=fallback_steps, device=device)


# ------------------------------------------------------------------ protocols


def _finite_or_none(value: float, digits: int = 4) -> float | None:
    """A table cell: the rounded number, or None where it is undefined (every series flat)."""
    return round(float(value), digits) if math.isfinite(value) else None


def smoothness_row(model: Conditioned, judge_probs: Any, images: torch.Tensor, classes: Sequence[int] = EMOTION_CLASSES,
                   chunk_size: int = 256, device: torch.device | str | None = None) -> dict[str, Any]:
    """Table 1 for one method: smoothness per emotion along its neutral -> c path of 11 codes."""
    out = smoothness(model, judge_probs, images, path_codes(model, classes), classes, chunk_size, device, steps=RHO_STEPS)
    row = {"method": model.name, **{k: _finite_or_none(v) for k, v in out["per_class"].items()}}
    row["mean"] = _finite_or_none(out["smoothness"])
    row["undefined"] = int(sum(out["undefined"].values()))
    row["n_faces"] = out["n_faces"]
    return row


@torch.no_grad()
def ere_both_settings(model: Conditioned, judge_probs: Any, images: torch.Tensor, grid: torch.Tensor,
                      batch_faces: int = 16, chunk_size: int = 256, device: torch.device | str | None = None) -> dict[str, Any]:
    """ERE Settings 1 (top-3) and 2 (top-2) from one pass over the grid: the
    N x K edits are judged once and both targets read against them (the
    maths of gamutlib.metrics.ere.emotion_reconstruction_error, twice)."""
    check_images(images)
    real = check_probs(map_batches(judge_probs, images, chunk_size, device), "judge(images)")
    edits = judge_edits(model, judge_probs, images, grid, chunk_size, device)  # (N, K, 7)
    out: dict[str, Any] = {"n_faces": int(images.shape[0]), "n_codes": int(grid.shape[0])}
    for setting, top_k in ((1, 3), (2, 2)):
        targets, _ = ere_targets(real, top_k, batch_faces)
        mse = (edits - targets.to(edits.device)[:, None]).pow(2).mean(-1)
        errors, best = mse.min(1)
        out[f"ere_setting{setting}"] = float(errors.mean())
        out[f"best_codes_setting{setting}"] = grid[best.cpu()]
    return out


def fed_generated(model: Conditioned, judge_features: Any, images: torch.Tensor, labels: torch.Tensor, seed: int = 0,
                  chunk_size: int = 256, device: torch.device | str | None = None,
                  real_features: RealFeatures | None = None) -> dict[str, Any]:
    """FED (paper Sec. 5) between the test faces and their edits under the
    method's sampling codes; also returns both feature sets (for t-SNE).
    ``labels`` condition the categorical and Gaussian methods (linear GANmut
    samples its disk and ignores them); ``real_features`` shares the real
    faces' features between the methods of one run."""
    codes = model.sampling_codes(labels, torch.Generator().manual_seed(seed))
    fake = generate(model, images, codes, chunk_size, device)
    f_real = (real_features or RealFeatures())(judge_features, images, chunk_size, device)
    f_fake = map_batches(judge_features, fake, chunk_size, device)
    return {"fed": frechet_distance_of_features(f_real, f_fake), "features_real": f_real, "features_fake": f_fake,
            "n": int(images.shape[0])}


def fed_real(judge_features: Any, images: torch.Tensor, seed: int = 0, chunk_size: int = 256,
             device: torch.device | str | None = None) -> float:
    """The "Real" row: FED between two random halves of the test faces."""
    return float(fed_real_halves(judge_features, images, seed, chunk_size, device)["fed"])


def accuracy_row(model: Conditioned, judge_probs: Any, images: torch.Tensor, chunk_size: int = 256,
                 device: torch.device | str | None = None) -> dict[str, Any]:
    """Table 3 for one method: judge accuracy (%) on G(x, code of c), per class c."""
    out = accuracy_generated(model, judge_probs, images, model.class_codes(), tuple(range(N_EMOTIONS)), chunk_size, device)
    return {"method": model.name, **{k: round(v, 2) for k, v in out["per_class"].items()},
            "mean": round(out["accuracy"], 2), "n_faces": out["n_faces"]}


#: The test faces of every evaluation of the series (held-out identities).
TEST_SEED = 1234
#: The order of the independent labels of FED's second protocol.
INDEPENDENT_LABEL_SEED = 1
#: Table 1's generators (those with an intensity path the paper measures) and their row labels.
TABLE1_METHODS = {"stargan": "StarGAN", "ganmut_rho1": "GANmut (lambda_rho 1)", "ganmut": "GANmut (lambda_rho 4)"}
#: Tables 2 and 3's generators and their row labels.
TABLE2_METHODS = {"stargan": "StarGAN", "ganimation": "GANimation", "ganmut": "GANmut", "gganmut": "GGANmut"}


def test_faces(sizes: EvalSizes, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """The chapter's test faces and labels: the same faces on every device and in every run."""
    return generators.test_faces(sizes.n_test, TEST_SEED, 128, device)


def independent_labels(labels: torch.Tensor, seed: int = INDEPENDENT_LABEL_SEED) -> torch.Tensor:
    """The test labels in a seeded random order: each face gets a label drawn
    independently of it, from the same label distribution (the reference
    code draws its training targets this way: a permutation of the batch's labels)."""
    order = torch.randperm(labels.shape[0], generator=torch.Generator().manual_seed(seed))
    return labels[order.to(labels.device)]


def table2_row(model: Conditioned, judge: Any, images: torch.Tensor, labels: torch.Tensor, sizes: EvalSizes,
               device: torch.device | str | None = None,
               real_features: RealFeatures | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Table 2 for one method (ERE on the first n_faces, FED on the first n_fed,
    each face conditioned on its own label) and the FED output (features for the t-SNE)."""
    x_ere, x_fed, y_fed = images[: sizes.n_faces], images[: sizes.n_fed], labels[: sizes.n_fed]
    ere = ere_both_settings(model, judge.probs, x_ere, model.search_grid(sizes), 16, sizes.chunk_size, device)
    fed = fed_generated(model, judge.features, x_fed, y_fed, 0, sizes.chunk_size, device, real_features)
    row = {"method": model.name, "ere_setting1": round(ere["ere_setting1"], 5), "ere_setting2": round(ere["ere_setting2"], 5),
           "fed": round(fed["fed"], 4), "grid_codes": ere["n_codes"]}
    return row, fed


@torch.no_grad()
def interpolation_strip(model: Conditioned, judge_probs: Any, image: torch.Tensor, emotion: int, steps: int = RHO_STEPS,
                        device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Fig. 4: one face edited along neutral -> ``emotion`` in ``steps`` codes;
    returns the faces (steps, 3, H, W) and the judge's score of ``emotion`` under each."""
    x = check_images(image[None] if image.dim() == 3 else image)[:1]
    codes = path_codes(model, [emotion], steps)[0]
    faces = generate(model, x.expand(steps, -1, -1, -1), codes, steps, device)
    scores = map_batches(judge_probs, faces, steps, device)[:, emotion]
    return faces, scores


@torch.no_grad()
def wheel_edits(model: Conditioned, image: torch.Tensor, theta: torch.Tensor, rho: torch.Tensor,
                device: torch.device | str | None = None) -> torch.Tensor:
    """Supp. Fig. 9-11: one face at every (theta, rho) of a wheel (linear GANmut)."""
    if model.kind != "linear":
        raise ValueError(f"wheels of emotion are drawn in the polar space of linear GANmut, not for {model.kind} {model.name}")
    x = check_images(image[None] if image.dim() == 3 else image)[:1]
    codes = torch.stack([rho * theta.cos(), rho * theta.sin()], 1).float()
    return generate(model, x.expand(len(codes), -1, -1, -1), codes, 64, device)


def tsne_points(features_real: torch.Tensor, features_fake: torch.Tensor, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Fig. 5: a joint 2-D t-SNE of real and generated features; returns (points (N+M, 2), is_real (N+M,))."""
    from sklearn.manifold import TSNE

    x = torch.cat([features_real, features_fake]).double().cpu().numpy()
    if len(x) < 4:
        raise ValueError(f"t-SNE needs at least 4 points, got {len(x)}")
    perplexity = float(min(30.0, (len(x) - 1) / 3))
    points = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    is_real = np.r_[np.ones(len(features_real), bool), np.zeros(len(features_fake), bool)]
    return points, is_real


# ------------------------------------------------------------------ the gamut against the truth


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.nn.functional.cosine_similarity(a.double(), b.double(), dim=-1)


def direction_similarity(model: Conditioned, prototypes: torch.Tensor) -> dict[str, Any]:
    """Do emotions the truth makes alike sit close in the learned space?

    For every pair of the 6 non-neutral emotions: the cosine between their
    learned vectors (from the neutral code) against the cosine between their
    ground-truth AU prototypes (7, 17); Spearman's rank correlation over the
    15 pairs (1: the space orders similarity as the truth does)."""
    if model.kind == "categorical":
        raise ValueError(f"{model.name} has no learned space: its one-hot codes are orthogonal by construction")
    if prototypes.shape != (N_EMOTIONS, prototypes.shape[1]) or prototypes.ndim != 2:
        raise ValueError(f"prototypes must be (7, n_aus), got {tuple(prototypes.shape)}")
    vectors = emotion_vectors(model)
    protos = prototypes[list(EMOTION_CLASSES)]
    pairs = [(a, b) for i, a in enumerate(range(len(EMOTION_CLASSES))) for b in range(i + 1, len(EMOTION_CLASSES))]
    ia, ib = torch.tensor([p[0] for p in pairs]), torch.tensor([p[1] for p in pairs])
    learned = _cosine(vectors[ia], vectors[ib])
    truth = _cosine(protos[ia], protos[ib])
    rho, p_value = scipy.stats.spearmanr(learned.numpy(), truth.numpy())
    names = [EMOTIONS[c] for c in EMOTION_CLASSES]
    return {
        "pairs": [f"{names[a]}-{names[b]}" for a, b in pairs],
        "learned_cosine": [round(float(v), 4) for v in learned],
        "learned_angle_deg": [round(math.degrees(math.acos(max(-1.0, min(1.0, float(v))))), 2) for v in learned],
        "prototype_cosine": [round(float(v), 4) for v in truth],
        "spearman": float(rho) if np.isfinite(rho) else 0.0,
        "p_value": float(p_value) if np.isfinite(p_value) else 1.0,
    }


def prototype_intensity(delta_aus: torch.Tensor, prototype: torch.Tensor) -> torch.Tensor:
    """Least-squares intensity t of an AU change along a prototype: argmin_t |delta - t p|^2."""
    p = prototype.to(delta_aus)
    return (delta_aus * p).sum(-1) / p.pow(2).sum().clamp_min(1e-12)


@torch.no_grad()
def rho_vs_au_intensity(model: Conditioned, au_judge: Any, images: torch.Tensor, prototypes: torch.Tensor,
                        rhos: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0), classes: Sequence[int] = EMOTION_CLASSES,
                        chunk_size: int = 256, device: torch.device | str | None = None) -> dict[str, Any]:
    """Does rho mean intensity? For each emotion c and rho, the AU judge reads
    G(x, code at rho); the measured intensity is the change from the rho = 0
    face projected on c's true prototype (``prototype_intensity``). Pearson's r
    between rho and that intensity, per emotion, pooled over faces."""
    rhos = torch.as_tensor(list(rhos), dtype=torch.float32)
    if len(rhos) < 2 or float(rhos[0]) != 0.0:
        raise ValueError(f"rhos must start at 0 (the reference face) and have >= 2 values; got {rhos.tolist()}")
    codes = model.class_codes()
    path = torch.stack([codes[NEUTRAL] + rhos[:, None] * (codes[c] - codes[NEUTRAL]) for c in classes])  # (C, R, D)
    aus = judge_edits(model, au_judge, images, path.reshape(-1, path.shape[-1]), chunk_size, device)
    aus = aus.reshape(images.shape[0], len(classes), len(rhos), -1).cpu()
    per_class: dict[str, float] = {}
    slopes: dict[str, float] = {}
    for i, c in enumerate(classes):
        delta = aus[:, i] - aus[:, i, :1]  # (N, R, 17)
        t = prototype_intensity(delta, prototypes[c])  # (N, R)
        x = rhos.repeat(images.shape[0]).numpy()
        y = t.flatten().numpy()
        r = scipy.stats.pearsonr(x, y)[0] if np.std(y) > 1e-9 else float("nan")
        per_class[EMOTIONS[c]] = round(float(r), 4) if np.isfinite(r) else float("nan")
        slopes[EMOTIONS[c]] = round(float(np.polyfit(x, y, 1)[0]), 4)
    finite = [v for v in per_class.values() if np.isfinite(v)]
    return {"pearson_r": per_class, "slope": slopes, "mean_r": float(np.mean(finite)) if finite else float("nan"),
            "rhos": rhos.tolist(), "n_faces": int(images.shape[0])}


def neighbour_pairs(model: Conditioned) -> list[tuple[int, int]]:
    """Emotion pairs whose vectors are neighbours around the origin (by angle)."""
    v = emotion_vectors(model).double()
    angle = torch.atan2(v[:, 1], v[:, 0]) if v.shape[1] == 2 else torch.arange(len(v), dtype=torch.double)
    order = [EMOTION_CLASSES[i] for i in angle.argsort().tolist()]
    return [(order[i], order[(i + 1) % len(order)]) for i in range(len(order))]


@torch.no_grad()
def compound_aus(model: Conditioned, au_judge: Any, images: torch.Tensor, prototypes: torch.Tensor,
                 pairs: Sequence[tuple[int, int]] | None = None, chunk_size: int = 256,
                 device: torch.device | str | None = None) -> dict[str, Any]:
    """Does a code between two emotions give their compound?

    For each pair (a, b) the code halfway between their full-intensity codes
    (linear: the bisecting direction at rho = 1; Gaussian and one-hot: the
    midpoint) edits every face; the AU change from the neutral edit is fitted
    by non-negative least squares on the two true prototypes. A true compound
    needs both weights well above 0 (``share_min`` = the smaller weight's
    share of the two); ``r2`` says how much of the change the two explain."""
    pairs = list(pairs) if pairs is not None else neighbour_pairs(model)
    codes = model.class_codes()
    mids = []
    for a, b in pairs:
        mid = (codes[a] + codes[b]) / 2
        if model.kind == "linear":
            mid = torch.nn.functional.normalize(codes[a] + codes[b], dim=0)
        mids.append(mid)
    grid = torch.stack([codes[NEUTRAL], *mids])
    aus = judge_edits(model, au_judge, images, grid, chunk_size, device).cpu().double()  # (N, 1+P, 17)
    delta = (aus[:, 1:] - aus[:, :1]).mean(0)  # (P, 17) averaged over faces
    rows = []
    for (a, b), d in zip(pairs, delta):
        basis = prototypes[[a, b]].double().T.numpy()  # (17, 2)
        w, residual = scipy.optimize.nnls(basis, d.numpy())
        total = float((d.numpy() ** 2).sum())
        r2 = 1.0 - residual**2 / total if total > 1e-12 else 0.0
        share = float(min(w) / w.sum()) if w.sum() > 1e-12 else 0.0
        rows.append({"pair": f"{EMOTIONS[a]}+{EMOTIONS[b]}", "weight_a": round(float(w[0]), 4),
                     "weight_b": round(float(w[1]), 4), "share_min": round(share, 4), "r2": round(float(r2), 4)})
    return {"pairs": rows, "n_faces": int(images.shape[0]),
            "mean_share_min": float(np.mean([r["share_min"] for r in rows])) if rows else float("nan")}
