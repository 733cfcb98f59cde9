"""`gamut reproduce`."""

from __future__ import annotations

import click


@click.command()
def reproduce() -> None:
    """Not available yet."""
    raise click.ClickException("gamut reproduce is not available yet")
