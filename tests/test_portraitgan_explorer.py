"""The landmark editor (PortraitGAN's explorer), driven headlessly: setting a widget's
value runs the same callbacks a slider drag or a menu choice does."""

import pytest
import torch

pytest.importorskip("ipywidgets")

from gamutlib.constants import STYLES
from gamutlib.models.portraitgan import PortraitGAN
from gamutlib.models.portraitgan_editor import MOVES, PortraitGANEditor
from gamutlib.widgets.landmark_explorer import LandmarkExplorer, landmark_face

SIZE = 32
TINY = {"image_size": SIZE, "g_conv_dim": 8, "g_max_dim": 16, "g_repeat_num": 1, "d_conv_dim": 8, "d_n_layers": 2,
        "features": "random"}


@pytest.fixture
def explorer():
    torch.manual_seed(0)
    return LandmarkExplorer(PortraitGANEditor.from_method(PortraitGAN(TINY)), seed=2)


def test_the_controls_are_the_editors_declaration(explorer):
    names = [c.name for c in explorer.editor.controls]
    assert list(explorer.widgets) == names
    assert {"mouth_open", "smile_width", "lip_corners", "brow_raise", "eye_opening", "jaw", "modality"} == set(names)
    assert tuple(explorer.widgets["modality"].options) == STYLES
    assert explorer.moved is not None and torch.equal(explorer.moved, explorer.landmarks)  # defaults move nothing


def test_a_slider_moves_its_points_and_redraws(explorer):
    face_png, points_png = explorer.output_image.value, explorer.input_image.value
    explorer.widgets["mouth_open"].value = 0.8  # as a drag does
    moved = explorer.moved - explorer.landmarks
    lip = sorted(MOVES["mouth_open"])
    assert (moved[0, [57, 66], 1] > 0).all()  # the lower lip drops (y down)
    untouched = [i for i in range(68) if i not in lip]
    assert torch.equal(moved[0, untouched], torch.zeros(len(untouched), 2))
    assert explorer.input_image.value != points_png and explorer.output_image.value != face_png
    assert "largest point move" in explorer.message.value


def test_the_modality_menu_changes_the_edit_not_the_points(explorer):
    explorer.set(brow_raise=0.5)
    photo, points = explorer.edited.clone(), explorer.moved.clone()
    explorer.widgets["modality"].value = "sketch"
    assert explorer.values["modality"] == "sketch"
    assert torch.equal(explorer.moved, points) and not torch.allclose(explorer.edited, photo)


def test_the_edit_is_the_editors_own(explorer):
    assert explorer.set(jaw=-0.6, lip_corners=0.4, modality="cartoon")
    expected = explorer.editor.edit(explorer.face, {"jaw": -0.6, "lip_corners": 0.4, "modality": "cartoon"},
                                    face_landmarks=explorer.landmarks)
    assert torch.equal(explorer.edited, expected)
    assert explorer.widgets["jaw"].value == pytest.approx(-0.6)  # the widgets follow set()


def test_bad_values_show_the_editors_error_and_keep_the_last_edit(explorer):
    explorer.set(smile_width=0.3)
    kept = explorer.edited.clone()
    assert not explorer.set(smile_width=float("nan"))
    assert "smile_width" in explorer.error and "finite" in explorer.error
    assert torch.equal(explorer.edited, kept) and explorer.values["smile_width"] == pytest.approx(0.3)
    assert not explorer.set(modality="oil painting")
    assert "modality" in explorer.message.value


def test_another_face_and_the_snapshot(explorer):
    before = explorer.face.clone()
    assert explorer.set_seed(5)
    image, marks = landmark_face(5, SIZE)
    assert torch.equal(explorer.face, image) and torch.equal(explorer.landmarks, marks)
    assert not torch.equal(explorer.face, before)
    fig = explorer.snapshot()
    assert len(fig.axes) == 2 * len(explorer.editor.example_values)
