"""The rho/theta and x/y explorers, driven headlessly (no front end needed:
setting a widget's value runs the same callbacks a slider drag does)."""

import io
import math

import numpy as np
import pytest
import torch
from PIL import Image

pytest.importorskip("ipywidgets")

from gamutlib.constants import EMOTIONS
from gamutlib.models.ganmut import GANmut, GANmutEditor
from gamutlib.models.gganmut import GGANmut, GGANmutEditor
from gamutlib.viz.image_grid import jpeg_strip, png_bytes
from gamutlib.widgets import GANmutExplorer, GGANmutExplorer, explorer_for
from gamutlib.face_source import benchmark_face

SIZE = 32  # tiny generators: the code paths of the 128 px ones, in milliseconds
TINY = dict(image_size=SIZE, g_conv_dim=8, g_repeat_num=1, d_conv_dim=8, d_repeat_num=2)


def colour_judge(images: torch.Tensor) -> torch.Tensor:
    """A stand-in judge whose reading follows the pixels (so it changes with the edit)."""
    means = images.float().mean(dim=(2, 3))  # (N, 3)
    weights = torch.linspace(-3, 3, 3 * len(EMOTIONS)).reshape(3, len(EMOTIONS))
    return torch.softmax(means @ weights * 5, dim=1)


@pytest.fixture
def ganmut_editor():
    torch.manual_seed(1)
    return GANmutEditor.from_method(GANmut(**TINY))


@pytest.fixture
def gganmut_editor():
    torch.manual_seed(2)
    return GGANmutEditor.from_method(GGANmut(**TINY))


@pytest.fixture
def explorer(ganmut_editor):
    return GANmutExplorer(ganmut_editor, judge=colour_judge, source=3)


def _bar_widths(ex, series):
    return torch.tensor([p.get_width() for p in ex._bars[series]])


def _png(size, path, colour=(120, 90, 60)):
    Image.fromarray(np.full((size, size, 3), colour, dtype=np.uint8)).save(path)
    return path


def test_moving_rho_theta_updates_face_marker_and_bars(explorer, ganmut_editor):
    before_face, before_map = explorer.output_image.value, explorer.map_image.value
    assert explorer.set(theta=1.0, rho=0.5)
    expected = ganmut_editor.edit(explorer.source.face, 1.0, 0.5)
    assert torch.equal(explorer.edited, expected)
    assert explorer.output_image.value == png_bytes(expected, explorer.display_px) != before_face
    assert explorer.map_image.value != before_map
    x, y = 0.5 * math.cos(1.0), 0.5 * math.sin(1.0)
    assert np.allclose(explorer._marker.get_data(), [[x], [y]])
    assert np.allclose(explorer._ray.get_data(), [[0, x], [0, y]])
    assert torch.allclose(explorer.probs, colour_judge(expected)[0])
    assert torch.allclose(_bar_widths(explorer, "judge (edited face)"), explorer.probs)
    assert explorer.sliders["theta"].value == pytest.approx(1.0) and explorer.boxes["rho"].value == pytest.approx(0.5)
    assert "ρ = 0.50" in explorer.message.value and "cannot edit" not in explorer.message.value


def test_slider_and_box_drive_the_edit(explorer, ganmut_editor):
    explorer.sliders["rho"].value = 0.8
    explorer.boxes["theta"].value = 2.0
    assert explorer.values == pytest.approx({"theta": 2.0, "rho": 0.8})
    assert torch.equal(explorer.edited, ganmut_editor.edit(explorer.source.face, 2.0, 0.8))
    assert explorer.sliders["theta"].value == pytest.approx(2.0)


@pytest.mark.parametrize(
    "values, named",
    [({"rho": 1.5}, "rho"), ({"rho": -0.1}, "rho"), ({"theta": 7.0}, "theta"), ({"theta": float("nan")}, "theta"),
     ({"rho": "a lot"}, "rho"), ({"phi": 1.0}, "phi")],
)
def test_bad_values_leave_a_message_and_keep_the_face(explorer, values, named):
    assert explorer.set(theta=0.5, rho=0.3)
    face, shown, probs = explorer.edited.clone(), explorer.output_image.value, explorer.probs.clone()
    assert explorer.set(**values) is False
    assert "cannot edit" in explorer.message.value and named in explorer.message.value
    assert explorer.values == pytest.approx({"theta": 0.5, "rho": 0.3})
    assert torch.equal(explorer.edited, face) and explorer.output_image.value == shown
    assert torch.equal(explorer.probs, probs)


def test_bad_value_typed_in_a_box_is_refused_and_the_box_restored(explorer):
    explorer.set(theta=0.5, rho=0.3)
    explorer.boxes["rho"].value = 3.0
    assert "rho must lie in [0, 1]" in explorer.message.value
    assert explorer.boxes["rho"].value == pytest.approx(0.3)
    explorer.boxes["theta"].value = float("nan")
    assert "theta must be a finite number" in explorer.message.value
    assert explorer.values == pytest.approx({"theta": 0.5, "rho": 0.3})


def test_go_to_an_emotion(explorer, ganmut_editor):
    explorer.goto.value = "happy"
    assert explorer.values["theta"] == pytest.approx(ganmut_editor.theta_of("happy"))
    assert explorer.values["rho"] == 1.0 and explorer.goto.value == ""
    explorer.goto.value = "neutral"
    assert explorer.values["rho"] == 0.0


