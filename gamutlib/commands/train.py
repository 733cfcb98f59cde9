"""`gamut train`."""

from __future__ import annotations

import click


@click.command()
def train() -> None:
    """Not available yet."""
    raise click.ClickException("gamut train is not available yet")
