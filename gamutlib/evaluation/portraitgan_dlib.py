"""The landmark error of PortraitGAN's shape edits read by dlib's 68 points, on a CPU.

The landmark error of the PortraitGAN tables is dlib's 68-point predictor on the outputs
against the target landmarks (NME, inter-ocular). dlib (the ``real`` extra)
is not installed on the GPU machine, so this column is measured afterwards on
a CPU from the generators the GPU run brings back, on the cpu profile's faces
(the same faces as ``landmark_edits_cpu_protocol``)::

    python -m gamutlib.evaluation.portraitgan_dlib --weights-dir weights \\
        --extra portraitgan__no_texture=runs/portraitgan/portraitgan__no_texture-seed0/weights

writes ``book/results/portraitgan/landmark_edits_dlib.json``. dlib on the
exact rendered targets is the floor (its own error on the benchmark's faces);
a face dlib does not find counts in ``<task>_found`` and not in the NME.
"""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch

from gamutlib.evaluation import portraitgan as ev

PAPER = "portraitgan"
PRODUCER = "gamutlib/evaluation/portraitgan_dlib.py"
TABLE = "landmark_edits_dlib"
#: dlib's detector pyramid: 1 finds every rendered 128 px face (both modalities) in our checks
UPSAMPLE = 1


def dlib_nme(images: torch.Tensor, target_landmarks: torch.Tensor, upsample: int = UPSAMPLE) -> dict[str, Any]:
    """dlib's 68 points on ``images`` against ``target_landmarks``: mean NME over the faces it finds, and how many."""
    from gamutlib.data.align import detect_landmarks
    from gamutlib.metrics.landmark_error import nme_per_face

    found = detect_landmarks(images.cpu(), upsample=upsample)
    kept = [i for i, marks in enumerate(found) if marks is not None]
    if not kept:
        return {"nme": None, "found": 0.0}
    predicted = torch.stack([found[i] for i in kept])
    nme = nme_per_face(predicted, target_landmarks.cpu().float()[kept])
    return {"nme": round(float(nme.mean()), 4), "found": round(len(kept) / len(found), 4)}


def dlib_row(outputs: Mapping[str, torch.Tensor], truth: Mapping[str, torch.Tensor]) -> dict[str, Any]:
    """``<task>_dlib_nme`` and ``<task>_found`` for every task of ``ev.edit_outputs``."""
    row: dict[str, Any] = {}
    for task, (_, marks) in ev.edit_targets(dict(truth)).items():
        out = dlib_nme(outputs[task], marks)
        row[f"{task}_dlib_nme"], row[f"{task}_found"] = out["nme"], out["found"]
    return row


def dlib_rows(models: Mapping[str, ev.ModalityModel], truth: Mapping[str, torch.Tensor],
              chunk_size: int = 16) -> list[dict[str, Any]]:
    """The reference rows (input unchanged, exact target), then one row per shape-editing generator."""
    rows = [{"method": label, **dlib_row(ev.reference_outputs(dict(truth), kind), truth)}
            for kind, label in (("input", "Input unchanged"), ("target", "Exact target"))]
    for name, model in models.items():
        rows.append({"method": ev.LABELS.get(name, name),
                     **dlib_row(ev.edit_outputs(model, dict(truth), chunk_size), truth)})
    return rows


def protocol(sizes: ev.EvalSizes, models: Mapping[str, ev.ModalityModel]) -> str:
    return (f"benchmark test faces (seed {ev.TEST_SEED}, 128 px), {sizes.n_faces} faces ({sizes.n_path_faces} along "
            f"the path, t = 1/{sizes.path_steps}..1), the tasks of landmark_edits; dlib's HOG detector (upsample "
            f"{UPSAMPLE}) and 68-point predictor on each output, NME (inter-ocular) against the target landmarks over "
            f"the faces found; generators from {', '.join(m.source for m in models.values())}")


def write(results_dir: str | Path, models: Mapping[str, ev.ModalityModel], profile: str = "cpu") -> Path:
    from gamutlib.reproduce.tables import write_table

    sizes = ev.sizes_for(profile)
    truth = ev.edit_truth(sizes.n_faces, 128, ev.TEST_SEED, sizes.path_steps, sizes.n_path_faces)
    rows = dlib_rows(models, truth, sizes.chunk_size)
    for row in rows:  # a task dlib found no face in writes None, never a NaN
        for key, value in row.items():
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{key} of {row['method']} is not finite")
    return write_table(results_dir, PAPER, TABLE, rows=rows, producer=PRODUCER,
                       paper_numbers={"source": "PortraitGAN extracts landmarks with dlib (King 2009) and shows the "
                                                "edits as figures: no landmark error is given"},
                       protocol=protocol(sizes, models), seeds=[0], tolerance={"abs": 0.005, "rel": 0.05})


def _pairs(values: Sequence[str]) -> dict[str, str]:
    out = {}
    for value in values:
        name, sep, folder = value.partition("=")
        if not sep or not name or not folder:
            raise SystemExit(f"--extra takes NAME=FOLDER, got {value!r}")
        out[name] = folder
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights-dir", default="weights", help="folder of portraitgan.safetensors")
    parser.add_argument("--extra", action="append", default=[], metavar="NAME=FOLDER",
                        help="another shape-editing generator (an ablation) and the folder its run exported to")
    parser.add_argument("--results-dir", default="book/results")
    parser.add_argument("--profile", default="cpu", choices=("smoke", "cpu"),
                        help="faces to score (the cpu profile's; smoke trains tiny stand-ins where weights are absent)")
    args = parser.parse_args(argv)
    torch.set_num_threads(min(2, torch.get_num_threads()))
    folders = {"portraitgan": args.weights_dir, **_pairs(args.extra)}
    models = {name: ev.load_or_fallback(name, folder, "cpu", allow_fallback=args.profile == "smoke")
              for name, folder in folders.items()}
    print(write(args.results_dir, models, args.profile))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
