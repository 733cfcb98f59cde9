"""Reading image files and arrays into gamut's image contract.

Every image inside gamut is a float tensor in [-1, 1], NCHW, RGB. Real photos
arrive as files (JPEG, PNG, ...) or as uint8 HWC arrays; this module is the one
place where they are turned into that contract, so a grey JPEG, a PNG with an
alpha channel or a text file named ``.jpg`` each get one precise error or one
documented conversion instead of a silent surprise further down.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "GreyscaleImageWarning",
    "MAX_PIXELS",
    "MIN_CROP_SIDE",
    "open_rgb",
    "read_image",
    "image_from_array",
    "image_to_uint8",
    "save_image",
    "check_image_batch",
    "read_image_crop",
    "apply_affine",
]

# PIL modes we convert to RGB on purpose. Grey photos are common in face data
# (RaFD, old FER crops); palette PNGs are what many tools write. Images with
# alpha are composited over black, which is what a face crop's padding is.
_CONVERTIBLE_MODES = {"RGB", "L", "P", "RGBA", "LA", "CMYK", "YCbCr", "I;16", "I", "F"}
_GREY_MODES = {"L", "LA", "I;16", "I", "F"}

#: The largest image read, in pixels: PIL's own decompression-bomb threshold
#: (about 9500 x 9500). Above it PIL only warns up to twice the value and then
#: raises its own error; gamut refuses every image above it with one message,
#: because a photo that large costs gigabytes once decoded.
MAX_PIXELS = int(Image.MAX_IMAGE_PIXELS or 89_478_485)

#: The smallest square side `read_image_crop` scales *up* from. Below it the
#: crop holds too few pixels to be a face: bicubic upscaling of a 5 px square
#: to 128 px gives a smooth blob that a generator or judge would still accept.
MIN_CROP_SIDE = 32


class GreyscaleImageWarning(UserWarning):
    """A grey photo was read: its three RGB channels are copies of one another.

    The generators and judges were trained on colour faces, so a grey input
    is usable but out of their domain; filter this category to silence it.
    """


def _pil_to_rgb(img: Image.Image, path: Path | str) -> Image.Image:
    # Phone photos store their rotation in EXIF; apply it as OpenCV's imread
    # does, so coordinates from OpenFace (which reads with OpenCV) match.
    # In place: a copy of a 24 MP frame costs a tenth of a second.
    ImageOps.exif_transpose(img, in_place=True)
    if img.mode not in _CONVERTIBLE_MODES:
        raise ValueError(f"{path}: unsupported image mode {img.mode!r}; expected RGB, grey or palette")
    if img.mode in _GREY_MODES:
        warnings.warn(
            f"{path}: greyscale image (mode {img.mode}); read as RGB with three equal channels, "
            "which the colour-trained generators and judges have not seen",
            GreyscaleImageWarning,
            stacklevel=3,
        )
    if img.mode in ("I;16", "I", "F"):
        # 16-bit or float grey: rescale by the file's own range to 8 bit.
        arr = np.asarray(img, dtype=np.float64)
        hi = 65535.0 if img.mode == "I;16" or arr.max() > 255 else 255.0
        arr = np.clip(arr / hi * 255.0, 0, 255).astype(np.uint8)
        img = Image.fromarray(arr, mode="L")
    if img.mode in ("RGBA", "LA", "P"):
        img = img.convert("RGBA")
        background = Image.new("RGBA", img.size, (0, 0, 0, 255))
        img = Image.alpha_composite(background, img)
    # convert() of an RGB image is a copy of it
    return img if img.mode == "RGB" else img.convert("RGB")


def open_rgb(path: str | Path, max_pixels: int | None = None) -> Image.Image:
    """Open an image file as an RGB PIL image, with one clear error per failure.

    The size is checked from the header before any pixel is decoded, so an
    oversized file is refused at once and names the file and the limit
    (``max_pixels``, default `MAX_PIXELS`).
    """
    max_pixels = MAX_PIXELS if max_pixels is None else max_pixels
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"image file not found: {path}")
    if path.is_dir():
        raise ValueError(f"{path} is a directory, not an image file")
    try:
        with warnings.catch_warnings():
            # PIL warns above MAX_IMAGE_PIXELS and raises above twice that; the
            # check below replaces both with one message.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
    except Image.DecompressionBombError:
        raise ValueError(_too_large(path, _header_size(path), max_pixels)) from None
    except UnidentifiedImageError as err:
        raise ValueError(f"{path} is not an image file PIL can read") from err
    except OSError as err:
        raise ValueError(f"{path}: cannot open image ({err})") from err
    with img:
        w, h = img.size
        if w * h > max_pixels:
            raise ValueError(_too_large(path, (w, h), max_pixels))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                img.load()
        except OSError as err:  # truncated or corrupt data
            raise ValueError(f"{path}: cannot decode image ({err})") from err
        return _pil_to_rgb(img, path)


def _header_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the header of a file PIL refused as a decompression bomb.

    PIL checks the size as it opens; lifting its limit for this one header
    read (nothing is decoded) lets the error say how large the file is.
    """
    limit = Image.MAX_IMAGE_PIXELS
    try:
        Image.MAX_IMAGE_PIXELS = None
        with Image.open(path) as img:
            return img.size
    except Exception:  # noqa: BLE001 -- the size is only for the message
        return None
    finally:
        Image.MAX_IMAGE_PIXELS = limit


