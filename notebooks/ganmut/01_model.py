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
# # GANmut, the model: a conditional space that is learned
#
# StarGAN edits a face towards one of 7 emotions by feeding its generator a
# one-hot label. Whatever lies between the labels (a happily surprised face, a
# faint anger) it never sees as a condition, so it never learns to make it.
# GANmut (d'Apolito et al., CVPR 2021) keeps StarGAN's networks and replaces
# the one-hot label with a point $z$ of a small **learned** plane, trained
# from the same categorical labels. This chapter builds the pieces one by one,
# small enough to run anywhere:
#
# 1. the backbone (StarGAN) and how a condition enters it, with a diagram of
#    G and D and the loss each of D's heads feeds;
# 2. the linear space: 6 learned directions, $z = \rho\,v_c$, the batch split;
# 3. its losses, as equations and on toy tensors, and why each design choice
#    (unit directions, $\tau$, the noise) is there, with the tension between
#    classification and intensity;
# 4. the Gaussian space (GGANmut): modes, covariances, the softmax $p_z$ and $\mathcal{L}_{div}$;
# 5. GANimation's attention, the categorical baseline;
# 6. one training step of each method through the trainer's interface;
# 7. what each generator weighs, at the paper's width and at ours.
#
# Every function used here lives in `gamutlib`; the chapter imports and shows.
# The choices we had to make where the paper is silent are listed at the end.

# %% tags=["parameters"]
profile = "smoke"  # smoke | cpu | gpu: how much work this run may afford
results_dir = "book/results"  # where the tables go, relative to the repository root

# %%
import math

import matplotlib.pyplot as plt
import torch

from gamutlib.constants import EMOTIONS
from gamutlib.faces import random_faces
from gamutlib.losses import loss_attention, loss_attention_tv, loss_cls, loss_div, loss_info, loss_rho, rho_hat
from gamutlib.models import ganimation, stargan
from gamutlib.bench.footprint import generator_footprint
from gamutlib.models.ganmut import Discriminator, LinearConditionSpace, sample_linear_codes
from gamutlib.models.gganmut import GaussianConditionSpace, sample_gaussian_codes
from gamutlib.models.translation import grid, one_hot
from gamutlib.nn import tile_condition
from gamutlib.reproduce import show_table, write_table
from gamutlib.papers import get_method
from gamutlib.viz.architecture import plot_ganmut_architecture
from gamutlib.viz.condition_space import EMOTION_COLORS, plot_gaussian_space, plot_linear_space

if profile == "smoke":
    torch.set_num_threads(1)
torch.manual_seed(0)
size = 32 if profile == "smoke" else 64  # small faces: this chapter shows shapes and losses, not quality
faces = random_faces(8, size=size, seed=0)
x, label = faces["image"], faces["label"]
print("batch:", tuple(x.shape), "labels:", [EMOTIONS[int(k)] for k in label])
plt.figure(figsize=(10, 1.6))
plt.imshow(((grid([x[i : i + 1] for i in range(len(x))])[0].permute(1, 2, 0) + 1) / 2).clamp(0, 1))
plt.axis("off")
plt.show()

# %% [markdown]
# The faces come from the built-in benchmark; their `label` is the noisy
# categorical proxy, the only supervision GANmut and its baselines get (the
# paper trains on AffectNet's 7 classes in the same way).
#
# ## 1. The backbone: StarGAN
#
# StarGAN's generator is an encoder (a 7x7 conv, two stride-2 convs), six
# residual blocks and a decoder (two stride-2 transposed convs, a 7x7 conv,
# tanh), with instance normalisation and ReLU throughout. The condition
# enters as constant extra channels: each of the $C$ numbers of the label is
# broadcast over the image and concatenated to the RGB input.

