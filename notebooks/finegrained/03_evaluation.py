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
# # FineGrained, the evaluation: relative AUs and MSF against GANimation
#
# This chapter measures the seven generators of the series as the paper does
# in its Sections 4.2-4.5: GANimation on absolute AUs (the baseline),
# GANimation given relative AUs, our FineGrained with $k_{MSF} = 0, 1, 2$ and
# $3$ MSF modules ("Ours"), and Ours given absolute AUs ("Ours w/o
# $v_{rel}$"). The paper's judges were an ImageNet Inception network (IS),
# face_recognition's embedding (ACD) and OpenFace (ED); ours are the
# benchmark's emotion, identity and AU judges (the judges chapter), which no
# loss of the series uses.
#
# The benchmark knows what the paper could not: each test face's exact AUs,
# and the *perfect edit*, the same face rendered with the target AUs. So each
# table carries, beside the paper's measure, the same measure of the perfect
# edits: the floor that the judges themselves leave. Every number comes from
# `gamutlib.evaluation.finegrained` (the measures) through the table protocols
# of `gamutlib.evaluation.finegrained_tables`, which `gamut evaluate
# finegrained` also scores each training seed with.
#
# The paper's numbers stand beside ours; they are not directly comparable (its
# data are AffectNet faces at 200k images x 30 epochs, ours the rendered
# benchmark at the training chapter's budget). The verdicts at the end say
# whether the paper's *orderings* survive here.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root
weights_dir = "weights"  # where the generators are (weights/<name>.safetensors)

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from gamutlib.constants import AU_NAMES
from gamutlib.evaluation import finegrained as ev
from gamutlib.evaluation import finegrained_tables as tables
from gamutlib.evaluation.claims import verdict_counts
from gamutlib.evaluation.finegrained_claims import record_claims, seed_summary_rows
from gamutlib.evaluation.seeds import read_seed_records
from gamutlib.reproduce import read_table, show_table
from gamutlib.viz.image_grid import to_uint8

plt.rcParams["figure.dpi"] = 60  # faces make heavy PNGs; keep the pages small
device = "cuda" if torch.cuda.is_available() else "cpu"
torch.manual_seed(0)
# On the smoke profile a missing generator file is replaced by a tiny one
# trained for two steps here; its numbers mean nothing, and the sources say so.
# On the cpu profile (a reader's machine) the tables cover the generators whose
# files are present: the repository ships Ours and GANimation; the ablations'
# rows are in the GPU record.
run = tables.open_run(profile, weights_dir=weights_dir, device=device, allow_fallback=profile == "smoke",
                      skip_missing=profile == "cpu")
sizes, models = run.sizes, run.models
for name, model in models.items():
    print(f"{name:24s} {'relative' if model.relative else 'absolute'}  from {model.source}")
seed_records = read_seed_records(results_dir, profile="gpu", paper="finegrained")
print(f"profile {profile}, device {device}; seed records: {len(seed_records)} "
      f"({', '.join(sorted({r['name'] for r in seed_records})) or 'none'})")
SEED_PROTOCOL = ("mean ± sample std over training seeds, gpu profile, scored right after training "
                 "(book/results/finegrained/seeds/)")


def show_seeds(metrics):
    rows = seed_summary_rows(seed_records, metrics)
    if rows:
        display(show_table({"rows": rows, "protocol": SEED_PROTOCOL, "seeds": sorted({s for r in rows for s in r["seeds"]})}))
    else:
        print("no seed records under", results_dir)


def show_face(ax, face, title=""):
    ax.imshow(to_uint8(face))
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=7)


# %% [markdown]
# ## Edits to another face's expression (paper Fig. 6)
#
# Each row: a held-out face, the face whose AUs it is asked to take, the
# perfect edit (the renderer's), then each generator's edit. A relative
# generator is given $v_{rel} = (u_{tgt} - u_{src}) / 5$ (Eq. 1), an absolute
# one $u_{tgt} / 5$; both from the renderer's exact AUs, as in training.