def _too_large(path: Path, size: tuple[int, int] | None, max_pixels: int) -> str:
    what = f"{size[0]}x{size[1]} = {size[0] * size[1] / 1e6:.1f} MP" if size else "larger than PIL's decompression-bomb limit"
    return (
        f"{path} is too large: {what}, above the limit of {max_pixels / 1e6:.1f} MP "
        f"({max_pixels} pixels); downscale it first (a face needs far fewer pixels)"
    )


def read_image(path: str | Path, size: int | tuple[int, int] | None = None) -> torch.Tensor:
    """Read one image file as a (1, 3, H, W) float tensor in [-1, 1].

    ``size`` (an int for square, or (H, W)) resizes with antialiased bicubic
    resampling; None keeps the file's size.
    """
    path = Path(path)
    rgb = open_rgb(path)
    if size is not None:
        h, w = (size, size) if isinstance(size, int) else size
        if h <= 0 or w <= 0:
            raise ValueError(f"size must be positive, got {size}")
        rgb = rgb.resize((w, h), Image.BICUBIC)
    return image_from_array(np.asarray(rgb), source=str(path))


def image_from_array(array: np.ndarray | torch.Tensor, source: str = "array") -> torch.Tensor:
    """Turn a uint8 image array into a (1, 3, H, W) or (N, 3, H, W) tensor in [-1, 1].

    Accepts HW (grey), HWC or NHWC uint8 with 1 or 3 channels (grey is
    replicated; 4 channels are refused because dropping alpha silently is
    wrong for a face crop whose background is transparent).
    """
    if isinstance(array, torch.Tensor):
        array = array.detach().cpu().numpy()
    if not isinstance(array, np.ndarray):
        raise TypeError(f"{source}: expected a numpy array or tensor, got {type(array).__name__}")
    if array.dtype != np.uint8:
        raise TypeError(f"{source}: expected uint8 pixels (0..255), got dtype {array.dtype}")
    if array.ndim == 2:
        array = array[:, :, None]
    if array.ndim == 3:
        array = array[None]
    if array.ndim != 4:
        raise ValueError(f"{source}: expected HW, HWC or NHWC, got shape {tuple(array.shape)}")
    channels = array.shape[-1]
    if channels == 1:
        array = np.repeat(array, 3, axis=-1)
    elif channels != 3:
        raise ValueError(
            f"{source}: expected 1 or 3 channels (grey or RGB), got {channels} in shape {tuple(array.shape)}"
        )
    if array.shape[1] == 0 or array.shape[2] == 0:
        raise ValueError(f"{source}: empty image of shape {tuple(array.shape)}")
    tensor = torch.from_numpy(np.array(array, copy=True)).permute(0, 3, 1, 2).float()
    return tensor / 127.5 - 1.0


def check_image_batch(images: torch.Tensor, name: str = "images") -> torch.Tensor:
    """Validate the image contract: float (N, 3, H, W), finite, in [-1, 1]."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(images).__name__}")
    if not images.is_floating_point():
        raise TypeError(f"{name}: expected a float tensor in [-1, 1], got dtype {images.dtype}")
    if images.ndim != 4 or images.shape[1] != 3:
        raise ValueError(f"{name}: expected shape (N, 3, H, W), got {tuple(images.shape)}")
    if not torch.isfinite(images).all():
        raise ValueError(f"{name}: contains NaN or inf")
    lo, hi = images.min().item(), images.max().item()
    # A little slack for resampling overshoot; anything beyond is a 0..1 or
    # 0..255 image passed by mistake.
    if lo < -1.01 or hi > 1.01:
        raise ValueError(f"{name}: values must lie in [-1, 1], got range [{lo:.3g}, {hi:.3g}]")
    return images


def image_to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) uint8, the layout dlib and PIL use."""
    check_image_batch(images)
    arr = ((images.detach().float().clamp(-1, 1) + 1.0) * 127.5).round()
    # C-contiguous: dlib's bindings refuse strided arrays.
    return np.ascontiguousarray(arr.to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())


