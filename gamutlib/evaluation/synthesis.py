"""The synthesis: every method of the four series on one benchmark, one table.

Each paper measured its own method on its own data with its own metrics; here
every cell comes from the series' records under ``book/results/<paper>/`` (the
seed records, the benchmark files), never typed again. A cell is

- a number: mean ± sample std over the seed records where there are several,
  the value itself where one measurement exists;
- ``CANNOT_EXPRESS``: the method's control cannot ask for the task the metric
  measures (``can_express``, the one rule, from the control kind);
- ``not recorded yet (the <paper> series is not trained)``: the series that
  measures it has no gpu-profile seed record yet;
- ``not in the <paper> series' protocol``: the series is recorded but its
  tables do not score this method on this metric.

Parameters and the fp16 file size need no training: they are computed from
each method's shipped config (gamutlib/models/configs) with the file sizer of
gamutlib.bench.footprint, which measures the GANmut series the same way.

Besides the table: the claims scoreboard (every series' claims.json in one
table, with counts computed from the verdicts). The common task (one target
expression turned into each control kind) is gamutlib.evaluation.synthesis_tasks,
the figures gamutlib.evaluation.synthesis_figures.
"""

from __future__ import annotations

import json
import math
import statistics
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.evaluation.claims import VERDICTS, Estimate, estimate, verdict_counts

PAPER = "synthesis"
CHAPTER = "notebooks/synthesis/01_all_methods.py"
CONFIGS = Path(__file__).resolve().parents[1] / "models" / "configs"
#: The series whose records the synthesis reads, in the book's order.
SERIES = ("ganmut", "eggan", "finegrained", "portraitgan")

# ----------------------------------------------------------------- controls and what each can ask

#: Control kinds: what a method is told to do.
CONTROLS = {
    "emotion": "an emotion class (one-hot, scaled by the intensity)",
    "plane": "a point of GANmut's learned plane",
    "au": "absolute AU intensities (17, OpenFace scale)",
    "relative_au": "AU changes relative to the source face",
    "landmarks": "target landmarks and a modality",
    "reference": "a target face image",
    "modality": "a modality only (photo -> sketch)",
}

#: Tasks a metric measures, and the control kinds that can ask for each. The one place
#: the table's "cannot express" comes from (``can_express``).
TASKS = {
    # reach an emotion class: a class, a plane point, the class's prototype AUs or landmarks, a face showing it
    "emotion_class": {"emotion", "plane", "au", "relative_au", "landmarks", "reference"},
    # reconstruct a mixture of emotions by searching a continuous emotion code (ERE)
    "emotion_code_search": {"emotion", "plane"},
    # walk neutral -> emotion by intensity (a scaled code, rho, scaled AUs or landmarks, an interpolation weight)
    "intensity": {"emotion", "plane", "au", "relative_au", "landmarks", "reference"},
    # reach another face's expression (a class stands for it as the EGGAN paper conditions StarGAN)
    "target_expression": {"emotion", "plane", "au", "relative_au", "landmarks", "reference"},
    # ask for no change: the source's own AUs, a zero change, its own landmarks, itself as the reference
    "reconstruction": {"au", "relative_au", "landmarks", "reference"},
    # move the face to target landmarks (a class at full intensity in the PortraitGAN protocol)
    "landmark_target": {"emotion", "plane", "au", "relative_au", "landmarks", "reference"},
    # change the modality with the expression kept
    "modality": {"landmarks", "modality"},
    # what every generator has: size, speed
    "any": set(CONTROLS),
}
CANNOT_EXPRESS = "the control cannot express this task"


#: The expressions of the common task: each non-neutral class at full intensity.
TASK_EMOTIONS = tuple(e for e in EMOTIONS if e != "neutral")


@dataclass(frozen=True)
class SynthSizes:
    n_edit_faces: int  # faces of the common-task figure
    n_task_faces: int  # faces of the common-task table, each asked for every emotion of task_emotions
    task_emotions: tuple[str, ...]
    image_size: int
    stand_ins: bool  # train a tiny stand-in for a generator without weights (its edits mean nothing)


SIZES = {
    "smoke": SynthSizes(n_edit_faces=2, n_task_faces=2, task_emotions=("happy",), image_size=128, stand_ins=True),
    "cpu": SynthSizes(n_edit_faces=3, n_task_faces=16, task_emotions=TASK_EMOTIONS, image_size=128, stand_ins=False),
    "gpu": SynthSizes(n_edit_faces=4, n_task_faces=128, task_emotions=TASK_EMOTIONS, image_size=128,
                      stand_ins=False),
}