# %%
n_rows = 2 if profile == "smoke" else 4
shown = tables.faces(run, sizes.n_faces)
x, aus = shown["image"][:n_rows], shown["aus"][:n_rows].float()
target_all = ev.target_indices(sizes.n_faces, 1)[0]  # the first round of Table 1's targets
target_of = target_all[:n_rows]
u_tgt = shown["aus"][target_of].float()
truth = ev.test_faces(sizes.n_faces, sizes.image_size, device, aus=shown["aus"][target_all])["image"][:n_rows]
columns = [("source", x), ("target face", shown["image"][target_of]), ("perfect edit", truth)]
columns += [(ev.LABELS[n], m.edit(x, aus, u_tgt, device=device)) for n, m in models.items()]
fig, axes = plt.subplots(n_rows, len(columns), figsize=(1.2 * len(columns), 1.35 * n_rows), constrained_layout=True, squeeze=False)
for j, (title, images) in enumerate(columns):
    for i in range(n_rows):
        show_face(axes[i, j], images[i], title if i == 0 else "")
plt.show()

# %% [markdown]
# ## Table 1: IS, ACD and ED (paper Sec. 4.4)
#
# Each of the test faces is edited to the exact AUs of other test faces, 7
# of them on the cpu and gpu profiles (the paper: 7 random target expressions
# for each of 3234 faces; how many faces and targets a run used is in its
# protocol line).
#
# - **IS**: the Inception Score with the emotion judge's 7 classes in the
#   place of ImageNet's 1000 (`gamutlib.metrics.inception_score`): its ceiling
#   is 7, not 1000, so only the ordering of methods compares with the paper's.
# - **ACD**: the $\ell_2$ distance between the identity judge's embeddings of a
#   face and its edit, averaged over the edits.
# - **ED**: the $\ell_2$ distance between the AU judge's reading of the edit
#   and the target, on the paper's $[0, 1]$ AU scale: `ed` against the judged
#   AUs of the target face (the paper's: OpenFace on both sides), `ed_truth`
#   against the exact target AUs.
#
# "Real" is measured on real faces: IS of the test faces themselves (the
# paper's row), ACD and ED of the perfect edits (empty in the paper): the
# distance the judges leave on an edit that is exactly right.

# %%
tables.for_run(tables.TABLE1, run).write(run, results_dir, producer=tables.CHAPTER)
table1 = read_table(results_dir, "finegrained", "table1_is_acd_ed")
show_table(tables.beside_paper(table1, ("is", "acd", "ed")))

# %%
show_seeds(("is", "acd", "ed", "ed_truth"))

# %%
rows1 = {r["method"]: r for r in table1["rows"]}
if all(ev.LABELS[n] in rows1 for n in ev.KMSF_ORDER):
    kmsf = [rows1[ev.LABELS[n]]["ed"] for n in ev.KMSF_ORDER]
    print("ED by k_MSF = 0, 1, 2, 3 (this run):", kmsf,
          "-> falls with every added MSF" if all(a > b for a, b in zip(kmsf, kmsf[1:])) else "-> does not fall at every step")
    print("paper:", [ev.PAPER_TABLE1[ev.LABELS[n]]["ed"] for n in ev.KMSF_ORDER])
else:
    print("the k_MSF ablation's generators are not all here: its reading is the GPU record's")
floor = rows1["Real"]["ed_truth"]
print(f"the AU judge's floor (perfect edits): ed_truth {floor}; each generator's ed_truth above it:",
      {label: round(r["ed_truth"] - floor, 4) for label, r in rows1.items() if label != "Real"})

# %% [markdown]
# ## Table 2 cannot be run: a judge-rated stand-in
#
# The paper's Table 2 asked 20 volunteers to rate how alike an edit's
# expression and its target's are (0: different, 1: partly, 2: the same), and
# which of two edits looks more real and keeps the identity. No people rate
# here, so realism and identity preference are not measured. For expression
# similarity the AU judge rates each edit instead: the AUs the edit asks to
# move by at least 1 intensity unit must each move, as judged, by at least
# half the ask in its direction; 2 = all of them did, 1 = some, 0 = none. The
# same rating of the *perfect* edits (`truth_*`) shows how far the judge alone
# falls short of 100% rated 2. This is the closest reading the benchmark
# offers, not a replacement for a human study.

