"""Lean figures in the record: a face figure as JPEG, a line plot as PNG.

Matplotlib's inline figures arrive as PNG. A grid of rendered faces is a
photograph to PNG's compressor and costs 5-10x what a quality-85 JPEG of it
does; a line plot on white is the opposite. Every executed notebook travels
with each clone and each device call, so ``shrink_figures`` keeps, for each
PNG output, whichever is clearly smaller: the JPEG replaces the PNG only when
it is under ``JPEG_SHARE`` of its size; the same holds for the PNG images that
an explorer's saved widget state carries (the picture a reader sees of a
slider in the rendered book). ``gamut reproduce`` applies it to every
notebook it writes; ``python -m gamutlib.reproduce.figures NOTEBOOK...`` applies
the same step to notebooks recorded before it existed (outputs are otherwise
untouched, and a notebook already lean is left byte for byte as it was).
"""

from __future__ import annotations

import base64
import io
import sys
from pathlib import Path
from typing import Any, Sequence

JPEG_QUALITY = 85
JPEG_SHARE = 0.6  # a JPEG must save at least 40% to replace its PNG


def _as_jpeg(png_b64: str) -> str:
    from PIL import Image

    image = Image.open(io.BytesIO(base64.b64decode(png_b64)))
    rgba = image.convert("RGBA")
    flat = Image.new("RGB", rgba.size, "white")  # the book's page colour under any transparency
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _shrink_widget_images(nb: Any) -> int:
    """The saved widget state's PNG images (ipywidgets' Image, its value a base64
    buffer) as JPEG where that is under JPEG_SHARE of their size; bytes saved."""
    saved = 0
    state = ((nb.get("metadata") or {}).get("widgets") or {}).get(WIDGET_STATE, {}).get("state", {})
    for model in state.values():
        if model.get("model_name") != "ImageModel" or model.get("state", {}).get("format") != "png":
            continue
        for buffer in model.get("buffers", []):
            if buffer.get("path") != ["value"] or buffer.get("encoding") != "base64":
                continue
            jpeg = _as_jpeg(buffer["data"])
            if len(jpeg) < JPEG_SHARE * len(buffer["data"]):
                saved += len(buffer["data"]) - len(jpeg)
                buffer["data"] = jpeg
                model["state"]["format"] = "jpeg"
    return saved


def shrink_figures(nb: Any) -> int:
    """Replace each PNG output of ``nb`` (an nbformat notebook, changed in place),
    and each PNG image of its saved widget state, by its JPEG where that is under
    JPEG_SHARE of its size; returns the bytes saved."""
    saved = _shrink_widget_images(nb)
    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            data = output.get("data") or {}
            png = data.get("image/png")
            if not png or "image/jpeg" in data:
                continue
            png = png if isinstance(png, str) else "".join(png)
            jpeg = _as_jpeg(png)
            if len(jpeg) < JPEG_SHARE * len(png):
                del data["image/png"]
                data["image/jpeg"] = jpeg
                saved += len(png) - len(jpeg)
    return saved


def _main(argv: Sequence[str]) -> int:
    import nbformat

    if not argv:
        print("usage: python -m gamutlib.reproduce.figures NOTEBOOK.ipynb ...", file=sys.stderr)
        return 2
    for name in argv:
        path = Path(name)
        nb = nbformat.read(path, as_version=4)
        saved = shrink_figures(nb)
        if saved:
            from gamutlib.atomic import atomic_write_bytes

            atomic_write_bytes(path, (nbformat.writes(nb) + "\n").encode())
        print(f"{path}: {saved / 1e6:.2f} MB saved")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
