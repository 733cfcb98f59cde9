"""The PortraitGAN series' tables as protocol objects, and its claims.

- ``TABLE1``: modality manipulation photo -> sketch with the landmarks fixed
  (paper Table 1): MSE, SSIM, and ms per image on the GPU and on 2 CPU threads;
- ``LANDMARK_EDITS``: the continuous shape edits the paper shows as figures,
  measured against exact rendered targets (gamutlib.evaluation.portraitgan);
- ``ABLATION``: what each ablation keeps of Table 1 and of the shape edits,
  scored only from training seeds (``gamut evaluate portraitgan NAME``).

``gamut evaluate portraitgan NAME --seed K`` scores a generator by every table
that names it (``seed_rows``); the evaluation chapter writes TABLE1 and
LANDMARK_EDITS live and the claims from the seed records. Timings are not
compared on a reader's machine: the cpu protocol's tables hold quality only,
and PortraitGAN alone (its baselines are ``RECORD_ONLY``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from gamutlib.evaluation import portraitgan as ev
from gamutlib.evaluation.claims import claim_row, estimate, threshold_verdict
from gamutlib.evaluation.protocol import EvaluationRun, TableProtocol, with_files
from gamutlib.evaluation.protocol import for_run  # noqa: F401  (re-exported: the chapter calls tables.for_run)

PAPER = "portraitgan"
#: The chapter that writes these tables (their producer).
CHAPTER = "notebooks/portraitgan/03_evaluation.py"
TABLE1_METHODS = {"cyclegan": "CycleGAN", "stargan_modality": "StarGAN", "portraitgan": "PortraitGAN"}
EDIT_METHODS = {"portraitgan": "PortraitGAN"}
ABLATION_METHODS = {name: ev.LABELS[name] for name in ("portraitgan", *ev.ABLATIONS)}
#: Generators the GPU record measures but the repository does not ship: Table 1's
#: baselines (results, not shipped weights, like the ablations; the tracked tree
#: has no room for them). Their files are laid into weights/ for a gpu-profile
#: record; a reader's CPU runs without them, and their rows come from the record
#: and the seed records (book/results/portraitgan/seeds/).
RECORD_ONLY = ("cyclegan", "stargan_modality")
#: 2 CPU threads: the reader's machine of the README (the latency target's machine too).
CPU_THREADS = 2


@dataclass
class EditJudges:
    """The two judges the series' measures read (emotion plays no part here)."""

    au: Any
    identity: Any


def open_run(profile: str, weights_dir: str = "weights", device: str | torch.device | None = None,
             allow_fallback: bool = False, names: list[str] | None = None, skip_missing: bool = False) -> EvaluationRun:
    """The series' generators (``names``, default the three of Table 1), the AU and
    identity judges, and the test faces with all their targets for ``profile``.
    ``allow_fallback`` (always on the smoke profile) trains a tiny stand-in for a
    missing weights file; its source says so in every protocol string.
    ``skip_missing`` leaves a generator without a file out instead of failing (a
    reader's CPU holds only PortraitGAN, not RECORD_ONLY's; ``for_run`` then
    drops its rows)."""
    from gamutlib.judges.loading import load_au_judge, load_identity_judge

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    sizes = ev.sizes_for(profile)
    allow_fallback = allow_fallback or profile == "smoke"  # smoke numbers mean nothing; its path must run anywhere
    names = list(names or TABLE1_METHODS)
    if skip_missing and not allow_fallback:
        names = with_files(names, weights_dir)
    judges = EditJudges(load_au_judge(device), load_identity_judge(device))
    models = {name: ev.load_or_fallback(name, weights_dir, device, allow_fallback) for name in names}
    truth = ev.edit_truth(sizes.n_faces, 128, ev.TEST_SEED, sizes.path_steps, sizes.n_path_faces, device=device)
    run = EvaluationRun(PAPER, profile, sizes, device, judges, truth["photo_a"], None, models)
    run.outputs["truth"] = truth
    return run


def _truth(run: EvaluationRun) -> dict[str, torch.Tensor]:
    return run.outputs["truth"]


def _faces(run: EvaluationRun, methods: Mapping[str, str]) -> str:
    sources = sorted({run.models[n].source for n in methods if n in run.models})
    return (f"benchmark test faces (seed {ev.TEST_SEED}, 128 px), {len(run.images)} faces, photo input; "
            f"generators from {', '.join(sources)}")


# ------------------------------------------------------------------ Table 1: modality manipulation


def _table1_quality(model: Any, run: EvaluationRun) -> dict[str, Any]:
    return ev.modality_scores(model, _truth(run), run.sizes.chunk_size)


