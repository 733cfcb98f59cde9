"""The EGGAN series' tables as protocol objects (paper Tables 1-2, Fig. 3, and the edit's ground truth).

The evaluation chapter writes each table with ``TABLE.write(run, ...)`` and
``gamut evaluate eggan NAME`` scores a training seed with the same objects
(``seed_rows``), so each number has one producer. The protocol strings are
the record's keys: change one only when the numbers measure something else.

dlib's face embedding, Table 2's second judge, runs on a CPU only (the GPU
machine has no dlib), so its column is a table of its own,
``table2_identity_dlib``, computed from the generators on a CPU with a
fixed cpu-sized protocol (``python -m gamutlib.evaluation.eggan_tables dlib``
or the chapter wherever dlib is installed).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from gamutlib.constants import EMOTIONS
from gamutlib.devices import plain_fp32
from gamutlib.evaluation import eggan as ev
from gamutlib.evaluation.protocol import EvaluationRun, TableProtocol
from gamutlib.reproduce.tables import read_table, write_table

PAPER = ev.PAPER
#: The producer of these tables (the series' evaluation chapter).
CHAPTER = "notebooks/eggan/03_evaluation.py"
#: Weights the gpu record trains and reads but the repository does not ship: the
#: benchmark feature network is a training-time network (the perceptual and texture
#: losses read it; no chapter's table needs it), kept with the record (the layout
#: scripts/gpu/record_series.sh's KEPT_WEIGHTS takes) to leave the tree room for the generators.
RECORD_ONLY = ("feature_net",)


@dataclass
class EGGANJudges:
    au: Any  # the AU judge (``aus``): OpenFace's stand-in
    identity: Any  # the identity judge (``embed``, ``threshold``): LightCNN's stand-in


@dataclass
class EGGANRun(EvaluationRun):
    """An evaluation run with the series' (source, target, truth) pairs."""

    pairs: Any = None

    def edits(self, name: str) -> torch.Tensor:
        """The edits of every pair by generator ``name``, computed once per run."""
        cache = self.outputs.setdefault("edits", {})
        if name not in cache:
            cache[name] = ev.edits_of(self.models[name], self.pairs, self.sizes.chunk_size, self.device)
        return cache[name]


def open_run(profile: str, weights_dir: str = "weights", device: str | torch.device | None = None,
             allow_fallback: bool = False, names: Sequence[str] | None = None) -> EGGANRun:
    """The generators (``names``, default HGAN, StarGAN, EGGAN), the AU and identity judges and the pairs
    for ``profile``. ``allow_fallback`` (smoke only) trains a tiny stand-in for a missing weights file."""
    from gamutlib.judges.loading import load_au_judge, load_identity_judge

    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    sizes = ev.sizes_for(profile)
    unknown = sorted(set(names or ()) - set(ev.METHODS))
    if unknown:
        raise ValueError(f"the EGGAN tables score {sorted(ev.METHODS)}; got {unknown}")
    judges = EGGANJudges(load_au_judge(device), load_identity_judge(device))
    models = {name: ev.load_or_fallback(name, root=weights_dir, device=device, allow_fallback=allow_fallback)
              for name in (names or ev.METHODS)}
    pairs = ev.edit_pairs(sizes.n_pairs, device=device)
    return EGGANRun(PAPER, profile, sizes, device, judges, pairs.source, pairs.target_class, models, pairs=pairs)


def _pairs_text(run: EGGANRun, n: int | None = None) -> str:
    n = len(run.pairs) if n is None else n
    return (f"{n} pairs: neutral held-out sources (render seed {ev.SOURCE_SEED}) x targets of other test identities "
            f"(seed {ev.TARGET_SEED}, the 7 classes {'/'.join(EMOTIONS)} in turn, intensity 0.4-1), "
            f"{ev.IMAGE_SIZE} px; StarGAN conditioned on the target's class, HGAN on the target image, EGGAN on its AUs")


def _sources(run: EGGANRun, names: Sequence[str]) -> str:
    return "; generators from " + ", ".join(f"{n}: {run.models[n].source}" for n in names if n in run.models)


# ------------------------------------------------------------------ Table 1: AU MSE and PCC


def _table1_row(model: Any, run: EGGANRun) -> dict[str, Any]:
    return ev.table1_row(run.edits(model.name), run.pairs, run.judge.au.aus, run.sizes.chunk_size, run.device)


def _table1_protocol(run: EGGANRun) -> str:
    return (f"{_pairs_text(run)}; shipped AU judge on the edits vs on the target faces (mse_*, pcc_*: the paper's "
            "OpenFace protocol) and vs the AUs the targets were rendered with (truth_*); PCC of an AU flat on "
            "either side is undefined (null)" + _sources(run, ev.METHODS))