def test_sources_seed_file_and_refused_files(explorer, tmp_path):
    explorer.set(theta=1.0, rho=0.6)
    explorer.seed_slider.value = 5
    assert torch.equal(explorer.source.face, benchmark_face(5, SIZE).face)
    assert "benchmark face 5" in explorer.message.value
    good = _png(SIZE, tmp_path / "crop.png")
    explorer.path_box.value = str(good)
    assert explorer.source.description == "crop.png" and explorer.error is None
    assert torch.equal(explorer.edited, explorer.editor.edit(explorer.source.face, 1.0, 0.6))
    kept_face, kept_input = explorer.source.face.clone(), explorer.input_image.value

    text = tmp_path / "notes.png"
    text.write_text("not pixels")
    explorer.path_box.value = str(text)
    assert "not an image file" in explorer.message.value
    explorer.path_box.value = str(tmp_path / "missing.png")
    assert "not found" in explorer.message.value
    small = _png(SIZE // 2, tmp_path / "small.png")
    explorer.path_box.value = str(small)
    assert f"not the {SIZE}x{SIZE} aligned face" in explorer.message.value
    assert torch.equal(explorer.source.face, kept_face) and explorer.input_image.value == kept_input


def test_wrong_size_file_is_refused_when_alignment_is_off(ganmut_editor, tmp_path):
    ex = GANmutExplorer(ganmut_editor, source=0, align="never")
    ex.path_box.value = str(_png(SIZE * 2, tmp_path / "big.png"))
    assert f"give a {SIZE}x{SIZE} face crop" in ex.message.value
    assert ex.source.description.startswith("benchmark face 0")


def test_wrong_size_tensor_source_and_recovery(ganmut_editor):
    ex = GANmutExplorer(ganmut_editor, source=torch.zeros(1, 3, SIZE + 1, SIZE + 1))
    assert ex.source is None and "cannot edit" in ex.message.value and f"edits {SIZE}x{SIZE}" in ex.message.value
    assert ex.set(rho=0.5) is False
    with pytest.raises(ValueError, match="no source face"):
        ex.snapshot()
    assert ex.set_source(2) and ex.edited is not None


def test_snapshot_is_a_grid_of_edits(explorer):
    fig = explorer.snapshot(rhos=(0.5, 1.0))
    n_directions = len(EMOTIONS) - 1
    assert len(fig.axes) == n_directions * 3
    assert "benchmark face 3" in fig._suptitle.get_text()
    assert any(ax.get_xlabel() for ax in fig.axes)  # the judge's verdicts under the edits
    fig = explorer.snapshot(rhos=(1.0,), thetas=(0.0, math.pi))
    assert len(fig.axes) == 4


def test_gganmut_explorer_xy(gganmut_editor):
    ex = GGANmutExplorer(gganmut_editor, judge=colour_judge, source=1)
    assert ex.set(x=0.3, y=-0.2)
    assert torch.equal(ex.edited, gganmut_editor.edit_xy(ex.source.face, 0.3, -0.2))
    assert np.allclose(ex._marker.get_data(), [[0.3], [-0.2]])
    assert torch.allclose(_bar_widths(ex, "p_z (code)"), gganmut_editor.p_z(0.3, -0.2))
    assert ex.set(x=1.2) is False and "x must lie in [-1, 1]" in ex.message.value
    assert ex.values == pytest.approx({"x": 0.3, "y": -0.2})
    ex.goto.value = "sad"
    assert torch.allclose(torch.tensor([ex.values["x"], ex.values["y"]]), gganmut_editor.codes_for("sad"))
    assert len(ex.snapshot(steps=2).axes) == 2 * 3


def test_explorer_for_picks_the_space_and_refuses_a_mismatch(ganmut_editor, gganmut_editor):
    assert isinstance(explorer_for(ganmut_editor), GANmutExplorer)
    assert isinstance(explorer_for(gganmut_editor), GGANmutExplorer)
    with pytest.raises(TypeError, match="GGANmutExplorer"):
        GANmutExplorer(gganmut_editor)
    with pytest.raises(TypeError, match="judge must be"):
        GANmutExplorer(ganmut_editor, judge=42)


def test_an_emotion_judge_network_reads_faces_of_another_size(ganmut_editor):
    import torch.nn.functional as F

    from gamutlib.judges.networks import EmotionJudge

    judge = EmotionJudge(size=64, width=4, feature_dim=8).train()
    ex = GANmutExplorer(ganmut_editor, judge=judge, source=0)
    assert not judge.training  # dropout off: the bars are the judge's reading, not a random one
    assert ex.set(theta=3.0, rho=1.0)
    upsized = F.interpolate(ex.edited, size=(64, 64), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)
    assert torch.allclose(ex.probs, judge.probs(upsized)[0], atol=1e-6)
    assert torch.allclose(_bar_widths(ex, "judge (edited face)"), ex.probs)
    assert EMOTIONS[int(ex.probs.argmax())] in ex.message.value


def test_jpeg_strip_puts_pictures_side_by_side_at_one_height():
    red, blue = Image.new("RGB", (40, 20), (255, 0, 0)), Image.new("RGB", (10, 10), (0, 0, 255))
    strip = Image.open(io.BytesIO(jpeg_strip([red, blue], height=20, gap=4)))
    assert strip.format == "JPEG" and strip.size == (40 + 4 + 20, 20)
    r, g, b = strip.getpixel((5, 10))
    assert r > 200 and b < 60  # the first picture on the left
    r, g, b = strip.getpixel((55, 10))
    assert b > 200 and r < 60  # the second, scaled to the strip's height
    with pytest.raises(ValueError, match="at least one"):
        jpeg_strip([])
