"""Fréchet Emotion Distance (GANmut 5, Table 2).

FED is FID with the Inception network replaced by an emotion classifier: fit a
Gaussian to the penultimate features of real and of generated faces and take
the Fréchet (2-Wasserstein) distance between the two,

    d^2 = |mu_1 - mu_2|^2 + Tr(S_1 + S_2 - 2 (S_1 S_2)^{1/2}).

The matrix square root comes from scipy.linalg.sqrtm, in float64.
"""

from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import scipy.linalg
import torch

from gamutlib.metrics.batched import map_batches
from gamutlib.metrics.checks import check_images


def gaussian_stats(features: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and (unbiased) covariance of an (N, D) feature matrix, float64."""
    f = features.detach().double().cpu().numpy() if isinstance(features, torch.Tensor) else np.asarray(features, np.float64)
    if f.ndim != 2 or f.shape[0] < 2:
        raise ValueError(f"features must have shape (N >= 2, D), got {f.shape}")
    if not np.isfinite(f).all():
        raise ValueError("features contain NaN or inf values")
    return f.mean(0), np.cov(f, rowvar=False)


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2)."""
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape or sigma1.shape != (mu1.size, mu1.size):
        raise ValueError(
            f"shape mismatch: mu {mu1.shape} vs {mu2.shape}, sigma {sigma1.shape} vs {sigma2.shape}"
        )
    diff = mu1 - mu2
    with warnings.catch_warnings():
        # Penultimate ReLU features have dead units, so the covariances are
        # often singular and scipy warns that sqrtm "might be inaccurate"
        # (with this file's absolute path, into the book). The result is
        # checked below instead: non-finite -> regularised, large imaginary
        # part -> error.
        warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
        covmean = scipy.linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        # Singular product (fewer samples than dimensions): regularise both
        # covariances slightly, as FID implementations do.
        offset = np.eye(sigma1.shape[0]) * eps
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", scipy.linalg.LinAlgWarning)
            covmean = scipy.linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        # Round-off gives a tiny imaginary part; a large one means the inputs
        # were not covariance matrices.
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3 * max(1.0, np.abs(covmean).max())):
            raise ValueError(f"sqrtm gave a large imaginary component {np.abs(covmean.imag).max():.3g}")
        covmean = covmean.real
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def frechet_distance_of_features(real: torch.Tensor | np.ndarray, fake: torch.Tensor | np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two (N, D) feature sets."""
    mu1, s1 = gaussian_stats(real)
    mu2, s2 = gaussian_stats(fake)
    return frechet_distance(mu1, s1, mu2, s2)


def fed(
    features: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    fake: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """FED between real and generated faces, on ``features`` (the emotion judge's penultimate layer)."""
    check_images(real, "real")
    check_images(fake, "fake")
    f_real = map_batches(features, real, batch_size, device)
    f_fake = map_batches(features, fake, batch_size, device)
    return {"fed": frechet_distance_of_features(f_real, f_fake), "n_real": len(real), "n_fake": len(fake)}


def fed_real_halves(
    features: Callable[[torch.Tensor], torch.Tensor],
    real: torch.Tensor,
    seed: int = 0,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """The paper's "Real" row: FED between two random halves of the real test faces."""
    check_images(real, "real")
    order = torch.randperm(len(real), generator=torch.Generator().manual_seed(seed)).to(real.device)
    half = len(real) // 2
    out = fed(features, real[order[:half]], real[order[half : 2 * half]], batch_size, device)
    return {**out, "seed": seed}
