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
# # Every method on one benchmark: one table, one set of judges
#
# Each of the four papers measured its method on its own photographs, with
# its own judges and its own metrics, so none of their numbers can be set
# beside another's. Here every method is trained on the same rendered faces
# and scored by the same judges against exact ground truth, and this chapter
# gathers what the four series recorded into one table: a row per method,
# a column per metric.
#
# Nothing in the table is measured again and nothing is typed: every cell is read
# from the series' seed records under `book/results/<series>/seeds/`
# (mean ± sample standard deviation over the training seeds), from their
# benchmark files (edit latency, training logs), or computed from the
# shipped configs (parameters, file size). A cell without a number says why:
#
# - *the control cannot express this task*: the method cannot be asked for
#   it (CycleGAN takes no expression; an emotion class cannot ask for "this
#   face's own expression", so it has no reconstruction). The rule is
#   `gamutlib.evaluation.synthesis.TASKS`, one line per task;
# - *not recorded yet*: the series that measures it is not trained yet;
# - *not in the series' protocol*: the series is recorded, but its tables do
#   not score this method (GANmut's Table 1 scores StarGAN and GANmut only).
#
# The table fills in by itself as each series is recorded.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root
record_dir = "book/results"  # the series' records the table is read from
weights_dir = "weights"  # where the generators are (weights/<name>.safetensors)

# %%
import matplotlib.pyplot as plt
import torch
from IPython.display import Markdown, display

from gamutlib.bench.footprint import fp16_file_bytes
from gamutlib.evaluation import synthesis as syn
from gamutlib.evaluation import synthesis_figures as figures
from gamutlib.evaluation import synthesis_tasks as tasks
from gamutlib.reproduce import read_table, show_table
from gamutlib.reproduce.profiles import by_profile

plt.rcParams["figure.dpi"] = 60  # faces make heavy PNGs; keep the pages small
sizes = by_profile(syn.SIZES, profile)
device = "cuda" if torch.cuda.is_available() else "cpu"  # where the common task's edits and judges run

# %% [markdown]
# ## The methods and their controls
#
# Ten rows: the GANmut series' four generators (StarGAN and GANimation on
# emotion classes, GANmut and GGANmut on a learned plane), EGGAN (absolute AU
# intensities) and HomoInterpGAN (a target face), FineGrained (relative AUs)
# and the best of its ablations (the lowest ED over its seeds, once
# recorded), PortraitGAN (landmarks and a modality) and CycleGAN (a
# modality only). Which task each control can ask for:

# %%
Markdown("| task | control kinds that can ask for it |\n|---|---|\n" + "\n".join(
    f"| {task} | {', '.join(sorted(kinds))} |" for task, kinds in syn.TASKS.items()))

# %% [markdown]
# ## The one table

# %%
sizes_of = syn.all_footprints(fp16_file_bytes)  # built from each shipped config; no training needed
syn.write_all_methods(record_dir, results_dir, sizes_of)
table = read_table(results_dir, syn.PAPER, "all_methods")
show_table(table)

# %% [markdown]
# The columns, and which way is better:

# %%
Markdown("\n".join(f"- `{m.column}`: {m.label} ({'higher' if m.higher_is_better else 'lower'} is better"
                   + (f"; from the {m.series} series' `{m.table}.{m.key}`" if m.series else "") + ")"
                   for m in syn.METRICS))

# %% [markdown]
# ## The methods over the normalised metrics
#
# Each metric that at least two methods have a number for, scaled so that the
# best of them reads 1 and the worst 0 (flipped where lower is better). A
# line stops where a method has no number. Size and speed are among the
# metrics: a small generator that edits well is the one to ship.

# %%
methods, cells = syn.assemble(record_dir, sizes_of)
figures.parallel_figure(methods, cells)
plt.show()

# %% [markdown]
# ## One edit, every control
#
# The same held-out faces (frontal, neutral) are asked for the same target
# expression, and each method receives it in its own control
# (`gamutlib.evaluation.synthesis_tasks.to_control`): StarGAN and GANimation the class's one-hot scaled by
# the intensity, GANmut and GGANmut the class's point of their own learned
# plane, EGGAN the target's exact AU intensities, FineGrained the change from
# the source's AUs, PortraitGAN the landmarks of the source person rendered
# with the target expression, HomoInterpGAN another person showing it. The
# second column is the exact edit: the same person rendered with the target
# AUs. Generators without weights are left out (on the smoke profile an
# untrained stand-in shows the path, its faces mean nothing).

