"""`gamut train METHOD --data KIND:PATH` on tiny RaFD, AffectNet and OpenFace fixtures (CPU, 2 steps)."""

import json

import pytest
import torch
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.constants import AU_IDS, EMOTIONS
from gamutlib.data.images import save_image
from gamutlib.faces import random_faces

N = 8
AFFECTNET_CODES = {e: c for c, e in enumerate(["neutral", "happy", "sad", "surprised", "fearful", "disgusted", "angry"])}
TRAIN = {"steps": 2, "seed": 0, "device": "cpu", "progress": False, "log_every": 1, "sample_every": 10**9,
         "checkpoint_every": 10**9, "precision": "fp32", "cuda_graphs": False}
MODELS = {
    "stargan": {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3,
                "batch_size": 4, "n_critic": 1},
    "ganmut": {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3,
               "batch_size": 4, "n_critic": 1, "n_c": 4},
    "finegrained": {"image_size": 32, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 3, "batch_size": 4, "n_critic": 1},
}


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory):
    """The same 8 rendered faces written as a RaFD folder, an AffectNet CSV + images and an OpenFace CSV + images."""
    root = tmp_path_factory.mktemp("real")
    emotion = torch.eye(len(EMOTIONS))[torch.arange(N) % len(EMOTIONS)]
    faces = random_faces(N, size=48, split="test", seed=3, style="photo", emotion=emotion, intensity=torch.ones(N),
                         au_jitter=0.0, pose_scale=0.0)
    for sub in ("rafd", "affectnet/1", "openface"):
        (root / sub).mkdir(parents=True)
    csv_rows, of_rows = [], []
    for i in range(N):
        e = EMOTIONS[int(emotion[i].argmax())]
        save_image(faces["image"][i], root / "rafd" / f"Rafd090_{i + 1:02d}_Rendered_female_{e}_frontal.jpg")
        save_image(faces["image"][i], root / "affectnet" / "1" / f"{i}.jpg")
        csv_rows.append(f"1/{i}.jpg,4,4,40,40,,{AFFECTNET_CODES[e]},0.0,0.0")
        save_image(faces["image"][i], root / "openface" / f"{i:03d}.jpg")
        of_rows.append(", ".join([str(i + 1), "0", "0.98", "1"] + [f"{float(a):.2f}" for a in faces["aus"][i]]))
    (root / "affectnet" / "labels.csv").write_text(
        "subDirectory_filePath,face_x,face_y,face_width,face_height,facial_landmarks,expression,valence,arousal\n"
        + "\n".join(csv_rows) + "\n")
    (root / "openface" / "aus.csv").write_text(
        ", ".join(["frame", "face_id", "confidence", "success"] + [f"AU{a:02d}_r" for a in AU_IDS]) + "\n"
        + "\n".join(of_rows) + "\n")
    return root


def train(tmp_path, method, *args):
    config = tmp_path / f"{method}.json"
    config.write_text(json.dumps({"method": method, "train": TRAIN, "model": MODELS[method]}))
    return CliRunner().invoke(main, ["train", method, "--config", str(config), "--out", str(tmp_path / "runs"), *args])


@pytest.mark.parametrize("method, data", [
    ("stargan", "rafd:{root}/rafd"),
    ("ganmut", "affectnet:{root}/affectnet/labels.csv"),
    ("finegrained", "openface:{root}/openface/aus.csv"),
])
def test_train_on_real_data_through_the_cli(fixtures, tmp_path, monkeypatch, method, data):
    from gamutlib.data.real_photos import real_batches as real

    seen = []  # every batch the engine drew: it came from the dataset's files, not the renderer

    def counting(*args, **kwargs):
        for batch in real(*args, **kwargs):
            seen.append(batch)
            yield batch

    monkeypatch.setattr("gamutlib.data.real_photos.real_batches", counting)
    result = train(tmp_path, method, "--data", data.format(root=fixtures))
    assert result.exit_code == 0, result.output
    assert "trained 2 steps" in result.output
    run = next((tmp_path / "runs").iterdir())
    recorded = json.loads((run / "data.json").read_text())
    assert recorded["kind"] == data.split(":")[0] and recorded["faces"] == N
    logged = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in logged] == [1, 2]
    assert seen and all(b["image"].shape == (4, 3, 32, 32) for b in seen)
    key = "aus" if method == "finegrained" else "label"
    assert all(key in b for b in seen)


def test_resuming_a_real_data_run_needs_its_data(fixtures, tmp_path):
    result = train(tmp_path, "stargan", "--data", f"rafd:{fixtures}/rafd")
    assert result.exit_code == 0, result.output
    run = next((tmp_path / "runs").iterdir())
    result = CliRunner().invoke(main, ["train", "stargan", "--resume", str(run), "--steps", "3"])
    assert result.exit_code == 1 and f"trained on rafd:{fixtures}/rafd" in result.output, result.output


@pytest.mark.parametrize("method, data, message", [
    ("finegrained", "rafd:{root}/rafd", "finegrained is driven by action-unit intensities, but rafd data gives emotion labels"),
    ("stargan", "openface:{root}/openface/aus.csv", "stargan is driven by emotion labels, but openface data gives action-unit"),
    ("stargan", "celeba:{root}/rafd", "unknown kind 'celeba'"),
    ("stargan", "affectnet:{root}/affectnet", "is a folder; give the CSV"),
    ("stargan", "rafd:{root}/nowhere", "does not exist"),
])
def test_data_the_method_cannot_use_is_one_clear_error(fixtures, tmp_path, method, data, message):
    result = train(tmp_path, method, "--data", data.format(root=fixtures))
    assert result.exit_code == 1, result.output
    assert message in result.output and "Traceback" not in result.output
    assert result.output.count("\n") == 1
    assert not (tmp_path / "runs").exists()  # refused before a run folder is made


def test_a_method_without_label_batches_is_refused_naming_both(fixtures, tmp_path):
    config = tmp_path / "eggan.json"
    config.write_text(json.dumps({"method": "eggan", "train": TRAIN}))
    result = CliRunner().invoke(main, ["train", "eggan", "--config", str(config), "--out", str(tmp_path / "runs"),
                                       "--data", f"rafd:{fixtures}/rafd"])
    assert result.exit_code == 1, result.output
    assert "eggan trains on batches that rafd data cannot fill" in result.output
