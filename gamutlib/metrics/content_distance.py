"""Average Content Distance, ACD (FineGrained Table 1, after GANimation).

The l2 distance between identity embeddings of each input face and its edit,
averaged over the edits: lower means the identity survived the edit better.
FineGrained used the face_recognition (dlib) embedding; ``acd`` takes any
embedder, the benchmark's identity judge by default in the notebooks and the
dlib adapter on real photos. ``acd_same_identity_floor`` measures it between
two real renders of the same identity with different expressions: what an
ideal edit scores under this embedder.
"""

from __future__ import annotations

import torch

from gamutlib.metrics.batched import Judge, map_batches
from gamutlib.metrics.checks import check_images, check_same_length


@torch.no_grad()
def acd(
    embed: Judge,
    source: torch.Tensor,
    generated: torch.Tensor,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> dict[str, float]:
    """Mean l2 distance between ``embed(source)`` and ``embed(generated)``, pair by pair."""
    check_images(source, "source")
    check_images(generated, "generated")
    check_same_length(source=source, generated=generated)
    dist = (map_batches(embed, source, batch_size, device) - map_batches(embed, generated, batch_size, device)).norm(dim=1)
    return {"acd": float(dist.mean()), "acd_std": float(dist.std()) if len(dist) > 1 else 0.0, "n_pairs": len(dist)}
