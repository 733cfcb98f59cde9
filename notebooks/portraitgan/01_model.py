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
# # PortraitGAN, the model: one generator for landmarks and modality
#
# PortraitGAN (Duan et al. 2018) edits a portrait's *shape* and its *modality*
# (photo, sketch, cartoon) in one pass. Its generator $G(\mathcal{I} \mid
# \mathcal{L}, \bar{c})$ takes a face, the target facial landmarks rasterised
# as a one-channel image, and a one-hot modality code tiled over the image;
# the same $G$ maps back with the original landmarks and modality, so
# cycle consistency works in a *conditional* setting. This chapter builds its
# pieces, small enough to run anywhere:
#
# 1. the training tuple $(\mathcal{I}_A, \mathcal{L}_A, c_A; \mathcal{I}_B,
#    \mathcal{L}_B, c_B)$, which the benchmark renders with an exact $\mathcal{I}_B$;
# 2. the generator and its multi-level outputs (Eq. 6-7);
# 3. the losses of Eq. 3, 5, 9, 11 and the full objective Eq. 12, on one step;
# 4. the texture network: why it is not the paper's VGG19, and why it is not a judge;
# 5. the baselines (CycleGAN, StarGAN with two domains) and the ablations;
# 6. what each generator weighs.
#
# Every function used here lives in `gamutlib` (`gamutlib.models.portraitgan`,
# `cyclegan`, `stargan_modality`); the chapter imports and shows. Each
# deviation from the paper is written where it applies and listed at the end.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
import tomllib

import matplotlib.pyplot as plt
import torch

from gamutlib.bench.footprint import fp16_file_bytes
from gamutlib.data import PairStream
from gamutlib.evaluation.portraitgan import CONFIGS, PAPER_TRAINING, edit_truth
from gamutlib.evaluation.portraitgan_figures import plot_faces, plot_portraitgan_losses
from gamutlib.losses.texture import gram_loss
from gamutlib.models.portraitgan import PortraitGANConfig, RandomFeatures, with_landmark_maps
from gamutlib.papers import get_method
from gamutlib.reproduce import show_table, write_table
from gamutlib.reproduce.profiles import by_profile
from gamutlib.weights import SHIPPED_ROOT, has_weights

plt.rcParams["figure.dpi"] = 60
torch.manual_seed(0)
size = by_profile({"smoke": 64, "cpu": 128, "gpu": 128}, profile)  # the shipped size is 128 px
print(f"profile {profile}: images at {size} px")

# %% [markdown]
# ## 1. The training tuple
#
# "Each training step takes as input a tuple of four images $(\mathcal{I}_A,
# \mathcal{I}_B, \mathcal{L}_A, \mathcal{L}_B)$ randomly chosen from possible
# modalities of the same identity." The paper's $\mathcal{I}_B$ in another
# modality is a style-transferred copy of a video frame; the benchmark renders
# the same identity, pose, light and background with a second expression
# and a second modality, so $\mathcal{I}_B$ is exactly what a perfect
# $G(\mathcal{I}_A \mid \mathcal{L}_B, c_B)$ would give. A quarter of the
# pairs keep the expression (Table 1's task: modality alone) and a quarter keep
# the modality (the paper's base model: shape alone). The landmarks are drawn
# as the 68-point boundary map the generator sees (`gamutlib.data.landmark_map`).

# %%
cfg = PortraitGANConfig(image_size=size, batch_size=4)
batch = with_landmark_maps(next(PairStream(4, size=size, split="train", seed=0, modalities=cfg.modalities,
                                           p_same_expression=cfg.p_same_expression, p_same_modality=cfg.p_same_modality)), cfg)
names = [cfg.modalities[int(i)] for i in batch["modality_b"]]
plot_faces([("I_A", batch["image_a"], batch["landmarks_a"]), ("L_B (map)", batch["map_b"].expand(-1, 3, -1, -1) * 2 - 1, None),
            ("I_B (exact)", batch["image_b"], batch["landmarks_b"])])
