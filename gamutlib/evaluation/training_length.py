"""Does the gap close with training? The table metrics against iterations.

Long runs of each method (``<record>/ganmut/training_length/<name>-it<N>.json``,
the seed-record format) are scored at several iteration counts. A method may
have more than one long run (e.g. one stopped by a time limit mid-schedule and
one that completed it); a record's ``run_id`` tells them apart. Two kinds of
point must not be confused:

- seed 0 of the 10k study (``seeds/<name>-seed0.json``) follows the paper's
  schedule shrunk to 10k: its learning rate has decayed to 0 at the end;
- a long run's intermediate points (e.g. 10k and 30k of a 100k run) are taken
  mid-run, before its decay; only its last point has the decayed LR (where
  the record's ``planned_steps`` says so).

``training_length_rows`` puts both in one table, with a ``run`` column that
says which is which; the paper's values (1M iterations, GGANmut 1.8M) go
beside them, read from the tables' ``paper`` fields.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

from gamutlib.evaluation.ganmut_records import CHAPTER, LABELS, LENGTH_RECORD, METRICS, SEED_RECORD, metric_value, read_records

METHODS = ("stargan", "ganmut", "gganmut")
PAPER_ITERATIONS = {"stargan": 1_000_000, "ganmut": 1_000_000, "gganmut": 1_800_000}
COLUMNS = ("method", "iterations", "run", *METRICS)


def training_length_dir(record_dir: str | Path) -> Path:
    return Path(record_dir) / "ganmut" / "training_length"


def read_training_length(record_dir: str | Path) -> list[dict[str, Any]]:
    """The long runs' records (gpu profile), by method then iterations; [] when none is recorded."""
    records = read_records(training_length_dir(record_dir), LENGTH_RECORD)
    for record in records:
        it = int(LENGTH_RECORD.match(record["file"]).group("iterations"))  # type: ignore[union-attr]
        if int(record.get("iterations", it)) != it:
            raise ValueError(f"{record['file']} says iterations {record.get('iterations')}, its name {it}")
        record["iterations"] = it
    return sorted(records, key=lambda r: (r["name"], r["iterations"]))


def _run_label(record: Mapping[str, Any]) -> str:
    """What kind of point a long run's record is; ``run <id>: `` first where the
    record names its run (two runs of one method and seed are told apart)."""
    planned = record.get("planned_steps")
    seed = record.get("seed", record.get("train_seed"))
    seed_text = f", seed {seed}" if seed is not None else ""
    run = f"run {record['run_id']}: " if record.get("run_id") else ""
    if planned is None:
        return f"{run}long run (schedule not recorded{seed_text})"
    if int(record["iterations"]) >= int(planned):
        return f"{run}{int(planned) // 1000}k run, end (LR decayed to 0{seed_text})"
    return f"{run}{int(planned) // 1000}k run, mid-run (LR not decayed{seed_text})"


def run_of(row: Mapping[str, Any]) -> str:
    """The run a table row belongs to (``A`` of "run A: ..."); "" where the row names none."""
    match = re.match(r"run (\S+): ", str(row.get("run", "")))
    return match.group(1) if match else ""


def training_length_rows(long_records: Sequence[Mapping[str, Any]], seed0: Sequence[Mapping[str, Any]] = ()) -> list[dict[str, Any]]:
    """Rows (method, iterations, run, accuracy, fed, ere_setting1, ere_setting2,
    smoothness): the 10k study's seed-0 records of the methods that have a long
    run, then each long run's points in order of iterations."""
    names = [n for n in METHODS if any(r["name"] == n for r in long_records)]
    names += sorted({r["name"] for r in long_records} - set(names))
    rows = []
    for name in names:
        for record in seed0:
            if record["name"] == name and record.get("seed") == 0:
                rows.append({"method": LABELS.get(name, name), "iterations": int(record["iterations"]),
                             "run": "10k schedule, end (LR decayed to 0; seed 0 of the 10k study)",
                             **{m: metric_value(record, m) for m in METRICS}})
        for record in sorted((r for r in long_records if r["name"] == name), key=lambda r: r["iterations"]):
            rows.append({"method": LABELS.get(name, name), "iterations": int(record["iterations"]), "run": _run_label(record),
                         **{m: metric_value(record, m) for m in METRICS}})
    return rows


def paper_numbers(paper: Mapping[str, Mapping[str, Any]], methods: Sequence[str] = METHODS) -> dict[str, Any]:
    """The paper's values of each method (its Tables 1-3, at its full training) for the table's ``paper`` field."""
    out: dict[str, Any] = {"source": "GANmut Tables 1-3 (accuracy: mean of Table 3's 7 classes; smoothness: mean of "
                                     "Table 1's 6 classes), after the paper's full training"}
    for name in methods:
        values = paper.get(LABELS[name], {})
        out[LABELS[name]] = {"iterations": PAPER_ITERATIONS[name], **{m: values.get(m) for m in METRICS}}
    return out


def seed0_records(record_dir: str | Path) -> list[dict[str, Any]]:
    """Seed 0's records of the 10k study."""
    return [r for r in read_records(Path(record_dir) / "ganmut" / "seeds", SEED_RECORD) if r.get("seed") == 0]


PROTOCOL = ("long runs (seed 0, 128 px, batch 16, the shipped configs) scored by the evaluation's gpu protocol "
            "(Tables 1-3) at each iteration count; 'run' says which run a point comes from (where a method has two) and "
            "whether it ends a schedule (LR decayed to 0) or is taken mid-run; the 10k-schedule rows are seed 0 "
            "of the 10k study; the last point of each run B is the shipped generator")