TABLE1 = TableProtocol(
    paper=PAPER, name="table1_au", methods=ev.METHODS, row=_table1_row, describe=_table1_protocol,
    paper_numbers=ev.PAPER_TABLE1, tolerance={"abs": 0.01, "rel": 0.02}, seed_key="table1",
)


# ------------------------------------------------------------------ Table 2: identity verification


def _table2_real(run: EGGANRun) -> list[dict[str, Any]]:
    rate = ev.judge_verification(run.judge.identity, run.pairs.source, run.pairs.truth, run.sizes.chunk_size,
                                 run.device)
    return [{"method": "Real", "accuracy_judge": round(rate, 2), "n_pairs": len(run.pairs)}]


def _table2_row(model: Any, run: EGGANRun) -> dict[str, Any]:
    rate = ev.judge_verification(run.judge.identity, run.pairs.source, run.edits(model.name), run.sizes.chunk_size,
                                 run.device)
    return {"accuracy_judge": round(rate, 2), "n_pairs": len(run.pairs)}


def _table2_protocol(run: EGGANRun) -> str:
    return (f"{_pairs_text(run)}; % of (source, edit) pairs the shipped identity judge calls one person (cosine "
            "similarity >= its shipped threshold); Real: (source, the source identity rendered with the target "
            "AUs)" + _sources(run, ev.METHODS))


TABLE2 = TableProtocol(
    paper=PAPER, name="table2_identity", methods=ev.METHODS, row=_table2_row, describe=_table2_protocol,
    paper_numbers={k: ({"accuracy_judge": v["accuracy_judge"]} if isinstance(v, dict) else v)
                   for k, v in ev.PAPER_TABLE2.items()},
    tolerance={"abs": 1.5, "rel": 0.0}, reference_rows=_table2_real, seed_key="table2",
)


# ------------------------------------------------------------------ what the paper could not measure


def _truth_row(model: Any, run: EGGANRun) -> dict[str, Any]:
    return ev.edit_vs_truth_row(run.edits(model.name), run.pairs.truth, run.judge.identity, run.sizes.chunk_size,
                                run.device)


def _truth_reference(run: EGGANRun) -> list[dict[str, Any]]:
    """The unedited source against the truth: what an edit that changes nothing scores."""
    row = ev.edit_vs_truth_row(run.pairs.source, run.pairs.truth, run.judge.identity, run.sizes.chunk_size, run.device)
    return [{"method": "source unedited", **row}]


def _truth_protocol(run: EGGANRun) -> str:
    return (f"{_pairs_text(run)}; each edit against the render of its source identity with the target AUs (same "
            "pose, light, style): L1 and SSIM on [0, 1] pixels, identity judge distance 1 - cos"
            + _sources(run, ev.METHODS))


EDIT_VS_TRUTH = TableProtocol(
    paper=PAPER, name="edit_vs_truth", methods=ev.METHODS, row=_truth_row, describe=_truth_protocol,
    paper_numbers=ev.PAPER_EDIT_VS_TRUTH, tolerance={"abs": 0.005, "rel": 0.02}, reference_rows=_truth_reference,
    seed_key="edit_vs_truth",
)


# ------------------------------------------------------------------ Fig. 3: Eq. 8's interpolation


def _fig3_row(model: Any, run: EGGANRun) -> dict[str, Any]:
    readings = ev.interpolation_readings(model, run.pairs.head(run.sizes.n_interp), run.judge.au.aus,
                                         run.sizes.alphas, run.device)
    run.outputs.setdefault("fig3", {})[model.name] = readings  # the curves, for the figure
    return ev.fig3_row(readings)


def _fig3_protocol(run: EGGANRun) -> str:
    n = min(run.sizes.n_interp, len(run.pairs))
    return (f"the first {n} of the {_pairs_text(run)}; Eq. 8 at {run.sizes.alphas} values of alpha in [0, 1], u_i = "
            "the source's rendered AUs (0); progress = the shipped AU judge's reading projected on its own "
            "alpha=0 -> alpha=1 move (the straight line: progress = alpha), mean over the pairs"
            + _sources(run, ["eggan"]))


FIG3 = TableProtocol(
    paper=PAPER, name="fig3_interpolation", methods={"eggan": "EGAN"}, row=_fig3_row, describe=_fig3_protocol,
    paper_numbers=ev.PAPER_FIG3, tolerance={"abs": 0.02, "rel": 0.0}, seed_key="fig3",
)

#: Every table scored on any device, in the chapter's order.
TABLES = (TABLE1, TABLE2, EDIT_VS_TRUTH, FIG3)


# ------------------------------------------------------------------ Table 2's second judge: dlib, on a CPU


