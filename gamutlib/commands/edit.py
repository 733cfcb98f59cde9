"""`gamut edit`: edit the expression of one face with a trained GANmut or GGANmut.

    gamut edit ganmut  IMAGE --theta T --rho R --out FILE
    gamut edit gganmut IMAGE --x X --y Y --out FILE

IMAGE is either an aligned face crop of the generator's size (used as is) or a
photo, which is aligned with dlib (the ``real`` extra) and gets the edited face
pasted back over the face alone (``--crop`` writes the edited crop instead);
gamutlib.data.photo does that, fast on large photos. The shipped generators
were trained on rendered faces, which the help and the output say. Every bad
input ends in one line saying what is wrong: a file that is not an image, a face of the
wrong size, a NaN or out-of-range code, missing weights (with the command that
makes them).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import click

#: Default shipped file (weights/<name>.safetensors) and the editor of each method.
EDITORS = {"ganmut": "gamutlib.models.ganmut:GANmutEditor", "gganmut": "gamutlib.models.gganmut:GGANmutEditor"}


def load_editor(method: str, weights: str | None) -> Any:
    """The editor of ``method`` from ``weights`` (a name under weights/ or a path)."""
    import importlib

    from gamutlib.weights import SHIPPED_ROOT

    module_name, cls_name = EDITORS[method].split(":")
    editor_cls = getattr(importlib.import_module(module_name), cls_name)
    name = weights or method
    is_path = name.endswith(".safetensors") or "/" in name
    path = Path(name) if is_path else SHIPPED_ROOT / f"{name}.safetensors"
    if not path.exists():
        raise click.ClickException(
            f"no {method} weights at {path}: train and export them with "
            f"`gamut train {method} --export {path.stem}`, or pass --weights PATH"
        )
    try:
        return editor_cls.from_weights(path.stem, root=str(path.parent))
    except (ValueError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None


def write_atomically(image: Any, target: Path) -> None:
    """Save to a temporary file beside ``target``, then rename over it: a failed
    write (bad extension, full disk) never leaves a truncated or lost ``target``."""
    import os
    import tempfile

    from PIL import Image

    from gamutlib.data.images import save_image

    fmt = Image.registered_extensions().get(target.suffix.lower())
    if fmt is None or fmt not in Image.SAVE:
        raise click.ClickException(f"cannot write {target}: unknown image extension {target.suffix!r}; use .png or .jpg")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=target.suffix, dir=target.parent)
        os.close(fd)
    except OSError as err:
        raise click.ClickException(f"cannot write {target}: {err}") from None
    try:
        save_image(image, tmp)
        os.replace(tmp, target)
    except (ValueError, KeyError, OSError) as err:
        raise click.ClickException(f"cannot write {target}: {err}") from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def run_edit(method: str, image: str, code: dict[str, float], out: str, weights: str | None, align: str, crop: bool) -> str:
    """Check the code, load the editor and the face, edit, write; returns what was written."""
    import numpy as np

    from gamutlib.data.photo import DOMAIN_GAP_NOTE, align_photo, is_photo
    from gamutlib.models.editor import check_scalar
    from gamutlib.widgets.source import load_face

    try:  # the code first: a typo should not wait for weights to load
        for name, value in code.items():
            lo, hi, unit = {"theta": (0.0, 2 * math.pi, " radians"), "rho": (0.0, 1.0, ""), "x": (-1.0, 1.0, ""), "y": (-1.0, 1.0, "")}[name]
            check_scalar(name, value, lo, hi, unit)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    editor = load_editor(method, weights)
    try:
        if is_photo(image, editor.image_size, align):
            source = align_photo(image, editor.image_size)
        else:
            source = load_face(image, editor.image_size, align)  # type: ignore[arg-type]
        if method == "ganmut":
            edited = editor.edit(source.face, code["theta"], code["rho"])
        else:
            edited = editor.edit_xy(source.face, code["x"], code["y"])
        result = edited if crop else source.paste(edited)
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise click.ClickException(str(err)) from None
    target = Path(out)
    write_atomically(result, target)
    # a pasted photo comes back as an (H, W, 3) uint8 array, a crop as a tensor
    h, w = result.shape[:2] if isinstance(result, np.ndarray) else result.shape[-2:]
    how = "edited face pasted back into the photo" if source.photo is not None and not crop else "edited face"
    note = f"\nnote: {DOMAIN_GAP_NOTE}" if source.photo is not None else ""
    return f"wrote {target} ({w}x{h}, {how}){note}"


_common = [
    click.argument("image", type=click.Path(dir_okay=False)),
    click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the edited image (PNG, JPEG, ...)."),
    click.option("--weights", help="A name under weights/ or a .safetensors path (default: the method's name)."),
    click.option("--align", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                 help="auto: align (dlib) any image that is not a face crop of the generator's size."),
    click.option("--crop", is_flag=True, help="Write the edited aligned crop instead of pasting it back into the photo."),
]


def _with_common(f):
    for decorator in reversed(_common):
        f = decorator(f)
    return f


@click.group()
def edit() -> None:
    """Edit the expression of one face (a face crop or a photo).

    The shipped generators were trained on rendered faces, not photographs:
    on a real photo the edit is weak and may shift colours. A photo's edit is
    pasted back over the face alone; the rest of the photo is unchanged.
    """


@edit.command("ganmut")
@_with_common
@click.option("--theta", type=float, required=True, help="Direction in the learned space (radians in [0, 2 pi]; degrees with --degrees).")
@click.option("--rho", type=float, required=True, help="Intensity in [0, 1] (0 = neutral).")
@click.option("--degrees", is_flag=True, help="Read --theta in degrees [0, 360].")
def edit_ganmut(image, out, weights, align, crop, theta, rho, degrees) -> None:
    """Linear GANmut: the code z = rho (cos theta, sin theta)."""
    if degrees:
        if not math.isfinite(theta) or not 0.0 <= theta <= 360.0:
            raise click.ClickException(f"theta must lie in [0, 360] degrees; got {theta:g}")
        theta = math.radians(theta)
    click.echo(run_edit("ganmut", image, {"theta": theta, "rho": rho}, out, weights, align, crop))


@edit.command("gganmut")
@_with_common
@click.option("--x", "x_", type=float, required=True, help="First coordinate of the code, in [-1, 1].")
@click.option("--y", "y_", type=float, required=True, help="Second coordinate of the code, in [-1, 1].")
def edit_gganmut(image, out, weights, align, crop, x_, y_) -> None:
    """Gaussian GGANmut: the code z = (x, y) in [-1, 1]^2."""
    click.echo(run_edit("gganmut", image, {"x": x_, "y": y_}, out, weights, align, crop))
