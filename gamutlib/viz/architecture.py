"""A block diagram of GANmut's networks: the learned space, G, and D with its three heads.

Drawn with matplotlib boxes and arrows (no image files), from the shapes of
the shipped configuration: G 32 wide with 6 residual blocks, D 64 wide with
6 stride-2 convs, 128 px faces.
"""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
import matplotlib.pyplot as plt

SPACE, GEN, DIS, HEAD, LOSS = "#e8f0fe", "#fdebd3", "#e3f4e1", "#f6e1f0", "#ffffff"


def _box(ax: Axes, x: float, y: float, w: float, h: float, text: str, color: str, size: float = 7.5, ls: str = "-") -> tuple:
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", fc=color, ec="0.3", lw=0.8, ls=ls))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size)
    return (x, y, w, h)


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], text: str = "", color: str = "0.25",
           style: str = "-|>", ls: str = "-", rad: float = 0.0) -> None:
    ax.add_patch(FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=9, lw=0.9, color=color, ls=ls,
                                 connectionstyle=f"arc3,rad={rad}"))
    if text:
        ax.text((start[0] + end[0]) / 2, (start[1] + end[1]) / 2 + 0.12, text, ha="center", va="bottom", fontsize=6.5,
                color=color)


def plot_ganmut_architecture(gaussian: bool = False, g_width: int = 32, d_width: int = 64, size: int = 128) -> Figure:
    """G and D of GANmut (``gaussian``: GGANmut) with the loss each head feeds.

    Solid arrows carry tensors; dashed ones show which output a loss reads."""
    fig, ax = plt.subplots(figsize=(12, 4.6))
    ax.set_xlim(0, 12.2)
    ax.set_ylim(0, 4.6)
    ax.axis("off")
    # the learned space and the code
    if gaussian:
        _box(ax, 0.1, 3.45, 2.3, 0.95, "learned space: 7 modes\n$\\mu_c = \\tanh(w_c)$, $\\Sigma_c$\n"
             "$p_z(c) \\propto e^{-d_c^2(z)}$", SPACE)
        _box(ax, 0.1, 2.35, 2.3, 0.8, "code $z$: $\\mu_c$ ($S_c$)\nor $\\mathcal{U}[-1,1]^2$ ($S_r$)", SPACE)
    else:
        _box(ax, 0.1, 3.45, 2.3, 0.95, "learned space: 6 directions\n$v_c = u_c / |u_c|$\n"
             "(neutral: the origin)", SPACE)
        _box(ax, 0.1, 2.35, 2.3, 0.8, "code $z = \\rho\\, v_c + \\epsilon$ ($S_c$)\nor uniform in the disk ($S_r$)", SPACE)
    _arrow(ax, (1.25, 3.45), (1.25, 3.15))
    _box(ax, 0.1, 1.2, 2.3, 0.8, f"real face $x$\n3 x {size} x {size}", LOSS)
    # G
    _box(ax, 2.8, 1.05, 3.4, 2.3, "", GEN, ls="--")
    ax.text(4.5, 3.2, "generator G", ha="center", fontsize=8, weight="bold")
    _box(ax, 2.95, 2.35, 3.1, 0.65, f"tile $z$ over the image: 3 + 2 channels\nencoder: 7x7 conv, 2 stride-2 convs ({g_width}->{4 * g_width})", GEN, 6.5)
    _box(ax, 2.95, 1.7, 3.1, 0.5, f"6 residual blocks ({4 * g_width} ch, instance norm)", GEN, 6.5)
    _box(ax, 2.95, 1.15, 3.1, 0.45, "decoder: 2 up-convs, 7x7 conv, tanh", GEN, 6.5)
    _arrow(ax, (2.4, 2.75), (2.95, 2.68))
    _arrow(ax, (2.4, 1.6), (2.95, 2.45), rad=-0.2)
    _box(ax, 2.95, 0.25, 3.1, 0.5, "fake $y = G(x, z)$", LOSS)
    _arrow(ax, (4.5, 1.15), (4.5, 0.75))
    # D
    _box(ax, 6.6, 0.25, 1.6, 3.1, "", DIS, ls="--")
    ax.text(7.4, 3.2, "critic D", ha="center", fontsize=8, weight="bold")
    _box(ax, 6.7, 1.05, 1.4, 1.9, f"trunk:\n6 stride-2\n4x4 convs\nLeakyReLU\n({d_width}->{32 * d_width} ch,\n"
         f"{size}->{size // 64} px)", DIS, 6.5)
    _arrow(ax, (6.05, 0.55), (6.7, 1.3), rad=0.2)
    ax.text(6.45, 1.45, "$x$, $y$", ha="right", fontsize=6.5)
    # heads
    heads = [
        (2.75, "$D_{src}$: 3x3 conv\nPatchGAN real/fake map"),
        (1.75, "$D_{cls}$: 2x2 conv\n7 class logits"),
        (0.75, "$D_{coord}$: 2x2 conv\nthe code $\\hat z$ (2 numbers)"),
    ]
    for y, text in heads:
        _box(ax, 8.45, y - 0.3, 1.6, 0.6, text, HEAD, 6.5)
        _arrow(ax, (8.1, 2.0), (8.45, y))
    cls_losses = ("$\\mathcal{L}^r_{cls}$ (D, real $x$)\n$\\mathcal{L}^f_{cls}$ (G, $S_c$)\n$\\mathcal{L}_{div}$ vs $p_z$"
                  if gaussian else "$\\mathcal{L}^r_{cls}$ (D, real $x$)\n$\\mathcal{L}^f_{cls}$ (G, $S_c$)\n"
                  "$\\mathcal{L}_\\rho$: $\\max_c$ softmax $= \\rho$")
    losses = [
        (2.75, "$\\mathcal{L}_{adv}$ (WGAN)\n+ gradient penalty"),
        (1.75, cls_losses),
        (0.75, "$\\mathcal{L}_{info}$: $\\hat z(y) \\approx z$\n$\\hat z(x)$: the way back\nin $\\mathcal{L}_{rec}$"),
    ]
    for y, text in losses:
        _box(ax, 10.35, y - 0.4, 1.8, 0.8, text, LOSS, 6.5)
        _arrow(ax, (10.05, y), (10.35, y), ls="--", style="-|>")
    # the cycle
    _arrow(ax, (9.25, 0.45), (6.05, 0.35), color="tab:red", ls="--", rad=0.3)
    ax.text(7.6, 0.02, "the way back: $G(y, \\hat z(x)) \\approx x$ ($\\mathcal{L}_{rec}$)", ha="center", fontsize=6.5,
            color="tab:red")
    ax.set_title("GGANmut" if gaussian else "GANmut (linear)", fontsize=9, loc="left")
    return fig
