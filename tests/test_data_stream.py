"""Benchmark datasets: the training stream resumes exactly, the test set is fixed and held out, pairs keep their truth."""

from __future__ import annotations

import pytest
import torch

from gamutlib.constants import STYLES
from gamutlib.data import FaceStream, FaceTestSet, expression_pairs, modality_pairs
from gamutlib.faces import N_TRAIN_IDENTITIES


def test_stream_resumes_exactly_from_its_state_dict():
    stream = FaceStream(3, size=32, seed=5)
    next(stream)
    state = stream.state_dict()
    expected = [next(stream) for _ in range(2)]

    resumed = FaceStream(3, size=32, seed=999)  # a different seed: the state must win
    resumed.load_state_dict(state)
    assert resumed.batches_drawn == 1
    for want, got in zip(expected, [next(resumed), next(resumed)]):
        for key in want:
            assert torch.equal(want[key], got[key]), key


def test_stream_batches_differ_and_use_training_identities():
    stream = FaceStream(4, size=32, seed=0)
    a, b = next(stream), next(stream)
    assert not torch.equal(a["image"], b["image"])
    assert (a["identity"] < N_TRAIN_IDENTITIES).all()


def test_test_set_is_fixed_and_disjoint_from_training():
    one = FaceTestSet(5, size=32, seed=3, chunk=2)
    two = FaceTestSet(5, size=32, seed=3, chunk=2)
    for key in one.data:
        assert torch.equal(one.data[key], two.data[key]), key
    other = FaceTestSet(5, size=32, seed=4)
    assert not torch.equal(one.data["image"], other.data["image"])
    train_ids = torch.cat([next(FaceStream(8, size=32, seed=s))["identity"] for s in range(2)])
    assert not set(one.data["identity"].tolist()) & set(train_ids.tolist())
    assert (one.data["identity"] >= N_TRAIN_IDENTITIES).all()
    assert len(one) == 5 and one[4]["image"].shape == (3, 32, 32)
    assert [len(b["image"]) for b in one.batches(2)] == [2, 2, 1]


def test_expression_pairs_share_identity_and_scene_not_expression():
    pairs = expression_pairs(4, size=32, seed=1)
    src, tgt = pairs["source"], pairs["target"]
    for key in ("identity", "pose", "style"):
        assert torch.equal(src[key], tgt[key]), key
    assert not torch.allclose(src["aus"], tgt["aus"])
    assert not torch.equal(src["image"], tgt["image"])
    # ground truth is the rendering of the target AUs: the jaw outline follows them
    assert torch.equal(expression_pairs(4, size=32, seed=1)["target"]["image"], tgt["image"])
    assert src["emotion"].shape == (4, 7) and tgt["label"].shape == (4,)


def test_expression_pairs_differ_only_on_the_face():
    # Same background, light and grain: the image corners (backdrop) are identical,
    # and the landmarks are those the renderer gives for the target AUs.
    pairs = expression_pairs(3, size=32, seed=2)
    src, tgt = pairs["source"], pairs["target"]
    assert torch.equal(src["image"][..., :4, :4], tgt["image"][..., :4, :4])
    assert torch.equal(src["image"][..., :4, -4:], tgt["image"][..., :4, -4:])
    from gamutlib.faces import identities_from_ids, render

    again = render(identities_from_ids(tgt["identity"]), tgt["aus"], pose=tgt["pose"], size=32)
    assert torch.equal(again["landmarks"], tgt["landmarks"])


def test_modality_pairs_are_one_face_in_two_styles():
    pairs = modality_pairs(3, size=32, source_style="photo", target_style="cartoon", seed=0)
    src, tgt = pairs["source"], pairs["target"]
    for key in ("identity", "aus", "pose", "landmarks", "emotion"):
        assert torch.equal(src[key], tgt[key]), key
    assert (src["style"] == STYLES.index("photo")).all() and (tgt["style"] == STYLES.index("cartoon")).all()
    assert not torch.equal(src["image"], tgt["image"])
    with pytest.raises(ValueError, match="two styles"):
        modality_pairs(1, size=32, source_style="photo", target_style="photo")
    with pytest.raises(ValueError, match="target_style"):
        modality_pairs(1, size=32, target_style="oil")


def test_stream_rendering_ahead_serves_the_same_faces_and_resumes_mid_chunk():
    ahead = FaceStream(2, size=32, seed=7, render_ahead=6)  # 3 batches per rendered chunk
    assert ahead.batches_per_chunk == 3
    batches = [next(ahead) for _ in range(4)]
    assert all(b["image"].shape == (2, 3, 32, 32) for b in batches)
    assert len({tuple(b["identity"].tolist()) for b in batches}) == 4  # every face used once

    stopped = FaceStream(2, size=32, seed=7, render_ahead=6)
    for _ in range(2):  # stop inside the first chunk
        next(stopped)
    resumed = FaceStream(2, size=32, seed=0, render_ahead=6)
    resumed.load_state_dict(stopped.state_dict())
    for want in batches[2:]:
        got = next(resumed)
        for key in want:
            assert torch.equal(want[key], got[key]), key

    per_batch = FaceStream(2, size=32, seed=7)
    with pytest.raises(ValueError, match="batches per rendered chunk"):
        per_batch.load_state_dict(stopped.state_dict())
