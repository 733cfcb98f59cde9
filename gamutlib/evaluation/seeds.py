"""Training seeds: each seed scored where it trained.

Only seed 0 of each generator is shipped (weights cost the repository its
size); seeds 1, 2, ... are trained and scored by the paper's table protocols
on the same machine (``gamut evaluate PAPER NAME --seed K``), and their scores
are kept as one JSON per (generator, seed) under
``<results>/<paper>/seeds/<name>-seed<k>.json``. The summaries below read the
GANmut series' records (its tables' keys in ``SEED_METRICS``). The evaluation chapter reads
them back into mean and standard deviation per generator; seed 0's record is
written the same way, so the chapter can check its own live numbers against it.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from pathlib import Path
from typing import Any, Iterable, Mapping

from gamutlib.atomic import atomic_write_text

#: The numbers each table contributes to the seed summary (the rows' keys).
SEED_METRICS = {
    "table1": ("mean",),
    "table2": ("ere_setting1", "ere_setting2", "fed"),
    "table3": ("mean",),
}
_RECORD = re.compile(r"^(?P<name>[a-z0-9_]+)-seed(?P<seed>\d+)\.json$")


def seeds_dir(results_dir: str | Path, paper: str = "ganmut") -> Path:
    return Path(results_dir) / paper / "seeds"


def run_facts(run: str | Path | None) -> dict[str, Any]:
    """Iterations done and the training config of a run folder (its config.json and log.jsonl)."""
    if run is None:
        return {}
    run = Path(run)
    config = json.loads((run / "config.json").read_text())
    steps = [json.loads(line).get("step", 0) for line in (run / "log.jsonl").read_text().splitlines() if line.strip()]
    train = config.get("train", {})
    return {"iterations": max(steps, default=0), "planned_steps": train.get("steps"), "train_seed": train.get("seed"),
            "model": config.get("model", {})}


def write_seed_record(results_dir: str | Path, name: str, seed: int, profile: str, rows: Mapping[str, Any],
                      weights: str, facts: Mapping[str, Any] | None = None, paper: str = "ganmut") -> Path:
    """One generator's scores for one training seed, written atomically."""
    if not re.fullmatch(r"[a-z0-9_]+", name):
        raise ValueError(f"generator name must be lower-case letters, digits and _; got {name!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int; got {seed!r}")
    if not any(rows.values()):
        raise ValueError(f"rows for {name} seed {seed} are all empty: no table scored this generator")
    record = {"name": name, "seed": seed, "profile": profile, "weights": weights, **dict(facts or {}), **dict(rows)}
    path = seeds_dir(results_dir, paper) / f"{name}-seed{seed}.json"
    return atomic_write_text(path, json.dumps(record, indent=1) + "\n")


def read_seed_records(results_dir: str | Path, profile: str | None = None, paper: str = "ganmut") -> list[dict[str, Any]]:
    """Every seed record of ``paper`` under ``results_dir`` (only ``profile``'s where given), by name then seed."""
    records = []
    folder = seeds_dir(results_dir, paper)
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if not _RECORD.match(path.name):
            continue
        record = json.loads(path.read_text())
        if profile is None or record.get("profile") == profile:
            records.append(record)
    return sorted(records, key=lambda r: (r["name"], r["seed"]))


def _mean_std(values: list[float]) -> tuple[float | None, float | None]:
    if not values:
        return None, None
    mean = statistics.fmean(values)
    return mean, (statistics.stdev(values) if len(values) > 1 else None)


def seed_summary(records: Iterable[Mapping[str, Any]], digits: int = 4) -> list[dict[str, Any]]:
    """Per generator: the seeds, and mean and sample standard deviation of each
    summary metric over them (std None for a single seed; a metric a table left
    undefined in some seed is averaged over the seeds that define it, and
    ``<metric>_n`` says over how many)."""
    by_name: dict[str, list[Mapping[str, Any]]] = {}
    for record in records:
        by_name.setdefault(record["name"], []).append(record)
    rows = []
    for name, group in by_name.items():
        row: dict[str, Any] = {"method": name, "seeds": sorted(r["seed"] for r in group)}
        iterations = sorted({r.get("iterations") for r in group if r.get("iterations") is not None})
        row["iterations"] = iterations
        for table, keys in SEED_METRICS.items():
            for key in keys:
                values = [float(r[table][key]) for r in group
                          if r.get(table) and r[table].get(key) is not None and math.isfinite(float(r[table][key]))]
                if not any(r.get(table) for r in group):
                    continue
                mean, std = _mean_std(values)
                label = f"{table}_{key}"
                row[f"{label}_mean"] = None if mean is None else round(mean, digits)
                row[f"{label}_std"] = None if std is None else round(std, digits)
                row[f"{label}_n"] = len(values)
        rows.append(row)
    return rows


