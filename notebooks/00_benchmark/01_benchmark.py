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
# # The built-in face benchmark
#
# Every paper in this study trains on AffectNet, RaFD or MMI and measures its
# faces with OpenFace, an AffectNet VGG and LightCNN. None of those can be had
# on the machines this study runs on. So gamut draws its own faces, and draws
# them with **exact ground truth**: for every image we know the identity, the
# 17 OpenFace action units (AUs) at 0-5, the 68 iBUG landmarks, the pose, the
# style, and the emotion as a mixture over the seven GANmut classes with an
# intensity. Every metric in the book can therefore be checked against the
# truth, which no paper could do with real photos.
#
# The renderer (`gamutlib.faces`) is pure PyTorch: batched, the same code on
# CPU and GPU, deterministic per seed. Geometry comes first (curves in face
# units moved by the AUs and the pose) and the pixels are signed-distance
# fields of the same curves, so the landmarks lie exactly on the drawn
# features. Each AU moves only its FACS region. This chapter shows the faces,
# the label noise, the truth checks and the speed.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
from pathlib import Path

import torch
from IPython.display import Image, Markdown, display

from gamutlib.constants import AU_IDS, EMOTIONS, STYLES
from gamutlib.faces.grids import au_strips, benchmark_identity, confusion_figure, emotion_grid, identity_grid, style_grid
from gamutlib.evaluation.benchmark_truth import truth_checks, write_truth_checks
from gamutlib.reproduce import read_table, show_table
from gamutlib.viz.image_grid import figure_png, plot_image_grid

torch.set_grad_enabled(False)
# How much each profile checks: dlib on n_dlib photo renders, locality on n_locality faces per AU.
sizes = {
    "smoke": dict(n_dlib=6, n_locality=2, size=64, grid_size=64),
    # This page runs on the CPU under every profile, so cpu does the recorded
    # work too and its truth checks are compared with the record.
    "cpu": dict(n_dlib=500, n_locality=64, size=128, grid_size=128),
    "gpu": dict(n_dlib=500, n_locality=64, size=128, grid_size=128),
}[profile]
face = benchmark_identity(3)  # a held-out (test) identity


def show(fig) -> None:
    """A figure as a small PNG (80 dpi keeps the record light)."""
    display(Image(figure_png(fig, dpi=80)))

# %% [markdown]
# ## Faces
#
# Random test identities, each with a random expression (a class or a
# compound of two), a small head turn, its own light and backdrop. Identities
# differ in face and jaw shape, eye size and spacing, nose, lips, brows, skin
# tone, hair style and colour, eye colour, glasses and beard. Training and
# test identities are disjoint id ranges.

# %%
images, _, cols = identity_grid(rows=2, cols=6, size=sizes["grid_size"], seed=0)
show(plot_image_grid(images, tile_inches=1.0))

# %% [markdown]
# ## Emotions and intensities
#
# One identity across the seven classes (rows) at four intensities (columns).
# An emotion is a set of AUs after the EMFACS prototypes (happy 6+12, sad
# 1+4+15+17, surprised 1+2+5+26, fearful 1+2+4+5+7+20+26, disgusted 9+10+15+17,
# angry 4+5+7+23+17), scaled by the intensity and by the identity's own gain
# per AU: people do not all smile with the same cheeks.

# %%
images, rows, cols = emotion_grid(face, size=sizes["grid_size"])
show(plot_image_grid(images, row_labels=rows, col_labels=cols, tile_inches=0.9))

# %% [markdown]
# ## Single AUs
#
# Each row sets one AU alone from 0 to 5, everything else at rest: AU1/AU2
# raise the inner/outer brows, AU4 lowers and draws them together with a
# furrow, AU5 opens the lids, AU6 raises the cheeks, AU7 tightens the lids,
# AU9 wrinkles the nose, AU10 raises the upper lip, AU12 pulls the lip
# corners up and out, AU14 dimples, AU15 pulls the corners down, AU17 raises
# the chin, AU20 stretches the lips, AU23 tightens them, AU25 parts them,
# AU26 drops the jaw and AU45 closes the eyes.

# %%
images, rows, cols = au_strips(face, size=64)
show(plot_image_grid(images, row_labels=rows, col_labels=cols, tile_inches=0.55))

# %% [markdown]
# ## Styles
#
# The same face, expression, pose and light in each modality (photo-like
# shading, pencil sketch, flat cartoon): the ground truth of modality transfer
# (`gamutlib.data.modality_pairs`).