def training_length_verdicts(rows: Sequence[Mapping[str, Any]], paper: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per method and metric, the claim "with longer training our number reaches
    the paper's": ours at the long run's first and last point, the verdict
    (holds when the last point reaches the paper's value: >= for accuracy, <=
    for the others; one seed, so no spread) and how much of the gap closed."""
    from gamutlib.evaluation.claims import claim_row
    from gamutlib.evaluation.ganmut_records import HIGHER_IS_BETTER

    out = []
    for method in dict.fromkeys(r["method"] for r in rows):
        long = sorted((r for r in rows if r["method"] == method and not r["run"].startswith("10k schedule")),
                      key=lambda r: r["iterations"])
        for metric in METRICS:
            points = [r for r in long if r.get(metric) is not None]
            target = (paper.get(method) or {}).get(metric)
            claim = f"{method}, {metric}: longer training reaches the paper's value"
            if not points or target is None:
                why = "no long-run number" if not points else "the paper gives no number"
                out.append(claim_row(claim, "n/a" if target is None else f"{target:.3g}",
                                     "not recorded" if not points else f"{points[-1][metric]:.3g}", "not testable here", why))
                continue
            first, last = points[0], points[-1]
            higher = metric in HIGHER_IS_BETTER
            reached = last[metric] >= target if higher else last[metric] <= target
            sign = 1.0 if higher else -1.0  # shortfall > 0: short of the paper's value
            short0, short1 = sign * (target - first[metric]), sign * (target - last[metric])
            span = f"from {first['iterations'] // 1000}k to {last['iterations'] // 1000}k"
            if short0 > 0:
                trend = f"the shortfall went {short0:.3g} -> {short1:.3g} ({1 - short1 / short0:+.0%} of it closed)"
            else:
                trend = f"already at the paper's value at {first['iterations'] // 1000}k; shortfall {short0:.3g} -> {short1:.3g}"
            why = f"one seed; {span} {trend}; last point: {last['run']}"
            ours = f"{first[metric]:.3g} at {first['iterations'] // 1000}k -> {last[metric]:.3g} at {last['iterations'] // 1000}k"
            out.append(claim_row(claim, f"{target:.3g}", ours, "holds" if reached else "does not hold", why))
    return out


def record_training_length(record_dir: str | Path, results_dir: str | Path) -> list[dict[str, Any]] | None:
    """Collect the long runs of ``record_dir`` and write ``{results_dir}/ganmut/training_length.json``
    (with the paper's values beside); None, and nothing written, when no long run is recorded yet."""
    from gamutlib.evaluation.ganmut_records import paper_values
    from gamutlib.reproduce import write_table

    long = read_training_length(record_dir)
    if not long:
        return None
    rows = training_length_rows(long, seed0_records(record_dir))
    write_table(results_dir, "ganmut", "training_length", rows=rows, paper_numbers=paper_numbers(paper_values(record_dir)),
                protocol=PROTOCOL, seeds=sorted({int(r.get("seed", 0)) for r in long}),
                producer=CHAPTER)
    return rows


def _point(row: Mapping[str, Any], metric: str) -> str:
    return f"{row[metric]:.3g} at {row['iterations'] / 1000:.0f}k"


def describe_training_length(rows: Sequence[Mapping[str, Any]], paper: Mapping[str, Any]) -> str:
    """What the long runs show, in words computed from the rows (so the reading
    is true of whatever record it is run on): per metric, each method's first
    and last long-run point beside the paper's value, and whether the paper's
    ordering between the methods holds at the last points."""
    from gamutlib.evaluation.ganmut_records import HIGHER_IS_BETTER

    long: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        if not row["run"].startswith("10k schedule"):
            long.setdefault(row["method"], []).append(row)
    for points in long.values():
        points.sort(key=lambda r: r["iterations"])
    names = {"accuracy": "Accuracy (Table 3, %)", "fed": "FED (Table 2)", "ere_setting1": "ERE, setting 1 (Table 2)",
             "ere_setting2": "ERE, setting 2 (Table 2)", "smoothness": "Smoothness (Table 1)"}
    # the paper's orderings, best first (lower is better except accuracy)
    orderings = {"fed": ("GANmut", "StarGAN"), "ere_setting1": ("GGANmut", "GANmut", "StarGAN"),
                 "ere_setting2": ("GGANmut", "GANmut", "StarGAN"), "smoothness": ("GANmut", "StarGAN")}
    lines = []
    for metric in METRICS:
        parts = []
        for method, points in long.items():
            have = [p for p in points if p.get(metric) is not None]
            if not have:
                continue
            target = (paper.get(method) or {}).get(metric)
            beside = f" (paper {target:.3g})" if target is not None else ""
            parts.append(f"{method} {_point(have[0], metric)} -> {_point(have[-1], metric)}{beside}")
        if not parts:
            continue
        line = f"- **{names.get(metric, metric)}**: " + "; ".join(parts) + "."
        order = orderings.get(metric)
        if order and all(long.get(m) and long[m][-1].get(metric) is not None for m in order):
            last = {m: long[m][-1][metric] for m in order}
            better = (lambda a, b: a > b) if metric in HIGHER_IS_BETTER else (lambda a, b: a < b)
            held = all(better(last[a], last[b]) for a, b in zip(order, order[1:]))
            wanted = " < ".join(order)
            line += (f" The paper's ordering {wanted} {'holds' if held else 'does not hold'} at the last points "
                     f"({', '.join(f'{m} {v:.3g}' for m, v in last.items())}; one seed each, no spread).")
        lines.append(line)
    return "\n".join(lines)
