# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # PortraitGAN, the evaluation: modality transfer and shape edits against exact targets
#
# The paper measures one task with numbers, modality manipulation with the
# landmarks fixed (Table 1: MSE, SSIM and inference time against CycleGAN and
# StarGAN), asks users to rank the three (Table 2), and shows its core, the
# continuous shape edits and the simultaneous shape and modality edits, as
# pictures (Fig. 4, 5, 9). Its "ground truth" for a style is the output of a
# style-transfer network (Johnson et al.), and the landmarks of its targets
# come from dlib on real videos.
#
# The benchmark renders the same face in every style and at every expression,
# so every edit here has an exact target: the same identity, pose, light and
# background, drawn as a sketch, or with a new expression whose 68 landmarks
# the renderer knows. So the figures become measurements: pixel error and
# SSIM to the target, the landmark error of the output (the AU judge's
# landmark head here, dlib's 68 points on a CPU below), and the identity
# judge's distance to the target. Every number comes from
# `gamutlib.evaluation.portraitgan` through the table protocols of
# `gamutlib.evaluation.portraitgan_tables` (the objects `gamut evaluate
# portraitgan` scores each training seed with). The judges score; no loss of
# any generator here uses them.
#
# PortraitGAN was trained with three seeds, each baseline and ablation with
# one; seed 0 of the three methods is measured live here, and every seed was
# scored on the GPU right after training (`book/results/portraitgan/seeds/`).
# Only PortraitGAN's generator ships: CycleGAN and StarGAN, like the
# ablations, are results, not shipped files (the tracked tree has no room for
# them). The gpu record lays their files in; a cpu run goes without them and
# leaves their rows out (the record and the seed records hold them).

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root
weights_dir = "weights"  # where the generators are (weights/<name>.safetensors)

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from IPython.display import display

from gamutlib.evaluation import portraitgan as ev
from gamutlib.evaluation import portraitgan_tables as tables
from gamutlib.evaluation.claims import verdict_counts
from gamutlib.evaluation.portraitgan_dlib import TABLE as DLIB_TABLE
from gamutlib.evaluation.portraitgan_figures import plot_faces
from gamutlib.evaluation.seeds import read_seed_records
from gamutlib.reproduce import read_table, show_table

plt.rcParams["figure.dpi"] = 60  # faces make heavy PNGs; keep the pages small
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)
# On the smoke profile a missing generator file is replaced by a tiny one
# trained for two steps here; its numbers mean nothing, and its source says so.
# On the cpu profile (a reader's machine) the run holds the generators whose
# files are present: PortraitGAN; the baselines (`tables.RECORD_ONLY`) are in the record.
run = tables.open_run(profile, weights_dir=weights_dir, device=device, allow_fallback=profile == "smoke",
                      skip_missing=profile == "cpu")
truth, models, sizes = run.outputs["truth"], run.models, run.sizes
left_out = [n for n in tables.RECORD_ONLY if n not in models]
if left_out:
    print(f"not shipped, so not in this run (their rows: the gpu record and book/results/portraitgan/seeds/): {left_out}")
for name, model in models.items():
    print(f"{name:17s} from {model.source}")
print(f"profile {profile}: {len(run.images)} test faces ({sizes.n_path_faces} along the path), device {device}")
record_dir = "book/results"  # the committed record (seed records, dlib column), whatever this run's profile
seed_records = read_seed_records(record_dir, profile="gpu", paper="portraitgan")
print(f"seed records: {len(seed_records)} ({', '.join(sorted({r['name'] for r in seed_records})) or 'none yet'})")

# %% [markdown]
# ## Modality transfer with the landmarks fixed (paper Table 1, Fig. 6)
#
# A photo goes to the sketch of the same face. CycleGAN was trained for
# exactly this direction (photo <-> sketch, unpaired), StarGAN on the two
# domains photo and sketch, PortraitGAN on all three modalities with the
# landmarks as a second condition; here it is given the face's own landmarks
# (the paper fixes the dlib-extracted ones; ours come from the renderer).

