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
# # How a chapter is made
#
# Every chapter of this book is a notebook under `notebooks/<paper>/` that
# `gamut reproduce` runs with papermill. The run writes the executed notebook
# under `book/` and its tables as JSON under `book/results/`; the book is
# built from those files without executing anything. This chapter walks the
# whole pipe once, on a toy small enough to run anywhere: a parameters cell,
# a figure, an equation, a slider, and a table written to the record and read
# back.
#
# The toy is the score GANmut uses to judge how gradually an emotion appears
# as its intensity grows (Table 1 of the paper). The paper chapters compute it
# on generated faces and a trained judge; here the judge's scores are
# synthetic curves, so the chapter needs no weights.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import torch
from IPython.display import display

from gamutlib.metrics.smoothness import RHO_STEPS, smoothness_score
from gamutlib.reproduce import read_table, show_table, write_table

torch.manual_seed(0)
# The smoke profile runs every line with fewer series; its table has another
# protocol string, so it is never compared with the record.
n_series = 32 if profile == "smoke" else 4096
noise = 0.02
rho = torch.linspace(0, 1, RHO_STEPS)

# %% [markdown]
# ## The quantity
#
# GANmut places an expression at polar coordinates $z = (\theta, \rho)$ of a
# learned plane: the angle $\theta$ picks the emotion, the radius $\rho$ its
# intensity. Walking out along the direction $\theta_c$ of emotion $c$ in
# eleven steps $\rho_j = 0.1\,j$ and asking a judge $C$ how strongly it sees
# $c$ gives a series $C_0, \dots, C_{10}$, whose smoothness is
#
# $$
# s = \frac{\max_j \left(C_{j+1} - C_j\right)}{\max_j C_j - \min_j C_j}.
# $$
#
# A judge that flips at one step gives $s = 1$; a perfectly even ramp gives
# $s = 0.1$. Below, a series switches from 0 to 1 around a random radius $m$
# with steepness $k$, $C_j = \sigma\big(k(\rho_j - m)\big) + \varepsilon_j$,
# with a little judge noise $\varepsilon_j$.


# %%
def toy_series(steepness: float, n: int, generator: torch.Generator) -> torch.Tensor:
    """n judge-score series over rho_j that switch on around a random radius with the given steepness."""
    midpoint = 0.3 + 0.4 * torch.rand(n, 1, generator=generator)
    clean = torch.sigmoid(steepness * (rho - midpoint))
    return clean + noise * torch.randn(n, RHO_STEPS, generator=generator)


def plot_series(steepness: float, ax: plt.Axes) -> None:
    series = toy_series(steepness, 8, torch.Generator().manual_seed(1))
    ax.plot(rho, series.T, color="tab:blue", alpha=0.6)
    ax.set(xlabel=r"$\rho$", ylabel=r"$C(c \mid x_\rho)$", ylim=(-0.1, 1.1))
    ax.set_title(f"k = {steepness:g}, mean s = {smoothness_score(series).nanmean():.2f}")


fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), sharey=True, constrained_layout=True)
for k, ax in zip((2, 8, 64), axes):
    plot_series(k, ax)
plt.show()

# %% [markdown]
# ## A slider
#
# In JupyterLab the slider redraws the figure for any steepness. The page you
# are reading has no kernel behind it: the slider shows the state it was saved
# with, and the figure under it gives the same view at a few settings.

# %%
def show_steepness(steepness: float = 8.0) -> None:
    fig, ax = plt.subplots(figsize=(4, 2.6), constrained_layout=True)
    plot_series(steepness, ax)
    plt.show()


slider = widgets.FloatLogSlider(value=8.0, base=2, min=0, max=7, step=0.5, description="k")
display(widgets.interactive(show_steepness, steepness=slider))

# %% [markdown]
# Static view of the same slider at five settings:

# %%
fig, axes = plt.subplots(1, 5, figsize=(12, 2.4), sharey=True, constrained_layout=True)
for k, ax in zip((1, 4, 16, 64, 128), axes):
    plot_series(k, ax)
plt.show()

# %% [markdown]
# ## A table in the record
#
# The mean smoothness over many series, per steepness, goes to
# `{results_dir}/intro/toy_smoothness.json`. The GANmut paper's own Table 1
# numbers are stored beside ours for scale: StarGAN's judge scores jump (about
# 0.4 to 0.8), GANmut's rise gradually (about 0.35). The table states a
# tolerance, so a later run on the same protocol is checked against the record.

# %%
generator = torch.Generator().manual_seed(0)
rows = []
for k in (1, 2, 4, 8, 16, 64):
    scores = smoothness_score(toy_series(k, n_series, generator))
    rows.append({"steepness": k, "smoothness": round(scores.nanmean().item(), 4), "undefined": int(scores.isnan().sum())})

table_file = write_table(
    results_dir,
    "intro",
    "toy_smoothness",
    rows=rows,
    paper_numbers={
        "source": "GANmut Table 1 (smoothness per emotion; lower is smoother); the toy reproduces none of it",
        "StarGAN": {"happy": 0.79, "sad": 0.44, "surprised": 0.43, "fearful": 0.49, "disgusted": 0.55, "angry": 0.59},
        "GANmut": {"happy": 0.38, "sad": 0.38, "surprised": 0.35, "fearful": 0.37, "disgusted": 0.36, "angry": 0.33},
    },
    protocol=f"toy sigmoid judge series, rho_j = 0.1 j, midpoint U(0.3, 0.7), noise {noise}, {n_series} series per k",
    seeds=[0],
    tolerance={"abs": 0.005, "rel": 0.0},
)

# %% [markdown]
# Read back from the record, as every evaluation chapter does. Note the first
# row: at k = 1 the series barely rises over the eleven steps, so the judge's
# noise is large against the small range and s grows again. The score only
# means something for series that actually change, which is why the paper's
# protocol leaves flat series out (`undefined` counts them).

# %%
show_table(read_table(results_dir, "intro", "toy_smoothness"))