plt.show()
print("target modalities:", names)

# %% [markdown]
# ## 2. The generator and its levels
#
# $G$ is an encoder, residual blocks and a decoder (the paper: 4 stride-2
# convolutions, 9 residual blocks, 4 transposed convolutions at 512 px). Its
# input has $3 + 1 + n$ channels: the image, the landmark map and the tiled
# code. **Multi-level adversarial supervision** adds an auxiliary one-conv RGB
# head to the upsampling stages, so $G$ also draws the image at half (and
# quarter) resolution; critic $D_k$ sees, as fakes, the auxiliary image of its
# scale together with the final image downsampled to it, and as reals the
# target at that scale:
#
# $$\mathcal{L}_{D_k} = \tfrac12\,\mathbb{E}_{x_k}\big[(D_k(x_k) - 1)^2\big] + \tfrac12\,\mathbb{E}_{g_k}\big[D_k(g_k)^2\big]
# \qquad (\text{Eq. 6 with the least-squares loss the paper trains with})$$
#
# $$G^* = \min_G \max_{D_k} \sum_k \mathcal{L}_{GAN}(G, D_k) + \lambda\,\mathcal{L}_1^{identity}(G) \qquad (\text{Eq. 7})$$
#
# **Deviation (size).** At 128 px we keep three down- and up-sampling stages
# (a 16x16 bottleneck), 4 residual blocks and a width capped at 96, aiming at
# a shipped fp16 file under 2.5 MB (section 6 measures it) and an edit within
# the 40 ms budget on 2 CPU threads (`gamut bench edit portraitgan` measures
# it); two levels (1 and 1/2), as the paper's two PatchGANs.

# %%
method = get_method("portraitgan", {"image_size": size, "g_conv_dim": 8, "g_max_dim": 32, "g_repeat_num": 1,
                                    "d_conv_dim": 8, "batch_size": 4, "features": "random"})
levels = method.translate(batch["image_a"], batch, "b")
print("G's levels:", [tuple(t.shape) for t in levels])
print("critics:", {name: tuple(getattr(method, name)(method.pyramid(batch["image_b"], k))[0].shape)
                   for k, name in enumerate(method.critics)}, "(patch scores)")

# %% [markdown]
# ## 3. The losses, and one training step
#
# Identity (the paper's name for an L1 to the target, Eq. 3), feature
# matching on every critic's hidden layers (Eq. 5), texture (Eq. 8-9), and the
# cycle through the same $G$ in both directions (Eq. 11):
#
# $$\mathcal{L}_1^{identity} = \|\mathcal{I}_B - G(\mathcal{I}_A, \mathcal{L}_B, c_B)\|_1, \qquad
# \mathcal{L}_{FM}(G, D_k) = \big\|\mathbb{E}\,D_k^{(i)}(\mathcal{I}_B) - \mathbb{E}\,D_k^{(i)}(G(\mathcal{I}_A, \mathcal{L}_B))\big\|_1$$
#
# $$\mathcal{G}_{\mathcal{I},L}(k, l) = \sum_i \psi^k_{\mathcal{I},L}(i)\,\psi^l_{\mathcal{I},L}(i), \qquad
# \mathcal{L}^L_{texture}(\mathcal{I}_A, \mathcal{I}_B) = \|\mathcal{G}_{\mathcal{I}_A,L} - \mathcal{G}_{\mathcal{I}_B,L}\|^2$$
#
# $$\mathcal{L}_{cyc} = \|G(G(\mathcal{I}_A, \mathcal{L}_B, c_B), \mathcal{L}_A, c_A) - \mathcal{I}_A\|_1
#   + \|G(G(\mathcal{I}_B, \mathcal{L}_A, c_A), \mathcal{L}_B, c_B) - \mathcal{I}_B\|_1$$
#
# $$\mathcal{L}_{PortraitGAN} = \sum \mathcal{L}_{GAN_{A\to B}} + \sum \mathcal{L}_{GAN_{B\to A}} + \alpha\,\mathcal{L}_{cyc}
#   + \beta \sum \mathcal{L}_{FM} + \gamma\,\mathcal{L}_{identity} + \eta\,\mathcal{L}_{texture} \qquad (\text{Eq. 12})$$
#
# with the paper's $\alpha, \beta, \gamma, \eta = 2, 10, 5, 10$, our defaults.
# **Deviations.** The identity and texture terms compare $\hat{\mathcal{I}}_B$
# with the exact rendered $\mathcal{I}_B$ (the paper's targets are
# style-transferred); Eq. 5 draws its real sample from a pool of past reals,
# while our stream never repeats a face, so the batch's own targets are used;
# the paper gives no optimiser, so Adam $2\cdot10^{-4}$, $\beta = (0.5, 0.999)$
# and one D step per G step, as pix2pix and CycleGAN on which it builds; the
# critics are unconditional, as Eq. 10 writes $D(\mathcal{I}_B)$. Eq. 9's
# layers are weighed alike (`texture_layers = "relative"`: each layer's Gram
# distance over the target's squared Gram norm, averaged over layers): summed
# as written, our feature network's deepest layer, whose squared Gram norms are 70-260
# times the others', made up nearly all of the loss, and training stalled
# (the identity error did not move in 1089 GPU steps; see the module docstring
# of `gamutlib.models.portraitgan`).
# The diagram follows the forward cycle of one step and names the loss each
# comparison feeds; below it, one D phase and one G phase of the tiny model (a
# fixed random texture network stands in for the trained one, which this
# chapter does not need).

