"""The evaluation protocols of the EGGAN series (Tang et al., ICASSP 2021, Sec. 4.2-4.4).

The three generators are conditioned three ways, so each has an *edit* that
takes the same pairs and returns one image per pair:

- EGGAN: G(E(source), u_t), the target face's 17 AU intensities;
- HGAN (HomoInterpGAN): Dec(I(E(source), E(target), 1)), "the target images
  directly" (the paper's Sec. 4.2);
- StarGAN: G(source, one-hot(target's emotion class)), the GANmut series'
  shipped ``stargan`` weights on the benchmark's 7 classes (the paper's
  StarGAN had RaFD's 8).

The pairs (``edit_pairs``): held-out *source* faces with a neutral
expression, and for each a *target* face of other test identities showing
one of the 7 emotions; the paper's protocol (target AUs read from other
faces' renders by OpenFace, applied to a held-out source). Because the
renderer draws the source identity with the target AUs under the source's
pose, light and style, every edit also has an exact ground-truth image
(``truth``), which the paper could not have.

The measures: AU MSE and PCC per AU (Table 1) judged on both sides or
against the exact target AUs; identity verification of (source, edit) pairs
(Table 2) by the identity judge and by dlib's face embedding; each edit's
distance to its ground truth; and Eq. 8's interpolation read by the AU judge
along alpha (Fig. 3). The metrics are gamutlib.metrics'; this module knows
only the conditioning and the pairs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from gamutlib.constants import AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.metrics.au_error import au_mse_pcc
from gamutlib.metrics.batched import map_batches
from gamutlib.metrics.checks import check_aus, check_images, check_same_length
from gamutlib.metrics.pixel_error import l1_error
from gamutlib.metrics.ssim import ssim
from gamutlib.reproduce.profiles import by_profile

PAPER = "eggan"
IMAGE_SIZE = 128  # the judges' input size, and the paper's
#: Seeds of the renders: the source faces (and their ground truth), the targets.
SOURCE_SEED, TARGET_SEED = 2021, 4219
#: Weights name -> the paper's row label (Tables 1-2). StarGAN is the GANmut series' shipped file.
METHODS = {"hgan": "HGAN", "stargan": "SGAN", "eggan": "EGAN"}
#: StarGAN's weights always come from the shipped folder (the EGGAN run does not train it).
SHIPPED_BASELINES = ("stargan",)

# ----------------------------------------------------------------- the paper's numbers (copied from its tables)

_MSE = {
    "HGAN": (0.56, 0.86, 0.88, 1.68, 0.23, 1.26, 0.60, 0.08, 0.03, 0.11, 0.17, 0.08, 0.25, 0.01, 0.10, 0.13, 0.02, 0.41),
    "SGAN": (0.85, 1.59, 0.66, 1.62, 0.43, 1.04, 0.59, 0.26, 0.77, 0.27, 0.21, 0.14, 0.30, 0.01, 1.09, 0.39, 0.00, 0.60),
    "EGAN": (0.13, 0.13, 0.49, 0.35, 0.21, 0.49, 0.33, 0.14, 0.41, 0.16, 0.15, 0.18, 0.26, 0.01, 0.51, 0.14, 0.00, 0.24),
}
_PCC = {
    "HGAN": (0.64, 0.68, 0.69, 0.35, 0.83, 0.41, 0.55, 0.83, 0.98, 0.76, 0.71, 0.78, 0.55, 0.32, 0.93, 0.79, 0.26, 0.65),
    "SGAN": (0.34, 0.00, 0.64, 0.08, 0.24, 0.27, 0.34, 0.31, 0.33, 0.15, 0.40, 0.57, 0.48, 0.20, 0.45, 0.15, 0.19, 0.30),
    "EGAN": (0.92, 0.95, 0.69, 0.85, 0.75, 0.72, 0.73, 0.70, 0.78, 0.65, 0.64, 0.33, 0.50, 0.22, 0.67, 0.76, 0.34, 0.66),
}
_COLUMNS = tuple(AU_NAMES) + ("avg",)
PAPER_TABLE1 = {
    "source": "EGGAN Table 1 (RaFD; OpenFace AU intensities of 1,392 target images and of the edits of one test "
              "source; MSE lower and PCC higher is better); the paper's columns are our judged ones (mse_*, pcc_*)",
    **{method: {**{f"mse_{c}": v for c, v in zip(_COLUMNS, _MSE[method])},
                **{f"pcc_{c}": v for c, v in zip(_COLUMNS, _PCC[method])}} for method in _MSE},
}
PAPER_TABLE2 = {
    "source": "EGGAN Table 2 (RaFD; face verification of (source, generated) pairs by LightCNN, accuracy %); the "
              "paper has one recogniser, its numbers stand beside both of ours",
    "HGAN": {"accuracy_judge": 76.54, "accuracy_dlib": 76.54},
    "SGAN": {"accuracy_judge": 93.32, "accuracy_dlib": 93.32},
    "EGAN": {"accuracy_judge": 97.04, "accuracy_dlib": 97.04},
    "Real": {"accuracy_judge": 99.63, "accuracy_dlib": 99.63},
}
PAPER_EDIT_VS_TRUTH = {
    "source": "none: the paper has no ground truth for an edit (\"we do not have ground-truth for expression "
              "manipulation\", Sec. 4.2)",
}
PAPER_FIG3 = {
    "source": "EGGAN Fig. 3 (qualitative: 'continuous intermediate expressions'); the paper gives no number",
}
#: The paper's training settings (Sec. 4.1), for the training chapter.
PAPER_TRAINING = {
    "data": "RaFD and MMI, OpenFace AU labels, 128 x 128 crops",
    "epochs": "400 (RaFD), 40 (MMI)",
    "batch_size": 8,
    "lr": "1e-4 (C_exp 2e-4), linear decay after half",
    "lambdas": "au 100, id 60, per 20, rec 100, gp 20",
    "hardware": "one RTX 2080 Ti, about 20 hours",
}


# ----------------------------------------------------------------- sizes per profile


@dataclass(frozen=True)
class EvalSizes:
    n_pairs: int  # (source, target) pairs of Tables 1-2 and the truth comparison (the paper: 1,392 targets)
    n_interp: int  # pairs walked along Eq. 8 (Fig. 3)
    alphas: int  # alpha = 0, 1/(alphas-1), ..., 1
    n_dlib: int  # pairs dlib verifies (a CPU-only judge: slow, and absent on the GPU machine)
    chunk_size: int


SIZES = {
    "smoke": EvalSizes(n_pairs=7, n_interp=2, alphas=5, n_dlib=3, chunk_size=32),
    "cpu": EvalSizes(n_pairs=70, n_interp=8, alphas=11, n_dlib=70, chunk_size=35),
    "gpu": EvalSizes(n_pairs=1392, n_interp=64, alphas=11, n_dlib=70, chunk_size=232),
}


def sizes_for(profile: str) -> EvalSizes:
    return by_profile(SIZES, profile)


# ----------------------------------------------------------------- the pairs


@dataclass
class EditPairs:
    """Source faces, their targets, and the ground truth of each edit (all (N, ...) on one device)."""

    source: torch.Tensor  # (N, 3, H, W) neutral held-out faces
    source_aus: torch.Tensor  # (N, 17) their AUs (all 0: neutral)
    source_identity: torch.Tensor  # (N,)
    target: torch.Tensor  # (N, 3, H, W) faces of other test identities
    target_aus: torch.Tensor  # (N, 17) the AUs they were rendered with (u_t)
    target_class: torch.Tensor  # (N,) their emotion (index into EMOTIONS): StarGAN's label
    truth: torch.Tensor  # (N, 3, H, W) the source identity rendered with u_t (pose, light, style of the source)

    def __len__(self) -> int:
        return int(self.source.shape[0])

    def head(self, n: int) -> "EditPairs":
        return EditPairs(*(getattr(self, f)[:n] for f in self.__dataclass_fields__))


def target_emotions(n: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The targets' emotions: the 7 classes in turn (the paper's 8 RaFD expressions, less contempt), one class
    per face at an intensity in [0.4, 1]: (mixture (n, 7), intensity (n,), class (n,))."""
    cls = torch.arange(n) % len(EMOTIONS)
    mix = torch.zeros(n, len(EMOTIONS))
    mix[torch.arange(n), cls] = 1.0
    intensity = 0.4 + 0.6 * torch.rand(n, generator=generator)
    intensity[cls == EMOTIONS.index("neutral")] = 0.0  # the renderer's neutral: its prototype at intensity 0
    return mix, intensity, cls


