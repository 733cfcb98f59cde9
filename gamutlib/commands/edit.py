"""`gamut edit`."""

from __future__ import annotations

import click


@click.command()
def edit() -> None:
    """Not available yet."""
    raise click.ClickException("gamut edit is not available yet")