# %%
c = one_hot(torch.tensor([EMOTIONS.index("happy")] * len(x)))
print("one-hot condition:", tuple(c.shape), "-> G's input:", tuple(tile_condition(x, c).shape))
G = stargan.Generator(conv_dim=8, c_dim=7, repeat_num=2)  # a tiny width, for the shapes only
D = stargan.Discriminator(image_size=size, conv_dim=8, c_dim=7, repeat_num=3)
y = G(x, c)
src, cls = D(y)
print("G(x, c):", tuple(y.shape), " D_src (PatchGAN map):", tuple(src.shape), " D_cls:", tuple(cls.shape))

# %% [markdown]
# GANmut keeps all of it. Only the condition changes, from 7 one-hot numbers
# to the 2 coordinates of $z$, and D gets a third head, $D_{coord}$, which
# reads $z$ back from an image:

# %%
D_mut = Discriminator(image_size=size, conv_dim=8, repeat_num=3)
src, cls, coord = D_mut(y)
print("GANmut D: src", tuple(src.shape), " cls", tuple(cls.shape), " coord", tuple(coord.shape))

# %% [markdown]
# The whole model at the shipped sizes: the learned space makes the code $z$,
# G turns a face and a code into a fake, and D reads real and fake faces with
# one trunk and three heads, each feeding its losses (dashed). $D_{coord}$
# serves twice: it regresses the fake's code ($\mathcal{L}_{info}$) and reads
# the real face's code, the way back of the reconstruction cycle.

# %%
plot_ganmut_architecture()
plt.show()

# %% [markdown]
# ## 2. The linear space
#
# Every non-neutral emotion $c$ owns a learnable unit vector $v_c$ of the plane
# (supp. Sec. 3: stored as $u_c$ and normalised, $v_c = u_c/\lVert u_c\rVert$,
# with $u_c$ drawn from $\mathcal{U}(\pm 10^{-4}\sqrt{1/6})$ so that the
# first gradient steps can turn it freely). Neutral is the origin, so the 7
# classes have 6 directions. The code of emotion $c$ at intensity $\rho$ is
#
# $$ z = \rho\, v_c, \qquad \text{in polar form } z = (\theta_c, \rho). $$

# %%
space = LinearConditionSpace()
print("|u_c| at initialisation:", space.raw_directions.norm(dim=1).detach().numpy().round(7))
print("|v_c| (always 1):       ", space.directions().norm(dim=1).detach().numpy().round(4))
for k, theta in zip(space.emotion_classes.tolist(), space.angles().tolist()):
    print(f"  theta_{EMOTIONS[k]:<10} = {math.degrees(theta):6.1f} deg")
happy = torch.tensor([EMOTIONS.index("happy")] * 3)
print("z for happy at rho = 0.25, 0.5, 1:\n", space.code(happy, torch.tensor([0.25, 0.5, 1.0])).detach().numpy().round(3))

# %% [markdown]
# The directions start random (they are learned with G); a trained model
# spreads them so that opposite emotions face each other (paper Fig. 1).
#
# **The batch split** (paper Fig. 2, Sec. 4.1). Of a batch of $n = 16$, the
# first $n_c = 9$ images get codes *on* the directions of target emotions
# (blue; targets are a permutation of the batch's labels, intensities
# $\rho \sim \mathcal{U}[\tau, 1]$, neutral at the origin, Gaussian noise
# $\sigma = 0.1$ added); the other $n_r = 7$ get codes anywhere in the disk
# (red; $\theta \sim \mathcal{U}[0, 2\pi)$, $\rho \sim \mathcal{U}[0, 1]$).
# Only the blue ones are asked to be classified as their emotion; the red ones
# only have to look real and be readable by $D_{coord}$, which leaves them free
# to become whatever expression lies there.

# %%
labels16 = random_faces(16, size=32, seed=1)["label"]
with torch.no_grad():
    codes = sample_linear_codes(space, labels16, n_c=9, tau=0.2, noise=0.1)
fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.2), layout="constrained")
plot_linear_space(space, ax=axes[0])
axes[0].set_title("initial directions (random)")
plot_linear_space(space, ax=axes[1], codes=codes.z, on_direction=codes.on_direction)
axes[1].set_title("one batch: $S_c$ and $S_r$")
plt.show()
for i in range(16):
    kind = "S_c" if codes.on_direction[i] else "S_r"
    target = EMOTIONS[int(codes.target[i])] if codes.target[i] >= 0 else "-"
    print(f"{kind}  target {target:<10} rho {float(codes.rho[i]):.2f}  |z| {float(codes.z[i].norm()):.2f}")

# %% [markdown]
# ## 3. The linear model's losses
#
# The adversarial term is StarGAN's Wasserstein loss with a gradient penalty
# (WGAN-GP) on random interpolates $\hat x = a\,x + (1-a)\,G(x, z)$,
# $a \sim \mathcal{U}[0, 1]$ per image; $D_{src}$ is a patch map, averaged
# over its positions:
#
# $$\mathcal{L}_{adv} = \mathbb{E}_x\big[D_{src}(x)\big] - \mathbb{E}_{x,z}\big[D_{src}(G(x, z))\big]
#   - \lambda_{gp}\,\mathbb{E}_{\hat x}\big[(\lVert\nabla_{\hat x} D_{src}(\hat x)\rVert_2 - 1)^2\big].$$
#
# D maximises it (it minimises $-\mathcal{L}_{adv}$: real scores up, fake
# scores down, its gradient norm held near 1 between them, which keeps the
# critic 1-Lipschitz as the Wasserstein distance needs); G minimises its
# middle term only. The classification losses are cross-entropies through
# $D_{cls}$: D learns the real faces' labels $c'$, and G is asked for fakes
# that D classifies as the target $c$, on $S_c$ only (below):
#
# $$\mathcal{L}^r_{cls} = \mathbb{E}_{x,c'}\big[-\log D_{cls}(c' \mid x)\big],\qquad
#   \mathcal{L}^f_{cls} = \mathbb{E}_{(x, z) \in S_c}\big[-\log D_{cls}(c \mid G(x, z))\big].$$
#
# The two objectives (the code: `gamutlib/models/ganmut.py`, `gamutlib/losses/`):
#
# $$\mathcal{L}_D = -\mathcal{L}_{adv} + \lambda_{cls}\mathcal{L}^r_{cls} + \lambda_{info}\mathcal{L}_{info},\qquad
# \mathcal{L}_G = \mathcal{L}_{adv} + \lambda_{cls}\mathcal{L}^f_{cls} + \lambda_{rec}\mathcal{L}_{rec} + \lambda_{info}\mathcal{L}_{info} + \lambda_\rho\mathcal{L}_\rho$$
#
# with the paper's $\lambda_{cls} = 1$, $\lambda_{info} = 1$, $\lambda_\rho = 4$,
# StarGAN's $\lambda_{rec} = 10$ and WGAN-GP's $\lambda_{gp} = 10$.
# $\mathcal{L}_{adv}$ and $\mathcal{L}_{cls}$ are StarGAN's. The new terms:
#
# **$\mathcal{L}_{info}$** (Eq. 6): $D_{coord}$ must read back the code a fake
# was made with, $\mathcal{L}_{info} = \mathbb{E}_{x,z}\lVert D_{coord}(G(x, z)) - z\rVert^2$
# (averaged over the two coordinates, as the reference code's `mse_loss`).
# It ties each point of the plane to a recognisable expression (InfoGAN's
# mutual-information idea): codes D cannot tell apart would be wasted plane.

# %%
z = torch.tensor([[0.5, 0.0], [0.0, -1.0]])
print("L_info, exact read-back:", float(loss_info(z, z)), "  read-back off by 0.1:", float(loss_info(z + 0.1, z)))

