"""The GANmut series' tables as protocol objects (paper Tables 1-3, and FED's label choice).

The evaluation chapter writes each table with ``TABLE.write(run, ...)`` and
``gamut evaluate ganmut NAME`` scores a training seed with the same objects
(``seed_rows``), so each number has one producer. The protocol strings are
the record's keys (gamutlib.reproduce.compare): change one only when the
numbers measure something else.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.devices import plain_fp32
from gamutlib.evaluation import ganmut as ev
from gamutlib.evaluation.protocol import EvaluationRun, TableProtocol, with_files
from gamutlib.evaluation.protocol import for_run  # noqa: F401  (re-exported: the chapter calls tables.for_run)
from gamutlib.metrics.accuracy import accuracy_real
from gamutlib.reproduce.tables import read_table, write_table

PAPER = "ganmut"
#: Generators the GPU record measures but the repository does not ship: GANmut
#: with lambda_rho = 1, an ablation of Table 1 (ablations are results, not
#: shipped weights). Its file is laid into weights/ for a gpu-profile record;
#: a reader's CPU runs without it, and its rows come from the record and the
#: seed records (book/results/ganmut/seeds/).
RECORD_ONLY = ("ganmut_rho1",)
from gamutlib.evaluation.ganmut_records import CHAPTER  # noqa: F401  (the producer of these tables)


def open_run(profile: str, weights_dir: str = "weights", device: str | torch.device | None = None,
             allow_fallback: bool = False, names: list[str] | None = None, skip_missing: bool = False) -> EvaluationRun:
    """The series' generators (``names``, default all five), the emotion judge
    and the test faces for ``profile``. ``allow_fallback`` (smoke only) trains
    a tiny stand-in for a missing weights file; its numbers mean nothing.
    ``skip_missing`` leaves a generator without a file out instead of failing
    (a reader's CPU holds only the shipped ones, not RECORD_ONLY's; ``for_run``
    then drops its rows)."""
    from gamutlib.judges.loading import load_emotion_judge
    from gamutlib.papers import weight_names

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    sizes = ev.sizes_for(profile)
    judge = load_emotion_judge(device)
    names = list(names or weight_names(PAPER))
    if skip_missing and not allow_fallback:
        names = with_files(names, weights_dir)
    models = {name: ev.load_or_fallback(name, root=weights_dir, device=device, allow_fallback=allow_fallback)
              for name in names}
    images, labels = ev.test_faces(sizes, device)  # the same faces on CPU and GPU (seed ev.TEST_SEED)
    return EvaluationRun(PAPER, profile, sizes, device, judge, images, labels, models)


def _grid_name(sizes: ev.EvalSizes) -> str:
    return "paper grids" if sizes.is_paper_grid else "reduced grids"


# ------------------------------------------------------------------ Table 1: smoothness


def _table1_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    s = run.sizes
    return ev.smoothness_row(model, run.judge.probs, run.images[: s.n_smooth_faces], s.smooth_classes, s.chunk_size,
                             run.device)


def _table1_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    n = len(run.images[: s.n_smooth_faces])
    return (f"benchmark test faces (seed {ev.TEST_SEED}), {n} faces, classes "
            f"{[EMOTIONS[c] for c in s.smooth_classes]}, 11 codes rho = 0.1 j, shipped emotion judge; "
            f"generators from {', '.join(run.models[n].source for n in ev.TABLE1_METHODS if n in run.models)}")


TABLE1 = TableProtocol(
    paper=PAPER, name="table1_smoothness", methods=ev.TABLE1_METHODS, row=_table1_row, describe=_table1_protocol,
    paper_numbers=ev.PAPER_TABLE1, tolerance={"abs": 0.03, "rel": 0.0}, seed_key="table1",
)


# ------------------------------------------------------------------ Table 2: ERE and FED (each face's own label)


def _fed_faces(run: EvaluationRun) -> tuple[torch.Tensor, torch.Tensor]:
    return run.images[: run.sizes.n_fed], run.labels[: run.sizes.n_fed]


def _table2_real(run: EvaluationRun) -> list[dict[str, Any]]:
    x_fed, _ = _fed_faces(run)
    fed = ev.fed_real(run.judge.features, x_fed, 0, run.sizes.chunk_size, run.device)
    return [{"method": "Real", "ere_setting1": None, "ere_setting2": None, "fed": round(fed, 4)}]


def _table2_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    row, fed = ev.table2_row(model, run.judge, run.images, run.labels, run.sizes, run.device, run.real_features)
    run.outputs.setdefault("table2_ere_fed", {})[model.name] = fed  # the features, for the t-SNE
    return row


def _table2_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    n_ere, n_fed = len(run.images[: s.n_faces]), len(run.images[: s.n_fed])
    return (f"benchmark test faces (seed {ev.TEST_SEED}); ERE on {n_ere} faces in batches of 16, {_grid_name(s)} "
            f"(radius {s.ere_radius_step}, {s.ere_angle_steps} angles, square step {s.ere_square_step}), "
            f"whole softmax as target; FED on {n_fed} faces, sampling seed 0; shipped emotion judge")


TABLE2 = TableProtocol(
    paper=PAPER, name="table2_ere_fed", methods=ev.TABLE2_METHODS, row=_table2_row, describe=_table2_protocol,
    paper_numbers=ev.PAPER_TABLE2, tolerance={"abs": 0.01, "rel": 0.1}, reference_rows=_table2_real, seed_key="table2",
)


# ------------------------------------------------------------------ FED with labels independent of the face


def _fed_independent_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    x_fed, y_fed = _fed_faces(run)
    out = ev.fed_generated(model, run.judge.features, x_fed, ev.independent_labels(y_fed), 0, run.sizes.chunk_size,
                           run.device, run.real_features)
    labels = "none: uniform over its disk" if model.kind == "linear" else "independent of the face"
    return {"method": model.name, "fed": round(out["fed"], 4), "labels": labels}


def _fed_independent_protocol(run: EvaluationRun) -> str:
    n_fed = len(run.images[: run.sizes.n_fed])
    return (f"benchmark test faces (seed {ev.TEST_SEED}); FED on {n_fed} faces, sampling seed 0, each face conditioned "
            f"on a label drawn independently of it (the test labels permuted with seed {ev.INDEPENDENT_LABEL_SEED}; "
            "Table 2 conditions each face on its own label); linear GANmut samples its disk and uses no label; "
            "shipped emotion judge")


FED_INDEPENDENT = TableProtocol(
    paper=PAPER, name="table2_fed_independent_labels", methods=ev.TABLE2_METHODS, row=_fed_independent_row,
    describe=_fed_independent_protocol,
    paper_numbers={"source": "GANmut Table 2 (FED); the paper does not say which labels condition the categorical "
                             "methods, and its published code holds no FED evaluation",
                   **{k: {"fed": v["fed"]} for k, v in ev.PAPER_TABLE2.items() if k != "source"}},
    tolerance={"abs": 0.01, "rel": 0.1},
)


# ------------------------------------------------------------------ Table 3: accuracy per class


def _table3_real(run: EvaluationRun) -> list[dict[str, Any]]:
    x_fed, y_fed = _fed_faces(run)
    real = accuracy_real(run.judge.probs, x_fed, y_fed, run.sizes.chunk_size, run.device)
    return [{"method": "Real", **{k: round(v, 2) for k, v in real["per_class"].items()},
             "mean": round(real["mean_per_class"], 2), "n_faces": len(x_fed)}]


def _table3_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    s = run.sizes
    return ev.accuracy_row(model, run.judge.probs, run.images[: s.n_faces], s.chunk_size, run.device)


def _table3_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    n_gen, n_real = len(run.images[: s.n_faces]), len(run.images[: s.n_fed])
    return (f"benchmark test faces (seed {ev.TEST_SEED}); generated: {n_gen} faces x 7 class codes; real: "
            f"{n_real} faces against their categorical labels; shipped emotion judge, accuracy in %")


TABLE3 = TableProtocol(
    paper=PAPER, name="table3_accuracy", methods=ev.TABLE2_METHODS, row=_table3_row, describe=_table3_protocol,
    paper_numbers=ev.PAPER_TABLE3, tolerance={"abs": 5.0, "rel": 0.0}, reference_rows=_table3_real, seed_key="table3",
)

#: Every table of the series with a protocol object, in the chapter's order.
TABLES = (TABLE1, TABLE2, FED_INDEPENDENT, TABLE3)


# ------------------------------------------------------------------ the cpu protocol, recorded on every profile

#: Suffix of the tables that hold Tables 1-3 measured on the cpu profile's sizes.
CPU_PROTOCOL_SUFFIX = "_cpu_protocol"
#: A reader's CPU and the recording GPU agree to float rounding, but Table 3
#: counts argmax decisions on 16 faces per class: one face that the rounding
#: tips over the judge's boundary moves a class by 100/16 = 6.25 points.
CPU_PROTOCOL_TOLERANCE = {"table3_accuracy": {"abs": 6.5, "rel": 0.0}}



def cpu_protocol_tables() -> tuple[TableProtocol, ...]:
    """Tables 1-3 under the names that a cpu-profile run is checked by, over the shipped generators."""
    return tuple(dataclasses.replace(t, name=t.name + CPU_PROTOCOL_SUFFIX,
                                     tolerance=CPU_PROTOCOL_TOLERANCE.get(t.name, t.tolerance),
                                     methods={k: v for k, v in t.methods.items() if k not in RECORD_ONLY})
                 for t in TABLES)


def write_cpu_protocol(run: EvaluationRun, results_dir: str | Path, weights_dir: str = "weights") -> list[Path]:
    """Tables 1-3 on the cpu profile's sizes, as ``<table>_cpu_protocol.json``.

    The gpu protocol (hundreds of faces, the paper's grids) takes hours on a
    reader's 2 CPU cores, so a cpu run could never be compared with the gpu
    record. Both profiles therefore also write the cpu protocol's tables: the
    gpu profile measures them on a cpu-sized run of its own (the same faces and
    codes, true fp32), the cpu profile re-files the tables it has just written.
    The smoke profile writes none (its numbers mean nothing)."""
    if run.profile == "smoke":
        return []
    written = []
    if run.profile == "cpu":
        for table, cpu_table in zip(TABLES, cpu_protocol_tables()):
            done = read_table(results_dir, PAPER, table.name)
            written.append(write_table(results_dir, PAPER, cpu_table.name, rows=done["rows"], paper_numbers=table.paper_numbers,
                                       protocol=done["protocol"], seeds=list(table.seeds), tolerance=cpu_table.tolerance,
                                       producer=CHAPTER))
        return written
    cpu_run = open_run("cpu", weights_dir=weights_dir, device=run.device,
                       names=[n for n in run.models if n not in RECORD_ONLY])
    with plain_fp32():
        for cpu_table in cpu_protocol_tables():
            written.append(cpu_table.write(cpu_run, results_dir, producer=CHAPTER))
    return written
