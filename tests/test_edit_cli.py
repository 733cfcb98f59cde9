"""`gamut edit ganmut|gganmut`: crops, photos and every refusal as one line."""

import re

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

from gamutlib.cli import main
from gamutlib.data.images import read_image, save_image
from gamutlib.models.ganmut import GANmut, GANmutEditor
from gamutlib.models.gganmut import GGANmut
from gamutlib.weights import export_weights
from gamutlib.face_source import benchmark_face

SIZE = 32
TINY = dict(image_size=SIZE, g_conv_dim=8, g_repeat_num=1, d_conv_dim=8, d_repeat_num=2)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    root = tmp_path_factory.mktemp("weights")
    torch.manual_seed(3)
    for name, method in (("ganmut", GANmut(**TINY)), ("gganmut", GGANmut(**TINY))):
        export_weights(name, method.export(), method.config, root=root)
    return root


@pytest.fixture
def crop(tmp_path):
    path = tmp_path / "face.png"
    save_image(benchmark_face(4, SIZE).face, path)
    return path


def edit(*args):
    return CliRunner().invoke(main, ["edit", *map(str, args)])


def one_line_error(result, *fragments):
    """Failed, with a single 'Error: ...' line containing every fragment, no traceback."""
    assert result.exit_code != 0, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_crop_in_edited_crop_out(weights, crop, tmp_path):
    out = tmp_path / "out" / "happy.png"
    result = edit("ganmut", crop, "--theta", 1.2, "--rho", 0.7, "--out", out, "--weights", weights / "ganmut.safetensors")
    assert result.exit_code == 0, result.output
    assert f"wrote {out} ({SIZE}x{SIZE}, edited face)" in result.output
    written = read_image(out)
    editor = GANmutEditor.from_weights("ganmut", root=str(weights))
    expected = editor.edit(read_image(crop), 1.2, 0.7)
    assert written.shape == (1, 3, SIZE, SIZE)
    assert (written - expected).abs().max() <= 1 / 127.5 + 1e-6  # 8-bit rounding only
    assert list(tmp_path.joinpath("out").iterdir()) == [out]  # no temporary file left behind


def test_degrees_and_gganmut(weights, crop, tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    assert edit("ganmut", crop, "--theta", 90, "--degrees", "--rho", 1, "--out", a, "--weights", weights / "ganmut.safetensors").exit_code == 0
    result = edit("gganmut", crop, "--x", 0.4, "--y", -0.5, "--out", b, "--weights", weights / "gganmut.safetensors")
    assert result.exit_code == 0, result.output
    assert Image.open(a).size == Image.open(b).size == (SIZE, SIZE)


def test_named_emotion_and_intensity_edit_as_their_theta_and_rho(weights, crop, tmp_path):
    named, polar = tmp_path / "named.png", tmp_path / "polar.png"
    w = ["--weights", weights / "ganmut.safetensors", "--crop"]
    result = edit("ganmut", crop, "--emotion", "happy", "--intensity", 0.8, "--out", named, *w)
    assert result.exit_code == 0, result.output
    editor = GANmutEditor.from_weights("ganmut", root=str(weights))
    theta = editor.theta_of("happy") % (2 * np.pi)
    assert edit("ganmut", crop, "--theta", theta, "--rho", 0.8, "--out", polar, *w).exit_code == 0
    assert np.array_equal(np.asarray(Image.open(named)), np.asarray(Image.open(polar)))
    full = tmp_path / "full.png"  # --intensity defaults to 1
    assert edit("ganmut", crop, "--emotion", "sad", "--out", full, *w).exit_code == 0
    result = edit("gganmut", crop, "--emotion", "angry", "--intensity", 0.5, "--out", tmp_path / "g.png",
                  "--weights", weights / "gganmut.safetensors")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    "code, fragments",
    [
        (["--emotion", "happy", "--theta", 1.0], ["give either --theta --rho or --emotion --intensity"]),
        (["--intensity", 0.5], ["--intensity needs --emotion"]),
        (["--emotion", "happy", "--intensity", "nan"], ["intensity must be a finite number in [0, 1]"]),
        (["--emotion", "happy", "--intensity", 1.5], ["intensity must lie in [0, 1]"]),
        (["--theta", 1.0], ["missing --rho"]),
    ],
)
def test_bad_named_codes(weights, crop, tmp_path, code, fragments):
    one_line_error(edit("ganmut", crop, *code, "--out", tmp_path / "o.png", "--weights", weights / "ganmut.safetensors"),
                   *fragments)
    assert not (tmp_path / "o.png").exists()


