"""The `gamut` command: render, train, edit, evaluate, reproduce, bench, weights.

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
from gamutlib.commands.weights import weights


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="gamut")
def main() -> None:
    """gamut: continuous facial-expression manipulation, reproduced."""


for command in (render, train, edit, evaluate, reproduce, bench, weights):
    main.add_command(command)


#: Subcommands whose process ends without Python's teardown once they are done
#: (see ``run``): nothing of theirs is left to clean up by then.
FAST_EXIT = frozenset({"edit"})


def run() -> None:
    """The `gamut` console command: ``main``, then, for ``FAST_EXIT`` commands, an
    immediate exit.

    Tearing down an interpreter that imported torch takes about half a second
    of CPU (module dicts and millions of objects freed one by one), a fifth of
    a photo edit. `gamut edit` has written its output atomically and stopped
    its helper process by the time ``main`` returns, so its process exits with
    ``os._exit`` after flushing stdout and stderr. Other commands (training
    with its checkpoints, the book) exit normally.
    """
    import os
    import sys

    try:
        main()
    except SystemExit as stop:
        if FAST_EXIT.intersection(sys.argv[1:2]):
            sys.stdout.flush()
            sys.stderr.flush()
            code = stop.code
            os._exit(code if isinstance(code, int) else (0 if code is None else 1))
        raise


if __name__ == "__main__":
    run()