# %%
x = truth["photo_a"][:3]
columns = [("input photo", x, None), ("target sketch", truth["style_a"][:3], None)]
for name, label in tables.for_run(tables.TABLE1, run).methods.items():
    columns.append((label, ev.translate(models[name], x, truth["landmarks_a"][:3], ev.TARGET_STYLE), None))
plot_faces(columns)
plt.show()

# %% [markdown]
# MSE and SSIM are computed on the $[0, 1]$ scale (the scale of the paper's
# numbers) against the rendered sketch; the time is the median of repeated
# forward passes of one face at 128 px, on the GPU where there is one and on
# 2 CPU threads (the reader's machine). The paper's numbers are for 512 px
# images and style-transferred targets, so neither MSE nor time compares
# across the two studies; the *ordering* of the three methods does. The GPU
# record measures all three; a cpu run measures PortraitGAN alone.

# %%
tables.for_run(tables.TABLE1, run).write(run, results_dir, producer=tables.CHAPTER)
table1 = read_table(results_dir, "portraitgan", "table1_modality")
show_table(table1)

# %%
paper1 = table1["paper"]
beside = [{"method": r["method"], "mse": r["mse"], "paper mse": paper1[r["method"]]["mse"], "ssim": r["ssim"],
           "paper ssim": paper1[r["method"]]["ssim"], "gpu ms": r["gpu_ms"], "paper gpu ms (512 px)": paper1[r["method"]]["gpu_ms"],
           "cpu ms (2 threads)": r["cpu_ms"]} for r in table1["rows"]]
display(show_table({"rows": beside, "protocol": table1["protocol"], "seeds": table1["seeds"]}))
best_mse = min(table1["rows"], key=lambda r: r["mse"])["method"]
best_ssim = max(table1["rows"], key=lambda r: r["ssim"])["method"]
if len(table1["rows"]) > 1:
    print(f"this run: lowest MSE {best_mse}, highest SSIM {best_ssim} (the paper: PortraitGAN for both)")
else:
    print("one generator in this run: the ordering of the three is the gpu record's (and the claims' below)")

# %% [markdown]
# ## Continuous shape edits, against the face at its new expression
#
# Each test face (a random expression A) gets a second expression B, one of
# the six non-neutral emotions at full intensity in turn (the benchmark's
# random expressions move the landmarks by under 2% of the inter-ocular
# distance on average, about a landmark judge's own error): PortraitGAN receives the photo and B's landmarks, and its
# output is compared with the face rendered at B, as a photo (*shape*) and as
# a sketch (*shape_modality*, the paper's simultaneous edit). The *path* walks
# from A to B through intermediate expressions (AUs $(1-t)A + tB$), each with
# its own rendered target: the paper's interpolation of Fig. 4, measured, as
# a photo (*path*) and as a sketch (*path_modality*).
# The dots are the target landmarks the generator was given.

# %%
outputs = ev.edit_outputs(models["portraitgan"], truth, sizes.chunk_size)
k = min(3, len(x))
plot_faces([("input (A)", x[:k], truth["landmarks_a"][:k]),
            ("PortraitGAN, photo", outputs["shape"][:k], truth["landmarks_b"][:k]),
            ("target photo (B)", truth["photo_b"][:k], truth["landmarks_b"][:k]),
            ("PortraitGAN, sketch", outputs["shape_modality"][:k], truth["landmarks_b"][:k]),
            ("target sketch (B)", truth["style_b"][:k], truth["landmarks_b"][:k])])
plt.show()
steps = truth["path_photo"].shape[1]
plot_faces([(f"t = {(j + 1) / steps:.2f}", outputs["path"][j::steps][:1], truth["path_landmarks"][:1, j])
            for j in range(steps)] + [("target t = 1", truth["path_photo"][:1, -1], None)])
plt.show()

# %% [markdown]
# Two reference rows frame the generator's: *Input unchanged* returns the
# input as the edit (an edit must beat leaving the face alone), and *Exact
# target* returns the rendered target (MSE 0, SSIM 1, identity distance 0; its
# landmark error is the AU judge's own error on the benchmark's faces, the
# floor any output can reach).

# %%
tables.LANDMARK_EDITS.write(run, results_dir, producer=tables.CHAPTER)
edits = read_table(results_dir, "portraitgan", "landmark_edits")
show_table(edits)