def test_an_unknown_emotion_is_refused_with_the_choices(weights, crop, tmp_path):
    result = edit("ganmut", crop, "--emotion", "smug", "--out", tmp_path / "o.png")
    assert result.exit_code == 2 and "'smug' is not one of" in result.output and "'happy'" in result.output


@pytest.mark.parametrize(
    "code, fragments",
    [
        (["--theta", 1, "--rho", 1.5], ["rho must lie in [0, 1]", "1.5"]),
        (["--theta", -0.5, "--rho", 0.5], ["theta must lie in [0, 6.28319] radians"]),
        (["--theta", "nan", "--rho", 0.5], ["theta must be a finite number"]),
        (["--theta", 1, "--rho", "nan"], ["rho must be a finite number"]),
        (["--theta", 400, "--degrees", "--rho", 0.5], ["[0, 360] degrees"]),
    ],
)
def test_bad_codes(weights, crop, tmp_path, code, fragments):
    one_line_error(edit("ganmut", crop, *code, "--out", tmp_path / "o.png", "--weights", weights / "ganmut.safetensors"), *fragments)
    assert not (tmp_path / "o.png").exists()


def test_bad_gganmut_code(weights, crop, tmp_path):
    one_line_error(edit("gganmut", crop, "--x", 1.1, "--y", 0, "--out", tmp_path / "o.png", "--weights", weights / "gganmut.safetensors"),
                   "x must lie in [-1, 1]")


def test_non_image_and_missing_files(weights, tmp_path):
    notes = tmp_path / "notes.png"
    notes.write_text("hello")
    one_line_error(edit("ganmut", notes, "--theta", 1, "--rho", 0.5, "--out", tmp_path / "o.png", "--weights", weights / "ganmut.safetensors"),
                   "not an image file")
    one_line_error(edit("ganmut", tmp_path / "nope.png", "--theta", 1, "--rho", 0.5, "--out", tmp_path / "o.png",
                        "--weights", weights / "ganmut.safetensors"), "not found")


def test_wrong_size_crop_without_alignment(weights, tmp_path, monkeypatch):
    big = tmp_path / "big.png"
    Image.fromarray(np.full((SIZE * 3, SIZE * 3, 3), 128, dtype=np.uint8)).save(big)
    args = ["--theta", 1, "--rho", 0.5, "--out", tmp_path / "o.png", "--weights", weights / "ganmut.safetensors"]
    one_line_error(edit("ganmut", big, *args, "--align", "never"), f"is {SIZE * 3}x{SIZE * 3} px", f"give a {SIZE}x{SIZE} face crop")

    import gamutlib.data.align as align

    def no_dlib():
        raise ImportError("dlib is not installed")

    monkeypatch.setattr(align, "require_dlib", no_dlib)
    one_line_error(edit("ganmut", big, *args), "needs dlib", "gamut[real]")
    assert not (tmp_path / "o.png").exists()


def test_missing_and_mismatched_weights(weights, crop, tmp_path):
    missing = tmp_path / "none" / "ganmut.safetensors"
    one_line_error(edit("ganmut", crop, "--theta", 1, "--rho", 0.5, "--out", tmp_path / "o.png", "--weights", missing),
                   "no ganmut weights", "gamut train ganmut --export")
    one_line_error(edit("ganmut", crop, "--theta", 1, "--rho", 0.5, "--out", tmp_path / "o.png", "--weights", weights / "gganmut.safetensors"),
                   "not ganmut")


def test_failed_runs_keep_an_existing_output(weights, crop, tmp_path):
    out = tmp_path / "keep.png"
    out.write_bytes(b"precious")
    w = ["--weights", weights / "ganmut.safetensors"]
    notes = tmp_path / "notes.txt"
    notes.write_text("hello")
    for result in (
        edit("ganmut", crop, "--theta", 1, "--rho", 9, "--out", out, *w),
        edit("ganmut", notes, "--theta", 1, "--rho", 0.5, "--out", out, *w),
        edit("ganmut", crop, "--theta", 1, "--rho", 0.5, "--out", out, "--weights", tmp_path / "missing.safetensors"),
    ):
        assert result.exit_code != 0
        assert out.read_bytes() == b"precious"
    bad_ext = tmp_path / "keep.notanimage"
    bad_ext.write_bytes(b"precious")
    one_line_error(edit("ganmut", crop, "--theta", 1, "--rho", 0.5, "--out", bad_ext, *w), "unknown image extension")
    assert bad_ext.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["face.png", "keep.notanimage", "keep.png", "notes.txt"]


