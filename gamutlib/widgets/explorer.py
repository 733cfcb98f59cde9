"""Explorers of GANmut's learned space: move a code, watch the face change.

``GANmutExplorer(editor)`` edits a face with rho and theta sliders (the linear
model, codes z = rho (cos theta, sin theta)); ``GGANmutExplorer(editor)`` with
x and y sliders (the Gaussian model, codes in [-1, 1]^2). Both show the source
face, the edited face, the learned map with the current code on it and, when
an emotion judge is given, the judge's reading of the edited face as bars
(GGANmut adds p_z, the distribution the code itself stands for).

Only ipywidgets is used (no extra JavaScript packages): the map is a
matplotlib figure sent as PNG, so it is not clickable; the sliders, an exact
value box per coordinate and a "go to" menu of the learned emotions move the
code. Sliders update on release by default (``continuous_update=False``),
which keeps a slow CPU responsive; pass ``continuous_update=True`` for a
fully live drag when one edit is fast.

Every value is checked by the editor itself (gamutlib.models.editor), so an
out-of-range rho, a NaN or a wrong-size image is written in the explorer's
message line and the previous face stays; nothing raises into the notebook.
For the rendered book, where no kernel runs the sliders, ``snapshot()``
returns a static figure of a grid of codes.
"""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
import torch.nn.functional as F
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gamutlib.constants import EMOTIONS
from gamutlib.contract.controls import Control
from gamutlib.viz.condition_space import plot_gaussian_space, plot_linear_space
from gamutlib.viz.emotion_bars import plot_emotion_bars
from gamutlib.viz.image_grid import plot_image_grid, png_bytes, rgba_png
from gamutlib.face_source import Align, FaceSource, face_source

Source = int | str | Path | torch.Tensor | FaceSource


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError as err:
        raise ImportError("the explorers need ipywidgets: pip install 'gamut[notebook]'") from err
    return ipywidgets


class EmotionReader:
    """An emotion judge as a function image -> (7,) probabilities.

    Accepts gamutlib's EmotionJudge (its ``probs``) or any callable returning
    (N, 7) probabilities; faces of another size than the judge's input are
    resized (antialiased), so a 32 px editor can be read by a 128 px judge.
    """

    def __init__(self, judge: Any) -> None:
        self.judge = judge
        probs = getattr(judge, "probs", None)
        if probs is None and not callable(judge):
            raise TypeError(f"judge must be an EmotionJudge or a callable returning (N, 7) probabilities; got {type(judge).__name__}")
        self._probs: Callable[[torch.Tensor], torch.Tensor] = probs if probs is not None else judge
        self.size: int | None = getattr(getattr(judge, "trunk", None), "size", None)
        if hasattr(judge, "eval"):
            judge.eval()

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        x = image.float()
        if self.size is not None and tuple(x.shape[-2:]) != (self.size, self.size):
            x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False).clamp(-1, 1)
        with torch.inference_mode():
            p = self._probs(x)
        p = torch.as_tensor(p).float().reshape(-1)
        if p.shape != (len(EMOTIONS),):
            raise ValueError(f"the judge returned {tuple(p.shape)} scores; expected {len(EMOTIONS)} in EMOTIONS order")
        return p


