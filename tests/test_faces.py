"""The benchmark renderer: determinism, landmarks against pixels, AU locality, bad input, `gamut render`."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.constants import AU_IDS, EMOTIONS
from gamutlib.faces import confusion_matrix, random_faces, render, sample_identities
from gamutlib.faces import geometry as geo
from gamutlib.faces.raster import Fields
from gamutlib.faces.styles import Painter
from gamutlib.evaluation.benchmark_truth import au_locality, au_region


def test_same_seed_same_faces_other_seed_differs():
    a = random_faces(4, size=32, seed=7, style="random")
    b = random_faces(4, size=32, seed=7, style="random")
    c = random_faces(4, size=32, seed=8, style="random")
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert not torch.equal(a["image"], c["image"])
    assert not torch.equal(a["identity"], c["identity"])


def test_explicit_generator_reproduces_the_seeded_batch():
    by_seed = random_faces(3, size=32, seed=11)
    by_generator = random_faces(3, size=32, generator=torch.Generator().manual_seed(11))
    for key in by_seed:
        assert torch.equal(by_seed[key], by_generator[key]), key


def test_batch_contract():
    faces = random_faces(5, size=32, seed=0, style="random")
    assert faces["image"].shape == (5, 3, 32, 32)
    assert faces["image"].min() >= -1 and faces["image"].max() <= 1
    assert faces["landmarks"].shape == (5, 68, 2)
    assert faces["aus"].shape == (5, len(AU_IDS)) and faces["aus"].min() >= 0 and faces["aus"].max() <= 5
    assert torch.allclose(faces["emotion"].sum(1), torch.ones(5))
    assert faces["label"].max() < len(EMOTIONS)


def _frontal(n: int, size: int, aus: torch.Tensor | None = None):
    identity = sample_identities(n, "test", seed=3)
    aus = torch.zeros(n, len(AU_IDS)) if aus is None else aus
    g = geo.au_geometry(identity, aus, torch.zeros(n, 3))
    fields = Fields(g, identity, size, torch.tensor([[0.0, 0.0, 1.0]]).expand(n, 3), identity.id)
    return geo.landmarks(g, size), fields


def _centroid(weight: torch.Tensor, size: int) -> torch.Tensor:
    """(N, 2) weighted centroid in the integer-centre convention (pixel i at coordinate i)."""
    w = weight.view(-1, size, size)
    grid = torch.arange(size, dtype=torch.float32)
    total = w.sum((1, 2))
    return torch.stack([(w.sum(1) * grid).sum(1) / total, (w.sum(2) * grid).sum(1) / total], 1)


def test_landmarks_sit_on_the_pixels_at_subpixel_precision():
    # Wide-open eyes, so the pupils are whole discs. The pupil is drawn centred
    # 0.008 face units above the eye-corner line; its painted coverage centroid
    # must match the corner landmarks' midpoint to a small fraction of a pixel
    # (a half-pixel convention error would show as 0.5 px).
    size, n = 192, 2
    aus = torch.zeros(n, len(AU_IDS))
    aus[:, AU_IDS.index(5)] = 5
    marks, fields = _frontal(n, size, aus)
    paint = Painter(fields)
    pupil = paint.fill(fields.d_pupil) * paint.fill(fields.d_eye)
    left_half = torch.zeros(size, size)
    left_half[:, : size // 2] = 1
    pupil_left = _centroid(pupil * left_half.view(1, -1), size)
    expected = 0.5 * (marks[:, 36] + marks[:, 39])
    expected[:, 1] -= 0.008 * geo.SCALE * size
    assert (pupil_left - expected).abs().max() < 0.1


def test_face_mask_centroid_is_on_the_midline_landmarks():
    size = 64
    marks, fields = _frontal(3, size)
    face = Painter(fields).fill(fields.d_face)
    centroid = _centroid(face, size)
    midline = marks[:, 27:31, 0].mean(1)
    assert (centroid[:, 0] - midline).abs().max() < 0.05
    # and the outline landmarks bound the mask: the jaw points lie on its edge
    jaw = marks[:, 0:17].round().long().clamp(0, size - 1)
    cover = face.view(-1, size, size)
    on_edge = torch.stack([cover[k, jaw[k, :, 1], jaw[k, :, 0]] for k in range(3)])
    assert ((on_edge > 0.05) & (on_edge < 0.95) | (on_edge >= 0.95)).float().mean() > 0.8


def _sample(image: torch.Tensor, points: torch.Tensor, size: int) -> torch.Tensor:
    """Bilinear values of (N, size*size) maps at (N, K, 2) pixel points, pixel i at coordinate i."""
    grid = (points / (size - 1) * 2 - 1).unsqueeze(1)
    return torch.nn.functional.grid_sample(image.view(-1, 1, size, size), grid, align_corners=True)[:, 0, 0]


def test_lip_outline_landmarks_sit_on_the_painted_lip_edge():
    # Coverage is 1/2 exactly on an edge; half a pixel off, it would be ~0 or ~1.
    size = 96
    marks, fields = _frontal(3, size)
    lips = Painter(fields).fill(fields.d_lips)
    edge = _sample(lips, marks[:, [49, 50, 51, 52, 53, 55, 56, 57, 58, 59]], size)
    assert (edge - 0.5).abs().max() < 0.2, edge
    inside = _sample(lips, 0.5 * (marks[:, [51, 57]] + marks[:, [62, 66]]), size)
    assert (inside > 0.75).all()  # the upper lip is thin at its bow


@pytest.mark.parametrize("au", [12, 26, 4, 9, 45, 1])
def test_each_au_changes_only_its_facs_region(au):
    fraction = au_locality(n=2, size=48, aus=(au,))[f"AU{au}"]
    assert fraction >= 0.9, f"AU{au}: only {fraction:.2f} of the changed pixels are in its region"


def test_au_regions_are_local():
    # The check above means something only if the regions are not the whole image.
    marks, _ = _frontal(2, 64)
    for au in (1, 9, 45):
        assert au_region(marks, au, 64).float().mean() < 0.5


def test_au12_raises_the_mouth_corners_and_au26_drops_the_jaw():
    n = 2
    zero = torch.zeros(n, len(AU_IDS))
    smile, jaw = zero.clone(), zero.clone()
    smile[:, AU_IDS.index(12)] = 5
    jaw[:, AU_IDS.index(26)] = 5
    base, up, down = (_frontal(n, 64, a)[0] for a in (zero, smile, jaw))
    assert (up[:, [48, 54], 1] < base[:, [48, 54], 1] - 1).all()  # corners up (y down is +)
    assert (down[:, 8, 1] > base[:, 8, 1] + 2).all()  # chin lower


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda a: a.fill_(float("nan")), "NaN"),
        (lambda a: a.fill_(6.0), "aus must be in"),
        (lambda a: a[:, :5], r"\(N, 17\)"),
    ],
)
def test_bad_aus_raise_value_error(change, message):
    identity = sample_identities(2, seed=0)
    with pytest.raises(ValueError, match=message):
        render(identity, change(torch.zeros(2, len(AU_IDS))), size=32)


def test_bad_size_and_style_raise_value_error():
    identity = sample_identities(2, seed=0)
    aus = torch.zeros(2, len(AU_IDS))
    with pytest.raises(ValueError, match="size"):
        render(identity, aus, size=7)
    with pytest.raises(ValueError, match="style"):
        render(identity, aus, style="oil", size=32)
    with pytest.raises(ValueError, match="style"):
        random_faces(2, size=32, style="oil")
    with pytest.raises(ValueError, match="pose"):
        render(identity, aus, pose=torch.zeros(3, 3), size=32)


def test_label_noise_matrix_is_row_stochastic_and_mostly_right():
    m = confusion_matrix()
    assert m.shape == (7, 7)
    assert torch.allclose(m.sum(1), torch.ones(7), atol=1e-6)
    assert (m.diagonal() >= 0.85).all() and (m >= 0).all()


def test_landmark_shift_leaves_pixels_unchanged():
    # Landmarks follow the integer-centre convention; the pixels are where they were.
    marks, _ = _frontal(1, 64)
    midline = marks[0, 27:31, 0]
    assert torch.allclose(midline, torch.full_like(midline, 31.5), atol=1e-4)


def test_render_command_writes_the_grids(tmp_path):
    result = CliRunner().invoke(main, ["render", "--out", str(tmp_path), "--size", "32", "--seed", "1", "--identity", "2"])
    assert result.exit_code == 0, result.output
    names = sorted(p.name for p in tmp_path.glob("*.png"))
    assert names == ["au_strips.png", "emotions.png", "identities.png", "styles.png"]
    assert all((tmp_path / name).stat().st_size > 2000 for name in names)
    bad = CliRunner().invoke(main, ["render", "--out", str(tmp_path), "--identity", "10000000"])
    assert bad.exit_code != 0 and "identity" in bad.output


def test_bench_render_keeps_other_device_rows(tmp_path):
    out = tmp_path / "speed.json"
    out.write_text(json.dumps({"rows": [{"device": "cuda", "size": 128, "faces_per_s": 1.0}], "protocol": "x"}))
    from gamutlib.bench.render import bench_render

    bench_render((32,), "cpu", batch=2, out=out, min_seconds=0.0)
    rows = json.loads(out.read_text())["rows"]
    assert {r["device"] for r in rows} == {"cpu", "cuda"}
    cpu = [r for r in rows if r["device"] == "cpu"][0]
    assert cpu["size"] == 32 and cpu["batch"] == 2 and cpu["faces_per_s"] > 0


@pytest.mark.slow
def test_compiled_renderer_paints_the_same_pixels():
    # torch.compile fuses the painting (opt-in speed-up); it must not change the faces.
    eager = random_faces(3, size=32, seed=4, style="random")
    compiled = random_faces(3, size=32, seed=4, style="random", compile=True)
    assert torch.equal(eager["landmarks"], compiled["landmarks"])
    assert (eager["image"] - compiled["image"]).abs().max() < 1e-4
