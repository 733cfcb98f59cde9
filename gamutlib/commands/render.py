"""`gamut render`."""

from __future__ import annotations

import click


@click.command()
def render() -> None:
    """Not available yet."""
    raise click.ClickException("gamut render is not available yet")
