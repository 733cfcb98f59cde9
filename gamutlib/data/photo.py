"""A real photo to edit: find its face cheaply, align it, paste the edit back.

`gamut edit` on a camera photo used to decode it to float, run dlib's
detector at full resolution with 2x upsampling and warp the whole frame back:
28 s and 3.6 GB for 24 MP. Here:

- the photo stays the decoded PIL image (no copy of the frame: at 24 MP each
  costs a tenth of a second) and only the face's neighbourhood is ever turned
  into a float tensor; the box filter of a large shrink is done on the uint8
  region (PIL's ``reduce``) before it becomes one;
- dlib's detector runs on a copy reduced to at most ``DETECT_SIDE`` pixels on
  its longer side (a face that fills a 24 MP frame is still ~200 px there),
  without upsampling first; the 68 landmarks are then found at full
  resolution around the detection. The dlib models can be loaded in a helper
  process while torch is imported (``finder``, `gamutlib.face_finder`);
- the edited crop goes back through the landmarks' convex hull, feathered
  inwards (`gamutlib.data.align.face_hull_mask`), over the hull's bounding
  box only: pixels outside the face are the input's, bit for bit.
  ``gamut bench photo-edit`` times the whole command.

Photos above ``gamutlib.data.images.MAX_PIXELS`` are refused from their
header, before decoding. The generators shipped with gamut were trained on
rendered faces, not photographs: `DOMAIN_GAP_NOTE` says so where a photo is
edited.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gamutlib.data import align as _align
from gamutlib.data.align import eye_alignment_transform, invert_affine, paste_back, warp_affine
from gamutlib.data.images import image_from_array, image_to_uint8, open_rgb
from gamutlib.face_finder import FaceFinder

__all__ = ["DETECT_SIDE", "DOMAIN_GAP_NOTE", "MAX_UPSCALE", "PhotoFace", "align_photo", "detect_photo_landmarks", "is_photo"]

#: Longer side of the reduced copy dlib's face detector runs on.
DETECT_SIDE = 1024

#: The most a face may be enlarged to fill the crop: a face whose eyes are
#: closer than a quarter of the crop's eye distance has too few pixels to edit.
MAX_UPSCALE = 4.0

DOMAIN_GAP_NOTE = (
    "the shipped generators were trained on gamut's rendered faces, not on photographs: "
    "on a real photo the edit is weak, may keep the input's expression and shift colours "
    "(measured in the book's chapter 'Renders and photographs')"
)


def is_photo(path: str | Path, size: int, align: str = "auto") -> bool:
    """Whether ``path`` is to be aligned as a photo rather than used as a ``size`` px crop.

    Reads the header only. Any file that cannot be opened answers False, so
    the caller's reader reports what is wrong with it.
    """
    if align == "never":
        return False
    try:
        with Image.open(path) as img:
            w, h = img.size
    except Exception:  # noqa: BLE001 -- the reader gives the precise error
        return False
    return align == "always" or (w, h) != (size, size)


def local_face_finder() -> FaceFinder:
    """A finder in this process, through this package's dlib loaders (which tests replace)."""
    return FaceFinder(lambda: (_align.require_dlib(), _align.face_detector(), _align.load_shape_predictor()))


def _pixels(photo: np.ndarray | Image.Image, box: tuple[int, int, int, int]) -> np.ndarray:
    """(h, w, 3) uint8 pixels of ``box`` (x0, y0, x1, y1) of an array or a PIL image."""
    x0, y0, x1, y1 = box
    if isinstance(photo, Image.Image):
        return np.asarray(photo.crop(box))
    return photo[y0:y1, x0:x1]


def _size(photo: np.ndarray | Image.Image) -> tuple[int, int]:
    """(height, width)."""
    return (photo.height, photo.width) if isinstance(photo, Image.Image) else photo.shape[:2]


