"""GGANmut's distribution-matching loss (paper Eq. 9)."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def loss_div(p_z_logits: torch.Tensor, cls_logits: torch.Tensor) -> torch.Tensor:
    """L_div = E[KL(p_z || q_{x_z}) + KL(q_{x_z} || p_z)], the symmetric KL (Eq. 9).

    ``p_z_logits`` are -d^2 (the negative squared Mahalanobis distances of z from
    the 7 modes), whose softmax is p_z; ``cls_logits`` are D_cls(G(x, z)), whose
    softmax is q. Both are taken as logits and compared in log space, which
    stays finite when a probability underflows. Eq. 9 is an expectation of KL
    over samples: summed over classes, averaged over the batch ("batchmean",
    as the reference code's ``KLDivLoss``).
    """
    if p_z_logits.shape != cls_logits.shape:
        raise ValueError(f"p_z logits {tuple(p_z_logits.shape)} and D logits {tuple(cls_logits.shape)} differ")
    log_p = F.log_softmax(p_z_logits.float(), dim=1)
    log_q = F.log_softmax(cls_logits.float(), dim=1)
    kl_pq = F.kl_div(log_q, log_p, reduction="batchmean", log_target=True)
    kl_qp = F.kl_div(log_p, log_q, reduction="batchmean", log_target=True)
    return kl_pq + kl_qp