def record_agreement(live: Mapping[str, Mapping[str, Any]], records: Iterable[Mapping[str, Any]],
                     tolerance: Mapping[str, Mapping[str, float]], seed: int = 0) -> list[dict[str, Any]]:
    """Live numbers of the shipped generators against their seed records.

    ``live`` maps a generator name to its rows ({"table1": row or None,
    "table2": row, "table3": row}, as ``model_rows`` returns); ``tolerance``
    maps a table to {"abs": a, "rel": r}; a number agrees when
    |live - recorded| <= a + r * |recorded|. One row per (generator, metric).
    """
    by_name = {r["name"]: r for r in records if r["seed"] == seed}
    out = []
    for name, rows in live.items():
        record = by_name.get(name)
        if record is None:
            continue
        for table, keys in SEED_METRICS.items():
            if not rows.get(table) or not record.get(table):
                continue
            tol = tolerance[table]
            for key in keys:
                a, b = rows[table].get(key), record[table].get(key)
                if a is None or b is None:
                    continue
                diff = abs(float(a) - float(b))
                out.append({"method": name, "metric": f"{table}.{key}", "live": a, "recorded": b,
                            "difference": round(diff, 6), "agrees": diff <= tol["abs"] + tol["rel"] * abs(float(b))})
    return out


def spread_rows(summary: Iterable[Mapping[str, Any]], table: str, keys: tuple[str, ...],
                labels: Mapping[str, str]) -> list[dict[str, Any]]:
    """One table's columns from ``seed_summary`` as "mean ± std" text, for the
    generators in ``labels`` (name -> row label) that the table covers."""
    rows = []
    for row in summary:
        if row["method"] not in labels or f"{table}_{keys[0]}_mean" not in row:
            continue
        out: dict[str, Any] = {"method": labels[row["method"]], "seeds": len(row["seeds"])}
        for key in keys:
            mean, std = row[f"{table}_{key}_mean"], row[f"{table}_{key}_std"]
            out[key] = "n/a" if mean is None else (f"{mean:.4g}" if std is None else f"{mean:.4g} ± {std:.2g}")
        rows.append(out)
    return rows


def rows_by_name(tables: Mapping[str, Iterable[Mapping[str, Any]]], table1_labels: Mapping[str, str],
                 labels: Mapping[str, str]) -> dict[str, dict[str, Any]]:
    """The chapter's labelled rows regrouped per generator ({name: {"table1":
    row or None, "table2": row, "table3": row}}, what ``record_agreement``
    compares). Labels map a generator name to its row label: ``table1_labels``
    for Table 1, ``labels`` for the others; rows of no generator (Real) are left out."""
    out: dict[str, dict[str, Any]] = {}
    for table, rows in tables.items():
        names = {label: name for name, label in (table1_labels if table == "table1" else labels).items()}
        for row in rows:
            if row["method"] in names:
                out.setdefault(names[row["method"]], {"table1": None})[table] = row
    return out


def start_ablation_rows(paper_start: Mapping[str, Any], sharp: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """GGANmut from the paper's start (one record) against the sharp start (its seed records)."""
    def row(label: str, record: Mapping[str, Any]) -> dict[str, Any]:
        return {"start": label, "ere_setting1": record["table2"]["ere_setting1"],
                "ere_setting2": record["table2"]["ere_setting2"], "fed": record["table2"]["fed"],
                "accuracy_mean": record["table3"]["mean"]}

    rows = [row(f"paper: sigma^2 = 1, seed {paper_start['seed']}", paper_start)]
    rows += [row(f"sharp: sigma^2 = 0.05, seed {r['seed']}", r) for r in sorted(sharp, key=lambda r: r["seed"])]
    return rows


def read_seed_logs(results_dir: str | Path) -> dict[str, list[tuple[int, list[dict[str, Any]]]]]:
    """Every seed's training log (``seeds/logs/<name>-seed<k>.jsonl``, or ``.jsonl.gz`` as the record keeps
    them) by generator, seeds in order."""
    from gamutlib.training.run_folder import JsonlLog

    logs: dict[str, list[tuple[int, list[dict[str, Any]]]]] = {}
    folder = seeds_dir(results_dir) / "logs"
    paths: dict[tuple[str, str], Path] = {}
    for pattern in ("*-seed*.jsonl.gz", "*-seed*.jsonl"):  # a plain log (a newer run's) wins over a gzipped one
        for path in folder.glob(pattern) if folder.is_dir() else []:
            paths[tuple(path.name.split(".jsonl")[0].rsplit("-seed", 1))] = path  # type: ignore[index]
    for (name, seed), path in sorted(paths.items()):
        if seed.isdigit():
            logs.setdefault(name, []).append((int(seed), JsonlLog(path).read()))
    return {name: sorted(runs, key=lambda run: run[0]) for name, runs in sorted(logs.items())}
