"""The AU-slider explorer: one slider per action unit (0-5, OpenFace order), for an editor
conditioned on AU intensities (EGGAN's ``EGGANEditor``).

The sliders are the editor's declared controls, as in every explorer; the
"go to" menu applies the editor's emotion presets (each emotion's prototype
AUs). Beside the faces, a bar per AU shows the intensity asked for and, when
an AU judge is given, a marker the intensity the judge reads on the edited
face: how far the edit follows the sliders, AU by AU.
"""

from __future__ import annotations

from typing import Any

import torch
from matplotlib.figure import Figure

from gamutlib.constants import AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.viz.image_grid import rgba_png
from gamutlib.widgets.explorer import Explorer, Source


class AUExplorer(Explorer):
    """Explorer of an AU-conditioned editor; ``au_judge(images) -> (N, 17)`` reads the edit's AUs."""

    map_title = "AU intensities: asked (bars) and judged (markers)"

    def __init__(self, editor: Any, au_judge: Any | None = None, source: Source = 0, **options: Any) -> None:
        names = tuple(c.name for c in editor.controls)
        if names != AU_NAMES:
            raise TypeError(f"AUExplorer needs an editor with one control per AU {AU_NAMES}; "
                            f"{type(editor).__name__} declares {names}")
        self.au_judge = au_judge
        self.judged: torch.Tensor | None = None
        super().__init__(editor, None, source, **options)

    def values_for(self, emotion: str) -> dict[str, float]:
        return self.editor.values_for(emotion, 1.0)

    def point(self, values: dict[str, float]) -> tuple[float, float]:
        return 0.0, 0.0  # no map: the AU bars take its place

    def draw_map(self, ax: Any) -> None:
        ax.set_xticks(range(len(AU_NAMES)), [n.removeprefix("AU") for n in AU_NAMES], fontsize=7)
        ax.set_ylim(0, AU_MAX)
        ax.set_xlim(-0.6, len(AU_NAMES) - 0.4)
        ax.set_xlabel("AU", fontsize=8)
        ax.tick_params(labelsize=7)

    def describe(self, values: dict[str, float]) -> str:
        asked = [f"{n} {v:.1f}" for n, v in values.items() if v > 0]
        text = "asked: " + (", ".join(asked) if asked else "all AUs 0 (neutral)")
        if self.judged is not None:
            off = (self.judged - torch.tensor([values[n] for n in AU_NAMES])).abs()
            text += f" · judge's largest miss: {AU_NAMES[int(off.argmax())]} by {float(off.max()):.2f}"
        return text

    def snapshot_grid(self, face: torch.Tensor, intensities: tuple[float, ...] = (0.33, 0.66, 1.0)
                      ) -> tuple[list[list[torch.Tensor]], list[str], list[str], str]:
        """Rows: the emotion presets (neutral left out); columns: their intensities."""
        emotions = [e for e in EMOTIONS if e != "neutral"]
        rows = [[face] + [self.editor.edit_values(face, self.editor.values_for(e, s)) for s in intensities] for e in emotions]
        return rows, emotions, ["source"] + [f"× {s:g}" for s in intensities], "AU presets of each emotion"

    # the figure: 17 asked bars and 17 judged markers, redrawn over a saved background
    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = Figure(figsize=(6.0, 2.8), dpi=80, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.map_ax, self.bars_ax, self._bars = self.figure.subplots(), None, {}
        self.draw_map(self.map_ax)
        self.map_ax.set_title(self.map_title, fontsize=9)
        x = list(range(len(AU_NAMES)))
        self._asked = list(self.map_ax.bar(x, [0.0] * len(x), color="#9ecae1", width=0.7))
        (self._judged_marker,) = self.map_ax.plot([], [], ls="none", marker="_", ms=12, mew=2.5, color="#d62728")
        self._moving = [*self._asked, self._judged_marker]
        for artist in self._moving:
            artist.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _redraw(self) -> None:
        for bar, name in zip(self._asked, AU_NAMES):
            bar.set_height(self.values[name])
        self.judged = None
        if self.au_judge is not None and self.edited is not None:
            image = self.edited if self.edited.ndim == 4 else self.edited[None]
            with torch.no_grad():
                self.judged = self.au_judge(image).float().reshape(-1)[: len(AU_NAMES)].clamp(0, AU_MAX).cpu()
            self._judged_marker.set_data(list(range(len(AU_NAMES))), self.judged.tolist())
        self.canvas.restore_region(self._background)
        for artist in self._moving:
            self.figure.draw_artist(artist)
        self.map_image.value = rgba_png(self.canvas.buffer_rgba())
