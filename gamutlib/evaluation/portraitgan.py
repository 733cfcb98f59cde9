"""The evaluation protocols of the PortraitGAN series (Duan et al. 2018, Table 1 and Sec. "Qualitative Evaluation").

The paper measures modality manipulation against style-transferred pseudo
targets (Table 1) and shows continuous shape edits as pictures. The benchmark
renders the same face in every style and at every expression, so both become
measurements against an exact target:

- **modality transfer** (Table 1): a photo to the sketch of the same face,
  landmarks fixed (PortraitGAN is given the face's own landmarks);
- **shape edits**: the photo to a new expression (its rendered landmarks),
  in the photo modality, in the sketch modality (simultaneous shape and
  modality), and along a path of intermediate expressions (AUs interpolated,
  so every intermediate target image exists too).

Each edit is scored by pixel error and SSIM to its target, by the landmark
error of the output (the AU judge's landmark head; dlib's 68 points in
``gamutlib.evaluation.portraitgan_dlib``) against the target landmarks, and by
the identity judge's distance between the output and the target. The
generators of the series differ in what they accept (CycleGAN: a photo only;
StarGAN: a photo and a modality; PortraitGAN: a photo, landmarks and a
modality); ``ModalityModel`` gives all three one call.
"""

from __future__ import annotations

import copy
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gamutlib.constants import AU_MAX, EMOTIONS, STYLES
from gamutlib.metrics.checks import check_images
from gamutlib.metrics.pixel_error import mse_error
from gamutlib.metrics.ssim import ssim
from gamutlib.reproduce.profiles import by_profile

CONFIGS = Path(__file__).resolve().parents[1] / "models" / "configs"
#: The test faces of every evaluation of the series (held-out identities).
TEST_SEED = 4321
#: Table 1's direction: photo -> this style (the baselines are trained for it).
TARGET_STYLE = "sketch"

# The paper's numbers (Duan et al. 2018), stored beside ours.
PAPER_TABLE1 = {
    "source": "PortraitGAN Table 1: natural -> single stylized modality on 368 HRY images at 512 px "
              "(MSE, SSIM; inference time in seconds per image on one GPU, converted here to ms)",
    "CycleGAN": {"mse": 0.028, "ssim": 0.473, "gpu_ms": 365.0},
    "StarGAN": {"mse": 0.029, "ssim": 0.483, "gpu_ms": 277.0},
    "PortraitGAN": {"mse": 0.025, "ssim": 0.517, "gpu_ms": 290.0},
}
PAPER_TABLE2 = {
    "source": "PortraitGAN Table 2: subjective ranking (%) by 10 users over 100 images; not runnable here "
              "(no human raters)",
    "StarGAN": {"round1": 31.2, "round2": 32.3, "average": 31.75},
    "CycleGAN": {"round1": 32.0, "round2": 32.5, "average": 32.25},
    "PortraitGAN": {"round1": 36.8, "round2": 35.2, "average": 36.0},
}
PAPER_LANDMARK_EDITS = {
    "source": "PortraitGAN Fig. 4, 5, 9 (continuous shape edits, simultaneous shape and modality edits): "
              "shown as pictures, no numbers",
}
#: The paper's training settings (Implementation Details), for the training chapter.
PAPER_TRAINING = {
    "image_size": 512,
    "generator": "4 stride-2 convs, 9 residual blocks, 4 stride-2 transposed convs",
    "critics": "two 3-layer PatchGANs (multi-level), least-squares loss",
    "alpha (cycle)": 2, "beta (feature matching)": 10, "gamma (identity L1)": 5, "eta (texture)": 10,
    "texture network": "VGG19 conv1_1-conv5_1, ImageNet, frozen",
    "training time": "about 50 hours on one GTX 1080",
}

#: The series' generators and their row labels.
LABELS = {"cyclegan": "CycleGAN", "stargan_modality": "StarGAN", "portraitgan": "PortraitGAN",
          "portraitgan__no_texture": "PortraitGAN without texture loss",
          "portraitgan__single_level": "PortraitGAN without multi-level supervision",
          "portraitgan__no_backward": "PortraitGAN without backward cycle"}
ABLATIONS = ("portraitgan__no_texture", "portraitgan__single_level", "portraitgan__no_backward")


