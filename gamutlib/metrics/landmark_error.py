"""Landmark error: normalised mean error (NME) of 68-point landmarks.

The 300-W convention: the mean point-to-point distance divided by the
inter-ocular distance (outer eye corners, iBUG points 36 and 45, 0-based).
``landmark_nme`` compares two landmark sets (e.g. a detector against the
renderer's truth); ``landmark_nme_judged`` asks a landmark judge where the
landmarks of edited faces are and compares them with the landmarks the edit
was conditioned on (PortraitGAN's continuous shape edits).
"""

from __future__ import annotations

import torch

from gamutlib.constants import N_LANDMARKS
from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_images, check_same_length

OUTER_EYE_CORNERS = (36, 45)


def _check_landmarks(x: object, name: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 3 or x.shape[1:] != (N_LANDMARKS, 2):
        raise ValueError(f"{name} must have shape (N, {N_LANDMARKS}, 2), got {tuple(x.shape)}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or inf values")
    return x


def nme_per_face(predicted: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Per-face NME (fraction of the inter-ocular distance), shape (N,)."""
    _check_landmarks(predicted, "predicted landmarks")
    _check_landmarks(target, "target landmarks")
    check_same_length(predicted=predicted, target=target)
    target = target.to(predicted.device).float()
    inter_ocular = (target[:, OUTER_EYE_CORNERS[0]] - target[:, OUTER_EYE_CORNERS[1]]).norm(dim=1)
    if (inter_ocular < 1e-6).any():
        raise ValueError("target landmarks have coincident outer eye corners (36, 45)")
    return (predicted.float() - target).norm(dim=2).mean(1) / inter_ocular


def landmark_nme(predicted: torch.Tensor, target: torch.Tensor) -> dict[str, float]:
    """Mean NME and the share of faces under 10% (the usual failure threshold)."""
    err = nme_per_face(predicted, target)
    return {"nme": float(err.mean()), "nme_median": float(err.median()), "under_10pct": 100.0 * float((err < 0.1).float().mean()), "n_faces": len(err)}


@torch.no_grad()
def landmark_nme_judged(
    landmark_judge: Judge,
    generated: torch.Tensor,
    target_landmarks: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """NME between the judged landmarks of ``generated`` faces (pixels) and ``target_landmarks``."""
    check_images(generated, "generated")
    return landmark_nme(map_batches(landmark_judge, generated, batch_size, device), target_landmarks)
