"""The evaluation chapter's explorers of the shipped GANmut and GGANmut, driven
headlessly as tests/test_widgets.py drives the tiny ones: the editors are
built the chapter's way (CPU copies of the loaded generators and spaces)."""

import copy

import pytest
import torch

pytest.importorskip("ipywidgets")

from gamutlib.evaluation.ganmut import load_conditioned
from gamutlib.models.ganmut import GANmutEditor
from gamutlib.models.gganmut import GGANmutEditor
from gamutlib.constants import EMOTIONS
from gamutlib.widgets import GANmutExplorer, GGANmutExplorer, explorer_for


def colour_judge(images: torch.Tensor) -> torch.Tensor:
    """A stand-in judge whose reading follows the pixels (as in test_widgets)."""
    weights = torch.linspace(-3, 3, 3 * len(EMOTIONS)).reshape(3, len(EMOTIONS))
    return torch.softmax(images.float().mean(dim=(2, 3)) @ weights * 5, dim=1)


def _chapter_editor(name, cls):
    model = load_conditioned(name)
    return cls(copy.deepcopy(model.G).float().cpu(), copy.deepcopy(model.space).float().cpu(), model.image_size)


def test_shipped_ganmut_explorer_moves_the_face():
    editor = _chapter_editor("ganmut", GANmutEditor)
    shipped = GANmutEditor.from_weights("ganmut")
    ex = explorer_for(editor, judge=colour_judge, source=0, display_px=128)
    assert isinstance(ex, GANmutExplorer) and editor.image_size == 128
    happy = editor.theta_of("happy")
    assert happy == pytest.approx(shipped.theta_of("happy"))
    assert ex.set(theta=happy, rho=0.6)
    face = ex.source.face
    assert torch.equal(ex.edited, editor.edit(face, happy, 0.6))
    assert torch.allclose(ex.edited, shipped.edit(face, happy, 0.6), atol=1e-5)  # the chapter's copy is the shipped G
    before = ex.output_image.value
    ex.sliders["rho"].value = 1.0
    assert ex.output_image.value != before and not torch.equal(ex.edited, editor.edit(face, happy, 0.6))
    assert torch.allclose(ex.probs, colour_judge(ex.edited)[0])
    assert ex.set(rho=1.5) is False and "cannot edit" in ex.message.value


def test_shipped_gganmut_explorer_moves_the_face():
    editor = _chapter_editor("gganmut", GGANmutEditor)
    ex = explorer_for(editor, judge=colour_judge, source=0, display_px=128)
    assert isinstance(ex, GGANmutExplorer)
    assert ex.set(x=0.3, y=-0.2)
    assert torch.equal(ex.edited, editor.edit_xy(ex.source.face, 0.3, -0.2))
    first = ex.edited.clone()
    ex.goto.value = "happy"
    mu = editor.codes_for("happy").tolist()
    assert ex.values == pytest.approx({"x": mu[0], "y": mu[1]}, abs=1e-6)
    assert not torch.equal(ex.edited, first)