# %%
plot_portraitgan_losses()
plt.show()

# %%
for phase in method.phases():
    out = phase.fn(batch, 0)
    out["loss"].backward()
    print(f"{phase.name} (updates {'+'.join(phase.nets)}): " +
          ", ".join(f"{k.removeprefix('loss_')} {float(v.detach()):.4f}" for k, v in out.items() if k != "loss"))

# %% [markdown]
# ## 4. The texture network is not VGG19, and not a judge
#
# The paper computes Eq. 9 on a frozen ImageNet VGG19 (conv1_1 to conv5_1).
# Ours is `BenchmarkFeatures` (`gamutlib/nn/feature_net.py`, weights
# `feature_net`), a small network trained on the benchmark's renders by the
# engine (identity classification over a closed pool of training identities
# plus AU regression): this study downloads no ImageNet weights and trains
# every network it uses on its own faces; VGG19 would not fit the repository's
# size budget; and, above all, the texture network must never be one of the
# judges that score the edits (`gamutlib/judges`). A generator trained to
# match the Gram matrices of a judge's features is optimised against the very
# features that then measure it (identity distance, landmark error), which
# games the table instead of improving the faces. The feature network differs
# from every judge in weights, architecture, objective and seed, and the
# import-linter contract "scoring judge" keeps the losses from importing a judge.
#
# What the texture term sees: Gram matrices ignore *where* things are and keep
# *which* features occur together, so the same face as a photo and as a sketch
# should lie far apart, and two photos of different expressions close; the
# line under the table checks it on the network at hand (the trained one
# where its weights are present, otherwise the fixed random stand-in).

# %%
faces = edit_truth(4, size, path_steps=1)
if has_weights(SHIPPED_ROOT, "feature_net"):  # plain or packed
    from gamutlib.models.portraitgan import load_feature_network

    features, which = load_feature_network("feature_net"), "the trained benchmark feature network"
else:
    features, which = RandomFeatures().eval(), "the fixed random stand-in (weights/feature_net.safetensors is absent)"
with torch.no_grad():
    texture_rows = [
        {"pair": "photo A vs the same photo", "texture": round(float(gram_loss(features, faces["photo_a"], faces["photo_a"])), 6)},
        {"pair": "photo A vs photo B (new expression)", "texture": round(float(gram_loss(features, faces["photo_a"], faces["photo_b"])), 6)},
        {"pair": "photo A vs sketch A (same face)", "texture": round(float(gram_loss(features, faces["photo_a"], faces["style_a"])), 6)},
    ]
