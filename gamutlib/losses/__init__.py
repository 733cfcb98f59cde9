"""Loss terms, one file per family, named as in the papers (loss_<term>)."""

from gamutlib.losses.action_units import loss_cond
from gamutlib.losses.attention import loss_attention, loss_attention_tv
from gamutlib.losses.classification import loss_cls
from gamutlib.losses.coordinates import loss_info, loss_rho, rho_hat
from gamutlib.losses.divergence import loss_div
from gamutlib.losses.least_squares import loss_d_lsgan, loss_g_lsgan
from gamutlib.losses.gradient_penalty import critic_with_gp, r1_penalty, wgan_gp
from gamutlib.losses.reconstruction import loss_rec
from gamutlib.losses.smoothness import loss_tv
from gamutlib.losses.texture import gram_loss, gram_matrix
from gamutlib.losses.wasserstein import loss_d_adv, loss_g_adv

__all__ = [
    "critic_with_gp",
    "loss_attention",
    "loss_attention_tv",
    "loss_cls",
    "loss_cond",
    "loss_d_adv",
    "loss_d_lsgan",
    "loss_g_lsgan",
    "loss_div",
    "loss_g_adv",
    "loss_info",
    "loss_rec",
    "loss_rho",
    "gram_loss",
    "gram_matrix",
    "loss_tv",
    "r1_penalty",
    "rho_hat",
    "wgan_gp",
]
