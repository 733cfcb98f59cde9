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
table, with counts computed from the verdicts), the common task (one target
expression, emotion + intensity, turned into each control kind), and the
figures (normalised metrics per method, accuracy against identity).
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
CHAPTER = "notebooks/pending/synthesis/01_all_methods.py"
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
    SynthMethod("FineGrained, best ablation", "finegrained__kmsf2", "finegrained", "relative_au"),
    SynthMethod("PortraitGAN", "portraitgan", "portraitgan", "landmarks"),
    SynthMethod("CycleGAN", "cyclegan", "portraitgan", "modality"),
)
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
    """Median images/s over the logged steps of the shipped run (``<series>/training/<weights>/log.jsonl``)."""
    path = Path(record_dir) / series / "training" / weights / "log.jsonl"
    if not path.exists():
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
    return Cell(found) if found is not None else Cell(reason=not_in_protocol(metric.series))


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
                "training img/s the median of <series>/training/<weights>/log.jsonl, parameters and fp16 MB "
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


def write_scoreboard(record_dir: str | Path, results_dir: str | Path, producer: str = CHAPTER) -> tuple[Path, list[dict[str, str]]]:
    from gamutlib.reproduce.tables import write_table

    rows = scoreboard(record_dir)
    path = write_table(results_dir, PAPER, "claims_scoreboard", rows=rows,
                       paper_numbers={"source": "each series' claims.json (its paper's numbers in the column paper_number)",
                                      "verdicts": list(VERDICTS)},
                       protocol="the rows of <series>/claims.json of the record, verdicts as each series computed them",
                       seeds=[], producer=producer)
    return path, rows


# ----------------------------------------------------------------- one target expression, every control


@dataclass(frozen=True)
class CommonTask:
    """Source faces and one target expression (emotion at an intensity) for all of them."""

    identity: Any  # gamutlib.faces.Identity of the N sources
    source_aus: torch.Tensor  # (N, 17)
    target_aus: torch.Tensor  # (N, 17): each source identity's own AUs of the target expression
    emotion: int
    intensity: float
    size: int


def common_task(identity: Any, source_aus: torch.Tensor, emotion: str | int, intensity: float,
                size: int = 128) -> CommonTask:
    """The target expression's exact AUs for each source identity (the renderer's own mapping)."""
    from gamutlib.faces.emotion import emotion_to_aus

    k = EMOTIONS.index(emotion) if isinstance(emotion, str) else int(emotion)
    if not 0 <= k < len(EMOTIONS):
        raise ValueError(f"emotion must be one of {EMOTIONS} or its index; got {emotion!r}")
    if not 0.0 <= float(intensity) <= 1.0 or not math.isfinite(float(intensity)):
        raise ValueError(f"intensity must be in [0, 1]; got {intensity!r}")
    n = len(identity)
    mix = torch.zeros(n, len(EMOTIONS), device=source_aus.device)
    mix[:, k] = 1.0
    target = emotion_to_aus(mix, torch.full((n,), float(intensity), device=source_aus.device), identity)
    return CommonTask(identity, source_aus, target, k, float(intensity), size)


def to_control(task: CommonTask, kind: str, class_points: torch.Tensor | None = None,
               reference_identity: Any = None) -> dict[str, torch.Tensor]:
    """The task's target in control ``kind`` (one entry per tensor the method takes):

    - emotion: ``code`` (N, 7), the one-hot of the class scaled by the intensity (neutral: its one-hot);
    - plane: ``code`` (N, D), intensity x the class's point at full intensity (``class_points`` (7, D):
      GANmut's rho = 1 directions, GGANmut's mode means; neutral is the origin);
    - au: ``aus`` (N, 17), the target's exact AUs; relative_au: ``delta`` (N, 17), target - source;
    - landmarks: ``landmarks`` (N, 68, 2), the source identity rendered with the target AUs, and ``modality``;
    - reference: ``image``, a face of ``reference_identity`` (another person) showing the target expression.

    A kind that cannot express an expression edit (modality) raises ValueError."""
    from gamutlib.faces.render import render

    n, k, device = len(task.identity), task.emotion, task.source_aus.device
    if not can_express(kind, "emotion_class"):
        raise ValueError(f"control {kind!r} ({CONTROLS[kind]}) {CANNOT_EXPRESS}: it takes no expression")
    if kind == "emotion":
        code = torch.zeros(n, len(EMOTIONS), device=device)
        code[:, k] = task.intensity if k != EMOTIONS.index("neutral") else 1.0
        return {"code": code}
    if kind == "plane":
        if class_points is None or class_points.shape[0] != len(EMOTIONS):
            raise ValueError(f"the plane control needs class_points ({len(EMOTIONS)}, D) of a trained GANmut space")
        return {"code": (task.intensity * class_points[k].float().to(device)).expand(n, -1).clone()}
    if kind == "au":
        return {"aus": task.target_aus}
    if kind == "relative_au":
        return {"delta": task.target_aus - task.source_aus}
    if kind == "landmarks":
        marks = render(task.identity, task.target_aus, size=task.size)["landmarks"]
        return {"landmarks": marks, "modality": torch.zeros(n, dtype=torch.long, device=device)}
    if reference_identity is None or len(reference_identity) != n:
        raise ValueError("the reference control needs reference_identity: N other people to show the expression")
    from gamutlib.faces.emotion import emotion_to_aus

    mix = torch.zeros(n, len(EMOTIONS), device=device)
    mix[:, k] = 1.0
    ref_aus = emotion_to_aus(mix, torch.full((n,), task.intensity, device=device), reference_identity)
    return {"image": render(reference_identity, ref_aus, size=task.size)["image"]}