def _table1_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    row = _table1_quality(model, run)
    truth, repeats = _truth(run), run.sizes.timing_repeats
    on_gpu = torch.device(run.device).type == "cuda"
    row["gpu_ms"] = ev.inference_ms(model, truth, run.device, repeats) if on_gpu else None
    row["cpu_ms"] = ev.inference_ms(model, truth, "cpu", repeats, threads=CPU_THREADS)
    return row


def _table1_protocol(run: EvaluationRun, methods: Mapping[str, str] = TABLE1_METHODS) -> str:
    return (f"{_faces(run, methods)}; photo -> {ev.TARGET_STYLE} with the landmarks fixed (PortraitGAN gets the face's own "
            f"rendered landmarks), MSE and SSIM on [0, 1] against the same face rendered as a {ev.TARGET_STYLE}; "
            f"ms per image: median of {run.sizes.timing_repeats} passes of one face, on the GPU and on "
            f"{CPU_THREADS} CPU threads")


TABLE1 = TableProtocol(
    paper=PAPER, name="table1_modality", methods=TABLE1_METHODS, row=_table1_row, describe=_table1_protocol,
    paper_numbers=ev.PAPER_TABLE1,
    # timings move with the machine's load: compared within a factor of two, quality to its rounding
    tolerance={"abs": 0.002, "rel": 0.0, "columns": {"ssim": {"abs": 0.01}, "gpu_ms": {"abs": 0.5, "rel": 1.0},
                                                     "cpu_ms": {"abs": 0.5, "rel": 1.0}}},
    seed_key="table1",
)


# ------------------------------------------------------------------ continuous shape edits


def _edit_reference(run: EvaluationRun) -> list[dict[str, Any]]:
    truth, s = _truth(run), run.sizes
    rows = []
    for kind, label in (("input", "Input unchanged"), ("target", "Exact target")):
        outputs = ev.reference_outputs(truth, kind)
        rows.append({**ev.edit_row(outputs, truth, run.judge, s.chunk_size), "method": label})
    return rows


def _edit_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    truth, s = _truth(run), run.sizes
    return ev.edit_row(ev.edit_outputs(model, truth, s.chunk_size), truth, run.judge, s.chunk_size)


def _edit_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    n_path = _truth(run)["path_photo"].shape[0]
    return (f"{_faces(run, EDIT_METHODS)}; expression A random, B each non-neutral class in turn at full "
            f"intensity; shape: photo A -> landmarks of B (photo), shape_modality: -> landmarks of B as a "
            f"{ev.TARGET_STYLE}, path: {n_path} faces at AUs (1-t)A + tB, t = 1/{s.path_steps}..1, as a photo (path) "
            f"and as a {ev.TARGET_STYLE} (path_modality); mse/ssim on [0, 1] to the rendered target, nme: the AU "
            "judge's landmark head on the output against the target landmarks (inter-ocular), id_dist: 1 - cosine of the identity "
            "judge's embeddings of output and target")


LANDMARK_EDITS = TableProtocol(
    paper=PAPER, name="landmark_edits", methods=EDIT_METHODS, row=_edit_row, describe=_edit_protocol,
    paper_numbers=ev.PAPER_LANDMARK_EDITS, tolerance={"abs": 0.005, "rel": 0.02},
    reference_rows=_edit_reference, seed_key="landmark_edits",
)


# ------------------------------------------------------------------ ablations (seed records only)


def _ablation_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    truth, s = _truth(run), run.sizes
    quality = ev.modality_scores(model, truth, s.chunk_size)
    edits = ev.edit_row(ev.edit_outputs(model, truth, s.chunk_size), truth, run.judge, s.chunk_size)
    return {"modality_mse": quality["mse"], "modality_ssim": quality["ssim"],
            **{k: v for k, v in edits.items() if not k.startswith("path_")}}


ABLATION = TableProtocol(
    paper=PAPER, name="ablation", methods=ABLATION_METHODS, row=_ablation_row,
    describe=lambda run: (f"{_faces(run, ABLATION_METHODS)}; Table 1's modality transfer (modality_*) and the "
                          "shape edits of landmark_edits (shape_*, shape_modality_*)"),
    paper_numbers={"source": "PortraitGAN Sec. Ablation study, Fig. 3 and 6: shown as pictures, no numbers"},
    tolerance={"abs": 0.005, "rel": 0.02}, seed_key="ablation",
)

