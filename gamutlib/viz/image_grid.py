"""Images as figures and as PNG bytes: grids of edits, one face for a widget.

Every figure of the series that shows faces goes through here, so tensors in
the image contract ([-1, 1], NCHW) are converted in one place.
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np
import torch
from matplotlib.figure import Figure
from PIL import Image

from gamutlib.data.images import image_to_uint8


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """One image (3, H, W) or (1, 3, H, W) in [-1, 1] -> (H, W, 3) uint8."""
    if image.dim() == 3:
        image = image.unsqueeze(0)
    if image.dim() != 4 or image.shape[0] != 1:
        raise ValueError(f"expected one image (3, H, W) or (1, 3, H, W); got shape {tuple(image.shape)}")
    return image_to_uint8(image.detach().float().cpu())[0]


def png_bytes(image: torch.Tensor, size: int | None = None) -> bytes:
    """PNG encoding of one image; ``size`` upscales it (nearest, so pixels stay
    honest) for display of small faces."""
    picture = Image.fromarray(to_uint8(image))
    if size is not None and size != picture.width:
        picture = picture.resize((size, size * picture.height // picture.width), Image.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def figure_png(fig: Figure, dpi: int = 90) -> bytes:
    """A figure as PNG bytes (what an ipywidgets.Image shows)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def jpeg_strip(images: Sequence[Image.Image], height: int = 130, gap: int = 8, quality: int = 80) -> bytes:
    """Pictures side by side at one height, as JPEG bytes: for photo-like grids
    (training samples) JPEG keeps a page several times smaller than PNG."""
    if not images:
        raise ValueError("jpeg_strip needs at least one image")
    scaled = [im.convert("RGB").resize((max(1, round(im.width * height / im.height)), height), Image.BILINEAR)
              for im in images]
    strip = Image.new("RGB", (sum(im.width for im in scaled) + gap * (len(scaled) - 1), height), "white")
    x = 0
    for im in scaled:
        strip.paste(im, (x, 0))
        x += im.width + gap
    out = io.BytesIO()
    strip.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def rgba_png(buffer: Any) -> bytes:
    """PNG of an (H, W, 4) uint8 RGBA buffer (a matplotlib Agg canvas), fast
    zlib level: a widget redraws it at every slider move."""
    out = io.BytesIO()
    Image.fromarray(np.asarray(buffer)[..., :3]).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def plot_image_grid(
    rows: torch.Tensor | Sequence[Sequence[torch.Tensor]],
    row_labels: Sequence[str] | None = None,
    col_labels: Sequence[str] | None = None,
    captions: Sequence[Sequence[str]] | None = None,
    tile_inches: float = 1.1,
    title: str | None = None,
) -> Figure:
    """A grid of faces: ``rows`` is (R, C, 3, H, W) or R lists of C images.

    ``captions[r][c]`` is written under a tile (e.g. the judge's verdict).
    Returns a matplotlib Figure that is not registered with pyplot, so a
    notebook shows it once, where it is returned.
    """
    grid = [list(row) for row in rows]
    if not grid or not grid[0]:
        raise ValueError("plot_image_grid needs at least one row with one image")
    n_rows, n_cols = len(grid), max(len(r) for r in grid)
    for name, labels, n in (("row_labels", row_labels, n_rows), ("col_labels", col_labels, n_cols)):
        if labels is not None and len(labels) != n:
            raise ValueError(f"{name} has {len(labels)} entries for {n} {name.split('_')[0]}s")
    fig = Figure(figsize=(tile_inches * n_cols + (0.9 if row_labels else 0.1), tile_inches * n_rows + 0.5), layout="constrained")
    axes = fig.subplots(n_rows, n_cols, squeeze=False)
    for r in range(n_rows):
        for c in range(n_cols):
            ax = axes[r][c]
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
            if c < len(grid[r]):
                ax.imshow(to_uint8(grid[r][c]), interpolation="nearest")
            if captions is not None and c < len(captions[r]) and captions[r][c]:
                ax.set_xlabel(captions[r][c], fontsize=7)
            if r == 0 and col_labels is not None:
                ax.set_title(col_labels[c], fontsize=8)
            if c == 0 and row_labels is not None:
                ax.set_ylabel(row_labels[r], fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def sample_grid_strips(record: dict) -> list[tuple[str, list[int], bytes]]:
    """Each run's first, middle and last training sample grid as one JPEG strip:
    ``(run name, steps shown, jpeg bytes)`` for the runs of ``record`` (name ->
    {"samples": [(step, path), ...]}) that recorded any grid."""
    strips = []
    for name, entry in record.items():
        grids = entry.get("samples") or []
        if not grids:
            continue
        picks = [grids[0], grids[len(grids) // 2], grids[-1]] if len(grids) > 2 else list(grids)
        strips.append((name, [step for step, _ in picks], jpeg_strip([Image.open(path) for _, path in picks])))
    return strips


def show_sample_grids(record: dict, missing: str = "No recorded sample grids under this results folder.") -> None:
    """The training chapters' sample-grid section: each run's strip
    (``sample_grid_strips``) under a line naming the run and its steps, shown
    as JPEG; ``missing`` printed where no run recorded any grid."""
    from IPython.display import Image as IPImage
    from IPython.display import display

    strips = sample_grid_strips(record)
    if not strips:
        print(missing)
    for name, steps, jpeg in strips:
        print(f"{name}: steps {', '.join(map(str, steps))} (left to right)")
        display(IPImage(data=jpeg, format="jpeg"))