def _dlib_rows(models: dict[str, Any], pairs: ev.EditPairs, embedder: Any, chunk_size: int,
               device: Any) -> list[dict[str, Any]]:
    real = ev.dlib_verification(embedder, pairs.source, pairs.truth)
    rows = [{"method": "Real", "accuracy_dlib": round(real["accuracy"], 2), "detected": round(real["detected"], 1),
             "n_pairs": len(pairs)}]
    for name, label in ev.METHODS.items():
        if name in models:
            edits = ev.edits_of(models[name], pairs, chunk_size, device)
            out = ev.dlib_verification(embedder, pairs.source, edits)
            rows.append({"method": label, "accuracy_dlib": round(out["accuracy"], 2),
                         "detected": round(out["detected"], 1), "n_pairs": len(pairs)})
    return rows


#: The dlib table's producer: this module (the chapter calls it too, wherever dlib is installed).
DLIB_PRODUCER = "gamutlib/evaluation/eggan_tables.py"


def write_dlib_table(run: EGGANRun, results_dir: str | Path, producer: str = DLIB_PRODUCER) -> Path | None:
    """``table2_identity_dlib.json``: Table 2 by dlib's face embedding, on a CPU (None where dlib is absent).

    Its pairs are its own (``n_dlib`` of them, rendered on the CPU), the same
    whatever the run's profile, so a record made on one CPU compares with
    another's."""
    embedder = ev.dlib_embedder()
    if embedder is None:
        return None
    n = run.sizes.n_dlib
    pairs = ev.edit_pairs(n, device="cpu")
    rows = _dlib_rows(run.models, pairs, embedder, run.sizes.chunk_size, run.device)
    names = [name for name in ev.METHODS if name in run.models]
    protocol = (f"{_pairs_text(run, n)}; % of pairs whose dlib face descriptors (face_recognition's ResNet, HOG "
                "detection, 5-point alignment, no jitter) lie closer than 0.6; detected: % of faces the HOG detector "
                "found (the rest embedded from the whole crop); run on a CPU" + _sources(run, names))
    paper = {k: ({"accuracy_dlib": v["accuracy_dlib"]} if isinstance(v, dict) else v) for k, v in ev.PAPER_TABLE2.items()}
    return write_table(results_dir, PAPER, "table2_identity_dlib", rows=rows, paper_numbers=paper, protocol=protocol,
                       seeds=[0], tolerance={"abs": 3.0, "rel": 0.0}, producer=producer)


# ------------------------------------------------------------------ the cpu protocol, recorded on every profile

CPU_PROTOCOL_SUFFIX = "_cpu_protocol"


def cpu_protocol_tables() -> tuple[TableProtocol, ...]:
    """The tables under the names that a cpu-profile run is checked by."""
    return tuple(dataclasses.replace(t, name=t.name + CPU_PROTOCOL_SUFFIX) for t in TABLES)


def write_cpu_protocol(run: EGGANRun, results_dir: str | Path, weights_dir: str = "weights",
                       producer: str = CHAPTER) -> list[Path]:
    """The tables on the cpu profile's sizes, as ``<table>_cpu_protocol.json`` (none on the smoke profile).

    The gpu protocol (1,392 pairs) is too long for a reader's CPU, so the gpu
    profile also measures a cpu-sized run of its own in true fp32, and the cpu
    profile re-files the tables it has just written: a CPU run can then be
    compared with the GPU record."""
    if run.profile == "smoke":
        return []
    written = []
    if run.profile == "cpu":
        for table, cpu_table in zip(TABLES, cpu_protocol_tables()):
            done = read_table(results_dir, PAPER, table.name)
            written.append(write_table(results_dir, PAPER, cpu_table.name, rows=done["rows"],
                                       paper_numbers=table.paper_numbers, protocol=done["protocol"],
                                       seeds=list(table.seeds), tolerance=cpu_table.tolerance, producer=producer))
        return written
    cpu_run = open_run("cpu", weights_dir=weights_dir, device=run.device, names=list(run.models))
    with plain_fp32():
        for cpu_table in cpu_protocol_tables():
            written.append(cpu_table.write(cpu_run, results_dir, producer=producer))
    return written


def _main(argv: Sequence[str]) -> int:
    """``python -m gamutlib.evaluation.eggan_tables dlib [--weights-dir D] [--results-dir R]``: Table 2 by dlib,
    from the trained generators, on this CPU (the GPU machine has no dlib)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m gamutlib.evaluation.eggan_tables")
    parser.add_argument("what", choices=["dlib"])
    parser.add_argument("--weights-dir", default="weights")
    parser.add_argument("--results-dir", default="book/results")
    parser.add_argument("--profile", default="cpu", choices=["smoke", "cpu"])
    args = parser.parse_args(argv)
    run = open_run(args.profile, weights_dir=args.weights_dir, device="cpu", allow_fallback=args.profile == "smoke")
    path = write_dlib_table(run, args.results_dir)
    if path is None:
        print("dlib or face_recognition_models is not installed (pip install -e .[real])", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