class Explorer:
    """What both explorers share: the source face, the sliders, the images, the
    map figure and the message line. The sliders are the editor's declared
    controls (``editor.controls``), checked by the editor; subclasses say how a
    code is drawn on the map."""

    map_title = "learned space"

    def __init__(
        self,
        editor: Any,
        judge: Any | None = None,
        source: Source = 0,
        align: Align = "auto",
        continuous_update: bool = False,
        display_px: int = 192,
        max_seed: int = 99,
    ) -> None:
        w = _ipywidgets()
        self.editor = editor
        self.coordinates: tuple[Control, ...] = tuple(editor.controls)
        self.size = int(editor.image_size)
        self.reader = EmotionReader(judge) if judge is not None else None
        self.align = align
        self.display_px = display_px
        self.values = {c.name: c.default for c in self.coordinates}
        self.edited: torch.Tensor | None = None
        self.probs: torch.Tensor | None = None
        self.error: str | None = None
        self.source: FaceSource | None = None
        self._syncing = False

        self.seed_slider = w.IntSlider(value=source if isinstance(source, int) and not isinstance(source, bool) and source >= 0 else 0,
                                       min=0, max=max_seed, description="face seed", continuous_update=False)
        self.path_box = w.Text(value=str(source) if isinstance(source, (str, Path)) else "", placeholder="or an image file path",
                               description="image file", continuous_update=False)
        self.sliders = {
            c.name: w.FloatSlider(value=c.default, min=c.lo, max=c.hi, step=c.step, description=c.label or c.name,
                                  tooltip=c.meaning,
                                  continuous_update=continuous_update, readout_format=".2f")
            for c in self.coordinates
        }
        self.boxes = {
            c.name: w.FloatText(value=c.default, description="exact", layout=w.Layout(width="150px"), continuous_update=False)
            for c in self.coordinates
        }
        self.goto = w.Dropdown(options=[("go to ...", "")] + [(e, e) for e in EMOTIONS], value="", description="emotion")
        self.input_image = w.Image(format="png", width=display_px)
        self.output_image = w.Image(format="png", width=display_px)
        self.map_image = w.Image(format="png")
        self.message = w.HTML()

        self._build_figure()

        self.seed_slider.observe(lambda change: self._on_seed(change["new"]), names="value")
        self.path_box.observe(lambda change: self._on_path(change["new"]), names="value")
        for name, slider in self.sliders.items():
            slider.observe(lambda change, name=name: self._on_value(name, change["new"]), names="value")
        for name, box in self.boxes.items():
            box.observe(lambda change, name=name: self._on_value(name, change["new"]), names="value")
        self.goto.observe(lambda change: self._on_goto(change["new"]), names="value")

        rows = [w.HBox([self.sliders[c.name], self.boxes[c.name]]) for c in self.coordinates]
        faces = w.HBox([w.VBox([w.HTML("<b>source</b>"), self.input_image]), w.VBox([w.HTML("<b>edited</b>"), self.output_image])])
        self.widget = w.VBox([w.HBox([self.seed_slider, self.path_box]), *rows, self.goto, w.HBox([faces, self.map_image]), self.message])

        self.set_source(source)

    # -- what a subclass defines -------------------------------------------

    def edit(self, face: torch.Tensor, values: dict[str, float]) -> torch.Tensor:
        """G(face, code of ``values``); the editor raises ValueError naming a bad value."""
        return self.editor.edit_values(face, values)

    def point(self, values: dict[str, float]) -> tuple[float, float]:
        """Where the code lies on the map."""
        raise NotImplementedError

    def draw_map(self, ax: Axes) -> None:
        raise NotImplementedError

    def values_for(self, emotion: str) -> dict[str, float]:
        """The coordinates of a learned emotion (the "go to" menu)."""
        raise NotImplementedError

    def code_bars(self, values: dict[str, float]) -> dict[str, torch.Tensor]:
        """Distributions the code itself carries (GGANmut's p_z); none by default."""
        return {}

    def describe(self, values: dict[str, float]) -> str:
        return ", ".join(f"{n} = {v:.2f}" for n, v in values.items())

    def snapshot_grid(self, face: torch.Tensor, **options: Any) -> tuple[list[list[torch.Tensor]], list[str], list[str], str]:
        """(rows of faces, row labels, column labels, title) of the static figure."""
        raise NotImplementedError

    def _has_bars(self) -> bool:
        return self.reader is not None

    # -- public API -----------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def set_source(self, source: Source) -> bool:
        """Use a benchmark seed, an image path, a tensor or a FaceSource; False
        (and the reason in the message line) when it cannot be edited."""
        try:
            new = face_source(source, self.size, self.align)
        except (ValueError, TypeError, FileNotFoundError) as err:
            self._fail(str(err))
            return False
        self.source = new
        self.input_image.value = png_bytes(new.face, self.display_px)
        return self._update(self.values)

    def set(self, **values: float) -> bool:
        """Move the code (``set(theta=1.0, rho=0.5)``); False and a message when a
        value is out of range or not a number. The sliders follow a good value."""
        unknown = sorted(set(values) - set(self.values))
        if unknown:
            self._fail(f"unknown coordinate(s) {', '.join(unknown)}; this explorer has {', '.join(self.values)}")
            return False
        return self._update({**self.values, **values})

    def snapshot(self, **options: Any) -> Figure:
        """A static figure for the rendered book: the source face edited over a
        small grid of codes (options: see the subclass's ``snapshot_grid``)."""
        if self.source is None:
            raise ValueError(f"no source face to edit: {self.error}")
        rows, row_labels, col_labels, title = self.snapshot_grid(self.source.face, **options)
        captions = None
        if self.reader is not None:
            captions = [[self._verdict(img) if j else "" for j, img in enumerate(row)] for row in rows]
        return plot_image_grid(rows, row_labels, col_labels, captions=captions, title=f"{title} ({self.source.description})")

    # -- internals ----------------------------------------------------------

    def _verdict(self, image: torch.Tensor) -> str:
        p = self.reader(image)  # type: ignore[misc]
        k = int(p.argmax())
        return f"{EMOTIONS[k]} {float(p[k]):.2f}"

    def _update(self, values: dict[str, float]) -> bool:
        if self.source is None:
            self._fail(self.error or "no source face")
            return False
        try:
            edited = self.edit(self.source.face, values)
        except (ValueError, TypeError) as err:
            self._fail(str(err))
            return False
        self.values = {n: float(v) for n, v in values.items()}
        self.edited = edited
        self.error = None
        self._sync_controls()
        self.output_image.value = png_bytes(edited, self.display_px)
        self.probs = self.reader(edited) if self.reader is not None else None
        self._redraw()
        status = f"{html.escape(self.source.description)} · {self.describe(self.values)}"
        if self.probs is not None:
            k = int(self.probs.argmax())
            status += f" · judge: <b>{EMOTIONS[k]}</b> {float(self.probs[k]):.2f}"
        self.message.value = status
        return True

    def _fail(self, text: str) -> None:
        self.error = text
        self.message.value = f'<span style="color:#b00020"><b>cannot edit:</b> {html.escape(text)}</span>'

    def _sync_controls(self) -> None:
        self._syncing = True
        try:
            for name, value in self.values.items():
                self.sliders[name].value = value
                self.boxes[name].value = value
        finally:
            self._syncing = False

    def _bar_series(self) -> list[str]:
        names = ["judge (edited face)"] if self.reader is not None else []
        return names + list(self.code_bars(self.values))

    def _build_figure(self) -> None:
        """The map (and bars) drawn once; each update redraws only the moving
        artists over a saved background (blitting), which keeps an update far
        below a full matplotlib redraw."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        series = self._bar_series()
        self.figure = Figure(figsize=(6.6 if series else 3.6, 3.4), dpi=80, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        if series:
            self.map_ax, self.bars_ax = self.figure.subplots(1, 2, width_ratios=(1.1, 1.0))
            plot_emotion_bars({name: torch.zeros(len(EMOTIONS)) for name in series}, ax=self.bars_ax)
            patches = list(self.bars_ax.patches)
            self._bars = {name: patches[i * len(EMOTIONS) : (i + 1) * len(EMOTIONS)] for i, name in enumerate(series)}
        else:
            self.map_ax, self.bars_ax = self.figure.subplots(), None
            self._bars = {}
        self.draw_map(self.map_ax)
        self.map_ax.set_title(self.map_title, fontsize=9)
        (self._ray,) = self.map_ax.plot([], [], color="k", lw=1, zorder=5)
        (self._marker,) = self.map_ax.plot([], [], marker="X", color="k", mec="w", ms=11, zorder=6, ls="none")
        self._moving = [self._ray, self._marker] + [p for group in self._bars.values() for p in group]
        for artist in self._moving:
            artist.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _redraw(self) -> None:
        x, y = self.point(self.values)
        self._marker.set_data([x], [y])
        if self._draws_ray():
            self._ray.set_data([0, x], [0, y])
        values = dict(self.code_bars(self.values))
        if self.probs is not None:
            values["judge (edited face)"] = self.probs
        for name, patches in self._bars.items():
            for patch, p in zip(patches, values[name].tolist()):
                patch.set_width(p)
        self.canvas.restore_region(self._background)
        for artist in self._moving:
            self.figure.draw_artist(artist)
        self.map_image.value = rgba_png(self.canvas.buffer_rgba())

    def _draws_ray(self) -> bool:
        return False

    def _on_seed(self, seed: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        self.path_box.value = ""
        self._syncing = False
        self.set_source(int(seed))

    def _on_path(self, path: str) -> None:
        if self._syncing or not path.strip():
            return
        self.set_source(path.strip())

    def _on_value(self, name: str, value: float) -> None:
        if self._syncing:
            return
        if not self.set(**{name: value}):
            # the face shown keeps its code: put the slider and box back on it,
            # the message line says what was refused
            self._sync_controls()

    def _on_goto(self, emotion: str) -> None:
        if not emotion:
            return
        try:
            values = self.values_for(emotion)
        except ValueError as err:
            self._fail(str(err))
        else:
            self._update({**self.values, **values})
        self.goto.value = ""


class GANmutExplorer(Explorer):
    """rho/theta explorer of a linear GANmut (``gamutlib.models.ganmut.GANmutEditor``).

    theta in radians in [0, 2 pi] counter-clockwise from the map's +x axis,
    rho in [0, 1] (0 is the neutral origin).
    """

    map_title = "learned directions v_c"

    def __init__(self, editor: Any, judge: Any | None = None, source: Source = 0, **options: Any) -> None:
        from gamutlib.models.ganmut import LinearConditionSpace

        if not isinstance(getattr(editor, "space", None), LinearConditionSpace):
            raise TypeError(
                f"GANmutExplorer needs a GANmutEditor (linear space); got {type(editor).__name__}"
                " (use GGANmutExplorer for a GGANmutEditor, or explorer_for(editor))"
            )
        super().__init__(editor, judge, source, **options)

    def point(self, values: dict[str, float]) -> tuple[float, float]:
        return values["rho"] * math.cos(values["theta"]), values["rho"] * math.sin(values["theta"])

    def _draws_ray(self) -> bool:
        return True

    def draw_map(self, ax: Axes) -> None:
        plot_linear_space(self.editor.space, ax=ax)

    def values_for(self, emotion: str) -> dict[str, float]:
        theta = self.editor.theta_of(emotion)
        if theta is None:  # neutral: the origin
            return {"rho": 0.0}
        return {"theta": theta, "rho": 1.0}

    def describe(self, values: dict[str, float]) -> str:
        x, y = self.point(values)
        return (f"θ = {values['theta']:.2f} rad ({math.degrees(values['theta']):.0f}°), ρ = {values['rho']:.2f}"
                f" → z = ({x:.2f}, {y:.2f})")

    def snapshot_grid(
        self, face: torch.Tensor, rhos: Sequence[float] = (0.25, 0.5, 0.75, 1.0), thetas: Sequence[float] | None = None
    ) -> tuple[list[list[torch.Tensor]], list[str], list[str], str]:
        """Rows: the learned directions (or ``thetas``, radians); columns: ``rhos``."""
        if thetas is None:
            with torch.no_grad():
                angles = self.editor.space.angles().tolist()
            names = [e for k, e in enumerate(EMOTIONS) if k != self.editor.space.neutral]
            row_labels = [f"{n}\n{math.degrees(t):.0f}°" for n, t in zip(names, angles)]
        else:
            angles = list(thetas)
            row_labels = [f"θ = {math.degrees(float(t)):.0f}°" for t in angles]
        rows = [[face] + [self.editor.edit(face, float(t), float(r)) for r in rhos] for t in angles]
        return rows, row_labels, ["source"] + [f"ρ = {float(r):g}" for r in rhos], "GANmut: θ (rows) × ρ (columns)"


class GGANmutExplorer(Explorer):
    """x/y explorer of a Gaussian GGANmut (``gamutlib.models.gganmut.GGANmutEditor``):
    codes in [-1, 1]^2, the map coloured by the class p_z favours."""

    map_title = "learned modes (μ_c, Σ_c)"

    def __init__(self, editor: Any, judge: Any | None = None, source: Source = 0, **options: Any) -> None:
        from gamutlib.models.gganmut import GaussianConditionSpace

        if not isinstance(getattr(editor, "space", None), GaussianConditionSpace):
            raise TypeError(
                f"GGANmutExplorer needs a GGANmutEditor (Gaussian space); got {type(editor).__name__}"
                " (use GANmutExplorer for a GANmutEditor, or explorer_for(editor))"
            )
        super().__init__(editor, judge, source, **options)

    def _has_bars(self) -> bool:
        return True  # p_z is always there to show

    def point(self, values: dict[str, float]) -> tuple[float, float]:
        return values["x"], values["y"]

    def draw_map(self, ax: Axes) -> None:
        plot_gaussian_space(self.editor.space, ax=ax, resolution=81)

    def values_for(self, emotion: str) -> dict[str, float]:
        return self.editor.values_for(emotion, 1.0)

    def code_bars(self, values: dict[str, float]) -> dict[str, torch.Tensor]:
        return {"p_z (code)": self.editor.p_z(values["x"], values["y"])}

    def describe(self, values: dict[str, float]) -> str:
        p = self.editor.p_z(values["x"], values["y"])
        k = int(p.argmax())
        return f"z = ({values['x']:.2f}, {values['y']:.2f}) · p_z: {EMOTIONS[k]} {float(p[k]):.2f}"

    def snapshot_grid(
        self, face: torch.Tensor, steps: int = 5, extent: float = 0.9
    ) -> tuple[list[list[torch.Tensor]], list[str], list[str], str]:
        """A steps x steps grid over [-extent, extent]^2, +y on top as on the map."""
        axis = torch.linspace(-extent, extent, steps).tolist()
        rows = [[face] + [self.editor.edit_xy(face, x, y) for x in axis] for y in reversed(axis)]
        return (rows, [f"y = {y:.2f}" for y in reversed(axis)], ["source"] + [f"x = {x:.2f}" for x in axis],
                "GGANmut: codes over the square")


def explorer_for(editor: Any, judge: Any | None = None, source: Source = 0, **options: Any) -> Explorer:
    """The explorer that fits ``editor`` (linear or Gaussian space)."""
    from gamutlib.models.gganmut import GaussianConditionSpace

    cls = GGANmutExplorer if isinstance(getattr(editor, "space", None), GaussianConditionSpace) else GANmutExplorer
    return cls(editor, judge, source, **options)
