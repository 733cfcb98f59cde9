"""The FineGrained series' tables as protocol objects (paper Tables 1-3, Fig. 4/5, Eq. 2).

The evaluation chapter writes each table with ``TABLE.write(run, ...)`` and
``gamut evaluate finegrained NAME --seed K`` scores a training seed with the
same objects (``seed_rows``), so each number has one producer. The protocol
strings are the record's keys: change one only when the numbers measure
something else.

Every table draws its own held-out faces (``ev.test_faces(n)``, the same on
every device), so a table's faces do not depend on another table's sizes.
The judges' readings of the real faces and of their perfect edits are
computed once per run and shared by every generator (``run.outputs``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch

from gamutlib.evaluation import finegrained as ev
from gamutlib.evaluation.protocol import EvaluationRun, TableProtocol, with_files
from gamutlib.evaluation.protocol import for_run  # noqa: F401  (re-exported: the chapter calls tables.for_run)

PAPER = ev.PAPER
#: The chapter that writes the series' tables (recorded in each JSON as its producer).
CHAPTER = "notebooks/finegrained/03_evaluation.py"


def open_run(profile: str, weights_dir: str = "weights", device: str | torch.device | None = None,
             allow_fallback: bool = False, names: list[str] | None = None, judges: ev.JudgeSet | None = None,
             skip_missing: bool = False) -> EvaluationRun:
    """The series' generators (``names``, default all seven), the three judges and
    the profile's sizes. ``allow_fallback`` (smoke only) trains a tiny stand-in
    for a missing weights file; its numbers mean nothing. ``skip_missing``
    leaves a generator without a file out instead of failing (a reader's CPU
    holds only the shipped ones; ``for_run`` then drops its rows). ``judges``
    replaces the shipped judges (the tests' toy judges)."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    sizes = ev.sizes_for(profile)
    names = list(names or ev.LABELS)
    if skip_missing and not allow_fallback:
        names = with_files(names, weights_dir)
    if judges is None:
        from gamutlib.judges.loading import load_judges

        judges = ev.judges_of(load_judges(device))
    models = {name: ev.load_or_fallback(name, root=weights_dir, device=device, allow_fallback=allow_fallback)
              for name in names}
    return EvaluationRun(PAPER, profile, sizes, device, judges, images=None, labels=None, models=models)


def faces(run: EvaluationRun, n: int) -> dict[str, torch.Tensor]:
    """The run's first-drawn ``n`` held-out faces (cached per n)."""
    cache = run.outputs.setdefault("faces", {})
    if n not in cache:
        cache[n] = ev.test_faces(n, run.sizes.image_size, run.device)
    return cache[n]


def _sources(run: EvaluationRun) -> ev.SourceReadings:
    cache = run.outputs.setdefault("sources", {})
    if "table1" not in cache:
        s = run.sizes
        cache["table1"] = ev.read_sources(faces(run, s.n_faces), run.judge, s.n_targets, s.chunk_size, run.device)
    return cache["table1"]


def _edit_scores(model: Any, run: EvaluationRun) -> ev.EditScores:
    """One generator's edits to every (face, target), read once for Tables 1 and 2."""
    cache = run.outputs.setdefault("edit_scores", {})
    if model.name not in cache:
        cache[model.name] = ev.score_edits(model, _sources(run), run.judge, run.sizes.chunk_size, run.device)
    return cache[model.name]


def _sources_text(run: EvaluationRun) -> str:
    s = run.sizes
    return (f"benchmark test faces (seed {ev.TEST_SEED}), {s.n_faces} faces x {s.n_targets} targets (another face's "
            f"exact AUs, seed {ev.TARGET_SEED})")


def _generators_text(run: EvaluationRun, methods: dict[str, str]) -> str:
    return "generators from " + ", ".join(run.models[n].source for n in methods if n in run.models)


# ------------------------------------------------------------------ Table 1: IS, ACD, ED


def _table1_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    return ev.table1_numbers(_edit_scores(model, run), _sources(run), run.sizes.is_splits)


def _table1_real(run: EvaluationRun) -> list[dict[str, Any]]:
    return [{"method": "Real", **ev.real_row(_sources(run), run.sizes.is_splits)}]


def _table1_protocol(run: EvaluationRun) -> str:
    return (f"{_sources_text(run)}; IS of the emotion judge's logits over {run.sizes.is_splits} splits; ACD on the "
            "identity judge's embedding; ED on the AU judge, against the judged AUs of the target face (ed) and the "
            "exact target AUs (ed_truth), [0, 1] scale; Real: IS of the real faces, ACD and ED of their perfect "
            f"edits (the renderer's); {_generators_text(run, ev.TABLE1_METHODS)}")


TABLE1 = TableProtocol(
    paper=PAPER, name="table1_is_acd_ed", methods=ev.TABLE1_METHODS, row=_table1_row, describe=_table1_protocol,
    paper_numbers=ev.PAPER_TABLE1, tolerance={"abs": 0.02, "rel": 0.05}, reference_rows=_table1_real,
    seed_key="table1",
)


# ------------------------------------------------------------------ Table 2's stand-in: the judge rates each edit


def _table2_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    return ev.table2_numbers(_edit_scores(model, run), _sources(run))


def _table2_protocol(run: EvaluationRun) -> str:
    return (f"{_sources_text(run)}; the human study cannot be run: each edit is rated by the AU judge instead "
            f"(AUs asked to move >= {ev.ASKED_STEP} intensity units; reached when the judged change covers >= "
            f"{ev.REACHED_SHARE:.0%} of the ask; 2 = all reached, 1 = some, 0 = none; % of rated edits); truth_*: "
            "the same rating of the perfect edits; realism and identity preference not measured")


TABLE2 = TableProtocol(
    paper=PAPER, name="table2_judged_similarity", methods=ev.TABLE2_METHODS, row=_table2_row,
    describe=_table2_protocol, paper_numbers=ev.PAPER_TABLE2, tolerance={"abs": 3.0, "rel": 0.0}, seed_key="table2",
)


# ------------------------------------------------------------------ Table 3: reconstruction


def _table3_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    f = faces(run, run.sizes.n_recon)
    return ev.reconstruction_numbers(model, f["image"], f["aus"], run.sizes.chunk_size, run.device)


def _table3_protocol(run: EvaluationRun) -> str:
    return (f"benchmark test faces (seed {ev.TEST_SEED}), {run.sizes.n_recon} faces; G(x, 0) for relative "
            "generators, G(x, exact source AUs) for absolute ones; L1 on [0, 1] pixels, PSNR per image (MSE floored "
            f"at {ev.MSE_FLOOR:g}), SSIM 11x11 Gaussian window; {_generators_text(run, ev.TABLE3_METHODS)}")


TABLE3 = TableProtocol(
    paper=PAPER, name="table3_reconstruction", methods=ev.TABLE3_METHODS, row=_table3_row, describe=_table3_protocol,
    paper_numbers=ev.PAPER_TABLE3, tolerance={"abs": 0.005, "rel": 0.02}, seed_key="table3",
)


# ------------------------------------------------------------------ single-AU edits: the locality matrix (Fig. 4/5)


def _locality_truth(run: EvaluationRun) -> dict[str, Any]:
    """The perfect edits' locality matrix (AU judge) and region shares (renderer's landmarks), once per run."""
    cache = run.outputs.setdefault("locality_truth", {})
    if "matrix" not in cache:
        s = run.sizes
        f = faces(run, s.n_local)
        render = lambda u: ev.test_faces(s.n_local, s.image_size, run.device, aus=u)["image"]  # noqa: E731
        changes, asks = ev.single_au_changes(render, run.judge.aus, f["image"], f["aus"], s.local_step, s.chunk_size,
                                             run.device)
        cache["matrix"] = ev.locality_from_changes(changes, asks)
        cache["shares"] = (ev.region_shares(render, f["image"], f["aus"], f["landmarks"], s.local_step)
                           if "landmarks" in f else None)
    return cache


def _locality_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    s = run.sizes
    f = faces(run, s.n_local)
    x, aus = f["image"], f["aus"].float()
    edit = lambda u: model.edit(x, aus, u, s.chunk_size, run.device)  # noqa: E731
    changes, asks = ev.single_au_changes(edit, run.judge.aus, x, aus, s.local_step, s.chunk_size, run.device)
    truth = _locality_truth(run)
    shares = ev.region_shares(edit, x, aus, f["landmarks"], s.local_step) if "landmarks" in f else None
    return ev.locality_rows(model.name, ev.locality_from_changes(changes, asks), truth["matrix"], shares,
                            truth["shares"])


def _locality_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    return (f"benchmark test faces (seed {ev.TEST_SEED}), {s.n_local} faces; each of the 17 AUs asked alone to move by "
            f"{s.local_step} intensity units (up below 2.5, down above); matrix row i: the AU judge's mean change of "
            "every AU, signed by the ask, over its size; own_response = mean diagonal, leakage = mean |off-diagonal|; "
            "region_share: share of the edit's pixel change inside the asked AU's FACS region (from the renderer's "
            "landmarks), mean over AUs; truth_*: the same for the perfect edits")


LOCALITY = TableProtocol(
    paper=PAPER, name="single_au_locality", methods=ev.TABLE1_METHODS, row=_locality_row, describe=_locality_protocol,
    paper_numbers={"source": "FineGrained Fig. 4/5 (single-AU edits, qualitative only: no number to compare)"},
    tolerance={"abs": 0.05, "rel": 0.05},
)


# ------------------------------------------------------------------ interpolation between two expressions (Eq. 2)


def _interp_row(model: Any, run: EvaluationRun) -> dict[str, Any]:
    s = run.sizes
    f = faces(run, s.n_interp)
    x, aus = f["image"], f["aus"].float()
    ends = ev.target_indices(s.n_interp, 2)
    u1, u2 = aus[ends[0]], aus[ends[1]]
    judged = torch.stack([_judge_aus(run, model.edit(x, aus, u, s.chunk_size, run.device))
                          for u in ev.interpolation_targets(u1, u2, s.alphas)])
    return ev.interpolation_numbers(judged.cpu(), u1.cpu(), u2.cpu(), s.alphas)


def _judge_aus(run: EvaluationRun, images: torch.Tensor) -> torch.Tensor:
    from gamutlib.metrics.batched import map_batches

    return map_batches(run.judge.aus, images, run.sizes.chunk_size, run.device)


def _interp_protocol(run: EvaluationRun) -> str:
    s = run.sizes
    return (f"benchmark test faces (seed {ev.TEST_SEED}), {s.n_interp} faces, each edited along Eq. 2 between two "
            f"other faces' exact AUs at alpha {list(s.alphas)}; ED per alpha against the asked AUs and Pearson's r "
            "between alpha and the judged position along the path (AU judge)")


INTERPOLATION = TableProtocol(
    paper=PAPER, name="interpolation", methods=ev.TABLE1_METHODS, row=_interp_row, describe=_interp_protocol,
    paper_numbers={"source": "FineGrained Eq. 2 and Fig. 8 (interpolation, qualitative only: no number to compare)"},
    tolerance={"abs": 0.02, "rel": 0.05},
)

def beside_paper(table: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """A written table with the paper's number of each ``key`` in a column
    ``paper_<key>`` of the row the paper has (a table to show, not to write)."""
    paper = table["paper"]
    rows = [{**row, **{f"paper_{k}": (paper.get(row["method"]) or {}).get(k) for k in keys}} for row in table["rows"]]
    return {**table, "rows": rows}


#: Every table of the series, in the chapter's order.
TABLES = (TABLE1, TABLE2, TABLE3, LOCALITY, INTERPOLATION)



# ------------------------------------------------------------------ the cpu protocol, recorded on every profile

CPU_PROTOCOL_SUFFIX = "_cpu_protocol"
#: Tables 1-3 measured on the cpu profile's sizes: what a reader's CPU can rerun and compare.
CPU_PROTOCOL_TABLES = (TABLE1, TABLE2, TABLE3)
#: The generators of the cpu protocol: the two the headline claims compare and the
#: repository ships (the ablations' files stay with the GPU record: the tree has no room for all seven).
CPU_PROTOCOL_METHODS = ("ganimation_au", "finegrained")
#: The generators the GPU record measures but the repository does not ship: the ablations
#: (scripts/gpu/record_series.sh lays them in for a gpu record and keeps them out of the tree).
RECORD_ONLY = tuple(n for n in ev.LABELS if n not in CPU_PROTOCOL_METHODS)


def cpu_protocol_tables() -> tuple[TableProtocol, ...]:
    return tuple(dataclasses.replace(t, name=t.name + CPU_PROTOCOL_SUFFIX,
                                     methods={k: v for k, v in t.methods.items() if k in CPU_PROTOCOL_METHODS})
                 for t in CPU_PROTOCOL_TABLES)


def write_cpu_protocol(run: EvaluationRun, results_dir: str | Path, weights_dir: str = "weights") -> list[Path]:
    """Tables 1-3 on the cpu profile's sizes over CPU_PROTOCOL_METHODS, as
    ``<table>_cpu_protocol.json``: the gpu profile measures them on a cpu-sized
    run of its own in true fp32, the cpu profile on its own run (the edits it
    has already read are reused); smoke writes none."""
    from gamutlib.devices import plain_fp32

    if run.profile == "smoke":
        return []
    if run.profile == "cpu":
        missing = [n for n in CPU_PROTOCOL_METHODS if n not in run.models]
        if missing:
            raise FileNotFoundError(f"the cpu protocol needs {', '.join(f'{weights_dir}/{n}.safetensors' for n in missing)}")
        return [t.write(run, results_dir, producer=CHAPTER) for t in cpu_protocol_tables()]
    cpu_run = open_run("cpu", weights_dir=weights_dir, device=run.device, names=list(CPU_PROTOCOL_METHODS),
                       judges=run.judge)
    with plain_fp32():
        return [t.write(cpu_run, results_dir, producer=CHAPTER) for t in cpu_protocol_tables()]
