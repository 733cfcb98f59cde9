"""ERE, smoothness and accuracy of generated images on hand-made generators and judges.

The "images" carry a probability vector in their first seven pixels (as
log-probabilities / 20), and the judge reads it back with a softmax; the
generators write the distribution a code should produce. Every expected value
is computed by a plain per-image Python loop, independently of the batched
implementation under test.
"""

import math

import pytest
import torch

from gamutlib.metrics.accuracy import accuracy_real_truth
from gamutlib.metrics import (
    accuracy_generated,
    accuracy_real,
    categorical_codes,
    emotion_reconstruction_error,
    ere_targets,
    interpolation_path,
    polar_code_grid,
    smoothness,
    smoothness_score,
    square_code_grid,
)

SCALE = 20.0


def encode(p: torch.Tensor, size: int = 8) -> torch.Tensor:
    x = torch.zeros(p.shape[0], 3, size, size)
    x[:, 0, 0, :7] = p.clamp_min(1e-8).log() / SCALE
    return x


def judge(x: torch.Tensor) -> torch.Tensor:
    return torch.softmax(SCALE * x[:, 0, 0, :7], dim=1)


def random_faces(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return encode(torch.softmax(2.5 * torch.randn(n, 7, generator=g), 1))


A = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5], [0.5, -1.0], [2.0, 2.0], [-2.0, 1.0], [0.0, -2.0]])


