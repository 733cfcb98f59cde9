"""The AU-delta explorer of FineGrained, driven headlessly (setting a widget's
value runs the same callbacks a slider drag does), over a perfect toy editor:
G repaints the AUs that the toy AU judge reads from the face's first pixels."""

from __future__ import annotations

import pytest
import torch
from torch import nn

pytest.importorskip("ipywidgets")

from gamutlib.constants import AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.faces.emotion import emotion_prototypes
from gamutlib.models.finegrained import FineGrainedEditor
from gamutlib.widgets.au_delta_explorer import SERIES, AUDeltaExplorer

SIZE = 32
N = len(AU_NAMES)


def read_aus(x: torch.Tensor) -> torch.Tensor:
    return (x[:, 0, 0, :N] + 1) / 2 * AU_MAX


class PaintG(nn.Module):
    """G(x, v_rel): the face with its judged AUs moved by 5 v_rel (a perfect relative editor under read_aus)."""

    def forward(self, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        out = x.clone()
        out[:, 0, 0, :N] = (read_aus(x) + v * AU_MAX).clamp(0, AU_MAX) / AU_MAX * 2 - 1
        return out


@pytest.fixture
def explorer():
    return AUDeltaExplorer(FineGrainedEditor(PaintG(), image_size=SIZE, au_judge=read_aus), source=3)


def widths(ex, series):
    return torch.tensor([p.get_width() for p in ex._bars[series]])


def test_one_slider_moves_its_au_alone_and_the_bars_follow(explorer):
    src = explorer.source_aus().clone()
    assert torch.allclose(widths(explorer, SERIES[0]), src) and torch.allclose(widths(explorer, SERIES[2]), src, atol=1e-4)
    assert explorer.set(AU12=2.0)
    k = AU_NAMES.index("AU12")
    want = src.clone()
    want[k] = min(float(src[k]) + 2.0, AU_MAX)
    assert torch.allclose(explorer.edited_aus(), want, atol=1e-4)
    assert torch.allclose(widths(explorer, SERIES[1]), want, atol=1e-5)
    assert torch.allclose(widths(explorer, SERIES[2]), want, atol=1e-4)
    assert "ΔAU12 +2.0" in explorer.message.value and "cannot edit" not in explorer.message.value
    assert explorer.sliders["AU12"].value == 2.0 and explorer.boxes["AU12"].value == 2.0


def test_slider_and_box_drive_the_edit(explorer):
    src = explorer.source_aus().clone()
    explorer.sliders["AU04"].value = -1.5
    explorer.boxes["AU26"].value = 1.0
    assert explorer.values["AU04"] == -1.5 and explorer.values["AU26"] == 1.0
    for name, delta in (("AU04", -1.5), ("AU26", 1.0)):
        k = AU_NAMES.index(name)
        assert float(explorer.edited_aus()[k]) == pytest.approx(min(max(float(src[k]) + delta, 0), AU_MAX), abs=1e-4)


def test_a_bad_value_is_refused_and_the_face_kept(explorer):
    assert explorer.set(AU12=1.0)
    before = explorer.edited.clone()
    assert explorer.set(AU12=9.0) is False
    assert "cannot edit" in explorer.message.value and "AU12" in explorer.message.value
    assert torch.equal(explorer.edited, before) and explorer.values["AU12"] == 1.0
    assert explorer.set(AU99=1.0) is False and "unknown coordinate" in explorer.message.value


def test_go_to_an_emotion_sets_every_slider_to_its_prototype(explorer):
    explorer.goto.value = "happy"
    proto = emotion_prototypes()[EMOTIONS.index("happy")]
    want = (proto - explorer.source_aus()).clamp(-AU_MAX, AU_MAX)
    got = torch.tensor([explorer.values[n] for n in AU_NAMES])
    assert torch.allclose(got, want, atol=0.051)  # rounded to the sliders' 0.1 step
    assert torch.allclose(explorer.edited_aus(), proto, atol=0.06)  # the perfect editor reaches the prototype


def test_snapshot_and_the_static_au_figure(explorer):
    fig = explorer.snapshot()
    assert len(fig.axes) == 1 + len(FineGrainedEditor.example_values)
    explorer.set(AU12=2.0)
    static = explorer.figure_now()
    assert "ΔAU12 +2.0" in static.axes[0].get_title()


def test_an_editor_without_an_au_judge_is_refused():
    with pytest.raises(TypeError, match="AU judge attached"):
        AUDeltaExplorer(FineGrainedEditor(PaintG(), image_size=SIZE), source=0)
