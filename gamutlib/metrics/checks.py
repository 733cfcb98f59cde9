"""Input checks shared by the metrics and the judges.

Every public entry point validates what it is given, so that a wrong tensor
fails with one message naming the problem instead of a shape error deep
inside a network or, worse, a plausible but meaningless number.
"""

from __future__ import annotations

import torch

from gamutlib.constants import AU_IDS, AU_MAX, EMOTIONS

# Images are [-1, 1]; interpolation and fp16 round-off may overshoot slightly.
_IMAGE_TOL = 1e-2


def check_images(x: object, name: str = "images", size: int | None = None) -> torch.Tensor:
    """A float NCHW RGB batch in [-1, 1] (optionally ``size`` x ``size``)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.ndim != 4 or x.shape[1] != 3:
        raise ValueError(f"{name} must have shape (N, 3, H, W), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a float tensor in [-1, 1], got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ValueError(f"{name} is empty")
    if size is not None and (x.shape[2] != size or x.shape[3] != size):
        raise ValueError(f"{name} must be {size}x{size} pixels, got {x.shape[2]}x{x.shape[3]}")
    if not torch.isfinite(x).all():
        raise ValueError(f"{name} contain NaN or inf values")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1 - _IMAGE_TOL or hi > 1 + _IMAGE_TOL:
        raise ValueError(
            f"{name} must lie in [-1, 1], got values in [{lo:.3g}, {hi:.3g}] "
            "(images in [0, 1] or [0, 255] must be mapped to [-1, 1] first)"
        )
    return x


def check_aus(aus: object, name: str = "aus") -> torch.Tensor:
    """An (N, 17) float tensor of OpenFace-scale intensities in [0, 5]."""
    if not isinstance(aus, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(aus).__name__}")
    if aus.ndim != 2 or aus.shape[1] != len(AU_IDS):
        raise ValueError(f"{name} must have shape (N, {len(AU_IDS)}), got {tuple(aus.shape)}")
    if not aus.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got dtype {aus.dtype}")
    if not torch.isfinite(aus).all():
        raise ValueError(f"{name} contain NaN or inf values")
    lo, hi = float(aus.min()), float(aus.max())
    if lo < -1e-4 or hi > AU_MAX + 1e-4:
        raise ValueError(f"{name} must lie in [0, {AU_MAX:g}], got values in [{lo:.3g}, {hi:.3g}]")
    return aus


def check_probs(p: object, name: str = "probabilities") -> torch.Tensor:
    """An (N, 7) tensor of emotion probabilities whose rows sum to 1."""
    if not isinstance(p, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(p).__name__}")
    if p.ndim != 2 or p.shape[1] != len(EMOTIONS):
        raise ValueError(f"{name} must have shape (N, {len(EMOTIONS)}), got {tuple(p.shape)}")
    if not torch.isfinite(p).all():
        raise ValueError(f"{name} contain NaN or inf values")
    if float(p.min()) < -1e-6 or not torch.allclose(p.sum(1), torch.ones_like(p[:, 0]), atol=1e-3):
        raise ValueError(f"{name} must be non-negative with rows summing to 1 (a softmax)")
    return p


def check_same_length(**tensors: torch.Tensor) -> int:
    """All tensors have the same first dimension; return it."""
    lengths = {k: int(v.shape[0]) for k, v in tensors.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"inputs must have the same number of rows, got {lengths}")
    return next(iter(lengths.values()))
