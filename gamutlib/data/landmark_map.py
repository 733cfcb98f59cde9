"""Rasterise 68 iBUG landmarks into a one-channel boundary map.

Landmark-conditioned generators (PortraitGAN) are fed the face's contours as
an image rather than as 136 numbers, so that a convolution sees a jaw line
where the jaw is. The map draws the iBUG facial contours — jaw, both brows,
nose bridge, nose base, both eyes and both lips as closed polygons — as
anti-aliased lines of a given width: a pixel's value is the coverage of a
line of that width through its centre, approximated by
``clamp(width / 2 + 0.5 - distance, 0, 1)``, so sub-pixel motion of a
landmark changes the map smoothly instead of jumping a whole pixel.

Pixel convention (as dlib and the landmark contract): the centre of pixel
(row i, column j) sits at (x, y) = (j, i).

The computation is plain batched tensor maths (distance of the pixels near
each segment to it, then a max over segments by scatter), so it gives the
same map on CPU and GPU; the batch is processed in chunks to bound memory.
"""

from __future__ import annotations

import torch

from gamutlib.constants import N_LANDMARKS

__all__ = ["IBUG_CONTOURS", "contour_segments", "landmark_boundary_map"]

# (first, last, closed) index ranges of the iBUG 300-W 68-point layout.
IBUG_CONTOURS: dict[str, tuple[int, int, bool]] = {
    "jaw": (0, 16, False),
    "right_brow": (17, 21, False),
    "left_brow": (22, 26, False),
    "nose_bridge": (27, 30, False),
    "nose_base": (31, 35, False),
    "right_eye": (36, 41, True),
    "left_eye": (42, 47, True),
    "outer_lips": (48, 59, True),
    "inner_lips": (60, 67, True),
}


def contour_segments() -> torch.Tensor:
    """(S, 2) long tensor of landmark index pairs joined by a line."""
    pairs: list[tuple[int, int]] = []
    for first, last, closed in IBUG_CONTOURS.values():
        idx = list(range(first, last + 1))
        pairs += list(zip(idx[:-1], idx[1:]))
        if closed:
            pairs.append((last, first))
    return torch.tensor(pairs, dtype=torch.long)


_SEGMENTS = contour_segments()


def landmark_boundary_map(
    landmarks: torch.Tensor,
    size: int | tuple[int, int],
    width: float = 1.5,
    max_elements: int = 1 << 24,
) -> torch.Tensor:
    """(N, 68, 2) pixel landmarks -> (N, 1, H, W) boundary map in [0, 1].

    ``width`` is the line width in pixels of the output image; scale it with
    the image size (1.5 px suits 128 px). ``max_elements`` caps the temporary
    (chunk, segments, P, P) distance tensor.
    """
    if not isinstance(landmarks, torch.Tensor):
        raise TypeError(f"landmarks: expected a torch.Tensor, got {type(landmarks).__name__}")
    if landmarks.ndim != 3 or landmarks.shape[1:] != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks: expected shape (N, {N_LANDMARKS}, 2), got {tuple(landmarks.shape)}")
    if not torch.isfinite(landmarks).all():
        raise ValueError("landmarks: contains NaN or inf")
    h, w = (size, size) if isinstance(size, int) else size
    if h <= 0 or w <= 0:
        raise ValueError(f"size must be positive, got {size}")
    if width <= 0:
        raise ValueError(f"width must be positive, got {width}")

    device = landmarks.device
    points = landmarks.float()
    seg = _SEGMENTS.to(device)
    a = points[:, seg[:, 0]]  # (N, S, 2)
    b = points[:, seg[:, 1]]
    ab = b - a
    ab_len2 = (ab * ab).sum(-1).clamp_min(1e-12)  # degenerate segments act as points

    # A pixel is touched only within `reach` of a segment, so each segment is
    # evaluated on its own bounding patch (P x P, P from the longest segment)
    # instead of the whole image: at 128 px that is ~30x less work.
    reach = width / 2 + 0.5
    lo = (torch.minimum(a, b) - reach).floor()
    extent = (torch.maximum(a, b) + reach).ceil() - lo + 1
    p = int(extent.max().clamp(max=max(h, w) + 2 * reach + 2).item()) if points.shape[0] else 1
    offs = torch.arange(p, device=device, dtype=torch.float32)

    n, s = points.shape[0], seg.shape[0]
    chunk = max(1, max_elements // max(1, s * p * p))
    out = torch.zeros(n, h * w, device=device, dtype=torch.float32)
    for start in range(0, n, chunk):
        sl = slice(start, start + chunk)
        px = (lo[sl, :, 0, None] + offs)[:, :, None, :]  # (c, S, 1, P) pixel x
        py = (lo[sl, :, 1, None] + offs)[:, :, :, None]  # (c, S, P, 1) pixel y
        apx, apy = px - a[sl, :, 0, None, None], py - a[sl, :, 1, None, None]
        abx, aby = ab[sl, :, 0, None, None], ab[sl, :, 1, None, None]
        t = ((apx * abx + apy * aby) / ab_len2[sl, :, None, None]).clamp(0.0, 1.0)
        dist = torch.hypot(apx - t * abx, apy - t * aby)  # (c, S, P, P)
        value = (reach - dist).clamp(0.0, 1.0)
        inside = (px >= 0) & (px < w) & (py >= 0) & (py < h)
        value = torch.where(inside, value, torch.zeros((), device=device))
        index = (py.clamp(0, h - 1) * w + px.clamp(0, w - 1)).long().expand_as(value)
        out[sl] = out[sl].scatter_reduce(1, index.flatten(1), value.flatten(1), reduce="amax")
    return out.reshape(n, 1, h, w)