# %%
tables.for_run(tables.TABLE2, run).write(run, results_dir, producer=tables.CHAPTER)
table2 = read_table(results_dir, "finegrained", "table2_judged_similarity")
show_table(tables.beside_paper(table2, ("rating_0", "rating_1", "rating_2")))

# %% [markdown]
# ## Table 3: reconstruction (paper Sec. 4.5)
#
# Each generator is asked for no change: $v_{rel} = 0$ for the relative ones,
# the source's own AUs for the absolute ones. L1 on $[0, 1]$ pixels, PSNR per
# image, SSIM (`gamutlib.metrics`).

# %%
tables.for_run(tables.TABLE3, run).write(run, results_dir, producer=tables.CHAPTER)
table3 = read_table(results_dir, "finegrained", "table3_reconstruction")
show_table(tables.beside_paper(table3, ("l1", "psnr", "ssim")))

# %%
show_seeds(("l1", "psnr", "ssim"))

# %% [markdown]
# ## Single-AU edits: what moves besides the asked AU (paper Fig. 4/5)
#
# The paper shows single-AU edits as pictures. Here each of the 17 AUs is
# asked alone to move by 2 intensity units on held-out faces (up where the
# face's AU is below 2.5, down above, so every target stays in $[0, 5]$), and
# the AU judge reads every AU of the edit. Row $i$ of a matrix is the judged
# change of each AU when AU $i$ was asked, signed by the ask and divided by
# its size: a perfect, perfectly judged editor gives the identity matrix.
# `own_response` is the mean diagonal, `leakage` the mean $|$off-diagonal$|$;
# `truth_*` reads the perfect edits (the judge's own blur between AUs).
# `region_share` needs no judge: the share of the edit's pixel change that
# lies inside the asked AU's FACS region, drawn from the renderer's landmarks
# of the face (the benchmark chapter's AU-locality check, applied to edits).

# %%
tables.for_run(tables.LOCALITY, run).write(run, results_dir, producer=tables.CHAPTER)
locality = read_table(results_dir, "finegrained", "single_au_locality")
show_table(locality, columns=("method", "own_response", "leakage", "locality", "region_share", "truth_own_response",
                              "truth_leakage", "truth_locality", "truth_region_share"))

# %%
shown_rows = [r for r in locality["rows"] if r["method"] in ("GANimation", "Ours")]
fig, axes = plt.subplots(1, len(shown_rows), figsize=(4.2 * len(shown_rows), 4), constrained_layout=True, squeeze=False)
for ax, row in zip(axes[0], shown_rows):
    im = ax.imshow(torch.tensor(row["matrix"]), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(AU_NAMES)), AU_NAMES, rotation=90, fontsize=6)
    ax.set_yticks(range(len(AU_NAMES)), AU_NAMES, fontsize=6)
    ax.set(xlabel="judged change of", ylabel="asked AU", title=row["method"])
fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8)
plt.show()

# %% [markdown]
# ## Interpolation between two expressions (paper Eq. 2, Fig. 8)
#
# Each face is edited along $v_{inter} = v_1 + \alpha (v_2 - v_1) - v_{src}$
# between two other faces' exact AUs. The table gives ED against the asked
# AUs at each $\alpha$, and Pearson's $r$ between $\alpha$ and where the
# judged AUs sit along $v_1 \to v_2$ (1: the edits follow the path in order).

# %%
tables.for_run(tables.INTERPOLATION, run).write(run, results_dir, producer=tables.CHAPTER)
show_table(read_table(results_dir, "finegrained", "interpolation"))