# %% [markdown]
# **$\mathcal{L}_\rho$** (Eq. 7): the further out a code, the more sure D must be
# of the emotion: D's top softmax score $\hat\rho = \max_c D_{cls}(c\,|\,G(x, z))$
# should equal $\rho$,
#
# $$\mathcal{L}_\rho = \mathbb{E}_{x,z}\big[(\hat\rho(G(x, z)) - \rho)^2\,\mathbb{1}\{\rho > \tau\}\big],$$
#
# for every code with $\rho > \tau = 0.2$ (closer to the origin the face is
# neutral). Below, D's confidence sweeps from chance
# (1/7) to certainty, for three codes:

# %%
confidence = torch.linspace(1 / 7, 0.999, 60)
probs = ((1 - confidence[:, None]) / 6).repeat(1, 7)
probs[:, 1] = confidence
logits = probs.log()
assert torch.allclose(rho_hat(logits), confidence, atol=1e-5)
plt.figure(figsize=(4.6, 3))
for rho in (0.15, 0.5, 0.9):
    values = [float(loss_rho(logits[i : i + 1], torch.tensor([rho]))) for i in range(len(confidence))]
    plt.plot(confidence, values, label=f"$\\rho$ = {rho}" + (" (below $\\tau$: no loss)" if rho <= 0.2 else ""))
plt.xlabel("D's top softmax score $\\hat\\rho$")
plt.ylabel("$\\mathcal{L}_\\rho$")
plt.legend(fontsize=8)
plt.show()

# %% [markdown]
# **$\mathcal{L}_{rec}$** (Eq. 8) is StarGAN's cycle with one twist: the way
# back uses the code D *reads* from the real face,
# $\mathcal{L}_{rec} = \mathbb{E}_{x,z}\lVert x - G(G(x, z), D_{coord}(x))\rVert_1$,
# since a real face has no label in the learned plane.
#
# ### Why each piece is there
#
# - **Unit directions.** Only the angle $\theta_c$ says *which* emotion; the
#   length is kept for $\rho$, the intensity. If $v_c$ could grow, the scale
#   of the plane would be arbitrary and $\mathcal{L}_\rho$ could not tie
#   $\rho = 1$ to a full-strength face; normalising puts every emotion's
#   full strength on the unit circle, where codes of different emotions can be
#   compared and mixed. The raw vectors start tiny (about $10^{-4}$): Adam
#   moves each raw number by about the learning rate ($10^{-4}$) per step, as
#   much as the vectors' own length, so the first steps can turn the
#   directions anywhere, and the plane's layout is learned rather than
#   inherited from the initialisation.
# - **$\tau$.** $\hat\rho$ is a top softmax score over 7 classes, never
#   below $1/7 \approx 0.14$: asking it to equal $\rho = 0.1$ is asking for
#   the impossible, and near the origin the face should read as *neutral*, a
#   class of its own, not as a faint emotion. Below $\tau = 0.2$ the loss is
#   off (the flat curve in the figure above).
# - **The noise.** $S_c$ codes lie on six rays. Without noise G would be told
#   what to do only on those 1-D lines, and $D_{coord}$ could read back the
#   ray from the class alone; with Gaussian noise ($\sigma = 0.1$) each ray
#   becomes a band, nearby codes must give nearby, readable faces, and the
#   plane between the rays is pulled along (the supplement: "to make more
#   robust the learning process").
# - **Classification against intensity.** On $S_c$ both
#   $\mathcal{L}^f_{cls}$ and $\mathcal{L}_\rho$ act on the same softmax:
#   the cross-entropy wants D *certain* of the target class, $\mathcal{L}_\rho$
#   wants it exactly $\rho$-sure. They agree only at $\rho = 1$. Below, G's
#   two terms for one $S_c$ fake as D's confidence in the target varies: the
#   optimum sits at $p^* = (\rho + \sqrt{\rho^2 + 2/\lambda_\rho})/2$
#   (where the derivative $-1/p + 2\lambda_\rho(p - \rho)$ vanishes). With the paper's
#   $\lambda_\rho = 4$ a code at $\rho = 0.3$ is best rendered as a face D is
#   only about 53% sure of; with $\lambda_\rho = 1$ classification wins and
#   every $\rho$ above about 0.5 asks for certainty, so $\rho$ stops being
#   an intensity there. This is why $\lambda_\rho$ matters (Table 1's
#   ablation) and why GANmut's faces at $\rho < 1$ are meant to be harder to
#   classify than StarGAN's.