def can_express(control: str, task: str) -> bool:
    """Whether a method of control kind ``control`` can be asked for ``task``."""
    if control not in CONTROLS:
        raise ValueError(f"unknown control kind {control!r}; kinds: {', '.join(CONTROLS)}")
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    return control in TASKS[task]


# ----------------------------------------------------------------- the ten methods


@dataclass(frozen=True)
class SynthMethod:
    """A row: its label, the weights name its records carry, the series that trains it, its control."""

    label: str
    weights: str
    series: str
    control: str


METHODS = (
    SynthMethod("StarGAN", "stargan", "ganmut", "emotion"),
    SynthMethod("GANimation", "ganimation", "ganmut", "emotion"),
    SynthMethod("GANmut", "ganmut", "ganmut", "plane"),
    SynthMethod("GGANmut", "gganmut", "ganmut", "plane"),
    SynthMethod("EGGAN", "eggan", "eggan", "au"),
    SynthMethod("HomoInterpGAN", "hgan", "eggan", "reference"),
    SynthMethod("FineGrained", "finegrained", "finegrained", "relative_au"),
    # until an ablation is recorded the row stands for k_MSF = 2 (its size is k_MSF = 2's)
    SynthMethod("FineGrained, best ablation", "finegrained__kmsf2", "finegrained", "relative_au"),
    SynthMethod("PortraitGAN", "portraitgan", "portraitgan", "landmarks"),
    SynthMethod("CycleGAN", "cyclegan", "portraitgan", "modality"),
)
UNRESOLVED_ABLATION = "FineGrained, best ablation"
#: FineGrained's ablations, the best of which (lowest mean ED over its seeds) takes the ninth row.
FINEGRAINED_ABLATIONS = {"finegrained__kmsf0": "relative_au", "finegrained__kmsf1": "relative_au",
                         "finegrained__kmsf2": "relative_au", "finegrained__absolute": "au"}

# ----------------------------------------------------------------- the metrics and where each is recorded


@dataclass(frozen=True)
class Metric:
    """A column: where its number is in a seed record (``<series>/seeds/<weights>-seed<k>.json``,
    ``record[table][key]``), the task it measures, and which way is better."""

    column: str
    label: str
    series: str | None  # None: computed here or read from a file of every series
    table: str | None
    key: str | None
    task: str
    higher_is_better: bool


METRICS = (
    Metric("accuracy", "emotion accuracy of edits, %", "ganmut", "table3", "mean", "emotion_class", True),
    Metric("ere", "ERE, setting 1", "ganmut", "table2", "ere_setting1", "emotion_code_search", False),
    Metric("fed", "FED", "ganmut", "table2", "fed", "emotion_class", False),
    Metric("smoothness", "smoothness (Table 1 mean)", "ganmut", "table1", "mean", "intensity", False),
    Metric("au_mse", "AU MSE vs the exact target AUs", "eggan", "table1", "truth_mse_avg", "target_expression", False),
    Metric("au_pcc", "AU PCC vs the exact target AUs", "eggan", "table1", "truth_pcc_avg", "target_expression", True),
    Metric("identity", "identity verification, %", "eggan", "table2", "accuracy_judge", "target_expression", True),
    Metric("truth_l1", "L1 to the exact edit", "eggan", "edit_vs_truth", "l1", "target_expression", False),
    Metric("truth_ssim", "SSIM to the exact edit", "eggan", "edit_vs_truth", "ssim", "target_expression", True),
    Metric("ed", "ED vs the exact target AUs", "finegrained", "table1", "ed_truth", "target_expression", False),
    Metric("acd", "ACD", "finegrained", "table1", "acd", "target_expression", False),
    Metric("is", "IS", "finegrained", "table1", "is", "target_expression", True),
    Metric("recon_l1", "reconstruction L1", "finegrained", "table3", "l1", "reconstruction", False),
    Metric("recon_psnr", "reconstruction PSNR, dB", "finegrained", "table3", "psnr", "reconstruction", True),
    Metric("recon_ssim", "reconstruction SSIM", "finegrained", "table3", "ssim", "reconstruction", True),
    Metric("nme", "landmark NME of shape edits", "portraitgan", "landmark_edits", "shape_nme", "landmark_target", False),
    Metric("modality_mse", "photo -> sketch MSE", "portraitgan", "table1", "mse", "modality", False),
    Metric("latency_ms", "edit latency, ms (2 CPU threads, fp32)", None, None, None, "any", False),
    Metric("train_img_s", "training img/s (median of the log)", None, None, None, "any", True),
    Metric("params_M", "parameters shipped, M", None, None, None, "any", False),
    Metric("fp16_MB", "fp16 file, MB", None, None, None, "any", False),
)
METRIC_BY_COLUMN = {m.column: m for m in METRICS}