def test_photo_is_aligned_edited_and_pasted_back(weights, tmp_path):
    pytest.importorskip("dlib")
    pytest.importorskip("face_recognition_models")
    photo = torch.full((1, 3, 256, 288), -0.2)
    photo[..., 32:224, 48:240] = benchmark_face(3, 192).face
    path = tmp_path / "photo.png"
    save_image(photo, path)
    w = ["--weights", weights / "ganmut.safetensors", "--theta", 2, "--rho", 1]
    result = edit("ganmut", path, "--out", tmp_path / "pasted.png", *w)
    assert result.exit_code == 0, result.output
    assert "pasted back into the photo" in result.output
    pasted = read_image(tmp_path / "pasted.png")
    assert pasted.shape == photo.shape
    # the face region changed, the far corner of the photo did not
    assert (pasted - photo)[..., 64:192, 96:192].abs().mean() > 0.01
    assert (pasted - photo)[..., :16, :16].abs().max() <= 1 / 127.5 + 1e-6
    result = edit("ganmut", path, "--out", tmp_path / "crop.png", "--crop", *w)
    assert result.exit_code == 0, result.output
    assert Image.open(tmp_path / "crop.png").size == (SIZE, SIZE)


def test_bench_edit_writes_the_latency_table(weights, tmp_path):
    import json

    out = tmp_path / "results" / "ganmut" / "edit_latency.json"
    result = CliRunner().invoke(main, ["bench", "edit", "--weights", str(weights / "ganmut.safetensors"), "--threads", "1",
                                       "--repeats", "5", "--runs", "2", "--variant", "fp32", "--variant", "channels_last",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    assert set(table) >= {"rows", "paper", "protocol", "seeds"}
    rows = {row["variant"]: row for row in table["rows"]}
    assert set(rows) == {"fp32", "channels_last"}
    for row in rows.values():
        assert {"method", "device", "threads", "median_ms", "p90_ms", "max_abs_diff", "chosen"} <= set(row)
        assert row["method"] == "ganmut" and row["threads"] == 1 and row["device"] == "cpu"
        assert 0 < row["median_ms"] <= row["p90_ms"] and len(row["run_medians_ms"]) == 2
        assert row["median_ms"] == min(row["run_medians_ms"])
    assert rows["fp32"]["max_abs_diff"] == 0.0 and rows["channels_last"]["max_abs_diff"] < 1e-4
    assert sum(row["chosen"] for row in rows.values()) == 1
    assert "ganmut.safetensors" in table["protocol"] and "best median of 2 runs" in table["protocol"]
    # how busy the machine was: the 1-minute load average as the timing began and ended
    assert re.search(r"load average \d+\.\d\d as the timing began and \d+\.\d\d as it ended", table["protocol"])


def test_bench_edit_refuses_bad_options(tmp_path):
    result = CliRunner().invoke(main, ["bench", "edit", "--variant", "fp8", "--weights", str(tmp_path / "w.safetensors"),
                                       "--out", str(tmp_path / "g" / "t.json")])
    one_line_error(result, "unknown variant 'fp8'")
    result = CliRunner().invoke(main, ["bench", "edit", "--weights", str(tmp_path / "w.safetensors"), "--out", str(tmp_path / "g" / "t.json")])
    one_line_error(result, "no weights at", "gamut train ganmut --export w")
    assert not (tmp_path / "g").exists()


def test_editor_speed_variants_match_float32():
    torch.manual_seed(5)
    editor = GANmutEditor.from_method(GANmut(**TINY))
    face = benchmark_face(1, SIZE).face
    reference = editor.edit(face, 1.0, 0.8)
    editor.use_variant("channels_last")
    assert editor.G.trunk.main[0].weight.is_contiguous(memory_format=torch.channels_last)
    out = editor.edit(face, 1.0, 0.8)
    assert out.dtype == torch.float32 and out.is_contiguous() and (out - reference).abs().max() < 1e-4
    editor.use_variant("bf16")
    out = editor.edit(face, 1.0, 0.8)
    assert out.dtype == torch.float32 and 0 < (out - reference).abs().max() < 0.2  # really ran in bf16, still the same face
    with pytest.raises(ValueError, match="unknown speed variant 'fast'"):
        editor.use_variant("fast")