def edit_pairs(n: int, size: int = IMAGE_SIZE, device: torch.device | str = "cpu") -> EditPairs:
    """``n`` pairs, the same on every device (every random draw on CPU from fixed seeds).

    The truth is drawn by a second ``random_faces`` call with the source's seed
    and the target AUs in place of the source's: every other draw (identity,
    pose, light, style, background, grain) repeats, so the truth differs from
    the source by its expression alone."""
    from gamutlib.faces import random_faces

    if n < 2:
        raise ValueError(f"the AU correlations need at least 2 pairs; got n = {n}")
    g = torch.Generator().manual_seed(TARGET_SEED)
    mix, intensity, cls = target_emotions(n, g)
    targets = random_faces(n, size=size, split="test", seed=TARGET_SEED + 1, device=device, emotion=mix,
                           intensity=intensity)
    neutral = torch.zeros(n, len(AU_NAMES))
    sources = random_faces(n, size=size, split="test", seed=SOURCE_SEED, device=device, aus=neutral)
    truth = random_faces(n, size=size, split="test", seed=SOURCE_SEED, device=device, aus=targets["aus"].cpu())
    return EditPairs(sources["image"], sources["aus"], sources["identity"], targets["image"], targets["aus"],
                     cls.to(device), truth["image"])


# ----------------------------------------------------------------- the generators and their edits


