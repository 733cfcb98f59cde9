"""A table protocol: one object per table, the one producer of its numbers.

The evaluation chapter and ``gamut evaluate PAPER`` both call it, so a number
in the book and the same number in a seed record come from one function. A
protocol holds what the record is keyed by (the table's name, its protocol
string, its tolerance) beside the function that computes its rows:

- ``row(model, run)``: one generator's row (what a training seed is scored by);
- ``reference_rows(run)``: rows that belong to no generator (the "Real" row);
- ``describe(run)``: the protocol string, from the run's sizes and generators;
- ``methods``: the generators of the table (weights name -> row label).

An ``EvaluationRun`` is what a paper's ``open_run(profile, ...)`` returns: the
profile's sizes, the device, the judges, the test faces, the generators and
the run's caches (the real faces' features for FED).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gamutlib.evaluation.generators import RealFeatures


@dataclass
class EvaluationRun:
    """Everything the tables of one paper share on one profile."""

    paper: str
    profile: str
    sizes: Any  # the paper's sizes for this profile (gamutlib.reproduce.profiles.by_profile)
    device: Any
    judge: Any
    images: Any
    labels: Any
    models: dict[str, Any] = field(default_factory=dict)  # weights name -> Conditioned
    real_features: RealFeatures = field(default_factory=RealFeatures)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)  # table -> weights name -> extra output (t-SNE features)


@dataclass(frozen=True)
class TableProtocol:
    """One table of a paper (see the module docstring)."""

    paper: str
    name: str  # {results_dir}/<paper>/<name>.json
    methods: Mapping[str, str]  # weights name -> row label
    row: Callable[[Any, EvaluationRun], dict[str, Any]]
    describe: Callable[[EvaluationRun], str]
    paper_numbers: Mapping[str, Any]
    tolerance: Mapping[str, Any] | None = None
    reference_rows: Callable[[EvaluationRun], list[dict[str, Any]]] | None = None
    seeds: tuple[int, ...] = (0,)
    #: the key of this table in a seed record ("table1"), or None when seeds are not scored by it
    seed_key: str | None = None

    def rows(self, run: EvaluationRun) -> list[dict[str, Any]]:
        """Every row: the reference rows, then one per generator under its label."""
        rows = list(self.reference_rows(run)) if self.reference_rows else []
        for name, label in self.methods.items():
            rows.append({**self.row(run.models[name], run), "method": label})
        return rows

    def write(self, run: EvaluationRun, results_dir: str | Path, producer: str) -> Path:
        """Compute the rows and write the table (gamutlib.reproduce.write_table)."""
        from gamutlib.reproduce.tables import write_table

        rows = self.rows(run)
        return write_table(results_dir, self.paper, self.name, rows=rows, paper_numbers=self.paper_numbers,
                           protocol=self.describe(run), seeds=list(self.seeds), tolerance=self.tolerance,
                           producer=producer)


def for_run(table: TableProtocol, run: EvaluationRun) -> TableProtocol:
    """``table`` over the generators this run holds (a reader's CPU holds only the shipped ones:
    a series' ablations stay with its GPU record)."""
    return dataclasses.replace(table, methods={k: v for k, v in table.methods.items() if k in run.models})


def with_files(names: list[str], weights_dir: str | Path) -> list[str]:
    """The weights names of ``names`` that have a file, plain or packed, under ``weights_dir``
    (``skip_missing`` of open_run)."""
    from gamutlib.weights import has_weights

    return [n for n in names if has_weights(weights_dir, n)]


def seed_rows(tables: list[TableProtocol], model: Any, run: EvaluationRun) -> dict[str, Any]:
    """One generator's rows of every table a training seed is scored by
    (None for a table that does not compare this generator)."""
    return {t.seed_key: (t.row(model, run) if model.name in t.methods else None) for t in tables if t.seed_key}
