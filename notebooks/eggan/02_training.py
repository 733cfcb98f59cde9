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
# # EGGAN, the training: the feature network first, then six generators
#
# The series trains with the study's one engine (`gamut train`) on the
# built-in benchmark, with the renderer's exact AU intensities as labels
# (the paper annotated RaFD and MMI with OpenFace). One GPU script runs it all
# (`scripts/gpu/train_eggan.sh`):
#
# 1. the benchmark **feature network** (`gamut train feature_net`), which
#    EGGAN's and HGAN's perceptual losses read; never a judge (the model
#    chapter says why);
# 2. EGGAN with three seeds and HGAN with three seeds (seed 0 of each shipped
#    as `weights/eggan.safetensors` and `weights/hgan.safetensors`), and the
#    three ablations of the paper's Fig. 4 with one seed each, side by side on
#    one GPU;
# 3. then `scripts/gpu/score_eggan.sh` scores every job with the evaluation
#    chapter's table protocols (`gamut evaluate eggan NAME --seed K`) and keeps
#    seed 0's log, config and sample grids under
#    `book/results/eggan/training/<config>/`, the ablations' records and logs
#    under `book/results/eggan/ablations/`, the seeds' records under
#    `book/results/eggan/seeds/`.
#
# StarGAN is not retrained: it is the GANmut series' shipped generator (its
# 100k run).
# This chapter shows the configurations, puts the paper's settings beside
# ours, and plots what the GPU runs recorded. No training happens here except,
# where nothing is recorded, a few steps at tiny widths to show the log's shape.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
from IPython.display import display

from gamutlib.evaluation.eggan import PAPER_TRAINING
from gamutlib.evaluation.eggan_claims import read_ablation_records
from gamutlib.evaluation.training_record import late_change, loss_series, read_training_record, training_summary
from gamutlib.reproduce import show_table
from gamutlib.training.config import read_config_file
from gamutlib.viz.image_grid import show_sample_grids

plt.rcParams["figure.dpi"] = 60  # keep the pages small
CONFIGS = Path("gamutlib/models/configs")
SERIES = ("feature_net", "eggan", "hgan", "eggan__no_per", "eggan__no_id", "eggan__no_msssim")
record = read_training_record(Path(results_dir) / "eggan" / "training")
print("recorded runs:", ", ".join(record) or "none yet")

# %% [markdown]
# ## The configurations
#
# A config file holds the engine's settings (`[train]`) and the method's
# (`[model]`, whose defaults are the paper's hyperparameters). EGGAN's:

# %%
print((CONFIGS / "eggan.toml").read_text())

# %%
rows = []
for name in SERIES:
    cfg = read_config_file(CONFIGS / f"{name}.toml")
    rows.append({"config": name, "method": cfg.get("method", name), "planned steps": cfg["train"].get("steps"),
                 "LR decay from": cfg["train"].get("lr_decay_steps"), **cfg.get("model", {})})
show_table({"rows": rows, "protocol": "the series' config files (model keys not listed keep the defaults)", "seeds": [0]})

# %% [markdown]
# ## The paper's settings beside ours
#
# The losses' weights, the learning rates and the batch size are the paper's.
# What differs: the data (renders and their exact AUs), the perceptual
# features (the benchmark feature network, not ImageNet VGG19), the widths,
# and the length: the paper trains 400 RaFD epochs (about 20 hours on one
# RTX 2080 Ti); the study's configs give every generator 10k steps (the
# recorded runs: 8k, what fit one GPU session beside the PortraitGAN
# series), three seeds of each, the learning rate decaying linearly over the
# second half of the run as in the paper.

# %%
show_table({"rows": [{"setting": k, "paper": str(v)} for k, v in PAPER_TRAINING.items()],
            "protocol": "EGGAN Sec. 4.1", "seeds": []})

# %% [markdown]
# ## What the runs reached
#
# Seed 0 of each configuration, from its log and resolved config.

# %%
if record:
    display(show_table({"rows": training_summary(record), "protocol": "the recorded GPU runs (seed 0)", "seeds": [0]}))
else:
    print("No recorded runs under this results folder.")

