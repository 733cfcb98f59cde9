"""The categorical label: an imperfect proxy of the true emotion, as in AffectNet.

An annotator sees a face and names one class. We model that in two steps:

1. the perceived class is the argmax of the true mixture, except that a face
   whose intensity is below `NEUTRAL_BELOW` reads as neutral;
2. the annotator then confuses it with a neighbour with the probabilities of
   `ANNOTATOR_CONFUSION` (row = perceived class, column = label given).

The confusions follow those AffectNet reports between its annotators and
its human-agreement tables: fear <-> surprise, disgust <-> anger,
sad <-> neutral are the common ones. Every class keeps >= 88% on the diagonal,
so a judge trained on these labels still learns the true classes.
"""

from __future__ import annotations

import torch

from gamutlib.constants import EMOTIONS

NEUTRAL_BELOW = 0.2

#                     neu   hap   sad   sur   fea   dis   ang
ANNOTATOR_CONFUSION = (
    (0.93, 0.02, 0.03, 0.00, 0.00, 0.00, 0.02),  # neutral
    (0.03, 0.96, 0.00, 0.01, 0.00, 0.00, 0.00),  # happy
    (0.07, 0.00, 0.90, 0.00, 0.01, 0.01, 0.01),  # sad
    (0.01, 0.02, 0.00, 0.90, 0.07, 0.00, 0.00),  # surprised
    (0.00, 0.00, 0.02, 0.09, 0.88, 0.01, 0.00),  # fearful
    (0.01, 0.00, 0.02, 0.00, 0.00, 0.89, 0.08),  # disgusted
    (0.02, 0.00, 0.01, 0.00, 0.00, 0.07, 0.90),  # angry
)


def confusion_matrix(device: torch.device | str = "cpu") -> torch.Tensor:
    """(7, 7) row-stochastic annotator confusion, rows and columns in EMOTIONS order."""
    return torch.tensor(ANNOTATOR_CONFUSION, device=device)


def perceived_class(emotion: torch.Tensor, intensity: torch.Tensor) -> torch.Tensor:
    """The noise-free class: argmax of the mixture, neutral when faint."""
    cls = emotion.argmax(1)
    return torch.where(intensity < NEUTRAL_BELOW, torch.zeros_like(cls), cls)


def noisy_label(emotion: torch.Tensor, intensity: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """(N,) long labels drawn from the annotator model (CPU generator, result on emotion's device)."""
    if emotion.ndim != 2 or emotion.shape[1] != len(EMOTIONS):
        raise ValueError(f"emotion must be (N, {len(EMOTIONS)}), got {tuple(emotion.shape)}")
    cls = perceived_class(emotion.cpu(), intensity.cpu())
    rows = confusion_matrix()[cls]
    label = torch.multinomial(rows, 1, generator=generator).squeeze(1)
    return label.to(emotion.device)
