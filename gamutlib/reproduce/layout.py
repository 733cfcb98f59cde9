"""Where things live: notebooks/<paper>/NN_name.py -> book/<paper>/NN_name.ipynb.

A paper folder may carry a numeric prefix that only orders the book
(``notebooks/00_intro`` is the paper ``intro``); notebooks inside it are
``NN_name.py`` files in jupytext's py:percent format and run in NN order,
because a series trains before it evaluates.

A series whose chapters are written but not yet recorded on the gpu profile
waits under ``notebooks/pending/<paper>/``: ``discover`` does not see it (so
neither ``gamut reproduce`` nor the book does), ``discover_pending`` does (the
smoke test runs it like any other). Recording it is ``git mv`` to
``notebooks/<paper>/``, ``gamut reproduce --profile gpu --only <paper>`` and
its _toc.yml entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NOTEBOOK_PATTERN = re.compile(r"^(\d+)_([A-Za-z0-9_]+)\.py$")
PAPER_FOLDER_PATTERN = re.compile(r"^(?:(\d+)_)?([a-z][a-z0-9_]*)$")
RECORD_RESULTS = Path("book") / "results"
PENDING = "pending"  # notebooks/pending/<paper>/: written, not yet recorded


@dataclass(frozen=True)
class Notebook:
    """One notebook source and where its executed copy belongs."""

    paper: str
    source: Path  # relative to the repository root
    order: int

    @property
    def name(self) -> str:
        return self.source.stem

    @property
    def label(self) -> str:
        return f"{self.paper}/{self.name}"

    def executed_path(self, out_dir: Path) -> Path:
        """``out_dir/<paper>/NN_name.ipynb``: book/ for the record, a build folder otherwise."""
        return out_dir / self.paper / f"{self.name}.ipynb"


def find_root(start: Path | None = None) -> Path:
    """The repository root: the nearest folder (from ``start`` up) that holds notebooks/ and _toc.yml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "notebooks").is_dir() and (folder / "_toc.yml").is_file():
            return folder
    package_root = Path(__file__).resolve().parents[2]
    if (package_root / "notebooks").is_dir():
        return package_root
    raise FileNotFoundError(f"no gamut repository (a folder with notebooks/ and _toc.yml) at or above {here}")


def paper_id(folder_name: str) -> str | None:
    """``00_intro`` -> ``intro``; None for folders that are not paper series."""
    match = PAPER_FOLDER_PATTERN.match(folder_name)
    return match.group(2) if match else None


def discover(root: Path) -> dict[str, list[Notebook]]:
    """Every paper series under root/notebooks, in book order, notebooks in NN order."""
    return _discover_in(root, root / "notebooks")


def discover_pending(root: Path) -> dict[str, list[Notebook]]:
    """The series under root/notebooks/pending: chapters written but not yet recorded."""
    pending = root / "notebooks" / PENDING
    return _discover_in(root, pending) if pending.is_dir() else {}


def _discover_in(root: Path, notebooks_dir: Path) -> dict[str, list[Notebook]]:
    if not notebooks_dir.is_dir():
        raise FileNotFoundError(f"{notebooks_dir} does not exist")
    papers: dict[str, list[Notebook]] = {}
    for folder in sorted(p for p in notebooks_dir.iterdir() if p.is_dir()):
        paper = paper_id(folder.name)
        if paper is None or (notebooks_dir == root / "notebooks" and folder.name == PENDING):
            continue
        if paper in papers:
            raise ValueError(f"two folders under {notebooks_dir} name the paper {paper!r}")
        found = []
        for path in folder.iterdir():
            match = NOTEBOOK_PATTERN.match(path.name)
            if match:
                found.append(Notebook(paper, path.relative_to(root), int(match.group(1))))
        if found:
            papers[paper] = sorted(found, key=lambda nb: (nb.order, nb.name))
    return papers