def save_image(image: torch.Tensor | np.ndarray | Image.Image, path: str | Path) -> None:
    """Write one (3, H, W) or (1, 3, H, W) image in [-1, 1], an (H, W, 3) uint8 array
    or an RGB PIL image to a file."""
    if isinstance(image, (np.ndarray, Image.Image)):
        if isinstance(image, Image.Image):
            if image.mode != "RGB":
                raise ValueError(f"save_image: expected an RGB PIL image, got mode {image.mode}")
            pil = image
        elif image.dtype != np.uint8 or image.ndim != 3 or image.shape[-1] != 3:
            raise ValueError(f"save_image: expected an (H, W, 3) uint8 array, got {image.dtype} {image.shape}")
        else:
            pil = Image.fromarray(image)
        # PNG's default zlib level 6 takes ~10 s on a 24 MP photo; level 1 is
        # about four times faster for files a few percent larger.
        large_png = Image.registered_extensions().get(Path(path).suffix.lower()) == "PNG" and pil.width * pil.height > 4_000_000
        pil.save(path, **({"compress_level": 1} if large_png else {}))
        return
    if image.ndim == 3:
        image = image[None]
    if image.shape[0] != 1:
        raise ValueError(f"save_image writes one image, got a batch of {image.shape[0]}")
    Image.fromarray(image_to_uint8(image)[0]).save(path)


def apply_affine(points: torch.Tensor, transform: torch.Tensor) -> torch.Tensor:
    """Map (..., K, 2) pixel points through a (..., 2, 3) affine matrix."""
    return points @ transform[..., :2].transpose(-1, -2) + transform[..., None, :, 2]


def read_image_crop(
    path: str | Path,
    size: int,
    box: tuple[float, float, float, float] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Read a square crop of an image file, resized to ``size`` x ``size``.

    ``box`` is (x, y, width, height) in pixels of the file (AffectNet's
    face_x, face_y, face_width, face_height); the crop is the square of side
    max(width, height) around the box centre, so faces keep their aspect.
    Without a box, the centred square of side min(W, H) is taken. Parts of the
    square outside the photo are black (a box near the border); a box mostly
    outside the photo is an error, as is a square smaller than
    ``MIN_CROP_SIDE`` that would be scaled up.

    Returns the (1, 3, size, size) image and the (2, 3) affine matrix taking
    pixel coordinates of the file to pixel coordinates of the crop (pixel
    centres at integer coordinates), for moving landmarks along.
    """
    path = Path(path)
    if size <= 0:
        raise ValueError(f"size must be positive, got {size}")
    rgb = open_rgb(path)
    width, height = rgb.size
    if box is None:
        side = min(width, height)
        x0, y0 = (width - side) // 2, (height - side) // 2
    else:
        bx, by, bw, bh = (float(v) for v in box)
        if not all(np.isfinite([bx, by, bw, bh])) or bw <= 0 or bh <= 0:
            raise ValueError(f"{path}: invalid face box {box}")
        # A box hanging a little over the border is common (a face cut by the
        # frame); one mostly outside means coordinates of another image or
        # another scale, and would give a black crop.
        inside_w = max(0.0, min(bx + bw, width) - max(bx, 0.0))
        inside_h = max(0.0, min(by + bh, height) - max(by, 0.0))
        if inside_w * inside_h < 0.9 * bw * bh:
            raise ValueError(
                f"{path}: face box (x={bx:g}, y={by:g}, w={bw:g}, h={bh:g}) lies outside the "
                f"{width}x{height} image (less than 90% of it inside)"
            )
        side = max(1, int(round(max(bw, bh))))
        x0 = int(round(bx + bw / 2 - side / 2))
        y0 = int(round(by + bh / 2 - side / 2))
    if side < min(size, MIN_CROP_SIDE):
        raise ValueError(
            f"{path}: the face square is {side} px, below the minimum of {MIN_CROP_SIDE} px "
            f"to scale up to {size} px; give a larger image"
        )
    crop = rgb.crop((x0, y0, x0 + side, y0 + side)).resize((size, size), Image.BICUBIC)
    scale = size / side
    # Pixel centre p of the square sits at (p + 0.5) * scale - 0.5 after resizing.
    transform = torch.tensor(
        [[scale, 0.0, (0.5 - x0) * scale - 0.5], [0.0, scale, (0.5 - y0) * scale - 0.5]],
        dtype=torch.float32,
    )
    return image_from_array(np.asarray(crop), source=str(path)), transform
