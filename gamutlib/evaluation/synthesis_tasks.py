"""One target expression asked of every method, each in its own control.

The four series ask their methods for different things (an emotion class, a
point of a learned plane, AU intensities, AU changes, landmarks, a target
face), so no series' table asks every method for the same edit. Here one
target expression, an emotion class at an intensity, is turned into each
control kind (``to_control``) from the renderer's own mapping of emotions to
AUs (gamutlib.faces.emotion), for the same held-out faces; the renderer also
draws each face with the target AUs, the exact edit every method is scored
against (``common_task_rows``).

The common task runs where the chapter runs (a GPU where there is one; the
CPU of a reader's run). A generator the repository does not ship (an ablation or a
baseline that is a result of its series' gpu record, ``gamutlib.papers.record_only``)
is left out of a reader's run with that reason; the gpu record also scores
the cpu protocol (``common_task_cpu_protocol``: the cpu profile's faces and
the shipped generators only, true fp32), which a reader's
``gamut reproduce --profile cpu`` repeats and is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.evaluation.synthesis import CANNOT_EXPRESS, CHAPTER, CONTROLS, PAPER, SynthMethod, can_express

#: The cpu protocol's table is the common task's name with this suffix (as the series' twins).
CPU_PROTOCOL_SUFFIX = "_cpu_protocol"


# ----------------------------------------------------------------- one target expression, every control


@dataclass(frozen=True)
class CommonTask:
    """Source faces and one target expression (emotion at an intensity) for all of them."""

    identity: Any  # gamutlib.faces.Identity of the N sources
    source_aus: torch.Tensor  # (N, 17)
    target_aus: torch.Tensor  # (N, 17): each source identity's own AUs of the target expression
    emotion: int
    intensity: float
    size: int


def common_task(identity: Any, source_aus: torch.Tensor, emotion: str | int, intensity: float,
                size: int = 128) -> CommonTask:
    """The target expression's exact AUs for each source identity (the renderer's own mapping)."""
    from gamutlib.faces.emotion import emotion_to_aus

    k = EMOTIONS.index(emotion) if isinstance(emotion, str) else int(emotion)
    if not 0 <= k < len(EMOTIONS):
        raise ValueError(f"emotion must be one of {EMOTIONS} or its index; got {emotion!r}")
    if not 0.0 <= float(intensity) <= 1.0 or not math.isfinite(float(intensity)):
        raise ValueError(f"intensity must be in [0, 1]; got {intensity!r}")
    n = len(identity)
    mix = torch.zeros(n, len(EMOTIONS), device=source_aus.device)
    mix[:, k] = 1.0
    target = emotion_to_aus(mix, torch.full((n,), float(intensity), device=source_aus.device), identity)
    return CommonTask(identity, source_aus, target, k, float(intensity), size)


def to_control(task: CommonTask, kind: str, class_points: torch.Tensor | None = None,
               reference_identity: Any = None) -> dict[str, torch.Tensor]:
    """The task's target in control ``kind`` (one entry per tensor the method takes):

    - emotion: ``code`` (N, 7), the one-hot of the class scaled by the intensity (neutral: its one-hot);
    - plane: ``code`` (N, D), intensity x the class's point at full intensity (``class_points`` (7, D):
      GANmut's rho = 1 directions, GGANmut's mode means; neutral is the origin);
    - au: ``aus`` (N, 17), the target's exact AUs; relative_au: ``delta`` (N, 17), target - source;
    - landmarks: ``landmarks`` (N, 68, 2), the source identity rendered with the target AUs, and ``modality``;
    - reference: ``image``, a face of ``reference_identity`` (another person) showing the target expression.

    A kind that cannot express an expression edit (modality) raises ValueError."""
    from gamutlib.faces.render import render

    n, k, device = len(task.identity), task.emotion, task.source_aus.device
    if not can_express(kind, "emotion_class"):
        raise ValueError(f"control {kind!r} ({CONTROLS[kind]}) {CANNOT_EXPRESS}: it takes no expression")
    if kind == "emotion":
        code = torch.zeros(n, len(EMOTIONS), device=device)
        code[:, k] = task.intensity if k != EMOTIONS.index("neutral") else 1.0
        return {"code": code}
    if kind == "plane":
        if class_points is None or class_points.shape[0] != len(EMOTIONS):
            raise ValueError(f"the plane control needs class_points ({len(EMOTIONS)}, D) of a trained GANmut space")
        return {"code": (task.intensity * class_points[k].float().to(device)).expand(n, -1).clone()}
    if kind == "au":
        return {"aus": task.target_aus}
    if kind == "relative_au":
        return {"delta": task.target_aus - task.source_aus}
    if kind == "landmarks":
        marks = render(task.identity, task.target_aus, size=task.size)["landmarks"]
        return {"landmarks": marks, "modality": torch.zeros(n, dtype=torch.long, device=device)}
    if reference_identity is None or len(reference_identity) != n:
        raise ValueError("the reference control needs reference_identity: N other people to show the expression")
    from gamutlib.faces.emotion import emotion_to_aus

    mix = torch.zeros(n, len(EMOTIONS), device=device)
    mix[:, k] = 1.0
    ref_aus = emotion_to_aus(mix, torch.full((n,), task.intensity, device=device), reference_identity)
    return {"image": render(reference_identity, ref_aus, size=task.size)["image"]}


def truth_of(task: CommonTask) -> torch.Tensor:
    """The exact edit: each source identity rendered with the target AUs (frontal, default light, photo)."""
    from gamutlib.faces.render import render

    return render(task.identity, task.target_aus, size=task.size)["image"]


# ----------------------------------------------------------------- the same faces, edited by every method


def load_editor(method: SynthMethod, weights_dir: str | Path = "weights", device: Any = "cpu",
                allow_fallback: bool = False) -> Any:
    """The method's generator through its series' loader (a tiny stand-in where ``allow_fallback``
    and no weights file exists; its edits mean nothing)."""
    from importlib import import_module

    module = import_module(f"gamutlib.evaluation.{method.series}")
    return module.load_or_fallback(method.weights, root=weights_dir, device=device, allow_fallback=allow_fallback)


@torch.no_grad()
def edit_common(method: SynthMethod, model: Any, task: CommonTask, images: torch.Tensor,
                reference_identity: Any) -> torch.Tensor:
    """``images`` (the task's sources) edited by ``model`` towards the task's expression, each
    method through its own control (``to_control``)."""
    if method.control in ("emotion", "plane"):
        points = model.class_codes() if method.control == "plane" else None
        code = to_control(task, method.control, class_points=points)["code"]
        return model(images, code.to(images.device))
    if method.series == "eggan":
        reference = to_control(task, "reference", reference_identity=reference_identity)["image"]
        target_class = torch.full((len(images),), task.emotion, dtype=torch.long, device=images.device)
        return model.edit(images, reference.to(images.device), task.target_aus.to(images.device), target_class)
    if method.control in ("au", "relative_au"):  # FineGrained's generators take (u_src, u_tgt) and form their own input
        source = task.source_aus.to(images.device)
        return model.edit(images, source, source + to_control(task, "relative_au")["delta"].to(images.device))
    if method.control == "landmarks":
        from gamutlib.evaluation.portraitgan import translate

        return translate(model, images, to_control(task, "landmarks")["landmarks"].to(images.device), "photo")
    raise ValueError(f"{method.label}: control {method.control!r} {CANNOT_EXPRESS}")


def not_shipped(method: SynthMethod) -> str:
    """Why a record-only generator is absent from a reader's run."""
    return f"a result of the {method.series} series' gpu record, not a shipped file"


def load_available(methods: Sequence[SynthMethod], weights_dir: str | Path = "weights", allow_fallback: bool = False,
                   device: Any = "cpu", shipped_only: bool = False) -> tuple[dict[str, tuple[SynthMethod, Any]], dict[str, str]]:
    """The generators that can attempt an expression edit and have weights (or, where
    ``allow_fallback``, an untrained stand-in, labelled so): ({label: (method, model)}, {label: why left out}).
    ``shipped_only`` leaves out the record-only generators even where their files lie in
    ``weights_dir`` (the cpu protocol: what a reader's checkout holds)."""
    from gamutlib.papers import record_only
    from gamutlib.weights import has_weights

    kept = set(record_only())
    models, left_out = {}, {}
    for m in methods:
        if not can_express(m.control, "emotion_class"):
            left_out[m.label] = CANNOT_EXPRESS
            continue
        shipped = has_weights(weights_dir, m.weights)
        if m.weights in kept and (shipped_only or not shipped):
            left_out[m.label] = not_shipped(m)
            continue
        if not shipped and not allow_fallback:
            left_out[m.label] = f"no weights yet ({m.weights}.safetensors)"
            continue
        label = m.label if shipped else f"{m.label} (untrained stand-in)"
        models[label] = (m, load_editor(m, weights_dir, device, allow_fallback))
    return models, left_out


@dataclass(frozen=True)
class CommonFaces:
    """Held-out frontal neutral faces under the default light (the exact edit then differs by the
    expression only), and other people to show HomoInterpGAN the target."""

    identity: Any
    aus: torch.Tensor
    image: torch.Tensor
    reference_identity: Any


def common_faces(n_faces: int, size: int = 128, seed: int = 1234) -> CommonFaces:
    from gamutlib.faces.emotion import emotion_to_aus
    from gamutlib.faces.identity import identities_from_ids, split_ids
    from gamutlib.faces.render import render

    identity = identities_from_ids(split_ids("test", torch.arange(n_faces) + seed))
    neutral = torch.zeros(n_faces, len(EMOTIONS))
    neutral[:, EMOTIONS.index("neutral")] = 1.0
    aus = emotion_to_aus(neutral, torch.zeros(n_faces), identity)  # each person's resting activity
    reference = identities_from_ids(split_ids("test", torch.arange(n_faces) + seed + n_faces))
    return CommonFaces(identity, aus, render(identity, aus, size=size)["image"], reference)


def edit_all(models: Mapping[str, tuple[SynthMethod, Any]], faces: CommonFaces, emotion: str, intensity: float,
             size: int = 128, device: Any = "cpu") -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The exact edit of ``faces`` towards ``emotion`` at ``intensity``, and every model's edit
    (made on ``device``, where the models are; returned on the CPU)."""
    task = common_task(faces.identity, faces.aus, emotion, intensity, size)
    images = faces.image.to(device)
    edits = {label: edit_common(m, model, task, images, faces.reference_identity).clamp(-1, 1).cpu()
             for label, (m, model) in models.items()}
    return truth_of(task), edits


def common_edits(methods: Sequence[SynthMethod], n_faces: int = 3, emotion: str = "happy", intensity: float = 1.0,
                 weights_dir: str | Path = "weights", allow_fallback: bool = False, size: int = 128,
                 seed: int = 1234) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], dict[str, str]]:
    """Held-out neutral faces, their exact edit, and each method's edit towards ``emotion`` at
    ``intensity``: (sources, truth, {label: edits}, {label: why it is left out})."""
    models, left_out = load_available(methods, weights_dir, allow_fallback)
    faces = common_faces(n_faces, size, seed)
    truth, edits = edit_all(models, faces, emotion, intensity, size)
    return faces.image, truth, edits, left_out


def common_task_rows(models: Mapping[str, tuple[SynthMethod, Any]], faces: CommonFaces, emotions: Sequence[str],
                     emotion_judge: Any, identity_judge: Any, intensity: float = 1.0, size: int = 128,
                     chunk_size: int = 64, device: Any = "cpu") -> list[dict[str, Any]]:
    """The same edits scored for every method: L1 and SSIM to the exact edit ([0, 1] pixels), the
    emotion judge's accuracy on the asked class (%), identity verification of (source, edit) (%),
    over every face and asked emotion; "exact edit" first (the judges' own floor)."""
    from gamutlib.evaluation.eggan import judge_verification
    from gamutlib.metrics.batched import map_batches
    from gamutlib.metrics.pixel_error import l1_error
    from gamutlib.metrics.ssim import ssim

    truths, outs, asked = [], {label: [] for label in models}, []
    for emotion in emotions:
        truth, edits = edit_all(models, faces, emotion, intensity, size, device)
        truths.append(truth)
        asked.append(torch.full((len(truth),), EMOTIONS.index(emotion), dtype=torch.long))
        for label, images in edits.items():
            outs[label].append(images)
    truth, asked = torch.cat(truths), torch.cat(asked)
    sources = faces.image.repeat(len(emotions), 1, 1, 1)

    def row(label: str, images: torch.Tensor) -> dict[str, Any]:
        probs = map_batches(emotion_judge.probs, images, chunk_size, device)
        return {"method": label, "l1_to_exact": round(l1_error(images, truth), 5),
                "ssim_to_exact": round(float(ssim(images, truth)), 4),
                "accuracy": round(100.0 * float((probs.argmax(1) == asked).float().mean()), 2),
                "identity": round(judge_verification(identity_judge, sources, images, chunk_size, device), 2),
                "n_edits": int(images.shape[0])}

    return [row("exact edit", truth), *(row(label, torch.cat(images)) for label, images in outs.items())]


def write_common_task(results_dir: str | Path, rows: Sequence[Mapping[str, Any]], faces: CommonFaces,
                      emotions: Sequence[str], sources: Mapping[str, str], left_out: Mapping[str, str],
                      producer: str = CHAPTER, name: str = "common_task") -> Path:
    """``{results_dir}/synthesis/<name>.json``: the same edit asked of every method (``name``
    "common_task", or its cpu protocol "common_task" + CPU_PROTOCOL_SUFFIX)."""
    from gamutlib.reproduce.tables import write_table

    protocol = (f"{len(faces.image)} held-out neutral frontal faces (test identities from 1234, default light, "
                f"{faces.image.shape[-1]} px) x the classes {'/'.join(emotions)} at intensity 1, each method given "
                "the target in its own control (gamutlib.evaluation.synthesis.to_control); exact edit: the same "
                "person rendered with the target AUs; L1 and SSIM on [0, 1] pixels; accuracy: the shipped emotion "
                "judge's argmax equals the asked class; identity: the shipped identity judge calls (source, edit) "
                "one person; generators from " + (", ".join(f"{k}: {v}" for k, v in sources.items()) or "none")
                + "; left out: " + (", ".join(f"{k} ({v})" for k, v in left_out.items()) or "none"))
    return write_table(results_dir, PAPER, name, rows=list(rows),
                       paper_numbers={"source": "none: no paper asked every method for the same edit"},
                       protocol=protocol, seeds=[0], tolerance={"abs": 0.005, "rel": 0.02,
                                                                "columns": {"accuracy": {"abs": 3.0},
                                                                            "identity": {"abs": 3.0}}},
                       producer=producer)


def run_common_task(methods: Sequence[SynthMethod], sizes: Any, weights_dir: str | Path = "weights",
                    results_dir: str | Path = "book/results", name: str = "common_task",
                    shipped_only: bool = False, device: Any = "cpu") -> tuple[list[dict[str, Any]], dict[str, str]]:
    """Load the generators and judges on ``device``, edit ``sizes.n_task_faces`` faces towards each of
    ``sizes.task_emotions``, score and write the table ``name``: (rows, {label: why left out})."""
    from gamutlib.judges.loading import load_emotion_judge, load_identity_judge

    models, left_out = load_available(methods, weights_dir, allow_fallback=sizes.stand_ins, device=device,
                                      shipped_only=shipped_only)
    faces = common_faces(sizes.n_task_faces, sizes.image_size)
    rows = common_task_rows(models, faces, sizes.task_emotions, load_emotion_judge(device), load_identity_judge(device),
                            size=sizes.image_size, device=device)
    write_common_task(results_dir, rows, faces, sizes.task_emotions,
                      {label: model.source for label, (m, model) in models.items()}, left_out, name=name)
    return rows, left_out


def write_cpu_protocol(methods: Sequence[SynthMethod], profile: str, weights_dir: str | Path = "weights",
                       results_dir: str | Path = "book/results", device: Any = "cpu") -> Path | None:
    """The common task on the cpu profile's faces with the shipped generators only, in true fp32,
    as ``common_task_cpu_protocol``: written on the cpu and gpu profiles (never on smoke), so a
    reader's CPU run is compared with the gpu record."""
    from gamutlib.devices import plain_fp32
    from gamutlib.evaluation.synthesis import SIZES
    from gamutlib.reproduce.profiles import by_profile

    if profile == "smoke":
        return None
    name = "common_task" + CPU_PROTOCOL_SUFFIX
    with plain_fp32():
        run_common_task(methods, by_profile(SIZES, "cpu"), weights_dir, results_dir, name=name, shipped_only=True,
                        device=device)
    return Path(results_dir) / PAPER / f"{name}.json"


#: The common task's reading: an edit "reaches the emotion" or "keeps the person" when at least
#: half of its edits are judged so (the exact edit, the judges' ceiling, reaches both on every face).
HALF = 50.0


def common_task_reading(rows: Sequence[Mapping[str, Any]]) -> str:
    """A few sentences on the common task, every name and number taken from ``rows``
    (``common_task_rows``: "exact edit" first)."""
    methods = [r for r in rows if r["method"] != "exact edit"]
    if not methods:
        return "No generator attempted the common task on this run."

    def best(column: str, higher: bool, unit: str = "") -> str:
        top = (max if higher else min)(methods, key=lambda r: r[column])
        return f"{top['method']} ({top[column]:g}{unit})"

    def names(chosen: Sequence[Mapping[str, Any]]) -> str:
        return "; ".join(r["method"] for r in chosen) or "none"  # a label may hold a comma

    both = [r for r in methods if r["accuracy"] >= HALF and r["identity"] >= HALF]
    emotion_only = [r for r in methods if r["accuracy"] >= HALF > r["identity"]]
    person_only = [r for r in methods if r["identity"] >= HALF > r["accuracy"]]
    neither = [r for r in methods if r["accuracy"] < HALF and r["identity"] < HALF]
    return (f"Closest to the exact edit: {best('l1_to_exact', False)} by L1, {best('ssim_to_exact', True)} by SSIM; "
            f"the asked class read most often on {best('accuracy', True, '%')}, the person kept most often by "
            f"{best('identity', True, '%')}. Reaching the emotion and keeping the person (each on at least "
            f"{HALF:g}% of the edits): {names(both)}. The emotion at the person's cost: {names(emotion_only)}. "
            f"The person without the emotion: {names(person_only)}. Neither: {names(neither)}.")
