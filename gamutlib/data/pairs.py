"""Paired benchmark faces, each side with its exact ground truth.

- `expression_pairs`: the same identity, pose, light, background and style
  with two expressions (source and target emotion mixtures, intensities, AUs
  and labels). The target image is what a perfect edit of the source to the
  target condition would produce, which no real dataset can offer.
- `modality_pairs`: the same face (identity, AUs, pose, light, background) in
  two styles, e.g. photo -> sketch, for modality transfer (PortraitGAN).
- `landmark_modality_pairs`: PortraitGAN's training tuple, the same identity
  and scene with a new expression (its landmarks) and a new modality.

Every random choice comes from one CPU generator, so a seed gives the same
pairs on every device.
"""

from __future__ import annotations

import torch

from gamutlib.constants import AU_MAX, STYLES

from gamutlib.faces.batch import sample_nuisance, style_ids
from gamutlib.faces.emotion import emotion_to_aus, sample_emotions
from gamutlib.faces.identity import Identity, sample_identities
from gamutlib.faces.labels import noisy_label
from gamutlib.faces.render import render


def _expression(identity: Identity, n: int, g: torch.Generator, au_jitter: float) -> dict[str, torch.Tensor]:
    emotion, intensity = sample_emotions(n, g)
    jitter = torch.randn(n, 17, generator=g) * au_jitter
    aus = (emotion_to_aus(emotion, intensity, identity) + jitter).clamp(0, AU_MAX)
    return {"emotion": emotion, "intensity": intensity, "aus": aus, "label": noisy_label(emotion, intensity, g)}


def _draw(identity: Identity, expr: dict, nuisance: dict, styles: torch.Tensor, size: int, device) -> dict[str, torch.Tensor]:
    """Render one side of a pair and return it with every key of the batch contract."""
    out = render(
        identity.to(device), expr["aus"].to(device), pose=nuisance["pose"].to(device),
        light=nuisance["light"].to(device), style=styles.to(device), size=size,
        background=nuisance["background"].to(device), noise_seed=nuisance["noise_seed"].to(device),
    )
    return {
        "image": out["image"],
        "landmarks": out["landmarks"],
        "identity": identity.id.to(device),
        "style": styles.to(device),
        "pose": nuisance["pose"].to(device),
        **{k: v.to(device) for k, v in expr.items()},
    }


def _setup(n: int, split: str, seed: int, generator: torch.Generator | None, pose_scale: float):
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    g = generator if generator is not None else torch.Generator().manual_seed(seed)
    identity = sample_identities(n, split, generator=g)
    return g, identity


def expression_pairs(
    n: int,
    size: int = 128,
    split: str = "test",
    seed: int = 0,
    device: torch.device | str = "cpu",
    style: str = "photo",
    generator: torch.Generator | None = None,
    au_jitter: float = 0.25,
    pose_scale: float = 1.0,
) -> dict[str, dict[str, torch.Tensor]]:
    """``{"source": batch, "target": batch}``: one identity and scene, two expressions."""
    g, identity = _setup(n, split, seed, generator, pose_scale)
    source = _expression(identity, n, g, au_jitter)
    target = _expression(identity, n, g, au_jitter)
    styles = style_ids(style, n, g)
    nuisance = sample_nuisance(n, g, pose_scale)
    return {
        "source": _draw(identity, source, nuisance, styles, size, device),
        "target": _draw(identity, target, nuisance, styles, size, device),
    }


def modality_pairs(
    n: int,
    size: int = 128,
    source_style: str = "photo",
    target_style: str = "sketch",
    split: str = "test",
    seed: int = 0,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
    au_jitter: float = 0.25,
    pose_scale: float = 1.0,
) -> dict[str, dict[str, torch.Tensor]]:
    """``{"source": batch, "target": batch}``: one face, expression and scene in two styles."""
    for name, value in (("source_style", source_style), ("target_style", target_style)):
        if value not in STYLES:
            raise ValueError(f"{name} must be one of {STYLES}, got {value!r}")
    if source_style == target_style:
        raise ValueError(f"source_style and target_style are both {source_style!r}; a modality pair needs two styles")
    g, identity = _setup(n, split, seed, generator, pose_scale)
    expr = _expression(identity, n, g, au_jitter)
    nuisance = sample_nuisance(n, g, pose_scale)
    src = torch.full((n,), STYLES.index(source_style), dtype=torch.long)
    tgt = torch.full((n,), STYLES.index(target_style), dtype=torch.long)
    return {
        "source": _draw(identity, expr, nuisance, src, size, device),
        "target": _draw(identity, expr, nuisance, tgt, size, device),
    }


def landmark_modality_pairs(
    n: int,
    size: int = 128,
    modalities: tuple[str, ...] = STYLES,
    split: str = "train",
    seed: int = 0,
    device: torch.device | str = "cpu",
    generator: torch.Generator | None = None,
    au_jitter: float = 0.25,
    pose_scale: float = 1.0,
    p_same_expression: float = 0.25,
    p_same_modality: float = 0.0,
) -> dict[str, torch.Tensor]:
    """PortraitGAN's training tuple (I_A, L_A, c_A; I_B, L_B, c_B) with exact ground truth.

    One identity, pose, light and background per pair; side B has a new
    expression (with probability ``p_same_expression`` the same one, a pure
    modality transfer with the landmarks fixed, Table 1's task) and a modality
    drawn among ``modalities`` (with probability ``p_same_modality`` the same
    one: an expression edit inside one modality, the paper's base model).
    ``image_b`` is what a perfect G(I_A | L_B, c_B) would give.

    Keys: ``image_a/b`` (N, 3, S, S) in [-1, 1], ``landmarks_a/b`` (N, 68, 2)
    in pixels, ``modality_a/b`` (N,) long indices into ``modalities``,
    ``aus_a/b``, ``identity``.
    """
    unknown = [m for m in modalities if m not in STYLES]
    if unknown or len(modalities) < 1 or len(set(modalities)) != len(modalities):
        raise ValueError(f"modalities must be distinct names of {STYLES}; got {modalities!r}")
    for name, p in (("p_same_expression", p_same_expression), ("p_same_modality", p_same_modality)):
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{name} must be in [0, 1]; got {p}")
    g, identity = _setup(n, split, seed, generator, pose_scale)
    expr_a = _expression(identity, n, g, au_jitter)
    expr_b = _expression(identity, n, g, au_jitter)
    same_expr = torch.rand(n, generator=g) < p_same_expression
    expr_b["aus"] = torch.where(same_expr[:, None], expr_a["aus"], expr_b["aus"])
    k = len(modalities)
    mod_a = torch.randint(k, (n,), generator=g)
    if k > 1:
        # another modality, uniform among the k-1 others, unless kept
        other = (mod_a + torch.randint(1, k, (n,), generator=g)) % k
        mod_b = torch.where(torch.rand(n, generator=g) < p_same_modality, mod_a, other)
    else:
        mod_b = mod_a.clone()
    nuisance = sample_nuisance(n, g, pose_scale)
    style_of = torch.tensor([STYLES.index(m) for m in modalities], dtype=torch.long)
    a = _draw(identity, expr_a, nuisance, style_of[mod_a], size, device)
    b = _draw(identity, expr_b, nuisance, style_of[mod_b], size, device)
    return {
        "image_a": a["image"], "landmarks_a": a["landmarks"], "modality_a": mod_a.to(device), "aus_a": a["aus"],
        "image_b": b["image"], "landmarks_b": b["landmarks"], "modality_b": mod_b.to(device), "aus_b": b["aus"],
        "identity": a["identity"],
    }
