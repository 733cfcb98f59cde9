"""`gamut edit`: edit the expression of one face with a trained editor.

    gamut edit ganmut  IMAGE --theta T --rho R --out FILE
    gamut edit ganmut  IMAGE --emotion happy --intensity 0.8 -o FILE
    gamut edit gganmut IMAGE --x X --y Y --out FILE
    gamut edit eggan       IMAGE --au AU12=3.5 --au AU6=2 --out FILE
    gamut edit finegrained IMAGE --delta AU12=+2 --delta AU04=-1 --out FILE

One subcommand per editable method of the paper registry; its flags are the
editor's declared controls (``SpaceEditor.controls``, plus the emotion
shortcut), so a new editor brings its own flags; a declared vector control
(``editor.vectors``, a ``VectorControl``) becomes one repeated
``--NAME KEY=VALUE`` option whose keys are its components. IMAGE is either an aligned
face crop of the generator's size (used as is) or a photo, which is aligned
with dlib (the ``real`` extra) and gets the edited face pasted back over the
face alone (``--crop`` writes the edited crop instead); gamutlib.data.photo
does that, fast on large photos: when the arguments name an image of a
megapixel or more, dlib's models load in a forked helper process
(gamutlib.face_finder) while the editor's flags are built, which imports
torch; ``--threads`` (default 1) sets torch's CPU threads. The shipped generators were trained on
rendered faces, which the help and the output say. Every bad input ends in one line
saying what is wrong: a file that is not an image, a face of the wrong size, a
NaN or out-of-range value (naming the control), missing weights (with the
command that makes them).
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the contract package imports torch; `gamut --help` must stay instant
    from gamutlib.contract.controls import Control


def load_editor(method: str, weights: str | None) -> Any:
    """The editor of ``method`` from ``weights`` (a name under weights/ or a path)."""
    from gamutlib.papers import editor_class
    from gamutlib.weights import SHIPPED_ROOT, has_weights

    editor_cls = editor_class(method)
    name = weights or method
    is_path = name.endswith(".safetensors") or "/" in name
    path = Path(name) if is_path else SHIPPED_ROOT / f"{name}.safetensors"
    if not has_weights(path.parent, path.stem):  # plain or packed
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


def check_inputs(editor_cls: Any, values: dict[str, Any], degrees: bool) -> dict[str, Any]:
    """The values given, checked against the editor's controls before any weights load
    (a typo should not wait for them); angles given in degrees become radians."""
    given = {name: value for name, value in values.items() if value is not None}
    declared = {c.name: c for c in (*editor_cls.controls, *editor_cls.shortcuts)}
    checked = {}
    for name, value in given.items():
        control = declared[name]
        if degrees and control.is_angle:
            in_degrees = dataclasses.replace(control, lo=math.degrees(control.lo), hi=math.degrees(control.hi), unit="degrees")
            checked[name] = math.radians(in_degrees.check(value))
        else:
            checked[name] = control.check(value)
    shortcut = [c.name for c in editor_cls.shortcuts if c.name in checked]
    coordinates = [c.name for c in editor_cls.controls if c.name in checked]
    in_vectors = {c.name for v in getattr(editor_cls, "vectors", ()) for c in v.components}  # default when not given
    flags = lambda controls: " ".join(flag_of(c) for c in controls)  # noqa: E731
    if shortcut and coordinates:
        raise ValueError(f"give either {flags(editor_cls.controls)} or {flags(editor_cls.shortcuts)}, not both")
    if shortcut and "emotion" not in shortcut:
        raise ValueError("--intensity needs --emotion (the emotion to go towards)")
    if not shortcut and in_vectors and not checked:
        given = " ".join(f"--{v.name} {v.components[0].name}=VALUE" for v in editor_cls.vectors)
        raise ValueError(f"give at least one {given}, or {flags(editor_cls.shortcuts)}")
    missing = [c for c in editor_cls.controls if c.name not in checked and c.name not in in_vectors]
    # an editor whose every control has a neutral default (PortraitGAN's landmark moves) takes any subset
    if not shortcut and missing and not getattr(editor_cls, "controls_have_defaults", False):
        raise ValueError(f"missing {flags(missing)} ({missing[0].meaning}); or give {flags(editor_cls.shortcuts)}")
    return checked


def read_file_inputs(editor_cls: Any, files: dict[str, Any] | None) -> dict[str, Any]:
    """The editor's file options (``file_options``: --NAME PATH) given, read and checked by the editor."""
    return {name: editor_cls.read_file_option(name, path) for name, path in (files or {}).items() if path is not None}