@dataclass(frozen=True)
class EvalSizes:
    """How much of the protocol a profile affords."""

    n_faces: int  # test faces of Table 1 and the shape edits
    n_path_faces: int  # faces walked along the path of intermediate expressions
    path_steps: int  # expressions along the path, the source's excluded (t = 1/steps .. 1)
    timing_repeats: int  # timed forward passes (median reported)
    chunk_size: int

    @property
    def n_test(self) -> int:
        return max(self.n_faces, self.n_path_faces)


#: smoke: every code path on two faces; cpu: what 2 CPU cores render and edit in
#: about a minute; gpu: 512 faces (the paper scores 368 images).
SIZES = {
    "smoke": EvalSizes(n_faces=2, n_path_faces=1, path_steps=2, timing_repeats=2, chunk_size=8),
    "cpu": EvalSizes(n_faces=48, n_path_faces=12, path_steps=4, timing_repeats=10, chunk_size=16),
    "gpu": EvalSizes(n_faces=512, n_path_faces=128, path_steps=4, timing_repeats=30, chunk_size=128),
}


def sizes_for(profile: str) -> EvalSizes:
    return by_profile(SIZES, profile)


# ------------------------------------------------------------------ exact targets


@torch.no_grad()
def edit_truth(n: int, size: int = 128, seed: int = TEST_SEED, path_steps: int = 4, n_path: int | None = None,
               style: str = TARGET_STYLE, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
    """``n`` held-out faces with every target an edit of the series can ask for.

    One identity, pose, light and background per face and two expressions: A a
    random emotion mixture, B one non-neutral class at full intensity (face i
    gets class 1 + i mod 6, see below). Keys: ``photo_a`` (the input),
    ``landmarks_a``, ``style_a`` (the same face in ``style``: Table 1's target),
    ``photo_b``, ``style_b``, ``landmarks_b`` (the new expression), and for the
    first ``n_path`` faces ``path_photo`` and ``path_style`` (n_path, steps, 3, S, S) and
    ``path_landmarks`` (n_path, steps, 68, 2) at AUs (1 - t) A + t B,
    t = 1/steps, ..., 1. Every random choice comes from one CPU generator:
    the same faces on every device."""
    from gamutlib.faces import emotion_to_aus, render, sample_emotions, sample_identities
    from gamutlib.faces.batch import sample_nuisance

    if n < 1 or path_steps < 1:
        raise ValueError(f"need n >= 1 faces and path_steps >= 1; got {n} and {path_steps}")
    if style not in STYLES or style == "photo":
        raise ValueError(f"style must be one of {[s for s in STYLES if s != 'photo']}; got {style!r}")
    n_path = n if n_path is None else min(n_path, n)
    g = torch.Generator().manual_seed(seed)
    identity = sample_identities(n, "test", generator=g)
    emotion, intensity = sample_emotions(n, g)
    # B: each non-neutral class in turn at full intensity. A random B moves the
    # benchmark's landmarks by under 2% of the inter-ocular distance on average
    # (a full smile by 1.7%, full surprise by 7%), close to a landmark judge's
    # own error; a full expression makes the edit one worth measuring.
    classes = 1 + torch.arange(n) % (len(EMOTIONS) - 1)
    aus = [emotion_to_aus(emotion, intensity, identity).clamp(0, AU_MAX),
           emotion_to_aus(torch.eye(len(EMOTIONS))[classes], torch.ones(n), identity).clamp(0, AU_MAX)]
    nuisance = {k: v.to(device) for k, v in sample_nuisance(n, g).items()}
    identity = identity.to(device)

    def draw(au: torch.Tensor, which: str, keep: int = n) -> dict[str, torch.Tensor]:
        sub = identity[:keep] if keep < n else identity
        return render(sub, au[:keep].to(device), pose=nuisance["pose"][:keep], light=nuisance["light"][:keep],
                      style=which, size=size, background=nuisance["background"][:keep],
                      noise_seed=nuisance["noise_seed"][:keep])

    a, b = draw(aus[0], "photo"), draw(aus[1], "photo")
    out = {"photo_a": a["image"], "landmarks_a": a["landmarks"].float(), "style_a": draw(aus[0], style)["image"],
           "photo_b": b["image"], "landmarks_b": b["landmarks"].float(), "style_b": draw(aus[1], style)["image"]}
    photos, styled, marks = [], [], []
    for j in range(1, path_steps + 1):
        t = j / path_steps
        step = draw((1 - t) * aus[0] + t * aus[1], "photo", n_path)
        photos.append(step["image"])
        styled.append(draw((1 - t) * aus[0] + t * aus[1], style, n_path)["image"])
        marks.append(step["landmarks"].float())
    out["path_photo"], out["path_style"] = torch.stack(photos, 1), torch.stack(styled, 1)
    out["path_landmarks"] = torch.stack(marks, 1)
    return out


# ------------------------------------------------------------------ the series' generators behind one call


class ModalityModel(nn.Module):
    """A trained generator of the series: ``model(images, landmarks, modality)``.

    ``landmarks`` (N, 68, 2) are the target points in pixels, ``modality`` a
    name of STYLES. CycleGAN and StarGAN take no landmarks: they are called
    only where the landmarks stay the input's (``edits_shape`` False), and a
    modality they were not trained for is refused."""

    def __init__(self, name: str, method: str, G: nn.Module, config: dict[str, Any], source: str) -> None:
        super().__init__()
        self.name, self.method, self.G, self.config, self.source = name, method, G.eval(), config, source
        self.image_size = int(config.get("image_size", 128))
        if method == "portraitgan":
            self.modalities = tuple(config.get("modalities", STYLES))
        elif method == "cyclegan":
            self.modalities = (config.get("target", "sketch"),)
        elif method == "stargan_modality":
            self.modalities = ("photo", config.get("style", "sketch"))
        else:
            raise ValueError(f"{name}: method {method!r} is not a generator of the PortraitGAN series")

    @property
    def edits_shape(self) -> bool:
        return self.method == "portraitgan"

    def forward(self, images: torch.Tensor, landmarks: torch.Tensor, modality: str) -> torch.Tensor:
        from gamutlib.models.portraitgan import landmark_map
        from gamutlib.models.translation import one_hot

        if modality not in self.modalities:
            raise ValueError(f"{self.name} translates to {', '.join(self.modalities)}, not {modality!r}")
        n = images.shape[0]
        if self.method == "cyclegan":
            out = self.G(images)
        elif self.method == "stargan_modality":
            out = self.G(images, one_hot(torch.full((n,), self.modalities.index(modality)), 2).to(images))
        else:
            lmap = landmark_map(landmarks.to(images.device), self.image_size, float(self.config.get("landmark_width", 1.5)))
            code = one_hot(torch.full((n,), self.modalities.index(modality)), len(self.modalities)).to(images)
            out = self.G(images, lmap.to(images.dtype), code)
        return out.float().clamp(-1, 1)


@torch.no_grad()
def translate(model: ModalityModel, images: torch.Tensor, landmarks: torch.Tensor, modality: str,
              chunk_size: int = 128) -> torch.Tensor:
    """model(images, landmarks, modality) in chunks, on the images' device."""
    check_images(images, f"images for {model.name}", model.image_size)
    if landmarks.shape != (images.shape[0], 68, 2):
        raise ValueError(f"need (N, 68, 2) landmarks for {images.shape[0]} images; got {tuple(landmarks.shape)}")
    if not torch.isfinite(landmarks).all():
        raise ValueError("landmarks contain NaN or infinite values")
    weight = next(model.parameters(), None)
    device = weight.device if weight is not None else images.device
    return torch.cat([model(x.to(device), lm.to(device), modality).to(images.device)
                      for x, lm in zip(images.split(chunk_size), landmarks.split(chunk_size))])


def config_overrides(name: str) -> dict[str, Any]:
    """The [model] settings of ``name``'s training config (``gamutlib/models/configs/<name>.toml``)."""
    path = CONFIGS / f"{name}.toml"
    if not path.exists():
        raise ValueError(f"no training config {path.name} for {name!r}")
    with open(path, "rb") as f:
        return dict(tomllib.load(f).get("model", {}))


def weights_file(name: str, root: str | Path) -> Path:
    """``<root>/<name>.safetensors`` (unpacked from its packed form where need be); an
    ablation's run exports under its method's name (scripts/gpu/train_portraitgan.sh),
    so ``<root>/portraitgan.safetensors`` serves too."""
    from gamutlib import weights
    from gamutlib.papers import method_of

    root = Path(root)
    for stem in dict.fromkeys([name, method_of(name)]):
        if weights.has_weights(root, stem):
            return weights.weights_file(root, stem)
    raise FileNotFoundError(f"{root / (name + '.safetensors')} is missing: train and export it with "
                            f"scripts/gpu/train_portraitgan.sh (or `gamut train {method_of(name)} --export {method_of(name)}`)")


def check_variant(name: str, config: dict[str, Any], path: Path) -> None:
    """One ValueError where the file's settings are not those of ``name``'s config (a checkpoint of another model)."""
    from gamutlib.papers import method_of

    if config.get("method") != method_of(name):
        raise ValueError(f"{path} holds a {config.get('method')!r} generator, not {method_of(name)!r} ({name})")
    wanted = {k: v for k, v in config_overrides(name).items() if k != "features"}
    differ = {k: (config.get(k), v) for k, v in wanted.items() if config.get(k) != v}
    if differ:
        raise ValueError(f"{path} is not {name}: " + ", ".join(f"{k} is {a!r}, {name} has {b!r}" for k, (a, b) in differ.items()))


def load_model(name: str, root: str | Path = "weights", device: torch.device | str = "cpu", verify: bool = True) -> ModalityModel:
    """A trained generator of the series from ``root`` (see ``weights_file``), checked to be ``name``."""
    from gamutlib.papers import get_method
    from gamutlib.weights import load_into, load_weights

    path = weights_file(name, root)
    stem = path.name.removesuffix(".safetensors")
    _, config = load_weights(stem, root=root, verify=verify)
    check_variant(name, config, path)
    method = get_method(config["method"], {k: v for k, v in config.items() if k != "method"})
    modules = method.export()
    load_into(modules, stem, root=root, verify=verify)
    return ModalityModel(name, config["method"], modules["G"], config, str(path)).to(device)


def tiny_fallback(name: str, steps: int = 2, image_size: int = 128, seed: int = 0,
                  device: torch.device | str = "cpu") -> ModalityModel:
    """A width-8 generator of ``name`` trained ``steps`` steps on the spot (smoke only; its numbers mean nothing)."""
    from gamutlib.papers import get_method, method_of
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    method_name = method_of(name)
    model: dict[str, Any] = {**config_overrides(name), "image_size": image_size, "g_conv_dim": 8, "d_conv_dim": 8,
                             "batch_size": 2}
    if method_name == "portraitgan":
        model.update(features="random", g_max_dim=16, g_repeat_num=1)
    else:
        model["g_repeat_num"] = 1
    if method_name == "stargan_modality":
        model["d_repeat_num"] = 3
    method = get_method(method_name, model)
    config = TrainConfig(steps=steps, seed=seed, device=str(device), progress=False, log_every=max(steps, 1),
                         sample_every=10**9, checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
    Trainer(method, config, run_dir=None).fit()
    return ModalityModel(name, method_name, method.export()["G"], method.config,
                         f"tiny fallback (width 8, {steps} training steps): the weights of {name} are absent").to(device)


def load_or_fallback(name: str, root: str | Path = "weights", device: torch.device | str = "cpu",
                     allow_fallback: bool = False, verify: bool = True) -> ModalityModel:
    try:
        return load_model(name, root, device, verify)
    except FileNotFoundError:
        if not allow_fallback:
            raise
    return tiny_fallback(name, device=device)


# ------------------------------------------------------------------ measures


def identity_distance(identity_judge: Any, a: torch.Tensor, b: torch.Tensor, chunk_size: int = 128) -> float:
    """Mean 1 - cosine similarity of the identity judge's embeddings of a_i and b_i (0: the same face)."""
    from gamutlib.metrics.batched import map_batches

    ea = map_batches(identity_judge.embed, a, chunk_size)
    eb = map_batches(identity_judge.embed, b, chunk_size)
    return float((1 - (ea * eb).sum(1)).mean())


def judged_nme(au_judge: Any, images: torch.Tensor, target_landmarks: torch.Tensor, chunk_size: int = 128) -> float:
    """NME (inter-ocular) of the AU judge's landmark head on ``images`` against ``target_landmarks``."""
    from gamutlib.metrics.landmark_error import landmark_nme_judged

    return landmark_nme_judged(au_judge.landmarks, images, target_landmarks, chunk_size)["nme"]


def edit_scores(out: torch.Tensor, target: torch.Tensor, target_landmarks: torch.Tensor, judges: Any,
                chunk_size: int = 128) -> dict[str, float]:
    """Pixel MSE and SSIM to the exact target, the judged landmark NME, the identity distance to the target."""
    return {"mse": round(mse_error(out, target), 5), "ssim": round(ssim(out, target), 4),
            "nme": round(judged_nme(judges.au, out, target_landmarks, chunk_size), 4),
            "id_dist": round(identity_distance(judges.identity, out, target, chunk_size), 4)}


def edit_outputs(model: ModalityModel, truth: dict[str, torch.Tensor], chunk_size: int = 128,
                 style: str = TARGET_STYLE) -> dict[str, torch.Tensor]:
    """The shape edits of a landmark-conditioned generator: the new expression in the photo
    modality and in ``style``, and along the path in both (flattened to (n_path * steps, 3, S, S))."""
    if not model.edits_shape:
        raise ValueError(f"{model.name} takes no landmarks: it cannot edit a face's shape")
    x, n_path = truth["photo_a"], truth["path_photo"].shape[0]
    steps = truth["path_photo"].shape[1]
    path_in = x[:n_path].repeat_interleave(steps, 0)
    return {"shape": translate(model, x, truth["landmarks_b"], "photo", chunk_size),
            "shape_modality": translate(model, x, truth["landmarks_b"], style, chunk_size),
            "path": translate(model, path_in, truth["path_landmarks"].flatten(0, 1), "photo", chunk_size),
            "path_modality": translate(model, path_in, truth["path_landmarks"].flatten(0, 1), style, chunk_size)}


def edit_targets(truth: dict[str, torch.Tensor]) -> dict[str, tuple[torch.Tensor, torch.Tensor]]:
    """Per task: (target images, target landmarks), in the order of ``edit_outputs``."""
    return {"shape": (truth["photo_b"], truth["landmarks_b"]),
            "shape_modality": (truth["style_b"], truth["landmarks_b"]),
            "path": (truth["path_photo"].flatten(0, 1), truth["path_landmarks"].flatten(0, 1)),
            "path_modality": (truth["path_style"].flatten(0, 1), truth["path_landmarks"].flatten(0, 1))}


def edit_row(outputs: dict[str, torch.Tensor], truth: dict[str, torch.Tensor], judges: Any,
             chunk_size: int = 128) -> dict[str, Any]:
    """One row of the shape-edit table: ``<task>_<measure>`` for every task of ``edit_outputs``."""
    row: dict[str, Any] = {}
    for task, (target, marks) in edit_targets(truth).items():
        for key, value in edit_scores(outputs[task], target, marks, judges, chunk_size).items():
            row[f"{task}_{key}"] = value
    return row


def reference_outputs(truth: dict[str, torch.Tensor], kind: str) -> dict[str, torch.Tensor]:
    """The table's floor and ceiling: ``"input"`` returns the input unchanged for every task
    (an edit must beat leaving the face alone); ``"target"`` returns the exact targets
    (mse 0, ssim 1: what remains is the judges' own error)."""
    targets = edit_targets(truth)
    if kind == "target":
        return {task: target for task, (target, _) in targets.items()}
    if kind != "input":
        raise ValueError(f"kind must be 'input' or 'target'; got {kind!r}")
    x, steps = truth["photo_a"], truth["path_photo"].shape[1]
    path = x[: truth["path_photo"].shape[0]].repeat_interleave(steps, 0)
    return {"shape": x, "shape_modality": x, "path": path, "path_modality": path}


def modality_scores(model: ModalityModel, truth: dict[str, torch.Tensor], chunk_size: int = 128,
                    style: str = TARGET_STYLE) -> dict[str, Any]:
    """Table 1's quality: photo -> ``style`` with the landmarks fixed, MSE and SSIM to the rendered target."""
    out = translate(model, truth["photo_a"], truth["landmarks_a"], style, chunk_size)
    return {"mse": round(mse_error(out, truth["style_a"]), 5), "ssim": round(ssim(out, truth["style_a"]), 4),
            "n_faces": int(out.shape[0])}


def inference_ms(model: ModalityModel, truth: dict[str, torch.Tensor], device: torch.device | str, repeats: int,
                 threads: int | None = None, style: str = TARGET_STYLE) -> float:
    """Median milliseconds of one forward pass on one face at the model's size on ``device``
    (a copy of the model there); ``threads`` caps the CPU threads while timing."""
    from gamutlib.metrics.inference_time import inference_time

    net = copy.deepcopy(model).to(device).eval()
    x, lm = truth["photo_a"][:1].to(device), truth["landmarks_a"][:1].to(device)
    saved = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        timing = inference_time(lambda a, b: net(a, b, style), (x, lm), repeats=repeats, warmup=3)
    finally:
        torch.set_num_threads(saved)
    return round(timing["per_image_s"] * 1000, 3)
