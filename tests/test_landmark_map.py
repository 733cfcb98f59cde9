"""The landmark boundary map: geometry, anti-aliasing, batching, devices."""

import pytest
import torch

from gamutlib.data.landmark_map import IBUG_CONTOURS, contour_segments, landmark_boundary_map


def _jaw_on_row(y: float = 10.0) -> torch.Tensor:
    """Jaw (0-16) along the row y from x=5 to x=21; every other point on the jaw's first point."""
    lm = torch.zeros(1, 68, 2)
    lm[0, :, 0], lm[0, :, 1] = 5.0, y
    lm[0, :17, 0] = torch.arange(5.0, 22.0)
    return lm


def test_segments_follow_ibug_contours():
    seg = contour_segments()
    # 16 jaw + 4 + 4 brows + 3 bridge + 4 base + 6 + 6 eyes + 12 outer + 8 inner lips
    assert seg.shape == (63, 2)
    pairs = {tuple(p) for p in seg.tolist()}
    assert (41, 36) in pairs and (47, 42) in pairs and (59, 48) in pairs and (67, 60) in pairs
    assert (16, 0) not in pairs and (21, 17) not in pairs  # open contours stay open
    assert (16, 17) not in pairs and (30, 31) not in pairs  # no line between contours
    assert sum(last - first + closed for first, last, closed in IBUG_CONTOURS.values()) == 63


def test_line_profile_is_closed_form():
    width = 1.5
    m = landmark_boundary_map(_jaw_on_row(10.0), 32, width=width)[0, 0]
    assert m.shape == (32, 32)
    assert torch.allclose(m[10, 5:22], torch.ones(17))
    # coverage = clamp(width / 2 + 0.5 - distance, 0, 1)
    assert m[11, 12].item() == pytest.approx(width / 2 + 0.5 - 1.0)
    assert m[9, 12].item() == pytest.approx(width / 2 + 0.5 - 1.0)
    assert m[13, 12].item() == 0.0 and m[10, 25].item() == 0.0
    assert m.min() >= 0 and m.max() <= 1


def test_subpixel_shift_changes_map_smoothly():
    lm = _jaw_on_row(10.0)
    a = landmark_boundary_map(lm, 32)
    b = landmark_boundary_map(lm + torch.tensor([0.0, 0.25]), 32)
    diff = (a - b).abs()
    assert diff.max().item() == pytest.approx(0.25, abs=1e-5)  # no whole-pixel jump
    assert diff.sum() > 0


def test_every_landmark_is_drawn():
    g = torch.Generator().manual_seed(1)
    lm = torch.rand(3, 68, 2, generator=g) * 60 + 2
    m = landmark_boundary_map(lm, 64)
    near = lm.round().long()
    values = m[torch.arange(3)[:, None], 0, near[..., 1], near[..., 0]]
    # The nearest pixel centre is at most sqrt(0.5) px from a point on a line.
    assert values.min().item() > 0.5


def test_batched_and_chunked_match_single():
    g = torch.Generator().manual_seed(2)
    lm = torch.rand(5, 68, 2, generator=g) * 40 + 4
    full = landmark_boundary_map(lm, (48, 40))
    assert full.shape == (5, 1, 48, 40)
    chunked = landmark_boundary_map(lm, (48, 40), max_elements=1)  # one face per chunk
    single = torch.cat([landmark_boundary_map(lm[i : i + 1], (48, 40)) for i in range(5)])
    assert torch.equal(full, chunked)
    assert torch.allclose(full, single)
    assert torch.allclose(landmark_boundary_map(lm.double(), (48, 40)), full)


def _brute_force(landmarks: torch.Tensor, h: int, w: int, width: float) -> torch.Tensor:
    """Every pixel against every segment, no patches: the definition itself."""
    seg = contour_segments()
    a, b = landmarks[:, seg[:, 0]].double(), landmarks[:, seg[:, 1]].double()
    ys, xs = torch.meshgrid(torch.arange(h).double(), torch.arange(w).double(), indexing="ij")
    p = torch.stack([xs, ys], -1).reshape(1, 1, -1, 2)
    ab, ap = (b - a)[:, :, None], p - a[:, :, None]
    t = ((ap * ab).sum(-1) / (ab * ab).sum(-1).clamp_min(1e-12)).clamp(0, 1)
    d = (ap - t[..., None] * ab).norm(dim=-1).amin(1)
    return (width / 2 + 0.5 - d).clamp(0, 1).reshape(-1, 1, h, w).float()


def test_patches_agree_with_brute_force_including_borders():
    g = torch.Generator().manual_seed(4)
    # Faces partly outside the image and one with long segments.
    lm = torch.cat([torch.rand(2, 68, 2, generator=g) * 20 - 4 + torch.tensor([30.0, 25.0]),
                    torch.rand(1, 68, 2, generator=g) * 70 - 5])
    for width in (1.0, 1.5, 3.0):
        assert torch.allclose(landmark_boundary_map(lm, (40, 56), width=width),
                              _brute_force(lm, 40, 56, width), atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no GPU here")
def test_same_map_on_gpu():
    lm = torch.rand(2, 68, 2) * 60
    assert torch.allclose(landmark_boundary_map(lm, 64), landmark_boundary_map(lm.cuda(), 64).cpu(), atol=1e-5)


def test_bad_input_errors():
    with pytest.raises(ValueError, match=r"\(N, 68, 2\)"):
        landmark_boundary_map(torch.zeros(2, 5, 2), 32)
    bad = torch.zeros(1, 68, 2)
    bad[0, 3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        landmark_boundary_map(bad, 32)
    with pytest.raises(ValueError, match="width"):
        landmark_boundary_map(torch.zeros(1, 68, 2), 32, width=0)
    with pytest.raises(TypeError):
        landmark_boundary_map([[0, 0]] * 68, 32)