def might_be_photo(path: str) -> bool:
    """Whether ``path``'s header says it is an image of a megapixel or more (a
    photo to align, not a face crop). Reads the header with PIL only."""
    from PIL import Image

    try:
        with Image.open(path) as img:
            w, h = img.size
    except Exception:  # noqa: BLE001 -- not an image; the reader gives the precise error later
        return False
    return w * h >= 1_000_000


def start_face_finder_for(args: list[str]) -> Any:
    """dlib's models loading in a helper process if ``args`` name a photo to align, else None.

    Called before the editor's flags are built (which imports torch), so the
    models load while torch is imported; see gamutlib.face_finder.
    """
    if "never" in args:  # --align never: nothing will be aligned
        return None
    if not any(might_be_photo(arg) for arg in args if not arg.startswith("-")):
        return None
    from gamutlib.face_finder import start_face_finder

    return start_face_finder()


def run_edit(method: str, image: str, values: dict[str, Any], out: str, weights: str | None, align: str, crop: bool,
             degrees: bool = False, files: dict[str, Any] | None = None, threads: int | None = None) -> str:
    """Check the values, load the editor and the face, edit, write; returns what was written.

    ``threads``: torch's CPU threads for this edit (default: torch's own)."""
    context = click.get_current_context(silent=True)
    finder = context.meta.get(FINDER_KEY) if context is not None else None
    if threads is None:
        return _run_edit(method, image, values, out, weights, align, crop, degrees, files, finder)
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        return _run_edit(method, image, values, out, weights, align, crop, degrees, files, finder)
    finally:
        torch.set_num_threads(before)


def _run_edit(method: str, image: str, values: dict[str, Any], out: str, weights: str | None, align: str, crop: bool,
              degrees: bool, files: dict[str, Any] | None, finder: Any) -> str:
    import numpy as np
    from PIL import Image

    from gamutlib.papers import editor_class
    from gamutlib.data.photo import DOMAIN_GAP_NOTE, PhotoFace, align_photo, is_photo
    from gamutlib.face_source import load_face

    try:
        checked = check_inputs(editor_class(method), values, degrees)
        inputs = read_file_inputs(editor_class(method), files)
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    editor = load_editor(method, weights)
    try:
        if is_photo(image, editor.image_size, align):
            source = align_photo(image, editor.image_size, finder=finder)
        else:
            source = load_face(image, editor.image_size, align)  # type: ignore[arg-type]
        edited = editor.edit_values(source.face, checked, **inputs)
        if crop:
            result = edited
        elif isinstance(source, PhotoFace):
            result = source.paste_image(edited, copy=False)  # written once: no copy of the frame
        else:
            result = source.paste(edited)
    except (ValueError, TypeError, FileNotFoundError, RuntimeError) as err:
        raise click.ClickException(str(err)) from None
    target = Path(out)
    write_atomically(result, target)
    # a pasted photo comes back as a PIL image or an (H, W, 3) uint8 array, a crop as a tensor
    if isinstance(result, Image.Image):
        w, h = result.size
    else:
        h, w = result.shape[:2] if isinstance(result, np.ndarray) else result.shape[-2:]
    # (not source.photo, which would make an array of the whole frame to answer)
    from_photo = isinstance(source, PhotoFace) or source.aligned is not None
    how = "edited face pasted back into the photo" if from_photo and not crop else "edited face"
    note = f"\nnote: {DOMAIN_GAP_NOTE}" if from_photo else ""
    return f"wrote {target} ({w}x{h}, {how}){note}"


_common = [
    click.argument("image", type=click.Path(dir_okay=False)),
    click.option("--out", "-o", "out", required=True, type=click.Path(dir_okay=False), help="Where to write the edited image (PNG, JPEG, ...)."),
    click.option("--weights", help="A name under weights/ or a .safetensors path (default: the method's name)."),
    click.option("--align", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                 help="auto: align (dlib) any image that is not a face crop of the generator's size."),
    click.option("--crop", is_flag=True, help="Write the edited aligned crop instead of pasting it back into the photo."),
    click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
                 help="CPU threads for torch: one face gains little from more, and a photo's face search runs beside it."),
]


def _with_common(f):
    for decorator in reversed(_common):
        f = decorator(f)
    return f


def flag_of(control: Control) -> str:
    """--NAME, with '-' for '_' (--mouth-open for the control mouth_open)."""
    return "--" + control.name.replace("_", "-")