# %%
fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.7), sharey=True, layout="constrained")
target = torch.full((1,), 1)
for ax, lam in zip(axes, (4.0, 1.0)):
    for rho in (0.3, 0.6, 0.9):
        total = torch.stack([loss_cls(logits[i : i + 1], target) + lam * loss_rho(logits[i : i + 1], torch.tensor([rho]))
                             for i in range(len(confidence))])
        best = confidence[int(total.argmin())]
        ax.plot(confidence, total, label=f"$\\rho$ = {rho}: best at {float(best):.2f}")
        ax.axvline(float(best), ls=":", lw=0.8, color=ax.lines[-1].get_color())
    ax.set(title=f"$\\lambda_\\rho$ = {lam:g}", xlabel="D's confidence in the target class")
    ax.legend(fontsize=7)
axes[0].set_ylabel("$\\mathcal{L}^f_{cls} + \\lambda_\\rho \\mathcal{L}_\\rho$")
plt.show()
#
# ## 4. The Gaussian space (GGANmut)
#
# Here each of the 7 emotions (neutral included) is a mode of the plane: a
# mean $\mu_c = \tanh(w_c)$ and a covariance
# $\Sigma_c = R(\theta_c)\,\mathrm{diag}(\sigma^2_{1,c}, \sigma^2_{2,c})\,R(\theta_c)^\top$.
# A code $z$ stands for the emotion distribution
#
# $$ p_z(c) = \frac{e^{-d^2_{c}(z)}}{\sum_j e^{-d^2_{j}(z)}}, \qquad d^2_c(z) = (z-\mu_c)^\top\Sigma_c^{-1}(z-\mu_c), $$
#
# and G is trained so that D sees exactly that distribution in the face it
# makes. At initialisation (supp. Sec. 3) every $\Sigma_c$ is the identity, so
# $p_z$ is nearly flat (left); the shipped GGANmut starts its modes at
# $\sigma^2 = 0.05$ instead (middle, the same means; choice 7 below); the right
# panel sets the modes by hand to show what a trained space looks like. Each
# point of the square is coloured by the class $p_z$ favours, paler where
# $p_z$ is less sure.

# %%
torch.manual_seed(0)
gspace = GaussianConditionSpace()
torch.manual_seed(0)
sharp = GaussianConditionSpace(init_eigenvalue=0.05)
hand = GaussianConditionSpace()
# the 6 emotion modes on a ring, in a circumplex-like order; neutral in the middle
ring = ["happy", "surprised", "fearful", "angry", "disgusted", "sad"]
angles = torch.zeros(7)
for k, name in enumerate(ring):
    angles[EMOTIONS.index(name)] = 2 * math.pi * k / 6 + 0.3
radius = torch.tensor([0.0 if e == "neutral" else 0.7 for e in EMOTIONS])
with torch.no_grad():
    means = torch.stack([radius * torch.cos(angles), radius * torch.sin(angles)], 1)
    hand.w.copy_(torch.atanh(means))
    hand.log_eigenvalues.copy_(torch.tensor([[0.05, 0.05] if e == "neutral" else [0.12, 0.03] for e in EMOTIONS]).log())
    hand.orientation.copy_(angles)
fig, axes = plt.subplots(1, 3, figsize=(12, 4.2), layout="constrained")
plot_gaussian_space(gspace, ax=axes[0], resolution=61)
axes[0].set_title("the paper's start (sigma^2 = 1)")
plot_gaussian_space(sharp, ax=axes[1], resolution=61)
axes[1].set_title("our start (sigma^2 = 0.05)")
plot_gaussian_space(hand, ax=axes[2], resolution=61)
axes[2].set_title("modes set by hand")
plt.show()
print("covariances SPD:", bool((torch.linalg.eigvalsh(hand.covariances()) > 0).all()))