class PairEditor:
    """One generator of the tables: ``edit(source, target_image, target_aus, target_class)`` -> images."""

    def __init__(self, name: str, method: str, source: str, edit: Callable[..., torch.Tensor],
                 modules: nn.Module, interpolate: Callable[..., torch.Tensor] | None = None) -> None:
        self.name, self.method, self.source = name, method, source
        self._edit, self._interpolate, self.modules = edit, interpolate, modules.eval()

    @torch.no_grad()
    def edit(self, source: torch.Tensor, target: torch.Tensor, target_aus: torch.Tensor,
             target_class: torch.Tensor) -> torch.Tensor:
        check_images(source, "source faces")
        check_same_length(source=source, target=target, target_aus=target_aus, target_class=target_class)
        return self._edit(source, target, target_aus, target_class).clamp(-1, 1)

    @torch.no_grad()
    def edit_aus(self, source: torch.Tensor, aus: torch.Tensor) -> torch.Tensor:
        """G(E(source), aus): Eq. 8's interpolation, for a generator conditioned on AUs."""
        if self._interpolate is None:
            raise ValueError(f"{self.name} is not conditioned on AU intensities (only EGGAN is)")
        check_images(source, "source faces")
        check_aus(aus, "AU intensities")
        return self._interpolate(source, aus).clamp(-1, 1)

    def to(self, device: torch.device | str) -> "PairEditor":
        self.modules.to(device)
        return self


def eggan_editor(name: str, E: nn.Module, G: nn.Module, source: str) -> PairEditor:
    def interpolate(x, aus):
        return G(E(x), aus.to(x.dtype))

    return PairEditor(name, "eggan", source, lambda x, t, aus, cls: interpolate(x, aus), nn.ModuleDict({"E": E, "G": G}),
                      interpolate)


def hgan_editor(name: str, E: nn.Module, Dec: nn.Module, I: nn.Module, source: str) -> PairEditor:
    def edit(x, target, aus, cls):
        v = torch.ones(x.shape[0], device=x.device, dtype=x.dtype)
        return Dec(I(E(x), E(target.to(x.dtype)), v))  # the target image's expression at full strength

    return PairEditor(name, "hgan", source, edit, nn.ModuleDict({"E": E, "Dec": Dec, "I": I}))


def stargan_editor(model: Any) -> PairEditor:
    """The GANmut series' Conditioned StarGAN: its one-hot class codes."""
    def edit(x, target, aus, cls):
        return model(x, model.class_codes().to(x.device)[cls.to(x.device)])

    return PairEditor(model.name, model.method, model.source, edit, model)