def truth_of(task: CommonTask) -> torch.Tensor:
    """The exact edit: each source identity rendered with the target AUs (frontal, default light, photo)."""
    from gamutlib.faces.render import render

    return render(task.identity, task.target_aus, size=task.size)["image"]


# ----------------------------------------------------------------- figures


def normalised(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
               columns: Sequence[str] | None = None) -> tuple[list[str], dict[str, list[float | None]]]:
    """Per metric with numbers for at least two methods: each method's mean scaled to [0, 1],
    1 the best of the methods (flipped where lower is better); None where it has no number."""
    chosen = []
    for column in columns or [m.column for m in METRICS]:
        means = [cells[m.label][column].mean for m in methods]
        if sum(v is not None for v in means) >= 2 and len({v for v in means if v is not None}) > 1:
            chosen.append(column)
    scaled: dict[str, list[float | None]] = {m.label: [] for m in methods}
    for column in chosen:
        values = {m.label: cells[m.label][column].mean for m in methods}
        kept = [v for v in values.values() if v is not None]
        lo, hi = min(kept), max(kept)
        for label, v in values.items():
            if v is None:
                scaled[label].append(None)
                continue
            t = (v - lo) / (hi - lo)
            scaled[label].append(t if METRIC_BY_COLUMN[column].higher_is_better else 1.0 - t)
    return chosen, {k: v for k, v in scaled.items() if any(x is not None for x in v)}