# %% [markdown]
# A code between two modes mixes their emotions; this is how GGANmut makes
# compound expressions from basic labels only (paper Fig. 3, 7):

# %%
mid = 0.5 * (hand.means()[EMOTIONS.index("happy")] + hand.means()[EMOTIONS.index("surprised")])
points = {"at mu_happy": hand.means()[EMOTIONS.index("happy")], "between happy and surprised": mid, "origin": torch.zeros(2)}
fig, axes = plt.subplots(1, 3, figsize=(10, 2.2), sharey=True)
for ax, (name, point) in zip(axes, points.items()):
    p = hand.p_z(point[None])[0].detach()
    ax.bar(range(7), p, color=EMOTION_COLORS)
    ax.set_xticks(range(7), [e[:3] for e in EMOTIONS], fontsize=7)
    ax.set_title(f"$p_z$ {name}", fontsize=9)
    print(f"{name:<28} sum p_z = {float(p.sum()):.4f}  argmax = {EMOTIONS[int(p.argmax())]}")
plt.show()

# %% [markdown]
# **$\mathcal{L}_{div}$** (Eq. 9) is the symmetric KL divergence between $p_z$
# and D's softmax $q$ on the fake, $KL(p_z\Vert q) + KL(q\Vert p_z)$, zero only
# when D reads the intended mixture. With the batch split of GGANmut ($n_c =
# 7$ codes at the means, one per class, trained with $\mathcal{L}^f_{cls}$ and
# $\lambda_{cls} = 0.5$; the rest uniform in $[-1, 1]^2$) the full objective
# is $\mathcal{L}_G = \mathcal{L}_{adv} + 0.5\,\mathcal{L}^f_{cls} + 10\,\mathcal{L}_{rec} + 2\,\mathcal{L}_{div}$,
# and D's is $-\mathcal{L}_{adv} + \mathcal{L}^r_{cls} + \mathcal{L}_{coord}$ (supp. Eq. 16-17).
# GGANmut's networks are GANmut's (the diagram of section 1): only the space
# (7 modes instead of 6 directions) and the losses its $D_{cls}$ head feeds
# change: $\mathcal{L}_{div}$ takes the place of $\mathcal{L}_\rho$, and the
# code regression ($\mathcal{L}_{coord}$) trains D only, so G has no
# $\mathcal{L}_{info}$ term.

# %%
gcodes = sample_gaussian_codes(hand, n=16, n_c=7, device=torch.device("cpu"))
p_logits = hand.p_z_logits(gcodes.z).detach()
print("D agrees with p_z:       L_div =", round(float(loss_div(p_logits, p_logits)), 4))
print("D is sure of 'happy':    L_div =", round(float(loss_div(p_logits, one_hot(torch.full((16,), 1)) * 8)), 3))
print("D is uniform:            L_div =", round(float(loss_div(p_logits, torch.zeros(16, 7))), 3))

# %% [markdown]
# ## 5. The categorical baseline: GANimation
#
# GANimation's generator paints only where it attends: it regresses a colour
# image $C$ and a mask $A$ (1 keeps the input pixel) and outputs
# $y = A\,x + (1 - A)\,C$. Two regularisers keep the mask honest: its mean
# (else $A \to 1$ and G changes nothing) with $\lambda_A = 1$ (the value the
# GANmut authors needed on AffectNet) and its total variation
# ($\lambda_{TV} = 10^{-5}$), which favours a smooth mask over speckle:

# %%
Gan = ganimation.Generator(conv_dim=8, c_dim=7, repeat_num=1)
y, C, A = Gan.render(x[:2], one_hot(torch.tensor([1, 2])))
print("y = A x + (1-A) C holds:", torch.allclose(y, A * x[:2] + (1 - A) * C))
smooth = torch.zeros(1, 1, 32, 32)
smooth[..., 8:24, 8:24] = 1.0
speckle = (torch.rand(1, 1, 32, 32) < smooth.mean()).float()
print(f"same mean {float(loss_attention(smooth)):.2f} vs {float(loss_attention(speckle)):.2f};",
      f"TV smooth {float(loss_attention_tv(smooth)):.0f} vs speckled {float(loss_attention_tv(speckle)):.0f}")

# %% [markdown]
# ## 6. One training step of each method
#
# Each method is a `Method` the trainer drives: its networks, Adam settings
# (lr $10^{-4}$, $\beta = (0.5, 0.999)$), and two loss phases, D every step and
# G every 5th (StarGAN's $n_{critic}$). Here each runs one D phase and one G
# phase at a tiny width on the faces above; every loss is finite and the
# trainer would back-propagate `loss`.

# %%
tiny = dict(image_size=size, g_conv_dim=8, d_conv_dim=8, g_repeat_num=1, d_repeat_num=3, batch_size=len(x))
extra = {"ganmut": {"n_c": 5}, "gganmut": {"n_c": 7}}
batch = {"image": x, "label": label}
rows = []
for name in ("stargan", "ganimation", "ganmut", "gganmut"):
    method = get_method(name, {**tiny, **extra.get(name, {})})
    for phase in method.phases():
        out = phase.fn(batch, 0)
        out["loss"].backward()
        terms = ", ".join(f"{k.removeprefix('loss_')} {float(v.detach()):.3f}" for k, v in out.items() if k != "loss")
        rows.append(f"{name:<11} {phase.name} (every {phase.every}, updates {'+'.join(phase.nets)}): {terms}")
print("\n".join(rows))

# %% [markdown]
# ## 7. What a generator weighs
#
# The paper trains StarGAN's width, 64 channels after the first conv. At that
# width every generator of the series is about 8.4 M parameters, 16.9 MB in
# fp16: over the 15 MB a shipped file may weigh here, and too slow to follow
# a slider on a laptop CPU (about four times the compute of width 32, whose
# edit takes 22 ms on 2 CPU cores: `book/results/ganmut/edit_latency.json`).
# We ship width 32 (about a quarter of the parameters) and keep 64 as a config. The learned spaces add 12 (linear) and 35 (Gaussian) numbers.

# %%
size_rows = [generator_footprint(name, width) for width in (32, 64) for name in ("stargan", "ganimation", "ganmut", "gganmut")]
write_table(
    results_dir,
    "ganmut",
    "model_sizes",
    rows=size_rows,
    paper_numbers={"g_conv_dim": 64, "res_blocks": 6, "note": "the paper reports no sizes; its width is StarGAN's 64"},
    protocol="parameters of what ships (G + condition space); fp16 safetensors bytes, exact",
    seeds=[0],
)
show_table({"rows": size_rows, "paper": {}, "protocol": "exact counts", "seeds": [0]})