def detect_photo_landmarks(
    photo: np.ndarray | Image.Image,
    small: np.ndarray | None = None,
    upsample: int = 1,
    finder: FaceFinder | None = None,
) -> torch.Tensor | None:
    """dlib's 68 landmarks (photo pixels) of the largest face, or None.

    ``small`` is the photo reduced by an integer factor (pixel i of it
    averaging photo pixels k i .. k i + k - 1), on which the detector runs;
    None runs it on the photo itself. The detector first runs without
    upsampling, then, if it found nothing, with ``upsample``. ``finder``
    holds the dlib models (default: loaded in this process).
    """
    finder = finder or local_face_finder()
    h, w = _size(photo)
    if small is None:
        small, k = (np.asarray(photo) if isinstance(photo, Image.Image) else photo), 1
    else:
        k = round(w / small.shape[1])
    # Without upsampling dlib's detector takes a quarter of the time and finds
    # every face above ~80 px of the copy (a portrait's); smaller ones are
    # searched again at ``upsample``.
    rect = None
    for up in sorted({0, upsample}):
        rect = finder.largest_face(small, up)
        if rect is not None:
            break
    if rect is None:
        return None
    left, top = rect[0] * k, rect[1] * k
    right, bottom = rect[2] * k + k - 1, rect[3] * k + k - 1
    # The shape predictor needs only the face and some context; copying that
    # region keeps dlib from converting the whole frame.
    margin = max(right - left, bottom - top) // 2 + 1
    x0, y0 = max(left - margin, 0), max(top - margin, 0)
    x1, y1 = min(right + margin + 1, w), min(bottom + margin + 1, h)
    points = finder.landmarks(_pixels(photo, (x0, y0, x1, y1)), (left - x0, top - y0, right - x0, bottom - y0))
    return torch.from_numpy(points) + torch.tensor([float(x0), float(y0)])


@dataclass
class PhotoFace:
    """A photo's aligned face and the way back into the photo.

    The photo is kept as the decoded PIL image: a 24 MP frame is never copied
    into an array unless `photo` or `paste` asks for one.
    """

    face: torch.Tensor  # (1, 3, S, S) in [-1, 1]
    image: Image.Image  # the whole photo, RGB
    transform: torch.Tensor  # (1, 2, 3) photo pixels -> face pixels
    landmarks: torch.Tensor  # (68, 2) in photo pixels
    description: str

    @property
    def photo(self) -> np.ndarray:
        """(H, W, 3) uint8, the whole photo (a read-only array)."""
        return np.asarray(self.image)

    def edited_region(self, edited: torch.Tensor, feather: float = 0.1) -> tuple[tuple[int, int], np.ndarray]:
        """``edited`` (1, 3, S, S) blended into the photo over the face hull, as
        ((x0, y0), the uint8 (h, w, 3) pixels of the hull's bounding box from there);
        the rest of the photo is unchanged by construction."""
        w, h = self.image.size
        x0, y0 = (max(int(math.floor(v)) - 2, 0) for v in self.landmarks.min(0).values.tolist())
        x1, y1 = (min(int(math.ceil(v)) + 3, lim) for v, lim in zip(self.landmarks.max(0).values.tolist(), (w, h)))
        region = image_from_array(_pixels(self.image, (x0, y0, x1, y1)))
        offset = torch.tensor([float(x0), float(y0)])
        blended = paste_back(
            region, edited.float().cpu(), _shift(self.transform, offset), feather, landmarks=self.landmarks - offset
        )
        return (x0, y0), image_to_uint8(blended)[0]

    def paste(self, edited: torch.Tensor, feather: float = 0.1) -> np.ndarray:
        """The photo with ``edited`` (1, 3, S, S) blended in over the face hull, uint8 (H, W, 3)."""
        (x0, y0), region = self.edited_region(edited, feather)
        out = np.array(self.image)
        out[y0 : y0 + region.shape[0], x0 : x0 + region.shape[1]] = region
        return out

    def paste_image(self, edited: torch.Tensor, feather: float = 0.1, copy: bool = True) -> Image.Image:
        """`paste` as a PIL image; ``copy=False`` pastes into this face's own
        ``image`` (no copy of the frame: for a photo written once and dropped)."""
        corner, region = self.edited_region(edited, feather)
        out = self.image.copy() if copy else self.image
        out.paste(Image.fromarray(region), corner)
        return out


