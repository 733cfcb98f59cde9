"""Fréchet distance, pixel metrics and IS, cross-checked against closed forms and independent libraries."""

import numpy as np
import pytest
import scipy.linalg
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from gamutlib.metrics import (
    fed,
    frechet_distance,
    frechet_distance_of_features,
    gaussian_stats,
    inception_score_of_logits,
    l1_error,
    ms_ssim,
    mse_error,
    psnr,
    reconstruction_quality,
    ssim,
)
from gamutlib.metrics.frechet import fed_real_halves
from gamutlib.metrics.ssim import ms_ssim_scales


def test_frechet_distance_closed_form_diagonal_gaussians():
    # For diagonal covariances d^2 = |mu1 - mu2|^2 + sum_i (sqrt(s1_i) - sqrt(s2_i))^2.
    mu1, mu2 = np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.0, 0.5])
    s1, s2 = np.array([1.0, 4.0, 0.25]), np.array([9.0, 1.0, 0.25])
    expected = ((mu1 - mu2) ** 2).sum() + ((np.sqrt(s1) - np.sqrt(s2)) ** 2).sum()
    assert frechet_distance(mu1, np.diag(s1), mu2, np.diag(s2)) == pytest.approx(expected, rel=1e-9)
    assert expected == pytest.approx(1 + 6.25 + 4 + 1)


def test_frechet_distance_matches_symmetric_eigen_formula():
    # Independent route: Tr (S1 S2)^{1/2} = Tr (S1^{1/2} S2 S1^{1/2})^{1/2}, via eigh of symmetric matrices.
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(6, 6)), rng.normal(size=(6, 6))
    s1, s2 = a @ a.T + 0.1 * np.eye(6), b @ b.T + 0.1 * np.eye(6)
    mu1, mu2 = rng.normal(size=6), rng.normal(size=6)
    root1 = scipy.linalg.sqrtm(s1).real
    w = np.linalg.eigvalsh(root1 @ s2 @ root1)
    expected = ((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(np.clip(w, 0, None)).sum()
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-7)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0.0, abs=1e-8)


def test_frechet_distance_of_samples_approaches_the_closed_form():
    g = torch.Generator().manual_seed(1)
    n = 20000
    real = torch.randn(n, 4, generator=g, dtype=torch.float64) * torch.tensor([1.0, 2.0, 0.5, 1.0]) + torch.tensor([0.0, 0.0, 1.0, 0.0])
    fake = torch.randn(n, 4, generator=g, dtype=torch.float64) * torch.tensor([1.0, 1.0, 0.5, 3.0])
    expected = 1.0 + (2 - 1) ** 2 + (1 - 3) ** 2  # mean shift 1 in dim 2; std 2 vs 1; std 1 vs 3
    assert frechet_distance_of_features(real, fake) == pytest.approx(expected, rel=0.05)
    mu, sigma = gaussian_stats(real)
    assert np.allclose(mu, [0, 0, 1, 0], atol=0.05) and sigma.shape == (4, 4)


def test_fed_protocol_uses_the_feature_function():
    g = torch.Generator().manual_seed(2)
    real = torch.rand(64, 3, 8, 8, generator=g) * 2 - 1
    fake = real.clone()
    features = lambda x: x.mean((2, 3))  # noqa: E731  (per-channel brightness as "features")
    assert fed(features, real, fake)["fed"] == pytest.approx(0, abs=1e-8)
    shifted = (fake + 0.5).clamp(-1, 1)
    out = fed(features, real, shifted, batch_size=10)
    assert out["fed"] > 0.1 and out["n_real"] == 64
    halves = fed_real_halves(features, real, seed=0)
    assert 0 < halves["fed"] < out["fed"]


def test_frechet_rejects_bad_input():
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(2), np.eye(2), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        gaussian_stats(torch.tensor([[0.0, float("nan")], [1.0, 2.0]]))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        fed(lambda x: x.mean((2, 3)), torch.rand(4, 3, 8, 8) * 255, torch.rand(4, 3, 8, 8))


def _pair(seed: int, shape=(2, 3, 48, 40)):
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(shape, generator=g) * 2 - 1
    b = (a + 0.2 * torch.randn(shape, generator=g)).clamp(-1, 1)
    return a, b


def _unit(x):
    return ((x + 1) / 2).numpy()


def test_ssim_and_psnr_match_scikit_image():
    a, b = _pair(3)
    ref_ssim = np.mean([
        structural_similarity(_unit(a[i]), _unit(b[i]), data_range=1, channel_axis=0, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
        for i in range(len(a))
    ])
    ref_psnr = np.mean([peak_signal_noise_ratio(_unit(a[i]), _unit(b[i]), data_range=1) for i in range(len(a))])
    assert ssim(a, b) == pytest.approx(ref_ssim, abs=1e-5)
    assert psnr(a, b) == pytest.approx(ref_psnr, abs=1e-3)
    assert ssim(a, a) == pytest.approx(1.0, abs=1e-6)


def test_pixel_errors_on_the_unit_scale():
    a = torch.full((1, 3, 16, 16), -1.0)
    b = torch.full((1, 3, 16, 16), 0.0)  # 0 and 0.5 on the [0, 1] scale
    assert l1_error(a, b) == pytest.approx(0.5)
    assert mse_error(a, b) == pytest.approx(0.25)
    assert psnr(a, b) == pytest.approx(10 * np.log10(1 / 0.25), abs=1e-4)


def test_ms_ssim_scales_and_range():
    assert ms_ssim_scales(256) == 5 and ms_ssim_scales(128) == 4 and ms_ssim_scales(64) == 3
    a, b = _pair(4, (2, 3, 64, 64))
    value = ms_ssim(a, b)
    assert 0 < value < 1 and ms_ssim(a, a) == pytest.approx(1.0, abs=1e-5)
    out = reconstruction_quality(a, b)
    assert out["ms_ssim_scales"] == 3 and out["psnr"] > 0 and out["ssim"] == pytest.approx(ssim(a, b))


def test_pixel_metrics_reject_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        ssim(torch.zeros(1, 3, 32, 32), torch.zeros(1, 3, 16, 16))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        psnr(torch.zeros(3, 32, 32), torch.zeros(3, 32, 32))


def test_inception_score_limits():
    # Uniform softmax: every face says nothing -> IS = 1.
    assert inception_score_of_logits(torch.zeros(100, 7))[0] == pytest.approx(1.0)
    # Confident and balanced over 7 classes within each split -> IS = 7.
    logits = torch.full((70 * 10, 7), -30.0)
    logits[torch.arange(700), torch.arange(700) % 7] = 30.0
    mean, std = inception_score_of_logits(logits, splits=10)
    assert 6.0 < mean <= 7.0 + 1e-6 and std < 1.0
    # Confident but always the same class -> IS = 1.
    same = torch.full((100, 7), -30.0)
    same[:, 2] = 30.0
    assert inception_score_of_logits(same)[0] == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="splits"):
        inception_score_of_logits(torch.zeros(5, 7), splits=10)