show_table({"rows": texture_rows, "protocol": f"Eq. 9 on {which}, 4 test faces at {size} px", "seeds": [0]})

# %%
print("the modality moves the Gram matrices more than the expression does:",
      texture_rows[2]["texture"] > texture_rows[1]["texture"])

# %% [markdown]
# ## 5. The baselines and the ablations
#
# **CycleGAN** (Zhu et al. 2017): two ResNet generators photo -> sketch and
# back, two least-squares PatchGAN critics, the cycle loss (weight 10) and the
# identity-mapping term (weight 5), trained unpaired (each batch's photos and
# sketches show different faces). **StarGAN** "with domain dimension set as
# two": GANmut's StarGAN unchanged (WGAN-GP, classification and
# reconstruction losses) with a 2-d code, photo or sketch. Neither takes
# landmarks: they enter Table 1 (landmarks fixed) only. Their widths are
# matched to PortraitGAN's size, so Table 1 compares the methods at equal
# footing. The ablations are PortraitGAN with one piece removed, each a config
# of its own:

# %%
ablation_rows = []
for name in ("portraitgan", "portraitgan__no_texture", "portraitgan__single_level", "portraitgan__no_backward",
             "cyclegan", "stargan_modality"):
    with open(CONFIGS / f"{name}.toml", "rb") as f:
        model = tomllib.load(f).get("model", {})
    ablation_rows.append({"config": name, "changes": ", ".join(f"{k} = {v}" for k, v in model.items()) or "defaults"})
show_table({"rows": ablation_rows, "protocol": "gamutlib/models/configs/*.toml [model]", "seeds": [0]})

# %% [markdown]
# ## 6. What each generator weighs
#
# Only the generator is exported (the critics and CycleGAN's backward
# generator stay behind), and only PortraitGAN's ships: the baselines, like the
# ablations, are results of the gpu record, not shipped files. Exact parameter
# counts and fp16 file sizes at the trained settings.

# %%
size_rows = []
for name in ("portraitgan", "cyclegan", "stargan_modality"):
    modules = get_method(name, {"image_size": 128}).export()
    size_rows.append({"method": name, "params_M": round(sum(p.numel() for m in modules.values() for p in m.parameters()) / 1e6, 3),
                      "fp16_MB": round(fp16_file_bytes(modules) / 1e6, 2)})
write_table(results_dir, "portraitgan", "model_sizes", rows=size_rows,
            paper_numbers={"note": "the paper reports no sizes; its G has 4 down, 9 residual, 4 up stages at 512 px"},
            protocol="parameters of what ships (G); fp16 safetensors bytes, exact", seeds=[0],
            producer="notebooks/portraitgan/01_model.py")
show_table({"rows": size_rows, "protocol": "exact counts at 128 px", "seeds": [0]})

# %% [markdown]
# ## Where we depart from the paper, in one place
#
# | paper | here | why |
# |---|---|---|
# | 512 px, RaFD, iCV, YouTube videos | 128 px, the rendered benchmark | exact targets in every modality and expression; the judges work at 128 px |
# | style-transferred pseudo targets | the same face rendered as sketch or cartoon | exact ground truth |
# | VGG19 (ImageNet) texture features | `feature_net`, trained on the benchmark | no downloads, the size budget, and never a scoring judge |
# | 4 + 9 + 4 stages | 3 + 4 + 3 stages, width <= 96 | file size and CPU edit latency |
# | pool of past reals for Eq. 5 | the batch's own targets | the stream never repeats a face |
# | no optimiser given | Adam 2e-4, (0.5, 0.999), 1:1 | pix2pix / CycleGAN, which it builds on |
# | ~50 h on a GTX 1080 | a few GPU minutes (training chapter) | the study's budget |
#
# The paper's training settings, as it states them:

# %%
show_table({"rows": [{"setting": k, "paper": str(v)} for k, v in PAPER_TRAINING.items()],
            "protocol": "PortraitGAN, Implementation Details", "seeds": []})