_EXPORTS = {"eggan": ("E", "G"), "hgan": ("E", "Dec", "I")}


def _build(method: str, config: dict[str, Any]) -> Any:
    from gamutlib.papers import get_method

    # an edit computes no loss: the perceptual loss's feature network is not loaded
    return get_method(method, {**{k: v for k, v in config.items() if k != "method"}, "feature_weights": ""})


def _editor_of(name: str, method: str, trained: Any, source: str) -> PairEditor:
    if method == "eggan":
        return eggan_editor(name, trained.E, trained.G, source)
    return hgan_editor(name, trained.E, trained.Dec, trained.I, source)


def load_editor(name: str, root: str | Path = "weights", device: torch.device | str = "cpu", verify: bool = True) -> PairEditor:
    """A trained generator of the tables from ``<root>/<name>.safetensors`` (StarGAN: the shipped file)."""
    from gamutlib.papers import method_of
    from gamutlib.weights import has_weights, load_into, load_weights, plain_path

    if name in SHIPPED_BASELINES:
        from gamutlib.evaluation import ganmut

        return stargan_editor(ganmut.load_conditioned(name, device=device, verify=verify)).to(device)
    method = method_of(name)
    if method not in _EXPORTS:
        raise ValueError(f"{name!r} is a {method!r} network; the EGGAN tables edit with {sorted(METHODS)}")
    path = plain_path(root, name)
    if not has_weights(root, name):
        raise FileNotFoundError(f"{path} is missing: train and export it with `gamut train {method} --export {name}` "
                                "(scripts/gpu/train_eggan.sh)")
    _, config = load_weights(name, expected={"method": method}, root=root, verify=verify)
    trained = _build(method, config)
    if int(config.get("image_size", IMAGE_SIZE)) != IMAGE_SIZE:
        raise ValueError(f"{path} was trained at {config.get('image_size')} px; the judges score {IMAGE_SIZE} px faces")
    load_into({k: getattr(trained, k) for k in _EXPORTS[method]}, name, expected={"method": method}, root=root,
              verify=verify)
    return _editor_of(name, method, trained, str(path)).to(device)


#: Tiny widths for a stand-in trained on the spot (smoke profile only).
TINY = {
    "eggan": dict(latent_dim=16, e_conv_dim=4, g_conv_dim=4, g_blocks=5, d_conv_dim=4, d_repeat_num=6, n_critic=1,
                  c_conv_dim=4, n_identities=8, batch_size=4),
    "hgan": dict(conv_dim=4, n_res=1, n_identities=8, batch_size=4),
}