# %%
rows = {r["method"]: r for r in edits["rows"]}
pg, unchanged, exact = rows["PortraitGAN"], rows["Input unchanged"], rows["Exact target"]
reading = []
for task in ("shape", "shape_modality", "path", "path_modality"):
    reading.append({"task": task,
                    "nme below leaving the face unchanged": pg[f"{task}_nme"] < unchanged[f"{task}_nme"],
                    "nme above the judge's floor by": round(pg[f"{task}_nme"] - exact[f"{task}_nme"], 4),
                    "mse below leaving the face unchanged": pg[f"{task}_mse"] < unchanged[f"{task}_mse"],
                    "same person (id_dist below the unchanged input's)": pg[f"{task}_id_dist"] <= unchanged[f"{task}_id_dist"]})
display(show_table({"rows": reading, "protocol": edits["protocol"], "seeds": edits["seeds"]}))
print(f"leaving the face unchanged scores, as a photo: MSE {unchanged['shape_mse']}, SSIM {unchanged['shape_ssim']}; "
      f"as a sketch: MSE {unchanged['shape_modality_mse']}, SSIM {unchanged['shape_modality_ssim']}")

# %% [markdown]
# Read the unchanged row first (the line above gives its numbers): a new
# expression moves few of the pixels of a 128 px face, so where leaving the
# face alone already scores a small MSE and a high SSIM in the photo
# modality, the pixel measures separate a good shape edit from no edit only
# weakly. The landmark error is the measure of the shape: an output whose
# NME is not below the unchanged input's has not moved the face towards its
# target landmarks. In the sketch modality the unchanged photo is far from
# its target, and there both the pixel measures and the landmark error judge
# the simultaneous edit.
#
# ### dlib's 68 points (measured on a CPU)
#
# The paper extracts landmarks with dlib. dlib is not installed on the GPU
# machine, so the landmark error by dlib's predictor is measured afterwards on
# a CPU from the generators the GPU run brought back, on the cpu profile's
# faces (`python -m gamutlib.evaluation.portraitgan_dlib`), and committed; this
# chapter shows that record. dlib's error on the exact targets is its floor.

# %%
dlib_path = Path(record_dir) / "portraitgan" / f"{DLIB_TABLE}.json"
if dlib_path.exists():
    display(show_table(read_table(record_dir, "portraitgan", DLIB_TABLE)))
else:
    print(f"dlib landmark error: not recorded yet (no {DLIB_TABLE}.json in the record)")

# %% [markdown]
# ## The user study (paper Table 2) cannot be run here
#
# Ten users ranked the three methods' modality transfers (PortraitGAN first in
# 36% of the rankings). There are no human raters here, and no judge stands in
# for perceived realism, so the table is shown with the paper's numbers only
# and its claim is "not testable here" in the verdicts below.

# %%
display(show_table({"rows": [{"method": m, **v} for m, v in ev.PAPER_TABLE2.items() if m != "source"],
                    "protocol": ev.PAPER_TABLE2["source"], "seeds": []}))

# %% [markdown]
# ## The seeds and the ablations
#
# Every generator was scored right after training by the same protocols on the
# gpu profile. PortraitGAN's three seeds give the spread every comparison
# below is judged by; each baseline and each ablation (without the texture
# loss, without multi-level supervision, without the backward cycle) trained
# one seed.

# %%
def seed_table(records, key, columns):
    out = []
    for r in records:
        if r.get(key):
            out.append({"generator": ev.LABELS.get(r["name"], r["name"]), "seed": r["seed"],
                        "iterations": r.get("iterations"), **{c: r[key].get(c) for c in columns}})
    return out


table1_seeds = seed_table(seed_records, "table1", ("mse", "ssim", "gpu_ms", "cpu_ms"))
ablation_seeds = seed_table(seed_records, "ablation", ("modality_mse", "modality_ssim", "shape_nme", "shape_modality_mse",
                                                       "shape_modality_nme", "shape_modality_id_dist"))