# ----------------------------------------------------------------- reading the records


def seed_records(record_dir: str | Path, series: str) -> dict[str, list[dict[str, Any]]]:
    """The gpu-profile seed records of a series, by weights name."""
    from gamutlib.evaluation.seeds import read_seed_records

    by_name: dict[str, list[dict[str, Any]]] = {}
    for record in read_seed_records(record_dir, profile="gpu", paper=series):
        by_name.setdefault(record["name"], []).append(record)
    return by_name


def is_recorded(records: Mapping[str, Sequence[Any]]) -> bool:
    """A series is recorded once it has a gpu-profile seed record."""
    return any(records.values())


def not_recorded(series: str) -> str:
    return f"not recorded yet (the {series} series is not trained)"


def not_in_protocol(series: str) -> str:
    return f"not in the {series} series' protocol"


def _value(record: Mapping[str, Any], table: str, key: str) -> float | None:
    row = record.get(table)
    value = row.get(key) if isinstance(row, Mapping) else None
    if value is None or not math.isfinite(float(value)):
        return None
    return float(value)


def edit_latency_ms(record_dir: str | Path, series: str, method: str) -> float | None:
    """Median ms of one fp32 edit on 2 CPU threads (``gamut bench edit``), where measured."""
    path = Path(record_dir) / series / "edit_latency.json"
    if not path.exists():
        return None
    for row in json.loads(path.read_text())["rows"]:
        if row.get("method") == method and row.get("threads") == 2 and row.get("variant") == "fp32":
            return float(row["median_ms"])
    return None


def training_img_s(record_dir: str | Path, series: str, weights: str) -> float | None:
    """Median images/s over the logged steps of the shipped run (``<series>/training/<weights>/log.jsonl``,
    or ``<weights>-seed0/`` where the series keeps a folder per seed, as PortraitGAN's)."""
    folder = Path(record_dir) / series / "training"
    path = next((folder / name / "log.jsonl" for name in (weights, f"{weights}-seed0")
                 if (folder / name / "log.jsonl").exists()), None)
    if path is None:
        return None
    speeds = [json.loads(line).get("img_s") for line in path.read_text().splitlines() if line.strip()]
    kept = [float(s) for s in speeds if s is not None]
    return statistics.median(kept) if kept else None


def footprint(weights: str, file_bytes: Callable[[dict[str, Any]], int]) -> dict[str, float]:
    """Parameters (M) and file MB of what ``weights`` ships, built from its config;
    ``file_bytes`` sizes the exported modules' file (gamutlib.bench.footprint.fp16_file_bytes:
    the benchmarks sit above the evaluations, so the chapter hands it in)."""
    from gamutlib.papers import get_method, method_of

    config = tomllib.loads((CONFIGS / f"{weights}.toml").read_text()).get("model", {})
    with torch.no_grad():
        modules = get_method(method_of(weights), config).export()
    params = sum(p.numel() for m in modules.values() for p in m.parameters())
    return {"params_M": round(params / 1e6, 3), "fp16_MB": round(file_bytes(modules) / 1e6, 2)}


def all_footprints(file_bytes: Callable[[dict[str, Any]], int]) -> dict[str, dict[str, float]]:
    """``footprint`` of every row's weights and of each FineGrained ablation (any may become the best)."""
    names = dict.fromkeys([m.weights for m in METHODS] + list(FINEGRAINED_ABLATIONS))
    return {name: footprint(name, file_bytes) for name in names}


# ----------------------------------------------------------------- cells and the assembler


@dataclass(frozen=True)
class Cell:
    """One cell: an estimate (a number) or the reason there is none."""

    estimate: Estimate | None = None
    reason: str | None = None

    def __post_init__(self) -> None:
        if (self.estimate is None) == (self.reason is None):
            raise ValueError("a cell holds either a number or a reason")

    @property
    def mean(self) -> float | None:
        return None if self.estimate is None else self.estimate.mean

    def shown(self, digits: int = 4) -> float | str:
        """The JSON cell: the number, "mean ± std" over seeds, or the reason."""
        e = self.estimate
        if e is None:
            return self.reason  # type: ignore[return-value]
        if e.std is None:
            return round(e.mean, digits)
        return f"{e.mean:.{digits}g} ± {e.std:.2g}"


def _one(value: float | None) -> Estimate | None:
    return None if value is None else Estimate(float(value), None, 1)


