"""`gamut bench ...`: speed and memory targets, written to book/results."""

from __future__ import annotations

import click


@click.group()
def bench() -> None:
    """Speed benchmarks (results written under book/results)."""