#: Every table with a protocol object, in the chapter's order.
TABLES = (TABLE1, LANDMARK_EDITS, ABLATION)
#: The tables the chapter writes live (ABLATION comes from the seed records).
LIVE_TABLES = (TABLE1, LANDMARK_EDITS)

# ------------------------------------------------------------------ the cpu protocol

CPU_PROTOCOL_SUFFIX = "_cpu_protocol"


def cpu_protocol_tables() -> tuple[TableProtocol, ...]:
    """Table 1 (quality only: timings belong to a machine) and the shape edits under the
    names a cpu-profile run is checked by, over the shipped generators (not RECORD_ONLY's)."""
    shipped = {k: v for k, v in TABLE1_METHODS.items() if k not in RECORD_ONLY}
    table1 = dataclasses.replace(TABLE1, name=TABLE1.name + CPU_PROTOCOL_SUFFIX, methods=shipped, row=_table1_quality,
                                 describe=lambda run: _table1_protocol(run, shipped).split("; ms per image")[0],
                                 tolerance={"abs": 0.002, "rel": 0.0, "columns": {"ssim": {"abs": 0.01}}})
    edits = dataclasses.replace(LANDMARK_EDITS, name=LANDMARK_EDITS.name + CPU_PROTOCOL_SUFFIX)
    return table1, edits


def write_cpu_protocol(run: EvaluationRun, results_dir: str | Path, weights_dir: str = "weights") -> list[Path]:
    """The cpu protocol's tables (cpu sizes, true fp32), written on the cpu and gpu profiles
    (never on smoke): a reader's 2 CPU cores can repeat them and compare with the record."""
    from gamutlib.devices import plain_fp32

    if run.profile == "smoke":
        return []
    cpu_run = run if run.profile == "cpu" else open_run("cpu", weights_dir=weights_dir, device=run.device,
                                                        names=[n for n in run.models if n not in RECORD_ONLY])
    with plain_fp32():
        return [t.write(cpu_run, results_dir, producer=CHAPTER) for t in cpu_protocol_tables()]


# ------------------------------------------------------------------ claims

#: The claims tested here: (claim, metric of a seed record, pairs claimed a < b on that metric).
#: SSIM is higher-is-better, so its pairs are written (b, a) on the negated value.
LOWER = {"table1.mse": True, "table1.ssim": False, "table1.gpu_ms": True, "ablation.modality_mse": True,
         "ablation.modality_ssim": False, "ablation.shape_modality_mse": True}


def metric_value(record: Mapping[str, Any], metric: str) -> float | None:
    """``"table1.mse"`` of one seed record, negated where higher is better (so a < b means a is better)."""
    table, key = metric.split(".")
    value = (record.get(table) or {}).get(key)
    if value is None:
        return None
    return float(value) if LOWER[metric] else -float(value)


def spread_verdict(pairs: Sequence[tuple[str, Any, str, Any]]) -> tuple[str, str]:
    """(verdict, why) of "a < b" for every pair, where one side may have a single seed.

    The series trains 3 seeds of PortraitGAN and one of each baseline and
    ablation, so ``ordering_verdict`` (both sides with a spread) could never
    judge it. Here the spreads that exist are summed: a < b holds when
    a.mean + spread < b.mean; not testable only when neither side has a spread."""
    missing = sorted({na if a is None else nb for na, a, nb, b in pairs if a is None or b is None})
    if missing:
        return "not testable here", f"no record of {', '.join(missing)}"
    failed, held = [], []
    for na, a, nb, b in pairs:
        spread = a.spread + b.spread
        if a.std is None and b.std is None:
            return "not testable here", f"one seed each of {na} and {nb}: no spread to judge the ordering by"
        gap = b.mean - a.mean
        if gap > spread:
            held.append(f"{na} < {nb} by {gap:.3g}, beyond the seed spread {spread:.2g}")
        elif -gap > spread:
            failed.append(f"{na} > {nb} by {-gap:.3g}, beyond the seed spread {spread:.2g}")
        else:
            failed.append(f"{na} and {nb} within the seed spread (difference {abs(gap):.2g}, spread {spread:.2g})")
    if failed:
        return "does not hold", "; ".join(failed + held)
    return "holds", "; ".join(held)


def _estimates(records: Sequence[Mapping[str, Any]], metric: str) -> dict[str, Any]:
    by_name: dict[str, list[float | None]] = {}
    for r in records:
        by_name.setdefault(r["name"], []).append(metric_value(r, metric))
    return {name: estimate(values) for name, values in by_name.items()}


