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

from gamutlib.constants import AU_IDS, AU_MAX
from gamutlib.faces import random_faces, sample_identities

#: Chance that an AU is on in a sparse-AU face, and the intensity floor of an AU that is on.
SPARSE_AU_ACTIVE = 0.3
SPARSE_AU_MIN = 0.5


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


def sample_sparse_aus(n: int, generator: torch.Generator, p_active: float = SPARSE_AU_ACTIVE) -> torch.Tensor:
    """(n, 17) AUs drawn independently of any emotion: each AU is on with
    probability ``p_active``, at an intensity uniform in [SPARSE_AU_MIN, 5].

    Emotion prototypes move AUs together (AU6 with AU12, AU1 with AU2), so a
    regressor trained only on emotional faces can read one AU off its partners
    and never learns AU14 or AU45 on their own; the AU judge must measure any
    AU combination (EGGAN and FineGrained ask for arbitrary targets).
    """
    on = torch.rand(n, len(AU_IDS), generator=generator) < p_active
    level = SPARSE_AU_MIN + (AU_MAX - SPARSE_AU_MIN) * torch.rand(n, len(AU_IDS), generator=generator)
    return torch.where(on, level, torch.zeros(()))


def mixed_au_faces(
    n: int,
    size: int,
    device: torch.device | str,
    generator: torch.Generator,
    split: str = "train",
    style: str = "random",
    sparse_fraction: float = 0.5,
    identity=None,
) -> dict[str, torch.Tensor]:
    """``n`` faces: the first ``round(n * sparse_fraction)`` with sparse random AUs,
    the rest with the AUs of their emotion (the benchmark's ordinary faces)."""
    n_sparse = int(round(n * sparse_fraction))
    parts = []
    for start, count, sparse in ((0, n_sparse, True), (n_sparse, n - n_sparse, False)):
        if count == 0:
            continue
        people = None if identity is None else identity[torch.arange(start, start + count)]
        aus = sample_sparse_aus(count, generator) if sparse else None
        parts.append(random_faces(count, size=size, split=split, device=device, style=style, generator=generator, identity=people, aus=aus))
    return {key: torch.cat([p[key] for p in parts]) for key in parts[0]}


def au_batches(
    batch_size: int,
    size: int,
    device: torch.device | str,
    seed: int,
    style: str = "random",
    sparse_fraction: float = 0.5,
) -> Iterator[dict[str, torch.Tensor]]:
    """Endless training batches for the AU judge: half sparse random AUs, half emotional faces."""
    g = torch.Generator().manual_seed(seed)
    while True:
        yield mixed_au_faces(batch_size, size, device, g, style=style, sparse_fraction=sparse_fraction)