SEED_PROTOCOL = "seed records, gpu profile, scored right after training (book/results/portraitgan/seeds/)"
for title, rows_ in (("Table 1 per seed", table1_seeds), ("Ablations per seed", ablation_seeds)):
    if rows_:
        print(title)
        display(show_table({"rows": rows_, "protocol": SEED_PROTOCOL, "seeds": sorted({r["seed"] for r in rows_})}))
    else:
        print(f"{title}: no seed records in {record_dir} yet")

# %% [markdown]
# ## The cpu protocol
#
# The gpu profile's tables use hundreds of faces; a reader's CPU repeats the
# cpu profile's (48 faces, quality only: timings belong to a machine) with
# the one generator that ships, PortraitGAN, and both profiles write those
# tables, so `gamut reproduce --profile cpu` is compared with the record too.

# %%
for path in tables.write_cpu_protocol(run, results_dir, weights_dir):
    print("wrote", path.name)

# %% [markdown]
# ## The landmark editor
#
# The paper's interactive interface (Fig. 7) lets a user drag landmarks and
# pick a modality. Here the drag is declared once as named controls of
# `PortraitGANEditor` (mouth open, smile width, lip corners, brow raise, eye
# opening, jaw), each moving a fixed set of the 68 points; the explorer of
# `gamutlib.widgets.landmark_explorer` draws the face's own points (cyan) and
# the moved ones (magenta) over the face, and the edit in the modality of the
# menu. The same edit from the command line, with any per-point offsets:
# `gamut edit portraitgan face.png --mouth-open 0.5 --landmarks offsets.json --modality sketch --out edited.png`.
# The rendered book has no kernel, so the widget shows the state it was saved
# with; under it, a static figure of the editor's example settings. The
# editor runs on the CPU, as in JupyterLab on a laptop; its median latency on
# 2 CPU threads is `gamut bench edit --method portraitgan`'s record.

# %%
import copy

from IPython.display import Image as IPImage

from gamutlib.contract.method import build_config
from gamutlib.models.portraitgan import PortraitGANConfig
from gamutlib.models.portraitgan_editor import PortraitGANEditor
from gamutlib.viz.figure_jpeg import figure_jpeg
from gamutlib.widgets.landmark_explorer import LandmarkExplorer

shipped = models["portraitgan"]
editor = PortraitGANEditor(copy.deepcopy(shipped.G).float().cpu(),
                           build_config(PortraitGANConfig, {k: v for k, v in shipped.config.items() if k != "method"}, {}))
explorer = LandmarkExplorer(editor, seed=0, display_px=192)
explorer.set(mouth_open=0.6, lip_corners=0.5, modality="sketch")  # the saved state
display(explorer)

# %%
display(IPImage(figure_jpeg(explorer.snapshot()), format="jpeg"))  # the static figure, as JPEG
latency_path = Path(record_dir) / "portraitgan" / "edit_latency.json"
if latency_path.exists():
    latency = read_table(record_dir, "portraitgan", "edit_latency")
    chosen = next((r for r in latency["rows"] if r.get("chosen")), None)
    display(show_table(latency))
    if chosen:
        print(f"fastest variant that keeps quality: {chosen['variant']}, median {chosen['median_ms']} ms "
              f"({'within' if chosen['median_ms'] <= 40 else 'over'} the 40 ms budget)")
else:
    print("edit latency: not recorded yet (no edit_latency.json in the record)")

# %% [markdown]
# ## The paper's claims: a verdict per claim
#
# Each claim, the paper's numbers, ours from the seed records, and a verdict
# by a stated rule (`gamutlib.evaluation.portraitgan_tables.spread_verdict`):
# "A below B" holds only when the gap exceeds the summed seed spread (here
# PortraitGAN's three seeds; a single-seed baseline or ablation adds none),
# so a difference a change of seed could make never counts. Inference time is
# "comparable" within a factor of 1.5. The user study is not testable here.

# %%
claims = tables.record_claims(record_dir, results_dir)
counts = verdict_counts(claims)
print(counts)
show_table(read_table(results_dir, "portraitgan", "claims"))

# %%
print(f"{counts['holds']} of {len(claims)} claims hold, {counts['does not hold']} do not, "
      f"{counts['not testable here']} are not testable here (no record yet, or no human raters).")
