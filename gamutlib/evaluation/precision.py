"""bf16 against fp32: what training in bf16 autocast changes in the table metrics.

The paper's code trains in fp32; ours in bf16 autocast. One generator is
trained again in fp32 with the same seed and the same 10k schedule
(``<record>/ganmut/precision/<name>-fp32-seed<k>.json``) and compared with its
bf16 record (``seeds/<name>-seed<k>.json``). The yardstick is the spread of
the bf16 runs over their training seeds: two runs of one setting with
different seeds differ by about sqrt(2) std, so a difference within
``SPREADS`` = 2 std is one that a change of seed alone could make.
"""

from __future__ import annotations

from gamutlib.evaluation.ganmut_records import CHAPTER

from pathlib import Path
from typing import Any, Mapping, Sequence

from gamutlib.evaluation.claims import estimate
from gamutlib.evaluation.ganmut_records import FP32_RECORD, METRICS, SEED_RECORD, metric_value, read_records

SPREADS = 2.0
COLUMNS = ("metric", "bf16", "fp32", "difference", "bf16_seed_std", "difference_in_std", "verdict", "why")


def fp32_record(record_dir: str | Path, name: str = "ganmut", seed: int = 0) -> dict[str, Any] | None:
    """The fp32 run's record, or None when it is not recorded yet."""
    for record in read_records(Path(record_dir) / "ganmut" / "precision", FP32_RECORD):
        if record["name"] == name and record.get("seed") == seed:
            return record
    return None


def bf16_records(record_dir: str | Path, name: str = "ganmut") -> list[dict[str, Any]]:
    """Every bf16 seed record of ``name`` (the 10k schedule)."""
    return [r for r in read_records(Path(record_dir) / "ganmut" / "seeds", SEED_RECORD) if r["name"] == name]


def precision_rows(fp32: Mapping[str, Any], bf16_seeds: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per metric: the bf16 run of fp32's seed, the fp32 run, their
    difference, the bf16 seed spread and the verdict on "fp32 gives the same
    number as bf16 within the seed spread"."""
    seed = fp32.get("seed")
    same = [r for r in bf16_seeds if r.get("seed") == seed]
    if not same:
        raise ValueError(f"no bf16 record of seed {seed} to compare the fp32 run with")
    bf16 = same[0]
    mismatch = [k for k in ("iterations",) if bf16.get(k) != fp32.get(k)]
    rows = []
    for metric in METRICS:
        a, b = metric_value(bf16, metric), metric_value(fp32, metric)
        spread = estimate(metric_value(r, metric) for r in bf16_seeds)
        std = spread.std if spread is not None else None
        row: dict[str, Any] = {"metric": metric, "bf16": a, "fp32": b, "difference": None, "bf16_seed_std": std,
                               "difference_in_std": None}
        if a is None or b is None:
            row.update(verdict="not testable here", why="the metric is not recorded for both runs")
        elif mismatch:
            row.update(difference=round(b - a, 5), verdict="not testable here",
                       why=f"the runs differ in {', '.join(mismatch)}: {[bf16.get(k) for k in mismatch]} vs {[fp32.get(k) for k in mismatch]}")
        elif std is None or std == 0:
            row.update(difference=round(b - a, 5), verdict="not testable here", why="fewer than two bf16 seeds: no spread")
        else:
            diff = b - a
            k = abs(diff) / std
            ok = k <= SPREADS
            row.update(difference=round(diff, 5), bf16_seed_std=round(std, 5), difference_in_std=round(k, 2),
                       verdict="holds" if ok else "does not hold",
                       why=(f"|fp32 - bf16| = {abs(diff):.3g} is {k:.2f} bf16 seed spreads "
                            f"({'within' if ok else 'beyond'} {SPREADS:g}, what a change of seed alone makes)"))
        rows.append(row)
    return rows


def protocol(fp32: Mapping[str, Any], bf16_seeds: Sequence[Mapping[str, Any]]) -> str:
    seeds = sorted(r.get("seed") for r in bf16_seeds)
    return (f"{fp32['name']} trained {fp32.get('iterations')} iterations with seed {fp32.get('seed')} in fp32 "
            f"(book/results/ganmut/precision/) against the same seed in bf16 autocast (seeds/); yardstick: the sample "
            f"std of the bf16 runs over seeds {seeds}; claim: the difference is within {SPREADS:g} std; "
            "both scored by the evaluation's gpu protocol right after training")


def record_precision(record_dir: str | Path, results_dir: str | Path, name: str = "ganmut", seed: int = 0) -> list[dict[str, Any]] | None:
    """Compare the fp32 run of ``record_dir`` with its bf16 seed and write
    ``{results_dir}/ganmut/precision_bf16_vs_fp32.json``; None, and nothing
    written, when the fp32 run is not recorded yet."""
    from gamutlib.reproduce import write_table

    fp32 = fp32_record(record_dir, name, seed)
    if fp32 is None:
        return None
    bf16 = bf16_records(record_dir, name)
    rows = precision_rows(fp32, bf16)
    write_table(results_dir, "ganmut", "precision_bf16_vs_fp32", rows=rows,
                paper_numbers={"source": "the paper's code trains in fp32; it reports no precision comparison"},
                protocol=protocol(fp32, bf16), seeds=sorted({int(r["seed"]) for r in bf16}),
                producer=CHAPTER)
    return rows