def _ours(est: Mapping[str, Any], names: Sequence[str], metric: str) -> str:
    sign = 1 if LOWER[metric] else -1
    parts = []
    for n in names:
        e = est.get(n)
        if e is None:
            parts.append(f"{ev.LABELS[n]} not recorded")
        else:
            parts.append(f"{ev.LABELS[n]} " + dataclasses.replace(e, mean=sign * e.mean).text())
    return "; ".join(parts)


def portraitgan_claims(records: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """One row per claim (claim, paper, ours, verdict, why) from the seed records."""
    paper = ev.PAPER_TABLE1
    rows = []
    for metric, word in (("table1.mse", "lowest MSE"), ("table1.ssim", "highest SSIM")):
        key = metric.split(".")[1]
        est = _estimates(records, metric)
        verdict, why = spread_verdict([("PortraitGAN", est.get("portraitgan"), ev.LABELS[b], est.get(b))
                                       for b in ("cyclegan", "stargan_modality")])
        rows.append(claim_row(
            f"Table 1: PortraitGAN has the {word} of the three in photo -> {ev.TARGET_STYLE} with landmarks fixed",
            ", ".join(f"{label} {paper[label][key]}" for label in ("CycleGAN", "StarGAN", "PortraitGAN")),
            _ours(est, ["portraitgan", "cyclegan", "stargan_modality"], metric), verdict,
            why + "; (SSIM compared as -SSIM, so lower is better throughout)" * (key == "ssim")))
    # inference time comparable to StarGAN: within a factor of 1.5 (the paper's 290 vs 277 ms is 1.05x)
    times = {r["name"]: (r.get("table1") or {}).get("gpu_ms") for r in records if r.get("seed") == 0}
    ratio = (times["portraitgan"] / times["stargan_modality"]
             if times.get("portraitgan") and times.get("stargan_modality") else None)
    verdict, why = threshold_verdict(ratio, 1.5, "PortraitGAN / StarGAN GPU time per image",
                                     "comparable: at most 1.5x; the paper's 290 / 277 ms is 1.05x", higher=False)
    rows.append(claim_row("Table 1: PortraitGAN's inference time is comparable to StarGAN's",
                          "PortraitGAN 0.290 s, StarGAN 0.277 s, CycleGAN 0.365 s per image (512 px)",
                          "not recorded" if ratio is None else
                          f"PortraitGAN {times['portraitgan']:.3g} ms, StarGAN {times['stargan_modality']:.3g} ms "
                          "per image on the GPU (seed 0)", verdict, why))
    for ablation, what in (("portraitgan__no_texture", "the texture loss"),
                           ("portraitgan__single_level", "multi-level adversarial supervision"),
                           ("portraitgan__no_backward", "the backward cycle")):
        for metric in ("ablation.modality_mse", "ablation.shape_modality_mse"):
            est = _estimates(records, metric)
            verdict, why = spread_verdict([("PortraitGAN", est.get("portraitgan"), ev.LABELS[ablation],
                                            est.get(ablation))])
            task = "modality transfer" if metric == "ablation.modality_mse" else "simultaneous shape and modality edits"
            rows.append(claim_row(
                f"Ablation: {what} helps (PortraitGAN's MSE below the ablation's, {task})",
                "shown qualitatively (Fig. 3, 6); no numbers",
                _ours(est, ["portraitgan", ablation], metric), verdict,
                why))
    rows.append(claim_row(
        "Table 2: users rank PortraitGAN's modality transfers first (36.0% vs 32.25% and 31.75%)",
        "PortraitGAN 36.0, CycleGAN 32.25, StarGAN 31.75 (% average rank share)", "no user study",
        "not testable here", "a ranking by human raters cannot be run here; no judge stands in for perceived realism"))
    return rows


def record_claims(record_dir: Any, results_dir: Any) -> list[dict[str, str]]:
    """The claims from the gpu-profile seed records under ``record_dir``, written to
    ``{results_dir}/portraitgan/claims.json``."""
    from gamutlib.evaluation.claims import write_claims
    from gamutlib.evaluation.seeds import read_seed_records

    records = read_seed_records(record_dir, profile="gpu", paper=PAPER)  # the smoke and cpu profiles' numbers mean less
    rows = portraitgan_claims(records)
    seeds = sorted({int(r["seed"]) for r in records})
    write_claims(results_dir, PAPER, rows, producer=CHAPTER,
                 source="PortraitGAN (Duan et al. 2018) Table 1, Table 2, Sec. Ablation study",
                 protocol=("verdicts from the seed records (mean ± sample std over seeds "
                           f"{seeds or 'none'}); rules in gamutlib.evaluation.claims and "
                           "gamutlib.evaluation.portraitgan_tables"), seeds=seeds)
    return rows