def best_ablation(finegrained_records: Mapping[str, Sequence[Mapping[str, Any]]]) -> str | None:
    """The FineGrained ablation with the lowest mean ED (exact target AUs) over its seeds; None before any record."""
    scored = {}
    for name in FINEGRAINED_ABLATIONS:
        e = estimate(_value(r, "table1", "ed_truth") for r in finegrained_records.get(name, ()))
        if e is not None:
            scored[name] = e.mean
    return min(scored, key=scored.__getitem__) if scored else None


def resolved_methods(records: Mapping[str, Mapping[str, Sequence[Any]]]) -> list[SynthMethod]:
    """METHODS with the ablation row pointing at the best recorded ablation (kmsf2 until one is recorded)."""
    best = best_ablation(records.get("finegrained", {}))
    out = []
    for m in METHODS:
        if m.label.startswith("FineGrained, best") and best is not None:
            m = SynthMethod(f"FineGrained, best ablation ({best.split('__')[1]})", best, m.series,
                            FINEGRAINED_ABLATIONS[best])
        out.append(m)
    return out


def cell_for(method: SynthMethod, metric: Metric, records: Mapping[str, Mapping[str, Sequence[Mapping[str, Any]]]],
             record_dir: str | Path, sizes: Mapping[str, Mapping[str, float]]) -> Cell:
    """The cell of ``method`` x ``metric`` from the records (see the module docstring)."""
    if not can_express(method.control, metric.task):
        return Cell(reason=CANNOT_EXPRESS)
    if metric.column in ("params_M", "fp16_MB"):
        if method.weights not in sizes:
            raise ValueError(f"no size of {method.weights}: compute it with all_footprints")
        return Cell(_one(sizes[method.weights][metric.column]))
    if metric.column == "latency_ms":
        # by weights name: an ablation (another generator) does not inherit its method's shipped timing
        value = edit_latency_ms(record_dir, method.series, method.weights)
        if value is not None:
            return Cell(_one(value))
        return Cell(reason=(not_recorded(method.series) if not is_recorded(records.get(method.series, {}))
                            else f"not measured (no gamut bench edit of {method.weights})"))
    if metric.column == "train_img_s":
        value = training_img_s(record_dir, method.series, method.weights)
        if value is not None:
            return Cell(_one(value))
        return Cell(reason=(not_recorded(method.series) if not is_recorded(records.get(method.series, {}))
                            else f"not measured (no training log of {method.weights})"))
    assert metric.series is not None and metric.table is not None and metric.key is not None
    series = records.get(metric.series, {})
    if not is_recorded(series):
        return Cell(reason=not_recorded(metric.series))
    found = estimate(_value(r, metric.table, metric.key) for r in series.get(method.weights, ()))
    if found is not None:
        return Cell(found)
    if method.label == UNRESOLVED_ABLATION and metric.series == "finegrained":
        return Cell(reason="no ablation recorded yet (the finegrained series has no ablation seed record)")
    return Cell(reason=not_in_protocol(metric.series))


def read_all_records(record_dir: str | Path) -> dict[str, dict[str, list[dict[str, Any]]]]:
    return {series: seed_records(record_dir, series) for series in SERIES}


def assemble(record_dir: str | Path, sizes: Mapping[str, Mapping[str, float]]) -> tuple[list[SynthMethod], dict[str, dict[str, Cell]]]:
    """The methods (the ablation row resolved) and every cell, by row label then column."""
    records = read_all_records(record_dir)
    methods = resolved_methods(records)
    cells = {m.label: {metric.column: cell_for(m, metric, records, record_dir, sizes) for metric in METRICS}
             for m in methods}
    return methods, cells


def table_rows(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]]) -> list[dict[str, Any]]:
    """all_methods.json's rows: method, series, control, then one shown cell per metric."""
    return [{"method": m.label, "series": m.series, "control": m.control,
             **{c: cell.shown() for c, cell in cells[m.label].items()}} for m in methods]