# %%
face = tables.faces(run, sizes.n_interp)
ends = ev.target_indices(sizes.n_interp, 2)
x0, a0 = face["image"][:1], face["aus"][:1].float()
path = ev.interpolation_targets(face["aus"][ends[0]][:1].float(), face["aus"][ends[1]][:1].float(), sizes.alphas)
strip_models = [n for n in ("ganimation_au", "finegrained") if n in models]
fig, axes = plt.subplots(len(strip_models), len(sizes.alphas), figsize=(1.2 * len(sizes.alphas), 1.4 * len(strip_models)),
                         constrained_layout=True, squeeze=False)
for i, name in enumerate(strip_models):
    for j, (alpha, u) in enumerate(zip(sizes.alphas, path)):
        show_face(axes[i, j], models[name].edit(x0, a0, u, device=device)[0], f"{ev.LABELS[name]}, α {alpha:g}")
plt.show()

# %% [markdown]
# ## The AU-delta sliders
#
# Ours, live: one relative slider per AU (the editor's declared controls,
# `FineGrainedEditor.controls`: the change of each AU in OpenFace intensity
# units, 0 = leave it as it is), `gamut edit finegrained --delta AU12=+2` on
# the command line. Beside the faces, per AU: the source's AUs as the AU
# judge reads them, the asked target, and the edited face's AUs as the judge
# reads them. The "go to" menu sets every slider to the change from the
# source to an emotion's prototype. In the rendered book no kernel runs the
# sliders; the static figures below show the source edited by the editor's
# example changes, and the AU figure of the saved state (AU12 + 2). The
# explorer runs on the CPU, as in JupyterLab on a laptop.

# %%
import copy

from IPython.display import Image as IPImage

from gamutlib.judges.loading import load_au_judge
from gamutlib.models.finegrained import FineGrainedEditor
from gamutlib.viz.figure_jpeg import figure_jpeg
from gamutlib.widgets.au_delta_explorer import AUDeltaExplorer

ours = models["finegrained"]
editor = FineGrainedEditor(copy.deepcopy(ours.G).float().cpu(), ours.image_size, au_judge=load_au_judge("cpu").aus)
explorer = AUDeltaExplorer(editor, source=0, display_px=128)
explorer.set(AU12=2.0)  # the saved state
display(explorer)

# %%
display(IPImage(figure_jpeg(explorer.snapshot()), format="jpeg"))  # the static figure, as JPEG: faces make heavy PNGs
display(IPImage(figure_jpeg(explorer.figure_now()), format="jpeg"))
k = AU_NAMES.index("AU12")
print(f"AU12: source {float(explorer.source_aus()[k]):.2f}, asked {float(explorer.asked(explorer.values)[k]):.2f}, "
      f"edited {float(explorer.edited_aus()[k]):.2f} (AU judge); the other 16 AUs moved by "
      f"{float((explorer.edited_aus() - explorer.source_aus()).abs().sum() - (explorer.edited_aus() - explorer.source_aus())[k].abs()) / 16:.2f} on average")

# %% [markdown]
# ## The cpu protocol
#
# Tables 1-3 again on the cpu profile's sizes (`*_cpu_protocol.json`), for
# Ours and GANimation (the generators the repository ships): the numbers a
# reader's CPU can rerun with `gamut reproduce --profile cpu` and compare with
# this record (the gpu profile measures them on a cpu-sized run of its own,
# in true fp32).

# %%
for path in tables.write_cpu_protocol(run, results_dir, weights_dir):
    print("wrote", path)

# %% [markdown]
# ## The paper's claims: a verdict per claim
#
# Each headline claim, the paper's numbers, ours as mean ± std over the
# training seeds (three for Ours and GANimation, one for each ablation; a
# generator without seed records counts with this run's number, one seed),
# and a verdict by the rule of `gamutlib.evaluation.claims`: an ordering holds
# only beyond the seed spread, and a pair with a single-seed generator is not
# testable, whatever its point values (which the `ours` column shows).

# %%
claims = record_claims(results_dir)
print(verdict_counts(claims))
show_table(read_table(results_dir, "finegrained", "claims"))
