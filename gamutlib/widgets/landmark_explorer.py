"""The landmark editor: PortraitGAN's interactive interface (paper Fig. 7) as an ipywidgets explorer.

A benchmark face (chosen by seed) is shown with its 68 landmarks; the
editor's declared controls (``PortraitGANEditor.controls``: mouth open, smile
width, lip corners, brow raise, eye opening, jaw, and the modality menu) move
the points, the moved points are drawn over the face in a second colour, and
the generator draws the edited face in the chosen modality. Every value goes
through the editor's checks, so a value out of range or a move that pushes a
point out of the image shows the editor's one-line error instead of a face.
``snapshot()`` is the static figure for the rendered book (no kernel there).
"""

from __future__ import annotations

import io
from typing import Any

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from PIL import Image, ImageDraw

from gamutlib.constants import EMOTIONS
from gamutlib.viz.image_grid import to_uint8

ORIGINAL = (0, 229, 255)  # the face's own points
MOVED = (255, 64, 160)  # the points the edit asks for


def landmark_face(seed: int, size: int, split: str = "test") -> tuple[torch.Tensor, torch.Tensor]:
    """(image (1, 3, S, S), landmarks (1, 68, 2)) of the neutral frontal face that
    ``gamutlib.face_source.benchmark_face(seed, size)`` shows, with its landmarks."""
    from gamutlib.faces import random_faces, sample_identities

    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"the face seed must be an integer >= 0; got {seed!r}")
    generator = torch.Generator().manual_seed(seed)
    identity = sample_identities(1, split, generator=generator)
    neutral = torch.zeros(1, len(EMOTIONS))
    neutral[0, EMOTIONS.index("neutral")] = 1.0
    batch = random_faces(1, size, split, identity=identity, emotion=neutral, intensity=torch.zeros(1), au_jitter=0.0,
                         pose_scale=0.0, generator=generator)
    return batch["image"], batch["landmarks"].float()


def face_with_points(face: torch.Tensor, points: list[tuple[torch.Tensor, tuple[int, int, int]]], scale: int = 2) -> Image.Image:
    """The face enlarged ``scale`` times with each (68, 2) point set drawn as dots of its colour."""
    image = Image.fromarray(to_uint8(face)).resize((face.shape[-1] * scale,) * 2, Image.NEAREST)
    draw = ImageDraw.Draw(image)
    for marks, colour in points:
        for x, y in (marks.reshape(-1, 2).float() * scale).tolist():
            draw.ellipse((x - 1.5, y - 1.5, x + 1.5, y + 1.5), fill=colour)
    return image


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class LandmarkExplorer:
    """Sliders for the editor's numeric controls, a menu for its choice controls (the
    modality), a face seed; the face with its own and its moved points, and the edit."""

    def __init__(self, editor: Any, seed: int = 0, display_px: int = 256, max_seed: int = 99,
                 continuous_update: bool = False) -> None:
        from gamutlib.widgets.explorer import _ipywidgets

        w = _ipywidgets()
        self.editor = editor
        self.size = int(editor.image_size)
        self.controls = tuple(editor.controls)
        self.values: dict[str, Any] = {c.name: c.default for c in self.controls}
        self.face, self.landmarks = landmark_face(seed, self.size)
        self.moved: torch.Tensor | None = None
        self.edited: torch.Tensor | None = None
        self.error: str | None = None
        self._syncing = False

        self.seed_slider = w.IntSlider(value=seed, min=0, max=max_seed, description="face seed", continuous_update=False)
        self.widgets: dict[str, Any] = {}
        for c in self.controls:
            if c.is_choice:
                self.widgets[c.name] = w.Dropdown(options=list(c.choices), value=c.default, description=c.label or c.name)
            else:
                self.widgets[c.name] = w.FloatSlider(value=c.default, min=c.lo, max=c.hi, step=c.step,
                                                     description=c.label or c.name, tooltip=c.meaning,
                                                     continuous_update=continuous_update, readout_format=".2f")
        self.input_image = w.Image(format="png", width=display_px)
        self.output_image = w.Image(format="png", width=display_px)
        self.message = w.HTML()
        self.seed_slider.observe(lambda change: self.set_seed(change["new"]), names="value")
        for name, widget in self.widgets.items():
            widget.observe(lambda change, name=name: self._on_value(name, change["new"]), names="value")
        self.box = w.HBox([w.VBox([self.seed_slider, *self.widgets.values(), self.message]),
                           w.VBox([w.HTML("face, its points (cyan) and the moved points (magenta)"), self.input_image]),
                           w.VBox([w.HTML("the edit"), self.output_image])])
        self._update(self.values)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.box._repr_mimebundle_(**kwargs)

    def set_seed(self, seed: int) -> bool:
        """Edit another benchmark face (with the current values)."""
        try:
            self.face, self.landmarks = landmark_face(int(seed), self.size)
        except ValueError as err:
            self._fail(str(err))
            return False
        return self._update(self.values)

    def set(self, **values: Any) -> bool:
        """Set controls by name (as a slider or the menu would); True when the edit was drawn."""
        ok = self._update({**self.values, **values})
        self._sync()
        return ok

    def _on_value(self, name: str, value: Any) -> None:
        if not self._syncing:
            self._update({**self.values, name: value})

    def _sync(self) -> None:
        self._syncing = True
        try:
            for name, widget in self.widgets.items():
                widget.value = self.values[name]
        finally:
            self._syncing = False

    def _update(self, values: dict[str, Any]) -> bool:
        try:
            checked = self.editor.check(values)
            moved = self.editor.target_landmarks(checked, self.landmarks)
            edited = self.editor.edit(self.face, checked, face_landmarks=self.landmarks)
        except ValueError as err:
            self._fail(str(err))
            return False
        self.values, self.moved, self.edited, self.error = checked, moved, edited, None
        self.input_image.value = _png(face_with_points(self.face, [(self.landmarks, ORIGINAL), (moved, MOVED)]))
        self.output_image.value = _png(face_with_points(edited, [], scale=2))
        shift = float((moved - self.landmarks).norm(dim=-1).max())
        self.message.value = f"modality {checked['modality']}; the largest point move is {shift:.1f} px"
        return True

    def _fail(self, text: str) -> None:
        self.error = text
        self.message.value = f"<span style='color:#b00'>{text}</span>"

    def snapshot(self, settings: tuple[dict[str, Any], ...] | None = None) -> Figure:
        """The book's static figure: per setting (default: the editor's example values),
        the face with its own and moved points, and the edit."""
        settings = settings or tuple(self.editor.example_values)
        fig, axes = plt.subplots(2, len(settings), figsize=(2.2 * len(settings), 4.6), squeeze=False,
                                 constrained_layout=True)
        for j, values in enumerate(settings):
            checked = self.editor.check(values)
            moved = self.editor.target_landmarks(checked, self.landmarks)
            edited = self.editor.edit(self.face, checked, face_landmarks=self.landmarks)
            axes[0, j].imshow(face_with_points(self.face, [(self.landmarks, ORIGINAL), (moved, MOVED)]))
            axes[1, j].imshow(to_uint8(edited))
            moved_names = [k for k, v in checked.items() if k != "modality" and v]
            axes[0, j].set_title(", ".join(f"{k} {checked[k]:g}" for k in moved_names) or "no move", fontsize=7)
            axes[1, j].set_title(f"edit, {checked['modality']}", fontsize=7)
            for ax in axes[:, j]:
                ax.set_xticks([])
                ax.set_yticks([])
        return fig