def parallel_figure(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]], dpi: int = 60) -> Any:
    """Parallel coordinates over the normalised metrics (1 = best of the methods with a number)."""
    import matplotlib.pyplot as plt

    columns, scaled = normalised(methods, cells)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.9 * len(columns) + 2), 3.2), dpi=dpi)
    if not columns:
        ax.text(0.5, 0.5, "fewer than two methods share a metric yet", ha="center", va="center")
        ax.set_axis_off()
        return fig
    for label, values in scaled.items():
        xs = [i for i, v in enumerate(values) if v is not None]
        ax.plot(xs, [values[i] for i in xs], marker="o", label=label)
    ax.set_xticks(range(len(columns)), columns, rotation=30, ha="right")
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel("normalised (1 = best)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return fig


def tradeoff_points(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
                    x: str = "identity", y: str = "accuracy") -> list[tuple[str, Estimate, Estimate]]:
    """The methods with both numbers: (label, x estimate, y estimate)."""
    return [(m.label, cells[m.label][x].estimate, cells[m.label][y].estimate) for m in methods
            if cells[m.label][x].estimate is not None and cells[m.label][y].estimate is not None]


def tradeoff_figure(methods: Sequence[SynthMethod], cells: Mapping[str, Mapping[str, Cell]],
                    common_rows: Sequence[Mapping[str, Any]] = (), dpi: int = 60) -> Any:
    """Emotion accuracy of edits against identity verification: the series' records (circles, seed
    spreads as error bars) and the common task's single measurement (crosses; the exact edit a star)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.6, 3.4), dpi=dpi)
    points = tradeoff_points(methods, cells)
    for label, ex, ey in points:
        ax.errorbar(ex.mean, ey.mean, xerr=ex.spread, yerr=ey.spread, marker="o", capsize=2, label=f"{label} (records)")
    for row in common_rows:
        exact = row["method"] == "exact edit"
        ax.scatter(row["identity"], row["accuracy"], marker="*" if exact else "x", s=60 if exact else 30,
                   label=f"{row['method']} (common task)")
    ax.set_xlabel("identity verification, %")
    ax.set_ylabel("emotion accuracy of edits, %")
    if points or common_rows:
        ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5))
    else:
        has = {c: [m.label for m in methods if cells[m.label][c].estimate is not None] for c in ("accuracy", "identity")}
        ax.text(0.5, 0.5, "no method has both numbers yet\n" + "\n".join(
            f"{c}: {', '.join(v) or 'none'}" for c, v in has.items()), ha="center", va="center", fontsize=7,
            transform=ax.transAxes, wrap=True)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------- the same faces, edited by every method


def load_editor(method: SynthMethod, weights_dir: str | Path = "weights", device: Any = "cpu",
                allow_fallback: bool = False) -> Any:
    """The method's generator through its series' loader (a tiny stand-in where ``allow_fallback``
    and no weights file exists; its edits mean nothing)."""
    from importlib import import_module

    module = import_module(f"gamutlib.evaluation.{method.series}")
    return module.load_or_fallback(method.weights, root=weights_dir, device=device, allow_fallback=allow_fallback)


@torch.no_grad()
def edit_common(method: SynthMethod, model: Any, task: CommonTask, images: torch.Tensor,
                reference_identity: Any) -> torch.Tensor:
    """``images`` (the task's sources) edited by ``model`` towards the task's expression, each
    method through its own control (``to_control``)."""
    if method.control in ("emotion", "plane"):
        points = model.class_codes() if method.control == "plane" else None
        code = to_control(task, method.control, class_points=points)["code"]
        return model(images, code.to(images.device))
    if method.series == "eggan":
        reference = to_control(task, "reference", reference_identity=reference_identity)["image"]
        target_class = torch.full((len(images),), task.emotion, dtype=torch.long, device=images.device)
        return model.edit(images, reference.to(images.device), task.target_aus.to(images.device), target_class)
    if method.control in ("au", "relative_au"):  # FineGrained's generators take (u_src, u_tgt) and form their own input
        return model.edit(images, task.source_aus, task.source_aus + to_control(task, "relative_au")["delta"])
    if method.control == "landmarks":
        from gamutlib.evaluation.portraitgan import translate

        return translate(model, images, to_control(task, "landmarks")["landmarks"].to(images.device), "photo")
    raise ValueError(f"{method.label}: control {method.control!r} {CANNOT_EXPRESS}")


def load_available(methods: Sequence[SynthMethod], weights_dir: str | Path = "weights", allow_fallback: bool = False,
                   device: Any = "cpu") -> tuple[dict[str, tuple[SynthMethod, Any]], dict[str, str]]:
    """The generators that can attempt an expression edit and have weights (or, where
    ``allow_fallback``, an untrained stand-in, labelled so): ({label: (method, model)}, {label: why left out})."""
    models, left_out = {}, {}
    for m in methods:
        if not can_express(m.control, "emotion_class"):
            left_out[m.label] = CANNOT_EXPRESS
            continue
        shipped = (Path(weights_dir) / f"{m.weights}.safetensors").exists()
        if not shipped and not allow_fallback:
            left_out[m.label] = f"no weights yet ({m.weights}.safetensors)"
            continue
        label = m.label if shipped else f"{m.label} (untrained stand-in)"
        models[label] = (m, load_editor(m, weights_dir, device, allow_fallback))
    return models, left_out


@dataclass(frozen=True)
class CommonFaces:
    """Held-out frontal neutral faces under the default light (the exact edit then differs by the
    expression only), and other people to show HomoInterpGAN the target."""

    identity: Any
    aus: torch.Tensor
    image: torch.Tensor
    reference_identity: Any


def common_faces(n_faces: int, size: int = 128, seed: int = 1234) -> CommonFaces:
    from gamutlib.faces.emotion import emotion_to_aus
    from gamutlib.faces.identity import identities_from_ids, split_ids
    from gamutlib.faces.render import render

    identity = identities_from_ids(split_ids("test", torch.arange(n_faces) + seed))
    neutral = torch.zeros(n_faces, len(EMOTIONS))
    neutral[:, EMOTIONS.index("neutral")] = 1.0
    aus = emotion_to_aus(neutral, torch.zeros(n_faces), identity)  # each person's resting activity
    reference = identities_from_ids(split_ids("test", torch.arange(n_faces) + seed + n_faces))
    return CommonFaces(identity, aus, render(identity, aus, size=size)["image"], reference)


def edit_all(models: Mapping[str, tuple[SynthMethod, Any]], faces: CommonFaces, emotion: str, intensity: float,
             size: int = 128) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """The exact edit of ``faces`` towards ``emotion`` at ``intensity``, and every model's edit."""
    task = common_task(faces.identity, faces.aus, emotion, intensity, size)
    edits = {label: edit_common(m, model, task, faces.image, faces.reference_identity).clamp(-1, 1)
             for label, (m, model) in models.items()}
    return truth_of(task), edits


def common_edits(methods: Sequence[SynthMethod], n_faces: int = 3, emotion: str = "happy", intensity: float = 1.0,
                 weights_dir: str | Path = "weights", allow_fallback: bool = False, size: int = 128,
                 seed: int = 1234) -> tuple[torch.Tensor, torch.Tensor, dict[str, torch.Tensor], dict[str, str]]:
    """Held-out neutral faces, their exact edit, and each method's edit towards ``emotion`` at
    ``intensity``: (sources, truth, {label: edits}, {label: why it is left out})."""
    models, left_out = load_available(methods, weights_dir, allow_fallback)
    faces = common_faces(n_faces, size, seed)
    truth, edits = edit_all(models, faces, emotion, intensity, size)
    return faces.image, truth, edits, left_out


def common_task_rows(models: Mapping[str, tuple[SynthMethod, Any]], faces: CommonFaces, emotions: Sequence[str],
                     emotion_judge: Any, identity_judge: Any, intensity: float = 1.0, size: int = 128,
                     chunk_size: int = 64) -> list[dict[str, Any]]:
    """The same edits scored for every method: L1 and SSIM to the exact edit ([0, 1] pixels), the
    emotion judge's accuracy on the asked class (%), identity verification of (source, edit) (%),
    over every face and asked emotion; "exact edit" first (the judges' own floor)."""
    from gamutlib.evaluation.eggan import judge_verification
    from gamutlib.metrics.batched import map_batches
    from gamutlib.metrics.pixel_error import l1_error
    from gamutlib.metrics.ssim import ssim

    truths, outs, asked = [], {label: [] for label in models}, []
    for emotion in emotions:
        truth, edits = edit_all(models, faces, emotion, intensity, size)
        truths.append(truth)
        asked.append(torch.full((len(truth),), EMOTIONS.index(emotion), dtype=torch.long))
        for label, images in edits.items():
            outs[label].append(images)
    truth, asked = torch.cat(truths), torch.cat(asked)
    sources = faces.image.repeat(len(emotions), 1, 1, 1)

    def row(label: str, images: torch.Tensor) -> dict[str, Any]:
        probs = map_batches(emotion_judge.probs, images, chunk_size, "cpu")
        return {"method": label, "l1_to_exact": round(l1_error(images, truth), 5),
                "ssim_to_exact": round(float(ssim(images, truth)), 4),
                "accuracy": round(100.0 * float((probs.argmax(1) == asked).float().mean()), 2),
                "identity": round(judge_verification(identity_judge, sources, images, chunk_size, "cpu"), 2),
                "n_edits": int(images.shape[0])}

    return [row("exact edit", truth), *(row(label, torch.cat(images)) for label, images in outs.items())]


def write_common_task(results_dir: str | Path, rows: Sequence[Mapping[str, Any]], faces: CommonFaces,
                      emotions: Sequence[str], sources: Mapping[str, str], left_out: Mapping[str, str],
                      producer: str = CHAPTER) -> Path:
    """``{results_dir}/synthesis/common_task.json``: the same edit asked of every method."""
    from gamutlib.reproduce.tables import write_table

    protocol = (f"{len(faces.image)} held-out neutral frontal faces (test identities from 1234, default light, "
                f"{faces.image.shape[-1]} px) x the classes {'/'.join(emotions)} at intensity 1, each method given "
                "the target in its own control (gamutlib.evaluation.synthesis.to_control); exact edit: the same "
                "person rendered with the target AUs; L1 and SSIM on [0, 1] pixels; accuracy: the shipped emotion "
                "judge's argmax equals the asked class; identity: the shipped identity judge calls (source, edit) "
                "one person; generators from " + (", ".join(f"{k}: {v}" for k, v in sources.items()) or "none")
                + "; left out: " + (", ".join(f"{k} ({v})" for k, v in left_out.items()) or "none"))
    return write_table(results_dir, PAPER, "common_task", rows=list(rows),
                       paper_numbers={"source": "none: no paper asked every method for the same edit"},
                       protocol=protocol, seeds=[0], tolerance={"abs": 0.005, "rel": 0.02,
                                                                "columns": {"accuracy": {"abs": 3.0},
                                                                            "identity": {"abs": 3.0}}},
                       producer=producer)


def edits_figure(sources: torch.Tensor, truth: torch.Tensor, edits: Mapping[str, torch.Tensor], dpi: int = 60) -> Any:
    """Rows: the faces; columns: the source, its exact edit, then each method's edit."""
    import matplotlib.pyplot as plt

    from gamutlib.viz.image_grid import to_uint8

    columns = {"source": sources, "exact edit": truth, **edits}
    n = sources.shape[0]
    fig, axes = plt.subplots(n, len(columns), figsize=(1.25 * len(columns), 1.35 * n), dpi=dpi, squeeze=False)
    for j, (title, images) in enumerate(columns.items()):
        for i in range(n):
            axes[i][j].imshow(to_uint8(images[i]))
            axes[i][j].set_axis_off()
        axes[0][j].set_title(title.replace(" (", "\n("), fontsize=7)
    fig.tight_layout()
    return fig
