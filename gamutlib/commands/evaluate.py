"""`gamut evaluate`."""

from __future__ import annotations

import click


@click.command()
def evaluate() -> None:
    """Not available yet."""
    raise click.ClickException("gamut evaluate is not available yet")
