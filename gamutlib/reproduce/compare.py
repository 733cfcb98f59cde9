"""Does a run agree with the committed record?

A table is compared only when both the run and the record carry a
``tolerance`` and their ``protocol`` strings are equal: a different protocol
(smaller data, fewer steps, other judges) measures something else. Tables
made on the smoke profile are never compared. Rows are matched by position;
every number must satisfy ``|ours - record| <= abs + rel * |record|`` (the
record's tolerance, per column where it names one), so must every entry of a
list or matrix of numbers of the same shape, and every other value must be
equal.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping


@dataclass
class Comparison:
    """The outcome for one table."""

    table: str
    state: str  # agrees | disagrees | new | not compared
    reason: str = ""
    agreeing: int = 0
    compared: int = 0
    mismatches: list[str] = field(default_factory=list)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _bounds(tolerance: Mapping[str, Any], column: str) -> tuple[float, float]:
    spec = {**{k: tolerance.get(k, 0.0) for k in ("abs", "rel")}, **(tolerance.get("columns") or {}).get(column, {})}
    return float(spec.get("abs", 0.0)), float(spec.get("rel", 0.0))


def _numbers(value: Any) -> list[float] | None:
    """The numbers of a (nested) list of numbers, flattened; None for anything else."""
    if _is_number(value):
        return [value]
    if isinstance(value, list) and value:
        flat: list[float] = []
        for item in value:
            numbers = _numbers(item)
            if numbers is None:
                return None
            flat.extend(numbers)
        return flat
    return None


def _shape(value: Any) -> Any:
    return [_shape(v) for v in value] if isinstance(value, list) else None


def compare_table(name: str, ours: Mapping[str, Any], record: Mapping[str, Any] | None) -> Comparison:
    """Compare one table of a run with the same table in the record."""
    if record is None:
        return Comparison(name, "new", "no such table in the record")
    if "tolerance" not in record or "tolerance" not in ours:
        return Comparison(name, "not compared", "the table states no tolerance")
    if ours["protocol"] != record["protocol"]:
        return Comparison(name, "not compared", "another protocol than the record's")
    result = Comparison(name, "agrees")
    tolerance = record["tolerance"]
    if len(ours["rows"]) != len(record["rows"]):
        result.mismatches.append(f"{len(ours['rows'])} rows, the record has {len(record['rows'])}")
    for index, (row, expected) in enumerate(zip(ours["rows"], record["rows"])):
        for column in dict.fromkeys([*expected, *row]):
            if column not in row or column not in expected:
                result.mismatches.append(f"row {index}: column {column!r} is missing on one side")
                continue
            got, want = row[column], expected[column]
            if _is_number(got) and _is_number(want):
                result.compared += 1
                abs_tol, rel_tol = _bounds(tolerance, column)
                if math.isfinite(got) and math.isfinite(want) and abs(got - want) <= abs_tol + rel_tol * abs(want):
                    result.agreeing += 1
                else:
                    result.mismatches.append(
                        f"row {index} {column}: {got!r} vs record {want!r} (tolerance abs {abs_tol:g}, rel {rel_tol:g})"
                    )
            elif isinstance(got, list) and _shape(got) == _shape(want) and None not in (_numbers(got), _numbers(want)):
                abs_tol, rel_tol = _bounds(tolerance, column)
                pairs = list(zip(_numbers(got), _numbers(want)))
                bad = [i for i, (g, w) in enumerate(pairs)
                       if not (math.isfinite(g) and math.isfinite(w) and abs(g - w) <= abs_tol + rel_tol * abs(w))]
                result.compared += len(pairs)
                result.agreeing += len(pairs) - len(bad)
                if bad:
                    g, w = pairs[bad[0]]
                    result.mismatches.append(f"row {index} {column}: {len(bad)} of {len(pairs)} entries off, first (flat "
                                             f"index {bad[0]}) {g!r} vs record {w!r} (tolerance abs {abs_tol:g}, rel {rel_tol:g})")
            elif got != want:
                result.mismatches.append(f"row {index} {column}: {got!r} vs record {want!r}")
    if result.mismatches:
        result.state = "disagrees"
    return result


def compare_tables(
    ours: Mapping[str, Mapping[str, Any]], record: Mapping[str, Mapping[str, Any]], profile: str
) -> list[Comparison]:
    """Compare every table a notebook wrote; smoke-profile tables are never compared."""
    if profile == "smoke":
        return [Comparison(name, "not compared", "smoke profile") for name in ours]
    return [compare_table(name, table, record.get(name)) for name, table in ours.items()]
