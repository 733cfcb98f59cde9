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
# # PortraitGAN, the training: seven runs on one engine
#
# PortraitGAN (three seeds), its three ablations and its two baselines
# (CycleGAN photo <-> sketch, StarGAN with two domains) are trained by the
# same engine, `gamut train`, on the benchmark's paired renders; the texture
# loss first needs the benchmark feature network (`feature_net`), trained by
# the same engine. No GPU training happens here: the curves and grids are the
# record of the GPU run, and this chapter reads them.
#
# **Where the GPU run's files land.** `scripts/gpu/train_portraitgan.sh`
# returns one archive per GPU with a folder `<config>-seed<k>/` per job (its
# `log.jsonl`, resolved `config.json`, train log and, for seed 0, three sample
# grids and the exported weights). The logs and grids are unpacked to
# `book/results/portraitgan/training/<config>-seed<k>/`; the weights of seed 0
# of PortraitGAN, CycleGAN and StarGAN go to `weights/` (the shipped files),
# the ablations' stay with the run. The scores of every seed
# (`gamut evaluate portraitgan NAME --seed K`, right after training) land in
# `book/results/portraitgan/seeds/`, which the evaluation chapter reads.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import display

from gamutlib.evaluation.portraitgan import CONFIGS, PAPER_TRAINING
from gamutlib.evaluation.training_record import late_change, loss_series, read_training_record, training_summary
from gamutlib.reproduce import show_table
from gamutlib.training.config import read_config_file
from gamutlib.viz.image_grid import show_sample_grids

plt.rcParams["figure.dpi"] = 60  # keep the pages small
record_dir = Path("book/results")  # the committed record of the GPU run, whatever this run's profile
record = read_training_record(record_dir / "portraitgan" / "training")
print("recorded runs:", ", ".join(record) or "none yet (the series is not trained)")

# %% [markdown]
# ## Starting a run
#
# One command per run; the config holds the engine's settings (`[train]`) and
# the method's (`[model]`, whose defaults are the paper's weights
# $\alpha, \beta, \gamma, \eta = 2, 10, 5, 10$):
#
# ```
# gamut train feature_net --export feature_net          # the texture network, once
# gamut train portraitgan --config gamutlib/models/configs/portraitgan.toml --export portraitgan
# ```

# %%
print((CONFIGS / "portraitgan.toml").read_text())

# %% [markdown]
# ## The paper's settings beside ours
#
# The paper trains about 50 hours on one GTX 1080 at 512 px and gives no
# optimiser or step count. Ours: 128 px, Adam $2\cdot10^{-4}$ with one D step
# per G step (pix2pix and CycleGAN's, on which the paper builds), and the
# steps each config plans below; on the GPU a time guard (`MAX_MINUTES` of the
# script) may stop a run earlier, checkpointed and still exported, so the
# steps actually reached are read from the logs in the next table.

# %%
config_names = ("portraitgan", "portraitgan__no_texture", "portraitgan__single_level", "portraitgan__no_backward",
                "cyclegan", "stargan_modality")
rows = []
for name in config_names:
    cfg = read_config_file(CONFIGS / f"{name}.toml")
    rows.append({"config": name, "method": cfg.get("method", name), "planned steps": cfg["train"].get("steps"),
                 **{k: str(v) for k, v in cfg.get("model", {}).items()}})
show_table({"rows": rows, "protocol": "our config files (model keys not listed keep the defaults)", "seeds": [0]})

# %%
show_table({"rows": [{"setting": k, "paper": str(v)} for k, v in PAPER_TRAINING.items()],
            "protocol": "PortraitGAN, Implementation Details", "seeds": []})

# %% [markdown]
# What the GPU runs reached, from their logs and resolved configs (one row per
# run; the run's name is its config and seed).

# %%
if record:
    display(show_table({"rows": training_summary(record), "protocol": "the recorded GPU runs", "seeds": [0, 1, 2]}))
else:
    print("No recorded runs yet.")

# %% [markdown]
# ## Training curves
#
# Each run's D and G losses (the log averages each interval). With least
# squares, a critic's loss near 0.25 per level means it cannot tell real from
# fake; what to look for is that nothing diverges and the identity, cycle and
# texture terms fall.

# %%
if record:
    fig, axes = plt.subplots(2, len(record), figsize=(2.8 * len(record), 4.2), squeeze=False, constrained_layout=True)
    for col, (name, entry) in enumerate(record.items()):
        for row, phase in enumerate(("D", "G")):
            ax = axes[row, col]
            for key, (steps, values) in loss_series(entry["log"], phase).items():
                if key.count("/") == 1 and key.split("/")[1].startswith("loss"):
                    ax.plot(steps, values, lw=1, label=key.split("/")[1])
            ax.set_title(f"{name}: {phase}", fontsize=8)
            ax.tick_params(labelsize=6)
            ax.legend(fontsize=5)
    plt.show()
else:
    print("No recorded runs: no curves to draw.")

# %% [markdown]
# Have the runs converged? Each loss's mean over its last 1000 steps against
# the 1000 before (the change in %; a run shorter than 4000 steps compares
# quarters of itself). The reading is computed, so it holds for whatever the record is.

# %%
late_rows = []
for name, entry in record.items():
    last = max((int(r["step"]) for r in entry["log"]), default=0)
    window = max(1, min(1000, last // 4))  # a run the time guard stopped early compares what it has
    keys = [k for k in ("G/loss", "G/loss_id") if k in loss_series(entry["log"], "G")]
    late_rows.append({"run": name, "window": window, **{f"{key} {part}": late_change(entry["log"], key, window)[part]
                                                        for key in keys for part in ("before", "last", "change_pct")}})
if late_rows:
    display(show_table({"rows": late_rows, "protocol": "mean of each logged loss over the window of steps before the "
                                                       "last window and over the last window; change in %",
                        "seeds": [0, 1, 2]}))
    falling = [r["run"] for r in late_rows if (r.get("G/loss change_pct") or 0) < -5]
    print(f"G's total loss still falling by more than 5% at the end: {', '.join(falling) or 'none'}")
else:
    print("No recorded runs: nothing to compare.")

# %% [markdown]
# ## Sample grids over training
#
# The engine draws the same training pairs at fixed steps: rows are pairs;
# columns $\mathcal{I}_A$, the target landmark map, $\hat{\mathcal{I}}_B$, the
# true $\mathcal{I}_B$ and the cycle back to $\mathcal{I}_A$ (CycleGAN: the
# photo, its sketch, the way back; StarGAN its own grid). The first, a middle
# and the last grid of each seed-0 run.

# %%
show_sample_grids(record, missing="No recorded sample grids yet.")
