"""What writes each file of the record under book/results/.

A table written through ``write_table(..., producer=...)`` names its producer
in its own JSON. Files of the record made before that field existed (and the
run folders and seed records, which are not tables) are named here, by
pattern. ``producer_of`` reads the field first, then this list.

Each entry also says where the writing happens (``evidence``: a source file)
and a string that file must hold to write it (``token``), so that
tests/test_producers.py fails on a file whose producer is gone or no longer
writes it.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Producer:
    pattern: str  # relative to book/results/, fnmatch syntax
    producer: str  # a path from the repository root, or a `gamut ...` command
    evidence: str  # the source file that writes it
    token: str  # what that source must contain


EVALUATION = "notebooks/ganmut/03_evaluation.py"
RECORDED: tuple[Producer, ...] = (
    Producer("benchmark/domain_gap.json", "notebooks/00_benchmark/02_domain_gap.py",
             "notebooks/00_benchmark/02_domain_gap.py", '"domain_gap"'),
    Producer("benchmark/photo_edit.json", "gamut bench photo-edit", "gamutlib/commands/bench.py", "photo_edit.json"),
    Producer("benchmark/render_speed.json", "gamut bench render", "gamutlib/commands/bench.py", "render_speed.json"),
    Producer("benchmark/truth_checks.json", "notebooks/00_benchmark/01_benchmark.py", "gamutlib/evaluation/benchmark_truth.py",
             "truth_checks.json"),
    Producer("engine/ddp/*/config.json", "scripts/gpu/ddp_scaling.sh", "scripts/gpu/ddp_scaling.sh", "config.json"),
    Producer("engine/ddp_defaults/*/config.json", "scripts/gpu/ddp_defaults_check.sh",
             "scripts/gpu/ddp_defaults_check.sh", "config.json"),
    Producer("engine/ddp_scaling.json", "gamut bench ddp", "gamutlib/commands/bench.py", "ddp_scaling.json"),
    Producer("engine/train_speed.json", "gamut bench train", "gamutlib/commands/bench.py", "train_speed.json"),
    Producer("eggan/ablations/*-seed*.json", "scripts/gpu/score_eggan.sh", "scripts/gpu/score_eggan.sh",
             "eggan/ablations/$config-seed$seed.json"),
    *(Producer(f"eggan/{table}.json", "notebooks/eggan/03_evaluation.py", "gamutlib/evaluation/eggan_tables.py",
               f'"{table}"') for table in ("table1_au", "table2_identity", "edit_vs_truth", "fig3_interpolation")),
    Producer("eggan/*_cpu_protocol.json", "notebooks/eggan/03_evaluation.py", "gamutlib/evaluation/eggan_tables.py",
             "CPU_PROTOCOL_SUFFIX"),
    Producer("eggan/table2_identity_dlib.json", "gamutlib/evaluation/eggan_tables.py",
             "gamutlib/evaluation/eggan_tables.py", '"table2_identity_dlib"'),
    Producer("eggan/edit_latency.json", "gamut bench edit", "gamutlib/commands/bench.py", "edit_latency.json"),
    Producer("eggan/seeds/*-seed*.json", "gamut evaluate eggan", "gamutlib/evaluation/seeds.py", '"seeds"'),
    Producer("eggan/training/*/config.json", "scripts/gpu/score_eggan.sh", "scripts/gpu/score_eggan.sh",
             "eggan/training/$config"),
    Producer("ganmut/ablation_gganmut_init.json", EVALUATION, EVALUATION, "ablation_gganmut_init"),
    Producer("ganmut/ablations/gganmut__paper_init-seed*.json", "scripts/gpu/train_seeds.sh",
             "scripts/gpu/train_seeds.sh", "gganmut__paper_init"),
    Producer("ganmut/edit_latency.json", "gamut bench edit", "gamutlib/commands/bench.py", "edit_latency.json"),
    Producer("ganmut/gamut_vs_truth.json", EVALUATION, EVALUATION, "gamut_vs_truth"),
    Producer("ganmut/model_sizes.json", "notebooks/ganmut/01_model.py", "notebooks/ganmut/01_model.py", "model_sizes"),
    Producer("ganmut/seed_summary.json", EVALUATION, EVALUATION, "seed_summary"),
    Producer("ganmut/seeds/*-seed*.json", "gamut evaluate ganmut", "gamutlib/evaluation/seeds.py", '"seeds"'),
    Producer("ganmut/*_cpu_protocol.json", EVALUATION, "gamutlib/evaluation/ganmut_tables.py", "CPU_PROTOCOL_SUFFIX"),
    Producer("ganmut/table1_smoothness.json", EVALUATION, "gamutlib/evaluation/ganmut_tables.py", "table1_smoothness"),
    Producer("ganmut/table2_ere_fed.json", EVALUATION, "gamutlib/evaluation/ganmut_tables.py", "table2_ere_fed"),
    Producer("ganmut/table2_fed_independent_labels.json", EVALUATION, "gamutlib/evaluation/ganmut_tables.py",
             "table2_fed_independent_labels"),
    Producer("ganmut/table3_accuracy.json", EVALUATION, "gamutlib/evaluation/ganmut_tables.py", "table3_accuracy"),
    Producer("ganmut/training_length/*-it*.json", "scripts/gpu/train_length.sh", "scripts/gpu/train_length.sh",
             "training_length/$config-it"),
    Producer("ganmut/precision/ganmut-fp32-seed*.json", "scripts/gpu/train_length.sh", "scripts/gpu/train_length.sh",
             "precision/ganmut-fp32-seed0.json"),
    Producer("ganmut/training/*/config.json", "scripts/gpu/train_ganmut.sh", "scripts/gpu/train_ganmut.sh",
             "book/results/ganmut/training"),
    Producer("portraitgan/edit_latency.json", "gamut bench edit", "gamutlib/commands/bench.py", "edit_latency.json"),
    Producer("portraitgan/seeds/*-seed*.json", "gamut evaluate portraitgan", "gamutlib/evaluation/seeds.py", '"seeds"'),
    Producer("portraitgan/*_cpu_protocol.json", "notebooks/portraitgan/03_evaluation.py",
             "gamutlib/evaluation/portraitgan_tables.py", "CPU_PROTOCOL_SUFFIX"),
    Producer("portraitgan/training/*/config.json", "scripts/gpu/score_portraitgan.sh", "scripts/gpu/score_portraitgan.sh",
             'cp "$run/log.jsonl" "$run/config.json"'),
    Producer("finegrained/edit_latency.json", "gamut bench edit", "gamutlib/commands/bench.py", "edit_latency.json"),
    Producer("finegrained/*_cpu_protocol.json", "notebooks/finegrained/03_evaluation.py",
             "gamutlib/evaluation/finegrained_tables.py", "CPU_PROTOCOL_SUFFIX"),
    Producer("finegrained/seeds/*-seed*.json", "gamut evaluate finegrained", "gamutlib/evaluation/seeds.py", '"seeds"'),
    Producer("finegrained/training/*/config.json", "scripts/gpu/score_finegrained.sh", "scripts/gpu/score_finegrained.sh",
             "finegrained/training"),
    *(Producer(f"synthesis/{table}.json", "notebooks/synthesis/01_all_methods.py",
               "gamutlib/evaluation/synthesis.py", f'"{table}"') for table in ("all_methods", "claims_scoreboard")),
    Producer("synthesis/common_task.json", "notebooks/synthesis/01_all_methods.py", "gamutlib/evaluation/synthesis_tasks.py",
             '"common_task"'),
    Producer("synthesis/*_cpu_protocol.json", "notebooks/synthesis/01_all_methods.py",
             "gamutlib/evaluation/synthesis_tasks.py", "CPU_PROTOCOL_SUFFIX"),
    Producer("intro/toy_smoothness.json", "notebooks/00_intro/01_pipeline.py", "notebooks/00_intro/01_pipeline.py",
             "toy_smoothness"),
    Producer("judges/metric_speed.json", "gamut bench metrics", "gamutlib/commands/bench.py", "metric_speed.json"),
    Producer("judges/report.json", "gamut evaluate judges", "gamutlib/judges/report.py", "report.json"),
    Producer("judges/report_cpu_protocol.json", "notebooks/00_judges/01_judges.py", "gamutlib/judges/report.py",
             "report_cpu_protocol"),
    Producer("judges/training/*/config.json", "scripts/gpu/train_ganmut.sh", "scripts/gpu/train_ganmut.sh",
             "book/results/judges/training"),
)


def recorded_producer(relative: str) -> Producer | None:
    """The entry of ``RECORDED`` whose pattern matches ``relative`` (a path under book/results/)."""
    for entry in RECORDED:
        if fnmatch.fnmatchcase(relative, entry.pattern):
            return entry
    return None


def producer_of(path: Path, results_root: Path) -> str | None:
    """The producer named in the file (its "producer" field), else the recorded one, else None."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        data = None
    if isinstance(data, dict) and isinstance(data.get("producer"), str):
        return data["producer"]
    entry = recorded_producer(path.relative_to(results_root).as_posix())
    return entry.producer if entry else None