def write_all_methods(record_dir: str | Path, results_dir: str | Path, sizes: Mapping[str, Mapping[str, float]],
                      producer: str = CHAPTER) -> tuple[Path, Any]:
    """``{results_dir}/synthesis/all_methods.json``; returns the path and (methods, cells)."""
    from gamutlib.reproduce.tables import write_table

    methods, cells = assemble(record_dir, sizes)
    recorded = [s for s, r in read_all_records(record_dir).items() if is_recorded(r)]
    seeds = sorted({int(r["seed"]) for s in SERIES for rs in seed_records(record_dir, s).values() for r in rs})
    protocol = ("every cell read from the series' gpu-profile seed records (mean ± sample std over seeds; one value "
                "where one measurement exists), edit latency from <series>/edit_latency.json (fp32, 2 threads), "
                "training img/s the median of <series>/training/<weights>/log.jsonl (or <weights>-seed0/) as each "
                "series was trained (the FineGrained, EGGAN and PortraitGAN records trained 11 to 17 runs side by "
                "side on one GPU): how fast each trained here, not a speed benchmark (gamut bench train is one), "
                "parameters and fp16 MB "
                "computed from each shipped config; series recorded: " + (", ".join(recorded) or "none")
                + "; columns: " + "; ".join(f"{m.column} = {m.label} ({'higher' if m.higher_is_better else 'lower'}"
                                             " is better)" for m in METRICS))
    path = write_table(results_dir, PAPER, "all_methods", rows=table_rows(methods, cells),
                       paper_numbers={"source": "none: each paper measured its method on its own data with its own "
                                                "judges; this table puts every method on one benchmark",
                                      "controls": dict(CONTROLS)},
                       protocol=protocol, seeds=seeds, producer=producer)
    return path, (methods, cells)


# ----------------------------------------------------------------- the claims scoreboard

SCOREBOARD_COLUMNS = ("paper", "claim", "paper_number", "ours", "verdict")


def scoreboard(record_dir: str | Path) -> list[dict[str, str]]:
    """Every series' claims.json rows (paper, claim, the paper's number, ours, verdict); one row
    saying so for a series without a claims table."""
    rows = []
    for series in SERIES:
        path = Path(record_dir) / series / "claims.json"
        if not path.exists():
            rows.append({"paper": series, "claim": "(none yet)", "paper_number": "-", "ours": not_recorded(series),
                         "verdict": "not recorded"})
            continue
        for row in json.loads(path.read_text())["rows"]:
            rows.append({"paper": series, "claim": row["claim"], "paper_number": row["paper"], "ours": row["ours"],
                         "verdict": row["verdict"]})
    return rows


def scoreboard_counts(rows: Sequence[Mapping[str, str]]) -> list[dict[str, Any]]:
    """Per series: how many claims hold, do not hold, are not testable here (or the series is not recorded)."""
    out = []
    for series in SERIES:
        mine = [r for r in rows if r["paper"] == series]
        if any(r["verdict"] == "not recorded" for r in mine):
            out.append({"series": series, "recorded": False, **{v: None for v in VERDICTS}})
        else:
            out.append({"series": series, "recorded": True, **verdict_counts(mine)})
    return out


def reading(counts: Sequence[Mapping[str, Any]]) -> str:
    """A short reading of the scoreboard, every number computed from the verdicts."""
    recorded = [c for c in counts if c["recorded"]]
    waiting = [c["series"] for c in counts if not c["recorded"]]
    parts = [f"{c['series']}: {c['holds']} of {sum(c[v] for v in VERDICTS)} claims hold, {c['does not hold']} do not, "
             f"{c['not testable here']} are not testable here" for c in recorded]
    total = {v: sum(c[v] for c in recorded) for v in VERDICTS}
    text = "; ".join(parts) + "."
    if recorded:
        n = sum(total.values())
        text += (f" Across the {len(recorded)} recorded series, {total['holds']} of {n} claims hold "
                 f"({100 * total['holds'] / n:.0f}%), {total['does not hold']} do not and "
                 f"{total['not testable here']} cannot be tested here.") if n else ""
    if waiting:
        text += f" Not recorded yet: {', '.join(waiting)}."
    return text.strip()


def held_claims(rows: Sequence[Mapping[str, Any]]) -> str:
    """The claims that hold, by series, as a Markdown list (from scoreboard rows)."""
    held = [r for r in rows if r["verdict"] == "holds"]
    if not held:
        return "No claim holds on this record."
    return "\n".join(f"- **{r['paper']}**: {r['claim']}" for r in held)


def write_scoreboard(record_dir: str | Path, results_dir: str | Path, producer: str = CHAPTER) -> tuple[Path, list[dict[str, str]]]:
    from gamutlib.reproduce.tables import write_table

    rows = scoreboard(record_dir)
    path = write_table(results_dir, PAPER, "claims_scoreboard", rows=rows,
                       paper_numbers={"source": "each series' claims.json (its paper's numbers in the column paper_number)",
                                      "verdicts": list(VERDICTS)},
                       protocol="the rows of <series>/claims.json of the record, verdicts as each series computed them",
                       seeds=[], producer=producer)
    return path, rows
