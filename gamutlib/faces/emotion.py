"""Emotions of the benchmark: EMFACS-style AU prototypes and mixtures.

A face's expression is a ground-truth mixture over the 7 GANmut classes
(`gamutlib.constants.EMOTIONS`) and an intensity in [0, 1]. Its AUs are the
mixture-weighted sum of the classes' prototypes (Ekman, Friesen and Hager's
EMFACS predictions, restricted to the 17 OpenFace AUs), scaled by the
intensity and by each identity's own gain per AU, plus a small resting
activity per identity. Compound emotions (happily surprised, sadly angry, ...)
are mixtures of two classes, which is the gamut GANmut learns.
"""

from __future__ import annotations

import torch

from gamutlib.constants import AU_IDS, AU_MAX, EMOTIONS

from gamutlib.faces.identity import Identity

# Prototype AU intensities (0..5) at full intensity, by class.
# Sources: EMFACS prototypes as listed in the FACS investigator's guide:
# happy 6+12; sad 1+4+15 (+17); surprise 1+2+5B+26; fear 1+2+4+5+7+20+26;
# disgust 9+15+16 / 10 (+17); anger 4+5+7+23 (+17). AU25 (lips part) goes with
# every expression whose jaw drops.
_PROTOTYPES: dict[str, dict[int, float]] = {
    "neutral": {},
    "happy": {6: 3.6, 12: 4.5, 25: 1.8, 7: 0.6},
    "sad": {1: 4.0, 4: 3.0, 15: 4.2, 17: 2.4},
    "surprised": {1: 4.2, 2: 4.2, 5: 3.8, 25: 3.0, 26: 4.3},
    "fearful": {1: 4.0, 2: 2.8, 4: 3.0, 5: 4.2, 7: 1.8, 20: 4.5, 25: 3.0, 26: 1.8},
    "disgusted": {9: 4.6, 10: 3.6, 15: 1.8, 17: 1.8, 4: 1.5, 25: 1.0, 7: 1.0},
    "angry": {4: 4.6, 5: 2.4, 7: 3.6, 23: 4.2, 17: 2.4, 9: 0.8},
}


def emotion_prototypes(device: torch.device | str = "cpu") -> torch.Tensor:
    """(7, 17) AU intensities of each class at full intensity."""
    table = torch.zeros(len(EMOTIONS), len(AU_IDS))
    for e, name in enumerate(EMOTIONS):
        for au, value in _PROTOTYPES[name].items():
            table[e, AU_IDS.index(au)] = value
    return table.to(device)


def _check_emotion(emotion: torch.Tensor, intensity: torch.Tensor) -> None:
    if emotion.ndim != 2 or emotion.shape[1] != len(EMOTIONS):
        raise ValueError(f"emotion must be (N, {len(EMOTIONS)}), got {tuple(emotion.shape)}")
    if intensity.shape != (emotion.shape[0],):
        raise ValueError(f"intensity must be ({emotion.shape[0]},), got {tuple(intensity.shape)}")
    if not (torch.isfinite(emotion).all() and torch.isfinite(intensity).all()):
        raise ValueError("emotion and intensity must be finite (found NaN or inf)")
    if (emotion < 0).any() or (emotion.sum(1) - 1).abs().max() > 1e-3:
        raise ValueError("emotion must be a mixture: non-negative rows summing to 1")
    if (intensity < 0).any() or (intensity > 1).any():
        raise ValueError("intensity must be in [0, 1]")


def emotion_to_aus(emotion: torch.Tensor, intensity: torch.Tensor, identity: Identity) -> torch.Tensor:
    """AUs (N, 17) in [0, 5] of a mixture ``emotion`` (N, 7) at ``intensity`` (N,).

    The identity's idiosyncrasy: a gain per AU (0.75-1.25, some people smile
    with more AU6 than others) and a faint resting activity (0-0.25).
    """
    _check_emotion(emotion, intensity)
    protos = emotion_prototypes(emotion.device)
    aus = intensity[:, None] * (emotion @ protos) * identity.au_gain + identity.au_bias
    return aus.clamp(0.0, AU_MAX)


def sample_emotions(
    n: int,
    generator: torch.Generator,
    p_neutral: float = 0.12,
    p_compound: float = 0.40,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random (mixture (n, 7), intensity (n,)), drawn on CPU from ``generator``.

    12% neutral faces, 48% one class, 40% compounds of two classes with a
    weight in [0.2, 0.8]; intensity ~ U(0, 1)^0.7 (more strong expressions
    than weak ones, as in posed datasets, but the whole range present).
    """
    k = len(EMOTIONS)
    kind = torch.rand(n, generator=generator)
    first = torch.randint(1, k, (n,), generator=generator)
    second = (first - 1 + torch.randint(1, k - 1, (n,), generator=generator)) % (k - 1) + 1
    weight = 0.2 + 0.6 * torch.rand(n, generator=generator)
    intensity = torch.rand(n, generator=generator) ** 0.7
    mix = torch.zeros(n, k)
    rows = torch.arange(n)
    is_neutral = kind < p_neutral
    is_compound = kind >= 1 - p_compound
    w1 = torch.where(is_compound, weight, torch.ones(n))
    mix[rows, first] += w1
    mix[rows, second] += 1 - w1
    mix[is_neutral] = 0
    mix[is_neutral, 0] = 1
    intensity = torch.where(is_neutral, torch.zeros(n), intensity)
    return mix, intensity