# %% [markdown]
# ## Where the paper leaves room, and what we chose
#
# Each choice is also written in the docstring of the code that makes it
# (`gamutlib/models/ganmut.py`, `gganmut.py`, `ganimation.py`, `gamutlib/losses/`).
#
# **Linear GANmut**
# 1. *Neutral* has no direction: it is the origin (Fig. 1 draws every emotion
#    as a vector out of neutral; the authors' code learns 6 axes): the 7
#    classes take 6 directions and the origin.
# 2. $S_c$ targets are a permutation of the batch's labels ($c \overset{d}{=} c'$,
#    Eq. 4), intensities $\rho \sim \mathcal{U}[\tau, 1]$; a neutral target gets $z = 0$.
# 3. $S_r$: $\theta \sim \mathcal{U}[0, 2\pi)$, $\rho \sim \mathcal{U}[0, 1]$ (Sec. 3).
# 4. The noise is $\sigma = 0.1$ as the supplement says (the code used 0.075),
#    on $S_c$ only; the noisy code is what G sees and what $\mathcal{L}_{info}$ regresses.
# 5. $\mathcal{L}_\rho$ covers every sample with $\rho > \tau$, $S_c$ and $S_r$,
#    averaged over those samples (Eq. 7's indicator; the code does the same).
# 6. $\mathcal{L}_{info}$ regresses fakes only (real faces have no code), with one
#    $\lambda_{info} = 1$ for D and G; in G's phase the target keeps its
#    gradient to the directions, as in the authors' code.
# 7. $\mathcal{L}_{rec}$ goes through $D_{coord}(x)$ of the real face (Eq. 8), not
#    the code's default "approximate" cycle.
# 8. Angles are radians, counter-clockwise from $+z_1$; the editor takes
#    $\theta \in [0, 2\pi]$ (2π is the direction of 0) and $\rho \in [0, 1]$.
#
# **GGANmut**
# 1. "$\lambda_{cls} = 0.5$" applies to G's $\mathcal{L}^f_{cls}$; D's
#    $\mathcal{L}^r_{cls}$ keeps the paper's $\lambda_{cls} = 1$ (supp. Eq.
#    16-17 split the two). The authors' code differs here: its launch scripts
#    for the Gaussian model pass `--lambda_cls=2`, which in that code weighs
#    D's $\mathcal{L}^r_{cls}$ and G's $\mathcal{L}_{div}$ alike, while G's
#    $\mathcal{L}^f_{cls}$ has its own weight 0.5. So our
#    $\lambda_{div} = 2$ and $\lambda_{cls}^G = 0.5$ match it, and our D's
#    classification weight (1) is half of its 2. Supp. Eq. 17's repeated
#    $\mathcal{L}_{cls}$ term is read as one.
# 2. $\mathcal{L}_{coord}$ trains D only (supp. Eq. 17 has no coordinate term for G).
# 3. $S_c$ holds the 7 means, one per class; $\mathcal{L}_{div}$ covers the whole batch.
# 4. $\mathcal{L}_{div}$ is a true KL (sum over classes, mean over the batch), as
#    the code's `KLDivLoss(reduction="batchmean")`.
# 5. Eigenvalues are stored as logs, so $\Sigma_c$ is SPD for every parameter
#    value (the code's $|\cdot|$ can reach a singular $\Sigma$).
# 6. For an intensity slider, `codes_for(emotion, t)` walks the segment from
#    $\mu_{neutral}$ to $\mu_c$; GGANmut itself has no intensity.
# 7. The modes start sharp, $\sigma^2 = 0.05$ (the supplement: 1). With
#    $\sigma^2 = 1$, $p_z$ is nearly uniform over the square, and in a run of
#    10k iterations the modes barely move, so $\mathcal{L}_{div}$ keeps asking
#    for ambiguous faces even at the means: 15% of the generated classes were
#    judged right, against 60% over three seeds with the sharp start (the
#    evaluation chapter).
#
# **GANimation (categorical)**: one-hot conditioning; its AU regression loss
# becomes cross-entropy with $\lambda_{cls} = 1$; $\mathcal{L}_A$ is the mask's
# mean (its code; the paper writes an $\ell_2$ norm), $\lambda_A = 1$.
#
# **All**: training runs in bf16 autocast, the paper's code in fp32 (the
# evaluation chapter measures what this changes, where the fp32 run is
# recorded); the shipped generators are 32 wide (above); discriminators keep the
# paper's 64; instance norm normalises with each image's own statistics in
# training and at test time (StarGAN never switches G to eval mode, so this is
# what its test code does). Training batches are mirrored left-right at random
# (StarGAN's augmentation, kept by the supplement). The supplement's "linear
# weight decay to 0 in the last 100K iterations" is StarGAN's linear
# learning-rate decay, a setting of the trainer (`lr_decay_steps`), scaled with
# the run's length in the training chapter. The condition spaces are separate
# modules (`space`) optimised with G's settings and shipped beside G.
