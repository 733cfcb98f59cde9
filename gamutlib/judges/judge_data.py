"""Training batches for the judges, rendered on the fly (no disk).

Emotion and AU judges see the benchmark's ordinary batches: random training
identities, expressions, pose, light, background and style. The identity judge
needs positives: each batch holds ``n_identities`` training identities, each
rendered ``views`` times with independent expressions, nuisances and styles,
so that the only thing two views share is who they show.
"""

from __future__ import annotations

from typing import Iterator

import torch

from gamutlib.faces import random_faces, sample_identities


def face_batches(
    batch_size: int,
    size: int,
    device: torch.device | str,
    seed: int,
    style: str = "random",
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless seeded batches of training faces (every key of the batch contract)."""
    g = torch.Generator().manual_seed(seed)
    while True:
        yield random_faces(batch_size, size=size, split="train", device=device, style=style, generator=g)


def identity_view_batches(
    n_identities: int,
    views: int,
    size: int,
    device: torch.device | str,
    seed: int,
    split: str = "train",
    style: str = "random",
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless batches of ``n_identities * views`` faces, views of one identity adjacent."""
    if views < 2:
        raise ValueError(f"identity batches need >= 2 views per identity, got {views}")
    g = torch.Generator().manual_seed(seed)
    repeat = torch.arange(n_identities).repeat_interleave(views)
    while True:
        people = sample_identities(n_identities, split, generator=g)
        yield random_faces(n_identities * views, size=size, split=split, device=device, style=style, generator=g, identity=people[repeat])
