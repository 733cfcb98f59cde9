"""The benchmark's dlib check paints its faces a chunk at a time: same faces, same numbers, bounded memory."""

from __future__ import annotations

import pytest
import torch

from gamutlib.faces import random_faces
from gamutlib.evaluation.benchmark_truth import dlib_check


@pytest.mark.parametrize("style", ["photo", "random"])
def test_chunks_paint_the_faces_of_one_pass_bit_for_bit(style):
    whole = random_faces(7, size=64, split="test", seed=3, style=style)
    chunked = random_faces(7, size=64, split="test", seed=3, style=style, chunk=3)
    for key in whole:
        assert torch.equal(whole[key], chunked[key]), key


def test_chunk_must_be_a_positive_int():
    with pytest.raises(ValueError, match="chunk"):
        random_faces(2, size=32, chunk=0)


def test_dlib_check_gives_the_same_numbers_in_chunks():
    pytest.importorskip("dlib")
    one_pass = dlib_check(5, size=128, seed=0, chunk=5)
    chunked = dlib_check(5, size=128, seed=0, chunk=2)
    assert one_pass == chunked
    assert one_pass["detection_rate"] > 0  # the faces were found, so the NMEs were compared


def test_a_cpu_batch_is_painted_in_passes_of_bounded_size(monkeypatch):
    import gamutlib.faces.batch as batch

    passes = []
    real_render = batch.render
    monkeypatch.setattr(batch, "render", lambda identity, *a, **k: passes.append(len(identity)) or real_render(identity, *a, **k))
    one_pass = random_faces(9, size=32, split="test", seed=5, chunk=9)
    assert passes == [9]
    passes.clear()
    monkeypatch.setattr(batch, "CPU_PAINT_PIXELS", 4 * 32 * 32)  # four 32 px faces per pass
    default = random_faces(9, size=32, split="test", seed=5)
    assert passes == [4, 4, 1]
    for key in one_pass:
        assert torch.equal(one_pass[key], default[key]), key
