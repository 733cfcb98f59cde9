"""The three judges as networks: emotion classifier, AU regressor, identity embedder.

Each is the shared VGG trunk plus a small head; each takes 128 px faces in
[-1, 1] (the size is part of its config and checked on every call) and is
used in eval mode under torch.no_grad by the metrics.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from gamutlib.constants import AU_IDS, AU_MAX, EMOTIONS, N_LANDMARKS
from gamutlib.judges.vgg import VGGTrunk


class EmotionJudge(nn.Module):
    """GANmut's VGG emotion classifier: ``features`` (penultimate layer, for
    FED), ``logits`` and ``probs`` over the 7 classes (ERE, smoothness,
    accuracy, IS)."""

    def __init__(self, size: int = 128, width: int = 32, feature_dim: int = 256, dropout: float = 0.3) -> None:
        super().__init__()
        self.trunk = VGGTrunk(size, width)
        self.fc = nn.Sequential(nn.Linear(self.trunk.out_features, feature_dim), nn.ReLU(inplace=True))
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(feature_dim, len(EMOTIONS))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """(N, feature_dim) activations feeding the classifier: "the features closest to the final classifier"."""
        return self.fc(self.trunk(x))

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.dropout(self.features(x)))

    def probs(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x).float().softmax(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.logits(x)


class AUJudge(nn.Module):
    """The OpenFace stand-in: 17 AU intensities in [0, 5] (``aus``), plus the 68
    landmarks in pixels (``landmarks``) from a second head on the same trunk."""

    def __init__(self, size: int = 128, width: int = 32, hidden: int = 256) -> None:
        super().__init__()
        self.trunk = VGGTrunk(size, width)
        self.fc = nn.Sequential(nn.Linear(self.trunk.out_features, hidden), nn.ReLU(inplace=True))
        self.au_head = nn.Linear(hidden, len(AU_IDS))
        self.landmark_head = nn.Linear(hidden, N_LANDMARKS * 2)
        self.size = size

    def raw(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Unclamped AUs (N, 17) and landmarks in [-1, 1] image units (N, 68, 2): what training fits."""
        h = self.fc(self.trunk(x))
        return self.au_head(h), self.landmark_head(h).view(-1, N_LANDMARKS, 2)

    def aus(self, x: torch.Tensor) -> torch.Tensor:
        """AU intensities on OpenFace's 0..5 scale."""
        return self.raw(x)[0].float().clamp(0.0, AU_MAX)

    def landmarks(self, x: torch.Tensor) -> torch.Tensor:
        """Landmarks in pixels (x, y) of the input image."""
        return pixels_from_unit(self.raw(x)[1].float(), self.size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.aus(x)


def unit_from_pixels(points: torch.Tensor, size: int) -> torch.Tensor:
    """Pixel coordinates (centre of pixel i at i, as dlib and OpenFace count) to
    [-1, 1] image units, where -1 and 1 are the outer edges of the border pixels."""
    return (points + 0.5) / size * 2 - 1


def pixels_from_unit(points: torch.Tensor, size: int) -> torch.Tensor:
    return (points + 1) / 2 * size - 0.5


class IdentityJudge(nn.Module):
    """The LightCNN / face_recognition stand-in: L2-normalised embeddings
    (``embed``) and the cosine-similarity ``threshold`` above which two faces
    are called the same person (fixed on held-out identities, saved with the
    weights)."""

    def __init__(self, size: int = 128, width: int = 32, embedding_dim: int = 128) -> None:
        super().__init__()
        self.trunk = VGGTrunk(size, width)
        self.head = nn.Linear(self.trunk.out_features, embedding_dim)
        self.register_buffer("threshold", torch.tensor(0.5))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(self.trunk(x)).float(), dim=1)

    def same_person(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """(N,) bool: does each pair (a_i, b_i) show one identity?"""
        return (self.embed(a) * self.embed(b)).sum(1) >= self.threshold

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.embed(x)
