"""`random_faces`: a batch of the benchmark with every key of the batch contract."""

from __future__ import annotations

import torch

from gamutlib.constants import AU_MAX, STYLES

from gamutlib.faces.emotion import emotion_to_aus, sample_emotions
from gamutlib.faces.identity import Identity, sample_identities
from gamutlib.faces.labels import noisy_label
from gamutlib.faces.render import DEFAULT_LIGHT, render

# Nuisance spread (radians / unit vectors): small head turns, as in aligned
# face crops; the light swings around a key light from the upper left.
POSE_STD = (0.12, 0.08, 0.06)
POSE_LIMIT = (0.35, 0.25, 0.2)
LIGHT_STD = (0.35, 0.2, 0.0)
# Pixels painted per pass on a CPU when the caller names no chunk. The
# painter's intermediates take about 670 bytes per pixel (44 MB per face at
# 256 px), so a pass stays near 1 GB: 22 faces at 256 px, 91 at 128 px. Without
# it the judges' report (600 faces) and the benchmark's dlib check (500 at
# 256 px) needed 5-15 GB. GPUs keep one pass (the renderer's speed record).
CPU_PAINT_PIXELS = 1_500_000


def sample_nuisance(n: int, generator: torch.Generator, pose_scale: float = 1.0) -> dict[str, torch.Tensor]:
    """Pose (n, 3), light (n, 3), background (n, 3) and grain seed (n,), on CPU."""
    std, limit = torch.tensor(POSE_STD), torch.tensor(POSE_LIMIT)
    pose = (torch.randn(n, 3, generator=generator) * std * pose_scale).clamp(-limit, limit)
    light = torch.tensor(DEFAULT_LIGHT) + torch.randn(n, 3, generator=generator) * torch.tensor(LIGHT_STD)
    background = 0.25 + 0.55 * torch.rand(n, 3, generator=generator)
    seed = torch.randint(0, 2**30, (n,), generator=generator)
    return {"pose": pose, "light": light, "background": background, "noise_seed": seed}


def style_ids(style: str | int | torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """(n,) style ids; "random" draws one of STYLES per face."""
    if isinstance(style, str) and style == "random":
        return torch.randint(len(STYLES), (n,), generator=generator)
    if isinstance(style, str):
        if style not in STYLES:
            raise ValueError(f"style must be 'random' or one of {STYLES}, got {style!r}")
        return torch.full((n,), STYLES.index(style), dtype=torch.long)
    if isinstance(style, int):
        return torch.full((n,), style, dtype=torch.long)
    return torch.as_tensor(style).long().reshape(-1).cpu()


def random_faces(
    n: int,
    size: int = 128,
    split: str = "train",
    seed: int = 0,
    device: torch.device | str = "cpu",
    style: str | int | torch.Tensor = "photo",
    generator: torch.Generator | None = None,
    identity: Identity | None = None,
    emotion: torch.Tensor | None = None,
    intensity: torch.Tensor | None = None,
    aus: torch.Tensor | None = None,
    au_jitter: float = 0.25,
    pose_scale: float = 1.0,
    compile: bool = False,
    chunk: int | None = None,
) -> dict[str, torch.Tensor]:
    """``n`` random faces with ground truth, generated on ``device``.

    Every random choice comes from one CPU ``torch.Generator`` (seeded with
    ``seed`` unless given), so a seed gives the same batch on every device.
    ``identity``, ``emotion``/``intensity`` or ``aus`` fix those parts.
    ``au_jitter`` is the std of per-face Gaussian noise added to the emotion's
    AUs (people do not hit prototypes exactly, and AU regressors need AUs that
    vary beyond the 7 prototype directions). ``compile`` paints through
    torch.compile (faster after a one-off compile; see `render`). ``chunk``
    paints at most that many faces at a time (default on a CPU without
    compile: ``CPU_PAINT_PIXELS`` worth; elsewhere one pass). Every random
    choice is drawn for all ``n`` faces first, so the faces are bit for bit
    those of one pass.
    """
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if chunk is not None and (not isinstance(chunk, int) or isinstance(chunk, bool) or chunk < 1):
        raise ValueError(f"chunk must be an int >= 1 or None, got {chunk!r}")
    if chunk is None and torch.device(device).type == "cpu" and not compile:
        chunk = max(1, CPU_PAINT_PIXELS // (size * size))
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    if identity is None:
        identity = sample_identities(n, split, generator=g)
    identity = identity.to("cpu")
    if len(identity) != n:
        raise ValueError(f"identity has {len(identity)} faces, expected {n}")
    if emotion is None:
        emotion, intensity = sample_emotions(n, g)
    elif intensity is None:
        raise ValueError("give intensity together with emotion")
    emotion, intensity = emotion.float().cpu(), intensity.float().cpu()
    jitter = torch.randn(n, 17, generator=g) * au_jitter
    if aus is None:
        aus = (emotion_to_aus(emotion, intensity, identity) + jitter).clamp(0, AU_MAX)
    label = noisy_label(emotion, intensity, g)
    styles = style_ids(style, n, g)
    nuisance = sample_nuisance(n, g, pose_scale)
    identity = identity.to(device)

    def paint(part: slice) -> dict[str, torch.Tensor]:
        return render(
            identity[part],
            aus[part].to(device),
            pose=nuisance["pose"][part].to(device),
            light=nuisance["light"][part].to(device),
            style=styles[part].to(device),
            size=size,
            background=nuisance["background"][part].to(device),
            noise_seed=nuisance["noise_seed"][part].to(device),
            compile=compile,
        )

    if chunk is None or chunk >= n:
        out = paint(slice(0, n))
    else:  # fill preallocated tensors, so the finished chunks are not held twice
        out = {}
        for start in range(0, n, chunk):
            part = paint(slice(start, start + chunk))
            for key in ("image", "landmarks"):
                if key not in out:
                    out[key] = part[key].new_empty((n, *part[key].shape[1:]))
                out[key][start : start + chunk] = part[key]
    return {
        "image": out["image"],
        "aus": aus.to(device).float(),
        "landmarks": out["landmarks"],
        "identity": identity.id,
        "style": styles.to(device),
        "pose": nuisance["pose"].to(device),
        "emotion": emotion.to(device),
        "intensity": intensity.to(device),
        "label": label.to(device),
    }
