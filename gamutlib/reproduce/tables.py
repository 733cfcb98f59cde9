"""The study's machine-readable record: one JSON file per table.

``{results_dir}/<paper>/<table>.json`` holds::

    {"rows": [{...}, ...],      # our numbers, one dict per row
     "paper": {...},            # the paper's own numbers (and where they come from)
     "protocol": "...",         # how ours were made: data, sizes, judges, steps
     "seeds": [0, 1, 2],
     "tolerance": {"abs": 0.01, "rel": 0.0},   # optional: opts the table into comparison
     "producer": "notebooks/ganmut/03_evaluation.py"}   # what writes it (a source file or a `gamut` command)

A table is compared with the record only when it carries ``tolerance`` and
its ``protocol`` string equals the record's (see gamutlib.reproduce.compare).
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from typing import Any

from gamutlib.atomic import atomic_write_text

TOLERANCE_KEYS = {"abs", "rel", "columns"}


def table_path(results_dir: str | os.PathLike, paper: str, name: str) -> Path:
    if not paper or "/" in paper or not name or "/" in name:
        raise ValueError(f"paper and table names must be plain names, got {paper!r} and {name!r}")
    return Path(results_dir) / paper / f"{name}.json"


def check_tolerance(tolerance: Mapping[str, Any]) -> None:
    """A tolerance is {"abs": a, "rel": r} with optional per-column overrides under "columns"."""
    unknown = set(tolerance) - TOLERANCE_KEYS
    if unknown:
        raise ValueError(f"tolerance has unknown keys {sorted(unknown)}; allowed: {sorted(TOLERANCE_KEYS)}")
    specs = [tolerance, *(tolerance.get("columns") or {}).values()]
    for spec in specs:
        for key in ("abs", "rel"):
            value = spec.get(key, 0.0)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not value >= 0:
                raise ValueError(f"tolerance {key} must be a number >= 0, got {value!r}")


def write_table(
    results_dir: str | os.PathLike,
    paper: str,
    name: str,
    *,
    rows: Sequence[Mapping[str, Any]],
    paper_numbers: Mapping[str, Any],
    protocol: str,
    seeds: Sequence[int],
    tolerance: Mapping[str, Any] | None = None,
    producer: str | None = None,
) -> Path:
    """Write one table atomically (temporary file, then rename) and return its path.

    ``producer`` names what writes it (a notebook or script path, or a
    ``gamut ...`` command); tests/test_producers.py checks that it exists and
    writes this table. Files of the record written before the field existed
    are named in gamutlib.reproduce.producers."""
    if not isinstance(protocol, str) or not protocol.strip():
        raise ValueError("protocol must be a non-empty string saying how the numbers were made")
    if not rows or not all(isinstance(row, Mapping) for row in rows):
        raise ValueError("rows must be a non-empty list of dicts")
    if not all(isinstance(seed, int) and not isinstance(seed, bool) for seed in seeds):
        raise TypeError(f"seeds must be ints, got {list(seeds)!r}")
    table: dict[str, Any] = {
        "rows": [dict(row) for row in rows],
        "paper": dict(paper_numbers),
        "protocol": protocol,
        "seeds": list(seeds),
    }
    if tolerance is not None:
        check_tolerance(tolerance)
        table["tolerance"] = dict(tolerance)
    if producer is not None:
        table["producer"] = producer
    try:
        text = json.dumps(table, indent=1, allow_nan=False, sort_keys=False) + "\n"
    except ValueError as error:  # NaN or inf
        raise ValueError(f"table {paper}/{name} holds a NaN or infinite number: {error}") from None
    return atomic_write_text(table_path(results_dir, paper, name), text)


def read_table(results_dir: str | os.PathLike, paper: str, name: str) -> dict[str, Any]:
    """Read one table, checking that it has the record's keys."""
    path = table_path(results_dir, paper, name)
    return load_table_file(path)


def load_table_file(path: Path) -> dict[str, Any]:
    try:
        table = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path} is not valid JSON: {error}") from None
    missing = {"rows", "paper", "protocol", "seeds"} - set(table)
    if missing:
        raise ValueError(f"{path} lacks the keys {sorted(missing)} every results table has")
    return table


def load_tables(results_dir: Path, paper: str) -> dict[str, dict[str, Any]]:
    """Every table of one paper under results_dir, by table name."""
    folder = Path(results_dir) / paper
    if not folder.is_dir():
        return {}
    return {path.stem: load_table_file(path) for path in sorted(folder.glob("*.json"))}


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return str(value)


class TableView:
    """A results table shown in a notebook (HTML) and in plain text."""

    def __init__(self, table: Mapping[str, Any], columns: Sequence[str] | None = None) -> None:
        self.table = table
        rows = table["rows"]
        self.columns = list(columns) if columns else list(dict.fromkeys(k for row in rows for k in row))

    def _caption(self) -> str:
        seeds = ", ".join(str(s) for s in self.table["seeds"])
        return f"protocol: {self.table['protocol']}; seeds: {seeds}"

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(c)}</th>" for c in self.columns)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(_cell(row.get(c, '')))}</td>" for c in self.columns) + "</tr>"
            for row in self.table["rows"]
        )
        caption = html.escape(self._caption())
        return f'<table class="gamut-table"><caption>{caption}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'

    def __repr__(self) -> str:
        cells = [self.columns] + [[_cell(row.get(c, "")) for c in self.columns] for row in self.table["rows"]]
        widths = [max(len(r[i]) for r in cells) for i in range(len(self.columns))]
        lines = ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in cells]
        return "\n".join([*lines, self._caption()])


def show_table(table: Mapping[str, Any], columns: Sequence[str] | None = None) -> TableView:
    """The table as a notebook output: the last expression of a cell renders it."""
    return TableView(table, columns)
