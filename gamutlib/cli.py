"""The `gamut` command: render, train, edit, evaluate, reproduce, bench.

Each subcommand lives in gamutlib/commands/<name>.py and imports its heavy
dependencies lazily, so `gamut --help` stays instant.
"""

from __future__ import annotations

import click

from gamutlib.commands.bench import bench
from gamutlib.commands.edit import edit
from gamutlib.commands.evaluate import evaluate
from gamutlib.commands.render import render
from gamutlib.commands.reproduce import reproduce
from gamutlib.commands.train import train


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gamut")
def main() -> None:
    """gamut: continuous facial-expression manipulation, reproduced."""


for command in (render, train, edit, evaluate, reproduce, bench):
    main.add_command(command)


if __name__ == "__main__":
    main()