# %%
images, rows, cols = style_grid(face, size=sizes["grid_size"])
show(plot_image_grid(images, row_labels=rows, col_labels=cols, tile_inches=1.0))

# %% [markdown]
# ## The label is a noisy proxy of the truth
#
# As in AffectNet, the categorical label is not the truth. An annotator sees
# the class with the largest weight of the mixture (a face below intensity
# 0.2 reads as neutral) and then names it with the confusion below. The
# off-diagonal entries are the confusions human annotators make: fear and
# surprise share raised brows, wide eyes and an open mouth (AU1, 2, 5, 26);
# disgust and anger share the lowered brows and the raised upper lip region
# (AU4, 9, 10); a faint sadness is easily read as a neutral face.

# %%
show(confusion_figure())

# %% [markdown]
# ## Truth checks
#
# Two checks need more than a unit test:
#
# - **an independent judge**: dlib's HOG frontal face detector and its
#   68-point shape predictor (trained on real photos, iBUG 300-W) on
#   photo-style renders with random expressions and poses. If dlib finds the
#   faces and puts its landmarks near ours, the renders read as faces and our
#   landmark convention (pixel centres at integer coordinates, as in dlib)
#   holds. Goal: at least 90% detected, NME at most 10% of the distance
#   between the outer eye corners.
# - **AU locality**: each AU alone from 0 to 5 on frontal faces; the fraction
#   of changed pixels that lie inside the AU's FACS region (upper face for
#   AU1/2/4, the eyes and cheeks for AU5/6/7/45, the nose and upper lip for
#   AU9/10, the lower face for the mouth AUs), the region drawn from the
#   face's own landmarks.
#
# Everything on this page runs on the CPU (dlib has no GPU path here), so
# every profile, the recorded one included, executes it on the CPU; the gpu
# profile only checks more faces.

# %%
checks = truth_checks(n_dlib=sizes["n_dlib"], n_locality=sizes["n_locality"], size=sizes["size"], dlib_size=256, seed=0)
write_truth_checks(results_dir, checks)
show_table(read_table(results_dir, "benchmark", "truth_checks"))

# %%
display(Markdown(
    f"dlib found **{checks['dlib_detection_rate']:.0%}** of the faces (goal >= 90%) and its landmarks are "
    f"**{checks['dlib_nme']:.1%}** of the inter-ocular distance from ours (goal <= 10%). The lowest AU "
    f"locality is {min(checks['au_locality'].values()):.2f} ({min(checks['au_locality'], key=checks['au_locality'].get)})."
))

# %% [markdown]
# ## Speed
#
# Training draws fresh faces at every step, so rendering must be cheap next
# to a training step. `gamut bench render --device cpu|cuda` times
# `random_faces` per size (warm-up, then timed batches, synchronised on
# CUDA) and keeps each device's rows in `book/results/benchmark/render_speed.json`;
# this chapter reads that record rather than timing on whatever runs it.
# `compiled` rows paint through `torch.compile` (opt-in: `random_faces(...,
# compile=True)`; the compile costs tens of seconds once per process).

# %%
speed_file = Path("book/results/benchmark/render_speed.json")
if speed_file.exists():  # inside a block a table is shown only through display()
    display(show_table(read_table("book/results", "benchmark", "render_speed")))
else:
    print("no render-speed record yet: run `gamut bench render`")

# %% [markdown]
# ## How it differs from AffectNet
#
# - **Truth, not annotation**: AUs, landmarks, emotion mixture and intensity
#   are known exactly; AffectNet has one annotator's label and estimated
#   landmarks (and OpenFace AUs are themselves estimates).
# - **Drawn faces**: a stylised renderer, not photographs. Skin, hair and
#   light are simpler; results here say how methods compare on a controlled
#   domain, not how they do on real photos.
# - **Balanced and endless**: every class, intensity and compound is sampled
#   as often as asked; AffectNet is dominated by happy and neutral faces.
# - **Pairs exist**: the same identity with two expressions, or the same face
#   in two styles, gives a ground-truth target for every edit.
# - **Small images, few nuisances**: 64-256 px, small head turns, one light,
#   plain backdrops, no occlusion beyond glasses and beards.
# - **Labels are noisy by design, with a known noise model** (the matrix
#   above), so the effect of label noise can be measured rather than guessed.