def _shift(transform: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """The transform of a region whose origin is ``offset`` in the photo: x -> T(x + offset)."""
    out = transform.clone()
    out[..., :, 2] = transform[..., :, 2] + transform[..., :, :2] @ offset.to(transform.dtype)
    return out


def align_photo(
    source: str | Path | np.ndarray | Image.Image,
    size: int,
    detect_side: int = DETECT_SIDE,
    name: str | None = None,
    finder: FaceFinder | None = None,
) -> PhotoFace:
    """Read a photo (a file, or an (H, W, 3) uint8 array or a PIL image called ``name``),
    find its largest face and align it to a ``size`` px crop.

    ``finder`` holds dlib's models (`gamutlib.face_finder.start_face_finder`
    loads them in a helper process while torch is imported); default: loaded
    here.

    Every failure is one ValueError naming the file: unreadable or oversized,
    no face found, a face too small to fill the crop.
    """
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim != 3 or source.shape[-1] != 3:
            raise ValueError(f"{name or 'photo'}: expected an (H, W, 3) uint8 array, got {source.dtype} {source.shape}")
        path = Path(name or "photo")
        rgb = Image.fromarray(source)
    elif isinstance(source, Image.Image):
        path = Path(name or "photo")
        rgb = source if source.mode == "RGB" else source.convert("RGB")
    else:
        path = Path(source)
        rgb = open_rgb(path)
    w, h = rgb.size
    finder = finder or local_face_finder()
    try:  # before any work: dlib, its detector and the 68-point model of the real extra
        finder.check()
    except (ImportError, FileNotFoundError) as err:
        raise ValueError(
            f"{path} is a {w}x{h} photo; aligning it needs dlib and its landmark model "
            f"(pip install 'gamut[real]'), or give a {size}x{size} face crop: {err}"
        ) from None
    k = max(1, math.ceil(max(w, h) / detect_side))
    small = np.asarray(rgb.reduce(k)) if k > 1 else None
    landmarks = detect_photo_landmarks(rgb, small, finder=finder)
    if landmarks is None:
        searched = f" (searched a {small.shape[1]}x{small.shape[0]} copy)" if small is not None else ""
        raise ValueError(f"dlib found no face in {path}{searched}")
    transform = eye_alignment_transform(landmarks[None], size)
    scale = float(torch.det(transform[0, :, :2].double()).abs().sqrt())
    if scale > MAX_UPSCALE:
        raise ValueError(
            f"the face in {path} is too small: it would be enlarged {scale:.1f}x to fill the {size} px crop "
            f"(at most {MAX_UPSCALE:g}x); give a photo where the face is larger"
        )
    return PhotoFace(
        face=_aligned_crop(rgb, transform, scale, size, str(path)),
        image=rgb,
        transform=transform,
        landmarks=landmarks,
        description=f"{path.name} (aligned)",
    )


def _aligned_crop(rgb: Image.Image, transform: torch.Tensor, scale: float, size: int, source: str) -> torch.Tensor:
    """The (1, 3, size, size) crop of ``rgb`` through ``transform`` (photo -> crop pixels).

    Only the part of the photo that the crop sees becomes a float tensor.
    `warp_affine` box-filters by the integer shrink factor k before sampling;
    that box filter is done here on the uint8 region (PIL's ``reduce``, which
    averages the k x k boxes, partial ones at the border over their own
    pixels, like ``avg_pool2d(ceil_mode=True, count_include_pad=False)``), so
    a face that fills a 24 MP frame costs a k² times smaller tensor. Starting
    the region on a multiple of k keeps its boxes those of the whole photo, so
    the crop is the one the whole photo would give (up to the rounding of
    the reduced pixels to 8 bits).
    """
    w, h = rgb.size
    corners = torch.tensor([[-0.5, -0.5], [size - 0.5, -0.5], [-0.5, size - 0.5], [size - 0.5, size - 0.5]])
    back = invert_affine(transform)[0]
    footprint = corners @ back[:, :2].T + back[:, 2]
    pool = int(1.0 / scale) + 2
    x0, y0 = (min(max(int(math.floor(v)) - pool, 0), lim - 1) for v, lim in zip(footprint.min(0).values.tolist(), (w, h)))
    x1, y1 = (max(min(int(math.ceil(v)) + pool + 1, lim), 1) for v, lim in zip(footprint.max(0).values.tolist(), (w, h)))
    k = max(int(1.0 / scale), 1)
    x0, y0 = x0 - x0 % k, y0 - y0 % k
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    region = rgb.crop((x0, y0, x1, y1))
    # Pixel p of the reduced region covers region pixels k p .. k p + k - 1:
    # its centre is at photo pixel (x0 + k p + (k - 1) / 2, y0 + ...).
    to_photo = torch.tensor([[k, 0.0, x0 + (k - 1) / 2], [0.0, k, y0 + (k - 1) / 2], [0.0, 0.0, 1.0]], dtype=torch.float64)
    if k > 1:
        region = region.reduce(k)
    pixels = image_from_array(np.asarray(region), source=source)
    reduced_transform = (transform[0].double() @ to_photo)[None].float()
    return warp_affine(pixels, reduced_transform, size).clamp(-1, 1)