def control_option(control: Control) -> Any:
    """The flag of one declared control: --NAME, its range and meaning in the help."""
    if control.is_choice:
        return click.option(flag_of(control), control.name, type=click.Choice(control.choices, case_sensitive=False),
                            help=f"{control.meaning[:1].upper()}{control.meaning[1:]}.")
    default = f"; default {control.default:g}" if control.name == "intensity" else ""
    return click.option(flag_of(control), control.name, type=float, help=f"{control.meaning[:1].upper()}{control.meaning[1:]}: "
                        f"{control.describe_range()}{default}.")


def vector_option(vector: Any) -> Any:
    """The repeated ``--NAME KEY=VALUE`` flag of a declared vector control (its keys and range in the help)."""
    first = vector.components[0]
    return click.option(f"--{vector.name}", f"vector_{vector.name}", multiple=True, metavar="KEY=VALUE",
                        help=f"{vector.meaning[:1].upper()}{vector.meaning[1:]}; repeat for several keys "
                             f"(e.g. --{vector.name} {first.name}=1). Keys: {', '.join(c.name for c in vector.components)}; "
                             f"each in {first.describe_range()}, default {first.default:g}.")


def vector_values(vectors: Any, given: dict[str, Any]) -> dict[str, Any]:
    """The component values typed through each vector's repeated flag (popped from ``given``), checked."""
    values: dict[str, Any] = {}
    for vector in vectors:
        try:
            values.update(vector.parse(given.pop(f"vector_{vector.name}", ()) or ()))
        except ValueError as err:
            raise click.ClickException(str(err)) from None
    return values


def editor_command(method: str) -> click.Command:
    """``gamut edit METHOD``, its flags built from the editor's declared controls."""
    from gamutlib.papers import editor_class

    editor_cls = editor_class(method)
    vectors = tuple(getattr(editor_cls, "vectors", ()))
    in_vectors = {c.name for v in vectors for c in v.components}
    plain = [c for c in (*editor_cls.controls, *editor_cls.shortcuts) if c.name not in in_vectors]
    names = [c.name for c in plain]
    has_angle = any(c.is_angle for c in editor_cls.controls)

    file_names = [name for name, _ in getattr(editor_cls, "file_options", ())]

    def command(image, out, weights, align, crop, threads, degrees=False, **values) -> None:
        files = {n: values.get(n) for n in file_names}
        chosen = {**{n: values.get(n) for n in names}, **vector_values(vectors, values)}
        click.echo(run_edit(method, image, chosen, out, weights, align, crop, degrees, files=files, threads=threads))

    flags = lambda controls: " ".join(flag_of(c) for c in controls)  # noqa: E731
    give = "give any of" if getattr(editor_cls, "controls_have_defaults", False) else "give"
    given = [flag_of(c) for c in plain if c in editor_cls.controls] + [f"--{v.name} KEY=VALUE ..." for v in vectors]
    doc = f"Edit the expression of a face with a trained {method}: {give} {' '.join(given)}"
    doc += f", or {flags(editor_cls.shortcuts)} (intensity defaults to 1)." if editor_cls.shortcuts else "."
    command = _with_common(command)
    for name, help_text in reversed(getattr(editor_cls, "file_options", ())):
        command = click.option(f"--{name}", name, type=click.Path(dir_okay=False), help=help_text)(command)
    for vector in reversed(vectors):
        command = vector_option(vector)(command)
    for control in reversed(plain):
        command = control_option(control)(command)
    if has_angle:
        command = click.option("--degrees", is_flag=True, help="Read angles in degrees [0, 360].")(command)
    return click.command(method, help=doc)(command)


FINDER_KEY = "gamut.edit.face_finder"


class EditorGroup(click.Group):
    """One subcommand per editable method of the paper registry (read when the CLI runs)."""

    def resolve_command(self, ctx: click.Context, args: list[str]) -> Any:
        finder = start_face_finder_for(args[1:])
        if finder is not None:
            ctx.meta[FINDER_KEY] = finder
            ctx.call_on_close(finder.close)
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        from gamutlib.papers import editable_methods

        return editable_methods()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        from gamutlib.papers import editable_methods

        return editor_command(name) if name in editable_methods() else None


@click.group(cls=EditorGroup)
def edit() -> None:
    """Edit the expression of one face (a face crop or a photo).

    The shipped generators were trained on rendered faces, not photographs:
    on a real photo the edit is weak and may shift colours. A photo's edit is
    pasted back over the face alone; the rest of the photo is unchanged.
    """