def G_mix(x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Continuous codes: the face's own logits moved by A z."""
    return encode(torch.softmax(SCALE * x[:, 0, 0, :7] + 3 * z @ A.T, 1))


def naive_ere(faces, codes, top_k, G):
    errors = []
    for start in range(0, len(faces), 16):
        batch = faces[start : start + 16]
        probs = [judge(f[None])[0] for f in batch]
        kth = [sorted(p.tolist(), reverse=True)[top_k - 1] for p in probs]
        target = probs[max(range(len(kth)), key=lambda i: kth[i])]
        for f in batch:
            errors.append(min(float(((judge(G(f[None], c[None]))[0] - target) ** 2).mean()) for c in codes))
    return sum(errors) / len(errors)


def test_code_grids_follow_the_paper():
    polar = polar_code_grid()  # radii 0.05..1 (20) x 21 angles, plus the origin
    assert polar.shape == (20 * 21 + 1, 2)
    assert polar.norm(dim=1).max() == pytest.approx(1.0) and polar.norm(dim=1).min() == 0
    radii = torch.unique(polar.norm(dim=1).round(decimals=4))
    assert torch.allclose(radii.diff(), torch.full_like(radii.diff(), 0.05), atol=1e-4)
    pairs = polar_code_grid(polar=True)
    angles = torch.unique(pairs[1:, 0].round(decimals=5))
    assert len(angles) == 21 and angles.diff().mean() == pytest.approx(2 * math.pi / 21, rel=1e-4)
    square = square_code_grid()
    assert square.shape == (21 * 21, 2) and square.min() == -1 and square.max() == 1
    assert torch.equal(categorical_codes(), torch.eye(7))
    with pytest.raises(ValueError, match="multiple"):
        polar_code_grid(radius_step=0.3)


def test_ere_targets_pick_the_most_ambiguous_face_of_each_batch():
    p = torch.tensor([
        [0.90, 0.05, 0.05, 0, 0, 0, 0],
        [0.40, 0.35, 0.25, 0, 0, 0, 0],  # 2nd highest 0.35: Setting 2 pick of batch 1
        [0.34, 0.33, 0.33, 0, 0, 0, 0],  # 3rd highest 0.33: Setting 1 pick of batch 1
        [0.50, 0.50, 0.00, 0, 0, 0, 0],  # batch 2 (batch_faces=3) holds only this face
    ])
    t3, src3 = ere_targets(p, top_k=3, batch_faces=3)
    t2, src2 = ere_targets(p, top_k=2, batch_faces=3)
    assert src3.tolist() == [2, 2, 2, 3] and src2.tolist() == [1, 1, 1, 3]
    assert torch.equal(t3[0], p[2]) and torch.equal(t2[3], p[3])


@pytest.mark.parametrize("top_k", [2, 3])
def test_ere_matches_a_per_image_loop(top_k):
    faces = random_faces(37, seed=top_k)  # two full batches of 16 and one of 5
    codes = square_code_grid(step=0.5)
    out = emotion_reconstruction_error(G_mix, judge, faces, codes, top_k=top_k, chunk_size=50)
    assert out["ere"] == pytest.approx(naive_ere(faces, codes, top_k, G_mix), rel=1e-5)
    assert out["errors"].shape == (37,) and out["best_codes"].shape == (37, 2)
    # The chunking is invisible in the result.
    again = emotion_reconstruction_error(G_mix, judge, faces, codes, top_k=top_k, chunk_size=7)
    assert torch.allclose(out["errors"], again["errors"])


def test_ere_is_zero_when_a_code_reproduces_every_target():
    faces = random_faces(32, seed=5)
    probs = judge(faces)
    targets, _ = ere_targets(probs, top_k=3)
    table = torch.unique(targets, dim=0)  # the two batch targets
    def G_table(x, z):  # code k -> target k, whatever the face
        return encode(table[z.argmax(1)])
    codes = torch.eye(len(table))
    out = emotion_reconstruction_error(G_table, judge, faces, codes, top_k=3, batch_faces=16)  # Setting 1
    assert out["top_k"] == 3
    assert out["ere"] == pytest.approx(0.0, abs=1e-10)
    # A generator that can only make neutral faces cannot.
    neutral = lambda x, z: encode(torch.eye(7)[[0] * len(x)])  # noqa: E731
    assert emotion_reconstruction_error(neutral, judge, faces, codes, top_k=3, batch_faces=16)["ere"] > 0.01


def test_smoothness_score_of_known_series():
    ramp = torch.linspace(0, 1, 11)
    step = (torch.arange(11) > 5).float()
    assert smoothness_score(ramp).item() == pytest.approx(0.1)
    assert smoothness_score(step).item() == pytest.approx(1.0)
    assert smoothness_score(torch.tensor([0.2, 0.6, 0.4, 1.0])).item() == pytest.approx(0.6 / 0.8)
    assert smoothness_score(torch.full((11,), 0.3)).isnan()


def _paths(classes):
    eye = torch.eye(7)
    return torch.stack([interpolation_path(eye[0], eye[c]) for c in classes])


def test_smoothness_of_a_linear_and_a_sudden_generator():
    faces = random_faces(6, seed=7)
    classes = [1, 3, 6]
    linear = lambda x, z: encode(z)  # noqa: E731  (softmax follows the code linearly)
    sudden = lambda x, z: encode(torch.eye(7)[z.argmax(1)])  # noqa: E731  (switches at rho = 0.5)
    out_linear = smoothness(linear, judge, faces, _paths(classes), classes, steps=11)
    out_sudden = smoothness(sudden, judge, faces, _paths(classes), classes, chunk_size=5)
    assert out_linear["smoothness"] == pytest.approx(0.1, abs=1e-4)
    assert set(out_linear["per_class"]) == {"happy", "surprised", "angry"}
    assert out_sudden["smoothness"] == pytest.approx(1.0, abs=1e-4)
    frozen = lambda x, z: encode(torch.eye(7)[[0] * len(x)])  # noqa: E731
    out_frozen = smoothness(frozen, judge, faces, _paths(classes), classes)
    assert out_frozen["undefined"]["happy"] == 6 and math.isnan(out_frozen["smoothness"])


def test_smoothness_protocol_needs_eleven_steps():
    eye = torch.eye(7)
    short = interpolation_path(eye[0], eye[1], steps=5)[None]
    with pytest.raises(ValueError, match="11 codes"):
        smoothness(lambda x, z: encode(z), judge, random_faces(2, 0), short, [1], steps=11)


def test_accuracy_of_generated_faces():
    faces = random_faces(10, seed=8)
    faithful = lambda x, z: encode(0.7 * z + 0.3 / 7)  # noqa: E731
    always_happy = lambda x, z: encode(torch.eye(7)[[1] * len(x)])  # noqa: E731
    good = accuracy_generated(faithful, judge, faces, torch.eye(7))
    bad = accuracy_generated(always_happy, judge, faces, torch.eye(7))
    assert good["accuracy"] == pytest.approx(100.0)
    assert bad["per_class"]["happy"] == 100.0 and bad["per_class"]["sad"] == 0.0
    assert bad["accuracy"] == pytest.approx(100.0 / 7)


def test_accuracy_of_real_faces_against_labels_and_truth():
    p = torch.softmax(3 * torch.randn(50, 7, generator=torch.Generator().manual_seed(9)), 1)
    faces = encode(p)
    labels = p.argmax(1)
    assert accuracy_real(judge, faces, labels)["accuracy"] == 100.0
    wrong = (labels + 1) % 7
    assert accuracy_real(judge, faces, wrong)["accuracy"] == 0.0
    assert accuracy_real_truth(judge, faces, p)["accuracy"] == 100.0
