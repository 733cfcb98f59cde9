"""Conditioning on action units: what the FineGrained series' methods share.

Ling et al. (2020) condition G on AUs normalised to [0, 1] (Sec. 3: "each AU is
normalized between 0 and 1"); the renderer and the judges hold them on
OpenFace's [0, 5] scale (README "Data"), so batches are divided by AU_MAX here
and nowhere else. A target is the AU vector of another face of the batch
(GANimation's and the reference code's draw: targets follow the data's AU
distribution), and G sees either

- the relative vector v_rel = v_tgt - v_src (paper Eq. 1), whose zero vector
  asks for no change: the self-reconstruction G(x, 0) and the cycle
  G(G(x, v_rel), -v_rel) of Eq. 7; or
- the absolute target v_tgt (GANimation's setting, the "w/o v_rel" ablation),
  whose "no change" is the source's own AUs v_src.
"""

from __future__ import annotations

from typing import Any, Iterator

import torch

from gamutlib.constants import AU_MAX, AU_NAMES
from gamutlib.models.translation import random_flip

N_AUS = len(AU_NAMES)


def normalized_aus(aus: torch.Tensor) -> torch.Tensor:
    """OpenFace intensities [0, 5] -> the paper's [0, 1]."""
    if aus.dim() != 2 or aus.shape[1] != N_AUS:
        raise ValueError(f"AUs must be (N, {N_AUS}) in OpenFace order; got {tuple(aus.shape)}")
    return aus / AU_MAX


def target_aus(v_src: torch.Tensor, noise: float = 0.0) -> torch.Tensor:
    """Targets: the batch's own AU vectors permuted (argsort of uniform noise,
    which a captured CUDA graph redraws at every replay), plus uniform noise
    in [-noise, noise] (GANimation's code jitters its targets by 0.1), kept in [0, 1]."""
    v_tgt = v_src[torch.rand(v_src.shape[0], device=v_src.device).argsort()]
    if noise:
        v_tgt = (v_tgt + (torch.rand_like(v_tgt) * 2 - 1) * noise).clamp(0, 1)
    return v_tgt


def condition(v_src: torch.Tensor, v_tgt: torch.Tensor, relative: bool) -> torch.Tensor:
    """What G is given to go from v_src to v_tgt: v_rel (Eq. 1) or the absolute target."""
    return v_tgt - v_src if relative else v_tgt


def identity_condition(v_src: torch.Tensor, relative: bool) -> torch.Tensor:
    """The condition that asks for no change: 0 (relative) or v_src (absolute)."""
    return torch.zeros_like(v_src) if relative else v_src


class AUBatches:
    """Training faces with their AUs in [0, 1] under ``"v_src"``, mirrored at
    random like the GANmut series' batches (AU intensities are not sided, so a
    mirrored face keeps its AUs). Resumable like the stream it wraps."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream
        self._iter: Iterator[dict[str, torch.Tensor]] | None = None

    def __iter__(self) -> "AUBatches":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        if self._iter is None:
            self._iter = iter(self.stream)
        batch = next(self._iter)
        return {"image": random_flip(batch["image"]), "v_src": normalized_aus(batch["aus"])}

    def __getattr__(self, name: str) -> Any:
        if name in ("state_dict", "load_state_dict"):
            return getattr(self.stream, name)
        raise AttributeError(name)


def au_batches(batch_size: int, image_size: int, device: torch.device, seed: int) -> AUBatches:
    from gamutlib.data import FaceStream

    return AUBatches(FaceStream(batch_size, size=image_size, split="train", seed=seed, device=device))
