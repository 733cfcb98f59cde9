"""GANmut's losses on the learned conditional space (paper Eq. 6, 7; supp. Eq. 12)."""

from __future__ import annotations

import torch


def loss_info(coord_pred: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """L_info = E||D_coord(G(x, z)) - z||^2 (Eq. 6; L_coor of supp. Eq. 12).

    Averaged over the batch and the two coordinates (the reference
    implementation's ``mse_loss``), so lambda_info = 1 weighs it like the other
    mean terms.
    """
    if coord_pred.shape != z.shape:
        raise ValueError(f"predicted coordinates {tuple(coord_pred.shape)} do not match z {tuple(z.shape)}")
    return ((coord_pred.float() - z.float()) ** 2).mean()


def rho_hat(cls_logits: torch.Tensor) -> torch.Tensor:
    """rho_hat(x) = max_c D_cls(c | x): the confidence of D's top class (Eq. 7)."""
    return torch.softmax(cls_logits.float(), dim=1).max(dim=1).values


def loss_rho(cls_logits: torch.Tensor, rho: torch.Tensor, tau: float = 0.2) -> torch.Tensor:
    """L_rho = E[(rho_hat(G(x, z)) - rho)^2 1{rho > tau}] (Eq. 7).

    The further a code is from the origin, the more confidently D must name one
    class: D's top softmax score should equal rho. Below tau the code stands for
    a neutral face, whose confidence is left to L_cls.

    Ambiguity: Eq. 7 writes an expectation over all samples times the
    indicator, which would shrink the loss when few samples pass tau; the
    reference implementation averages over the samples with rho > tau only. We
    average over those (0 when none pass), so lambda_rho = 4 means the same at
    any mix of intensities.
    """
    if rho.shape != cls_logits.shape[:1]:
        raise ValueError(f"rho must be (N,) for N={cls_logits.shape[0]} logits; got {tuple(rho.shape)}")
    mask = (rho > tau).float()
    err = (rho_hat(cls_logits) - rho.float()) ** 2
    return (err * mask).sum() / mask.sum().clamp(min=1.0)