def tiny_fallback(name: str, steps: int = 2, seed: int = 0, device: torch.device | str = "cpu") -> PairEditor:
    """A tiny generator of ``name``'s method trained ``steps`` steps right here, through the engine
    (its numbers say nothing about the method; the chapter says so)."""
    from gamutlib.papers import method_of

    if name in SHIPPED_BASELINES:
        from gamutlib.evaluation import ganmut

        return stargan_editor(ganmut.tiny_fallback(name, steps=steps, seed=seed, device=device)).to(device)
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    method = method_of(name)
    trained = _build(method, {"image_size": IMAGE_SIZE, **TINY[method]})
    config = TrainConfig(steps=steps, seed=seed, device=str(device), progress=False, log_every=max(steps, 1),
                         sample_every=10**9, checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
    Trainer(trained, config, run_dir=None).fit()
    source = f"tiny fallback ({steps} training steps): weights/{name}.safetensors is absent"
    return _editor_of(name, method, trained, source).to(device)


def load_or_fallback(name: str, root: str | Path = "weights", device: torch.device | str = "cpu",
                     allow_fallback: bool = False, verify: bool = True) -> PairEditor:
    from gamutlib.weights import SHIPPED_ROOT, has_weights

    folder = SHIPPED_ROOT if name in SHIPPED_BASELINES else root
    if has_weights(folder, name) or not allow_fallback:
        return load_editor(name, root, device, verify)
    return tiny_fallback(name, device=device)


@torch.no_grad()
def edits_of(editor: PairEditor, pairs: EditPairs, chunk_size: int, device: torch.device | str | None = None) -> torch.Tensor:
    """The editor's edit of every pair, in chunks, on the pairs' device."""
    out = []
    for start in range(0, len(pairs), chunk_size):
        sl = slice(start, start + chunk_size)
        dev = device or pairs.source.device
        out.append(editor.edit(pairs.source[sl].to(dev), pairs.target[sl].to(dev), pairs.target_aus[sl].to(dev),
                               pairs.target_class[sl].to(dev)).to(pairs.source.device))
    return torch.cat(out)


# ----------------------------------------------------------------- the measures


def _cell(value: float, digits: int = 4) -> float | None:
    return round(float(value), digits) if math.isfinite(float(value)) else None


def au_columns(result: dict[str, Any], prefix: str = "") -> dict[str, float | None]:
    """gamutlib.metrics.au_mse_pcc's output as flat columns ``mse_AU01 ... mse_avg, pcc_AU01 ... pcc_avg``."""
    row: dict[str, float | None] = {}
    for kind in ("mse", "pcc"):
        for name in AU_NAMES:
            row[f"{prefix}{kind}_{name}"] = _cell(result[kind][name])
        row[f"{prefix}{kind}_avg"] = _cell(result[f"{kind}_avg"])
    return row


def table1_row(edits: torch.Tensor, pairs: EditPairs, au_judge: Callable[[torch.Tensor], torch.Tensor],
               chunk_size: int = 256, device: torch.device | str | None = None) -> dict[str, Any]:
    """Table 1 two ways: ``mse_*``/``pcc_*`` judge the edit against the judged target face (the paper's
    OpenFace protocol); ``truth_mse_*``/``truth_pcc_*`` against the AUs the target was rendered with."""
    check_images(edits, "edits")
    check_same_length(edits=edits, target=pairs.target)
    judged_edit = map_batches(au_judge, edits, chunk_size, device).clamp(0, AU_MAX)
    judged_target = map_batches(au_judge, pairs.target, chunk_size, device).clamp(0, AU_MAX)
    judged = au_mse_pcc(judged_edit, judged_target)
    truth = au_mse_pcc(judged_edit, pairs.target_aus.to(judged_edit.device).float())
    return {**au_columns(judged), **au_columns(truth, "truth_"), "n_pairs": len(pairs)}


def verification_rate(same: torch.Tensor) -> float:
    """% of (source, other) pairs called the same person."""
    return 100.0 * float(same.float().mean())


@torch.no_grad()
def judge_verification(identity_judge: Any, a: torch.Tensor, b: torch.Tensor, chunk_size: int = 256,
                       device: torch.device | str | None = None) -> float:
    """Table 2 by the identity judge: % of pairs whose cosine similarity reaches its shipped threshold."""
    ea = map_batches(identity_judge.embed, a, chunk_size, device)
    eb = map_batches(identity_judge.embed, b, chunk_size, device)
    similarity = torch.nn.functional.cosine_similarity(ea, eb, dim=1)
    return verification_rate(similarity >= float(identity_judge.threshold))


def dlib_embedder() -> Any | None:
    """dlib's face embedding (the `real` extra), or None where dlib or its model files are absent
    (the GPU machine): its column is then computed on a CPU from the shipped generators."""
    try:
        from gamutlib.judges.dlib_embedding import DlibFaceEmbedder

        return DlibFaceEmbedder()
    except (ImportError, FileNotFoundError, RuntimeError):
        return None


def dlib_verification(embedder: Any, a: torch.Tensor, b: torch.Tensor) -> dict[str, float]:
    """Table 2 by dlib's face embedding: % of pairs closer than face_recognition's 0.6, and how many
    faces dlib's detector found (the rest were embedded from the whole crop)."""
    from gamutlib.judges.dlib_embedding import SAME_PERSON_DISTANCE

    ea, eb = embedder.embed(a.cpu()), embedder.embed(b.cpu())
    distance = (ea.embeddings - eb.embeddings).norm(dim=1)
    detected = torch.cat([ea.detected, eb.detected]).float().mean()
    return {"accuracy": verification_rate(distance < SAME_PERSON_DISTANCE), "detected": 100.0 * float(detected)}


@torch.no_grad()
def edit_vs_truth_row(edits: torch.Tensor, truth: torch.Tensor, identity_judge: Any, chunk_size: int = 256,
                      device: torch.device | str | None = None) -> dict[str, Any]:
    """Each edit against the render of its source identity with the target AUs: L1 and SSIM on [0, 1]
    pixels, and the identity judge's distance 1 - cos(embeddings) (0: the same embedding)."""
    check_images(edits, "edits")
    check_images(truth, "ground truth")
    if edits.shape != truth.shape:
        raise ValueError(f"edits and ground truth must have one shape; got {tuple(edits.shape)} and {tuple(truth.shape)}")
    ea = map_batches(identity_judge.embed, edits, chunk_size, device)
    et = map_batches(identity_judge.embed, truth, chunk_size, device)
    distance = 1.0 - torch.nn.functional.cosine_similarity(ea, et, dim=1)
    # SSIM per chunk (torchmetrics holds the whole batch's maps), weighted by chunk length
    parts = [(ssim(e, t), len(e)) for e, t in zip(edits.split(chunk_size), truth.split(chunk_size))]
    return {"l1": _cell(l1_error(edits, truth)), "ssim": _cell(sum(s * n for s, n in parts) / len(edits)),
            "identity_distance": _cell(float(distance.mean())), "n_pairs": int(edits.shape[0])}


def alphas(steps: int) -> torch.Tensor:
    if steps < 2:
        raise ValueError(f"Eq. 8 needs at least 2 values of alpha; got {steps}")
    return torch.linspace(0.0, 1.0, steps)


@torch.no_grad()
def interpolation_readings(editor: PairEditor, pairs: EditPairs, au_judge: Callable[[torch.Tensor], torch.Tensor],
                           steps: int, device: torch.device | str | None = None) -> dict[str, Any]:
    """Eq. 8, G(I | u_i + alpha (u_t - u_i)), read by the AU judge along alpha.

    The *progress* at alpha is how far the judged AUs have moved from their
    reading at alpha = 0 towards the reading at alpha = 1, measured along
    that line (least squares): the straight line of Eq. 8 gives progress =
    alpha. Returns the progress per alpha (mean over the pairs), its Pearson
    r with alpha, its largest deviation from alpha, and the judged AUs' MSE
    to the asked u_i + alpha (u_t - u_i) per alpha."""
    a = alphas(steps)
    dev = device or pairs.source.device
    x = pairs.source.to(dev)
    u_i, u_t = pairs.source_aus.to(dev).float(), pairs.target_aus.to(dev).float()
    asked = torch.stack([u_i + float(al) * (u_t - u_i) for al in a], 1)  # (N, S, 17)
    read = torch.stack([au_judge(editor.edit_aus(x, asked[:, k])).float().clamp(0, AU_MAX) for k in range(steps)], 1)
    d = read[:, -1] - read[:, 0]  # (N, 17): the judged end-to-end move
    norm = (d * d).sum(1).clamp_min(1e-8)
    progress = ((read - read[:, :1]) * d[:, None]).sum(2) / norm[:, None]  # (N, S)
    mean_progress = progress.mean(0).cpu()
    r = torch.corrcoef(torch.stack([a, mean_progress]))[0, 1]
    mse = (read - asked).pow(2).mean((0, 2)).cpu()
    return {"alphas": a.tolist(), "progress": mean_progress.tolist(), "pearson_r": float(r),
            "max_deviation": float((mean_progress - a).abs().max()), "mse_to_line": mse.tolist(),
            "read": read.cpu(), "asked": asked.cpu()}


def fig3_row(readings: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {"pearson_r": _cell(readings["pearson_r"]), "max_deviation": _cell(readings["max_deviation"]),
                           "mse_to_line": _cell(sum(readings["mse_to_line"]) / len(readings["mse_to_line"]))}
    for al, p in zip(readings["alphas"], readings["progress"]):
        row[f"progress_{al:.2f}"] = _cell(p)
    return row