# %% [markdown]
# ## Training curves
#
# Each phase's logged terms per run: D (the image critic and the latent
# discriminator), C (the classifiers on real faces) and G (Eq. 7's terms for
# E and G; HGAN logs its K and H phases, the feature network its F phase).
# With WGAN-GP the critic's loss is no quality score; what to look for is
# that nothing diverges, that $\mathcal{L}_{au}$ on the edits falls and that
# the reconstruction terms fall. Where no run is recorded, a run of a few
# steps at tiny widths is made here, to show the log's shape only.

# %%
runs = record
if not runs:
    from gamutlib.papers import get_method
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import start_run

    demo = get_method("eggan", dict(image_size=32, latent_dim=16, e_conv_dim=4, g_conv_dim=4, g_blocks=3, d_conv_dim=4,
                                    d_repeat_num=3, c_conv_dim=4, n_identities=8, batch_size=4, n_critic=1,
                                    feature_weights=""))
    out = Path(tempfile.mkdtemp())
    trainer = start_run(demo, TrainConfig(steps=6, seed=0, device="cpu", progress=False, log_every=1, sample_every=3,
                                          checkpoint_every=10**9, precision="fp32", cuda_graphs=False), out=out)
    trainer.fit()
    runs = {"eggan, 6 tiny steps made here (not the record)": read_training_record(out)[trainer.run_dir.name]}

phases = ("D", "Z", "C", "G", "H", "K", "F")  # Z: the latent critic D_z, stepped with the encoder
for name, entry in runs.items():
    present = [p for p in phases if loss_series(entry["log"], p)]
    fig, axes = plt.subplots(1, max(len(present), 1), figsize=(3.2 * max(len(present), 1), 2.4), squeeze=False,
                             constrained_layout=True)
    for ax, phase in zip(axes[0], present):
        for key, (steps, values) in loss_series(entry["log"], phase).items():
            if key.count("/") == 1 and key.split("/")[1].startswith("loss"):
                ax.plot(steps, values, lw=1, label=key.split("/")[1])
        ax.set_title(f"{name}: {phase}", fontsize=8)
        ax.set_xlabel("step", fontsize=8)
        ax.set_yscale("symlog")
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6)
    plt.show()

# %% [markdown]
# Have the runs converged? Each logged total's mean over the last 1000 steps
# against its mean over the 1000 before (a recorded run only).

# %%
late = [{"run": name, **{f"{key} {part}": late_change(entry["log"], key)[part] for key in ("G/loss", "G/loss_au")
                         for part in ("before", "last", "change_pct")}}
        for name, entry in record.items() if name.startswith("eggan")]
if late:
    display(show_table({"rows": late, "protocol": "mean over the 1000 steps before the last 1000 ('before') and over the "
                                                  "last 1000 ('last'); change in % of 'before'", "seeds": [0]}))
else:
    print("No recorded EGGAN run: nothing to compare.")

# %% [markdown]
# The ablations (one seed each): $\mathcal{L}_{au}$ on the edits against the
# full model's seed 0. A loss that is switched off is not logged as zero
# pressure on the others: the curves show how the remaining terms move.

# %%
ablation_logs = {r["config"]: Path(results_dir) / "eggan" / "ablations" / f"{r['config']}-seed{r['seed']}.log.jsonl"
                 for r in read_ablation_records(results_dir)}
ablation_logs = {k: v for k, v in ablation_logs.items() if v.exists()}
if ablation_logs and "eggan" in record:
    from gamutlib.training.run_folder import JsonlLog

    fig, ax = plt.subplots(figsize=(4.5, 2.6))
    for name, log in [("eggan", record["eggan"]["log"])] + [(k, JsonlLog(v).read()) for k, v in ablation_logs.items()]:
        steps, values = loss_series(log, "G").get("G/loss_au", ([], []))
        ax.plot(steps, values, lw=1, label=name)
    ax.set_xlabel("step")
    ax.set_ylabel("G/loss_au")
    ax.legend(fontsize=7)
    plt.show()
else:
    print("No recorded ablation logs under this results folder.")

# %% [markdown]
# ## Sample grids over training
#
# Rows are training faces; columns the face, its reconstruction
# $G(E(I_i), u_i)$, then each row's AUs applied to it (EGGAN), or the next
# face's expression at $v = 0.5$ and $1$ (HGAN). The first, a middle and the
# last grid of each recorded run.

# %%
show_sample_grids(record)
