"""`gamut render`: grid PNGs of the built-in benchmark."""

from __future__ import annotations

from pathlib import Path

import click


@click.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default="renders", show_default=True, help="Folder for the PNGs.")
@click.option("--size", type=click.IntRange(32, 512), default=128, show_default=True, help="Face size in pixels.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the random-faces grid.")
@click.option("--identity", type=click.IntRange(0, None), default=0, show_default=True, help="Index of the test identity drawn.")
def render(out_dir: str, size: int, seed: int, identity: int) -> None:
    """Grid PNGs: one identity across the 7 emotions x intensities, one face
    across the styles, single-AU strips 0..5 for every AU, random faces."""
    import torch

    from gamutlib.faces.identity import N_TEST_IDENTITIES

    if identity >= N_TEST_IDENTITIES:
        raise click.BadParameter(f"must be below {N_TEST_IDENTITIES} (the test identities)", param_hint="--identity")
    with torch.no_grad():  # a scope, not a global switch: the CLI may run inside another program
        write_grids(Path(out_dir), size, seed, identity)


def write_grids(out: Path, size: int, seed: int, identity: int) -> None:
    from gamutlib.faces.grids import au_strips, benchmark_identity, emotion_grid, identity_grid, style_grid
    from gamutlib.viz.image_grid import plot_image_grid

    face = benchmark_identity(identity)
    out.mkdir(parents=True, exist_ok=True)
    grids = {
        "emotions": (emotion_grid(face, size), 0.9, f"test identity {identity}: emotions x intensity"),
        "styles": (style_grid(face, size), 1.0, f"test identity {identity} in each style"),
        "au_strips": (au_strips(face, size), 0.7, f"test identity {identity}: each AU alone, 0..5"),
        "identities": (identity_grid(size=size, seed=seed), 0.9, f"random test faces (seed {seed})"),
    }
    for name, ((images, rows, cols), inches, title) in grids.items():
        fig = plot_image_grid(images, row_labels=rows if any(rows) else None, col_labels=cols, tile_inches=inches, title=title)
        path = out / f"{name}.png"
        fig.savefig(path, dpi=80)
        click.echo(f"wrote {path}")