# %%
models, left_out = tasks.load_available(methods, weights_dir, allow_fallback=sizes.stand_ins)
faces = tasks.common_faces(sizes.n_edit_faces, sizes.image_size)
truth, edits = tasks.edit_all(models, faces, "happy", 1.0, sizes.image_size)
figures.edits_figure(faces.image, truth, edits)
plt.show()

# %%
Markdown("Left out: " + ("; ".join(f"{label}: {why}" for label, why in left_out.items()) or "none"))

# %% [markdown]
# ### The same edit, scored
#
# Every available method is asked for each non-neutral class at full
# intensity on the same held-out faces, and each edit is scored against its
# exact edit (L1, SSIM), by the emotion judge (is the asked class read?) and
# by the identity judge (is it still the same person?). The first row scores
# the exact edits themselves: what the judges read on an edit that is exactly
# right. These are the shipped files, so their budgets differ: StarGAN,
# GANmut and GGANmut from their 100k runs, GANimation 10k, EGGAN and HGAN 8k,
# FineGrained and its GANimation 6k, PortraitGAN 3k iterations (the table
# at the top reads the series' seed studies instead: the GANmut series' at
# 10k).

# %%
rows, _ = tasks.run_common_task(methods, sizes, weights_dir, results_dir, device=device)
show_table(read_table(results_dir, syn.PAPER, "common_task"))

# %% [markdown]
# **Reading.** Computed from the table above:

# %%
Markdown(tasks.common_task_reading(rows))

# %% [markdown]
# The gpu record also scores the common task on the cpu profile's faces
# (16, each asked for the six classes) with the generators that ship, in
# true fp32, as `common_task_cpu_protocol`: a reader's `gamut reproduce --profile cpu` repeats that table and is
# compared with it. The ablations and baselines that are results of their
# series' gpu record, not shipped files, are left out of it with that reason.

# %%
twin = tasks.write_cpu_protocol(methods, profile, weights_dir, results_dir, device=device)
if twin is not None:
    display(show_table(read_table(results_dir, syn.PAPER, twin.stem)))
else:
    print("smoke profile: no cpu protocol (its generators may be untrained stand-ins)")

# %% [markdown]
# ## Emotion against identity
#
# An edit can reach the asked emotion by drawing a new face: the accuracy of
# the edits (the GANmut series' Table 3 protocol) is worth little without the
# identity kept (the EGGAN series' verification by the identity judge).
# Circles: a method's means from the series' records, with the seed spread
# as error bars, where a method has both; crosses: the common task above,
# one measurement on the same faces for every available method (the star is
# the exact edit, the judges' ceiling).

# %%
figures.tradeoff_figure(methods, cells, rows)
plt.show()

# %% [markdown]
# ## The claims scoreboard
#
# Every series ends its evaluation with a verdict per headline claim of its
# paper (`<series>/claims.json`, each verdict computed from the numbers by
# the rules of `gamutlib.evaluation.claims`). Here they stand in one table.

# %%
syn.write_scoreboard(record_dir, results_dir)
show_table(read_table(results_dir, syn.PAPER, "claims_scoreboard"))

# %% [markdown]
# ### Reading
#
# Counted from the verdicts above:

# %%
board = syn.scoreboard(record_dir)
counts = syn.scoreboard_counts(board)
display(Markdown("| series | recorded | holds | does not hold | not testable here |\n|---|---|---|---|---|\n" + "\n".join(
    f"| {c['series']} | {'yes' if c['recorded'] else 'no'} | {c['holds'] if c['recorded'] else '-'} | "
    f"{c['does not hold'] if c['recorded'] else '-'} | {c['not testable here'] if c['recorded'] else '-'} |"
    for c in counts)))
Markdown(syn.reading(counts))

# %% [markdown]
# The claims that hold on this record:

# %%
Markdown(syn.held_claims(board))

# %% [markdown]
# What the four series share is the budget, not the data: every seed study
# here trained for a few thousand to ten thousand steps (the GANmut series'
# long runs 100k, 10% of the paper's), where the papers trained for days, so
# the orderings a paper draws between its method and its baselines are the
# claims most exposed to it. The claims that concern the shape of what a
# method learns (the layout of GANmut's plane, the straightness of EGGAN's
# interpolation, which ablation hurts) are the ones this budget can already
# test. The common task above shows what the budget buys from the other
# side: on this record the generators that reach the asked emotion while
# keeping the person are the GANmut series' (StarGAN, GANmut and GGANmut
# shipped from their 100k runs, GANimation, whose attention mask keeps what
# it does not change, from 10k), while the AU- and landmark-driven ones,
# trained 3k to 8k steps, do not yet.
