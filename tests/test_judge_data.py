"""The AU judge's training faces: sparse random AUs beside emotional ones."""

from __future__ import annotations

import torch

from gamutlib.constants import AU_MAX
from gamutlib.judges.judge_data import SPARSE_AU_ACTIVE, SPARSE_AU_MIN, au_batches, mixed_au_faces, sample_sparse_aus


def test_sparse_aus_are_independent_and_in_range():
    aus = sample_sparse_aus(4000, torch.Generator().manual_seed(0))
    assert aus.shape == (4000, 17)
    on = aus > 0
    assert abs(on.float().mean().item() - SPARSE_AU_ACTIVE) < 0.02
    assert aus[on].min() >= SPARSE_AU_MIN and aus.max() <= AU_MAX
    # independent draws: AUs that emotion prototypes tie together are uncorrelated here
    corr = torch.corrcoef(on.float().T)
    off_diagonal = corr[~torch.eye(17, dtype=torch.bool)]
    assert off_diagonal.abs().max() < 0.1


def test_mixed_faces_put_the_sparse_half_first_and_render_their_aus():
    faces = mixed_au_faces(6, 32, "cpu", torch.Generator().manual_seed(1), sparse_fraction=0.5)
    assert faces["image"].shape == (6, 3, 32, 32)
    sparse, emotional = faces["aus"][:3], faces["aus"][3:]
    # sparse AUs are exactly 0 or >= SPARSE_AU_MIN; emotional AUs carry jitter around their prototype
    assert ((sparse == 0) | (sparse >= SPARSE_AU_MIN)).all()
    assert ((emotional > 0) & (emotional < SPARSE_AU_MIN)).any()


def test_au_batches_are_seeded():
    a = next(au_batches(4, 32, "cpu", seed=3))
    b = next(au_batches(4, 32, "cpu", seed=3))
    c = next(au_batches(4, 32, "cpu", seed=4))
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["aus"], b["aus"])
    assert not torch.equal(a["aus"], c["aus"])
