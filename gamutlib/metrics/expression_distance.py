"""Expression Distance, ED (FineGrained Table 1).

FineGrained runs OpenFace on each edited face and takes the l2 distance
between its AUs and the target AUs the edit was asked for, on AUs normalised
to [0, 1] (the paper divides OpenFace's 0..5 scale by 5), averaged over the
edits. ``ed`` does this with the AU judge. ``ed_real_floor`` runs the same
computation on real faces rendered with the target AUs: the distance the judge
itself leaves on perfect edits, which no method can go below.
"""

from __future__ import annotations

import torch

from gamutlib.constants import AU_MAX
from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_aus, check_images, check_same_length


def expression_distance(predicted_aus: torch.Tensor, target_aus: torch.Tensor) -> torch.Tensor:
    """Per-pair l2 distance between (N, 17) AU vectors on the [0, 1] scale."""
    check_aus(predicted_aus, "predicted AUs")
    check_aus(target_aus, "target AUs")
    check_same_length(predicted_aus=predicted_aus, target_aus=target_aus)
    return ((predicted_aus - target_aus.to(predicted_aus.device)) / AU_MAX).norm(dim=1)


@torch.no_grad()
def ed(
    au_judge: Judge,
    generated: torch.Tensor,
    target_aus: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Mean l2 distance between the judged AUs of ``generated`` and ``target_aus`` ([0, 1] scale)."""
    check_images(generated, "generated")
    check_same_length(generated=generated, target_aus=target_aus)
    dist = expression_distance(map_batches(au_judge, generated, batch_size, device), target_aus)
    return {"ed": float(dist.mean()), "ed_std": float(dist.std()) if len(dist) > 1 else 0.0, "n_pairs": len(dist)}
