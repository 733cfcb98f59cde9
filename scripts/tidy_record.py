"""Apply `gamut reproduce`'s tidy step to executed notebooks already in the record.

Notebooks recorded before the step existed show two parameters cells (the
defaults and papermill's injected values). This runs the same
``gamutlib.reproduce.tidy.tidy_parameters`` the runner now applies after every
run; no cell is executed and no output changes.

    python scripts/tidy_record.py [NOTEBOOK.ipynb ...]   # default: book/*/*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat

from gamutlib.reproduce.tidy import tidy_parameters

ROOT = Path(__file__).resolve().parents[1]


def main(paths: list[str]) -> None:
    for path in [Path(p) for p in paths] or sorted((ROOT / "book").glob("*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        if tidy_parameters(nb):
            nbformat.write(nb, path)
            print(f"tidied {path}")


if __name__ == "__main__":
    main(sys.argv[1:])
