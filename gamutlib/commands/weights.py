"""`gamut weights`: pack, unpack and list weights files (gamutlib/weights.py
explains the packed form git tracks)."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

root_option = click.option(
    "--root", type=click.Path(file_okay=False), default=None,
    help="Folder of the weights (default: the shipped weights/); its registry says which names it holds.",
)


@click.group()
def weights() -> None:
    """Weights files: git tracks <name>.safetensors.xz (fp16 byte planes under xz);
    readers use the plain <name>.safetensors beside it, unpacked on demand."""


def _folder(root: str | None) -> Path:
    from gamutlib.weights import SHIPPED_ROOT

    return Path(root) if root else SHIPPED_ROOT


def _names(folder: Path, names: tuple[str, ...]) -> list[str]:
    """NAMES, each recorded in the folder's registry; none given: every recorded name."""
    from gamutlib.weights import read_registry, registry_path

    registered = read_registry(registry_path(folder))
    unknown = [n.removesuffix(".safetensors") for n in names if n.removesuffix(".safetensors") not in registered]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)} not recorded in {registry_path(folder)}", param_hint="NAMES")
    return [n.removesuffix(".safetensors") for n in names] or sorted(registered)


def _progress(names: list[str], what: str):  # noqa: ANN202 (a tqdm)
    from tqdm import tqdm

    # disable=None: a bar on a terminal only, none in a script's log
    return tqdm(names, desc=what, unit="file", file=sys.stderr, dynamic_ncols=True, disable=None)


@weights.command()
@click.argument("names", nargs=-1)
@root_option
def pack(names: tuple[str, ...], root: str | None) -> None:
    """Write <name>.safetensors.xz beside each plain file of NAMES (default: every
    name in the registry). The plain file must match its registry entry, and the
    packed bytes are unpacked and compared with it before they are written; a
    packed file that already holds them is left alone."""
    from gamutlib.weights import pack_weights, plain_path

    folder = _folder(root)
    todo = _names(folder, names)
    start, written = time.perf_counter(), 0
    with _progress(todo, "packing") as bar:
        for name in bar:
            try:
                path, wrote = pack_weights(folder, name)
            except (ValueError, FileNotFoundError) as err:
                raise click.ClickException(str(err)) from None
            if wrote:
                written += 1
                plain = plain_path(folder, name).stat().st_size
                bar.write(f"packed {path}: {plain:,} -> {path.stat().st_size:,} bytes")
    click.echo(f"{written} packed, {len(todo) - written} up to date ({time.perf_counter() - start:.1f} s)")


@weights.command()
@click.argument("names", nargs=-1)
@root_option
def unpack(names: tuple[str, ...], root: str | None) -> None:
    """Write the plain <name>.safetensors of NAMES (default: every name in the
    registry) from their packed files, each checked against its sha256 first
    (what a fresh clone needs before anything reads a file outside Python).
    A plain file that is current is left alone."""
    from gamutlib.weights import plain_path, weights_file

    folder = _folder(root)
    todo = _names(folder, names)
    start, written = time.perf_counter(), 0
    with _progress(todo, "unpacking") as bar:
        for name in bar:
            plain = plain_path(folder, name)
            before = plain.stat().st_mtime_ns if plain.exists() else None
            try:
                weights_file(folder, name)
            except (ValueError, FileNotFoundError) as err:
                raise click.ClickException(str(err)) from None
            if plain.stat().st_mtime_ns != before:
                written += 1
                bar.write(f"unpacked {plain}")
    click.echo(f"{written} unpacked, {len(todo) - written} up to date ({time.perf_counter() - start:.1f} s)")


@weights.command(name="lay-in")
@click.argument("source", type=click.Path(exists=True, file_okay=False))
@click.argument("names", nargs=-1)
@root_option
def lay_in_(source: str, names: tuple[str, ...], root: str | None) -> None:
    """Copy SOURCE/<name>.safetensors (NAMES, default: every name of SOURCE's
    registry.json) into the weights folder, each with its registry entry:
    e.g. the record-only generators an earlier gpu session kept aside, laid in
    to record a series again without training it. Files are checked against
    SOURCE's registry first; a name without a file is skipped."""
    from gamutlib.weights import lay_in

    try:
        laid = lay_in(source, [n.removesuffix(".safetensors") for n in names] or None, _folder(root))
    except ValueError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"laid in from {source}: {' '.join(laid) or 'nothing'}")


@weights.command(name="list")
@root_option
def list_(root: str | None) -> None:
    """Every name in the registry: its plain size, its packed size, and which forms are here."""
    from gamutlib.weights import packed_path, plain_path, read_registry, registry_path

    folder = _folder(root)
    registry = read_registry(registry_path(folder))
    rows, plain_total, packed_total, packed_plain = [], 0, 0, 0  # packed_plain: the plain bytes of what is packed
    for name, entry in sorted(registry.items()):
        plain = plain_path(folder, name)
        packed = packed_path(plain)
        size = int(entry.get("bytes", plain.stat().st_size if plain.exists() else 0))
        packed_size = packed.stat().st_size if packed.exists() else None
        rows.append((name, f"{size:,}", f"{packed_size:,}" if packed_size else "-",
                     f"{1 - packed_size / size:.1%}" if packed_size and size else "-", _forms(plain, packed)))
        plain_total += size
        packed_total += packed_size or 0
        packed_plain += size if packed_size else 0
    rows.append(("total", f"{plain_total:,}", f"{packed_total:,}",
                 f"{1 - packed_total / packed_plain:.1%}" if packed_plain else "-", ""))
    header = ("name", "plain bytes", "packed bytes", "saved", "here")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo("  ".join(c.ljust(w) if i in (0, 4) else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))).rstrip())


def _forms(plain: Path, packed: Path) -> str:
    if packed.exists():
        return "packed + plain" if plain.exists() else "packed"
    return "plain only: run `gamut weights pack`" if plain.exists() else "missing"
