"""MS-SSIM against the reference implementation of Wang et al. (pytorch_msssim)."""

import pytest
import torch
import torch.nn.functional as F
from pytorch_msssim import ms_ssim as reference_ms_ssim

from gamutlib.metrics.ssim import MS_SSIM_BETAS, ms_ssim, ms_ssim_scales


def _reference(a: torch.Tensor, b: torch.Tensor) -> float:
    return float(reference_ms_ssim((a + 1) / 2, (b + 1) / 2, data_range=1.0))


def _faces(size: int) -> torch.Tensor:
    from gamutlib.faces.identity import identities_from_ids
    from gamutlib.faces.render import render

    aus = torch.zeros(3, 17)
    aus[1, 8] = 3.0  # one smiling face among neutral ones
    return render(identities_from_ids(torch.arange(3)), aus, size=size)["image"].float()


@pytest.mark.parametrize("shape", [(256, 256), (203, 203), (250, 320), (161, 170)])
def test_ms_ssim_matches_the_reference_on_noise(shape):
    g = torch.Generator().manual_seed(sum(shape))
    a = torch.rand(3, 3, *shape, generator=g) * 2 - 1
    b = (a + 0.4 * torch.randn(a.shape, generator=g)).clamp(-1, 1)
    assert ms_ssim_scales(min(shape)) == 5
    assert abs(ms_ssim(a, b) - _reference(a, b)) <= 1e-4


def test_ms_ssim_matches_the_reference_on_edited_faces():
    # The case the metric exists for: a face against a changed copy of itself
    # (blurred, shifted a pixel, a colour cast) and against another face.
    faces = _faces(256)
    blurred = F.avg_pool2d(faces, 3, stride=1, padding=1, count_include_pad=False)
    shifted = torch.roll(faces, shifts=1, dims=-1)
    tinted = (faces + torch.tensor([0.15, -0.05, 0.0]).view(1, 3, 1, 1)).clamp(-1, 1)
    others = faces.roll(1, dims=0)
    for changed in (blurred, shifted, tinted, others):
        ours, ref = ms_ssim(changed, faces), _reference(changed, faces)
        assert abs(ours - ref) <= 1e-4, (ours, ref)
    assert ms_ssim(faces, faces) == pytest.approx(1.0, abs=1e-6)


def test_ms_ssim_fewer_scales_match_the_reference_with_renormalised_weights():
    # Faces below 161 px get fewer scales with the weights renormalised. The
    # reference refuses such sizes, but on a 256 px pair it computes the same
    # fewer-scale formula when given those weights.
    g = torch.Generator().manual_seed(0)
    a = torch.rand(2, 3, 256, 256, generator=g) * 2 - 1
    b = (a + 0.3 * torch.randn(a.shape, generator=g)).clamp(-1, 1)
    for scales in (4, 3):
        weights = torch.tensor(MS_SSIM_BETAS[:scales])
        weights = (weights / weights.sum()).tolist()
        ref = float(reference_ms_ssim((a + 1) / 2, (b + 1) / 2, data_range=1.0, weights=weights))
        assert abs(ms_ssim(a, b, scales=scales) - ref) <= 1e-4
    assert ms_ssim_scales(160) == 4 and ms_ssim_scales(128) == 4 and ms_ssim_scales(64) == 3
    assert ms_ssim(a[..., :128, :128], b[..., :128, :128]) == ms_ssim(a[..., :128, :128], b[..., :128, :128], scales=4)
    with pytest.raises(ValueError, match="allow 1..4 MS-SSIM scales, got 5"):
        ms_ssim(a[..., :128, :128], b[..., :128, :128], scales=5)
    with pytest.raises(ValueError, match="at least 11 px"):
        ms_ssim(a[..., :8, :8], b[..., :8, :8])
