"""The AU-delta explorer of FineGrained: one relative slider per action unit.

``AUDeltaExplorer(editor, source=0)`` edits a face with a trained relative
FineGrained generator (``gamutlib.models.finegrained.FineGrainedEditor``). Its
17 sliders are the editor's declared controls (the components of ``DELTA``:
the change of each AU in OpenFace intensity units, 0 = leave it as it is),
so moving one slider asks G for that AU alone (v_rel = delta / 5, Eq. 1).
The figure beside the faces shows, per AU, the source's AUs as the AU judge
reads them, the asked target (source + delta, kept in [0, 5]) and the edited
face's AUs as the judge reads them: how much of each asked change arrived,
and what moved that was not asked. The "go to" menu sets every slider to the
change from the source's judged AUs to an emotion's prototype AUs.

Everything else (the source face, the exact-value boxes, the message line,
the refusals of bad values and bad files) is the shared ``Explorer``'s.
``snapshot()`` is the static figure for the book: the source edited by each
of the editor's example changes.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from gamutlib.constants import AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.viz.image_grid import rgba_png
from gamutlib.widgets.explorer import Explorer, Source

#: The three bar series of the AU figure.
SERIES = ("source (judged)", "asked", "edited (judged)")
COLOURS = ("#9e9e9e", "#1f77b4", "#d62728")


class AUDeltaExplorer(Explorer):
    """One relative slider per AU over a FineGrained editor with an AU judge attached."""

    map_title = "action units: source, asked, edited"

    def __init__(self, editor: Any, source: Source = 0, **options: Any) -> None:
        if getattr(editor, "au_judge", None) is None or not hasattr(editor, "clip_to_range"):
            raise TypeError(f"AUDeltaExplorer needs a FineGrainedEditor with an AU judge attached (au_judge=...); "
                            f"got {type(editor).__name__}")
        self._source_aus: torch.Tensor | None = None
        self._edited_aus: torch.Tensor | None = None
        super().__init__(editor, None, source, **options)

    # -- the shared explorer's hooks -----------------------------------------

    def set_source(self, source: Source) -> bool:
        self._source_aus = None  # read again for the new face
        return super().set_source(source)

    def source_aus(self) -> torch.Tensor:
        """(17,) the source face's AUs as the AU judge reads them (OpenFace units)."""
        if self.source is None:
            raise ValueError(f"no source face: {self.error}")
        if self._source_aus is None:
            self._source_aus = self.editor.source_aus(self.source.face)[0].cpu()
        return self._source_aus

    def asked(self, values: dict[str, float]) -> torch.Tensor:
        """(17,) the asked target: the judged source AUs plus each change, kept in [0, 5]."""
        delta = self.editor.code_of(self.editor.check(values))[0] * AU_MAX
        return (self.source_aus() + delta).clamp(0, AU_MAX)

    def edited_aus(self) -> torch.Tensor | None:
        """(17,) the edited face's AUs as the AU judge reads them (None before the first edit)."""
        return self._edited_aus

    def point(self, values: dict[str, float]) -> tuple[float, float]:
        return 0.0, 0.0  # no map: the AU figure replaces it

    def draw_map(self, ax: Axes) -> None:
        pass

    def values_for(self, emotion: str) -> dict[str, float]:
        """The changes that take the source's judged AUs to ``emotion``'s prototype AUs."""
        from gamutlib.faces.emotion import emotion_prototypes

        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}; one of {', '.join(EMOTIONS)}")
        delta = emotion_prototypes()[EMOTIONS.index(emotion)] - self.source_aus()
        return {name: round(float(d), 1) for name, d in zip(AU_NAMES, delta.clamp(-AU_MAX, AU_MAX))}

    def describe(self, values: dict[str, float]) -> str:
        moved = [f"Δ{name} {v:+.1f}" for name, v in values.items() if v != 0]
        return ", ".join(moved) if moved else "no change asked (v_rel = 0)"

    def snapshot_grid(self, face: torch.Tensor, examples: Sequence[dict[str, float]] | None = None
                      ) -> tuple[list[list[torch.Tensor]], list[str], list[str], str]:
        """One row: the source, then its edit by each example change (default: the editor's examples)."""
        examples = list(examples if examples is not None else self.editor.example_values)
        edits = [self.editor.edit_values(face, values)[0] for values in examples]
        labels = ["source"] + ["\n".join(f"Δ{k} {v:+g}" for k, v in values.items()) for values in examples]
        return [[face] + edits], [""], labels, "FineGrained: one relative change per AU"

    # -- the AU figure (replaces the shared map and emotion bars) ------------

    def _build_figure(self) -> None:
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self.figure = Figure(figsize=(4.2, 4.6), dpi=80, layout="constrained")
        self.canvas = FigureCanvasAgg(self.figure)
        self.map_ax = self.figure.subplots()
        self.bars_ax = self.map_ax
        n = len(AU_NAMES)
        height = 0.8 / len(SERIES)
        self._bars = {}
        for i, (name, colour) in enumerate(zip(SERIES, COLOURS)):
            positions = [k + (i - 1) * height for k in range(n)]
            self._bars[name] = list(self.map_ax.barh(positions, [0.0] * n, height=height, color=colour, label=name))
        self.map_ax.set_yticks(range(n), AU_NAMES, fontsize=7)
        self.map_ax.invert_yaxis()
        self.map_ax.set_xlim(0, AU_MAX)
        self.map_ax.set_xlabel("intensity (OpenFace units)", fontsize=8)
        self.map_ax.legend(fontsize=7, loc="lower right")
        self.map_ax.set_title(self.map_title, fontsize=9)
        self._moving = [p for group in self._bars.values() for p in group]
        for artist in self._moving:
            artist.set_animated(True)
        self.canvas.draw()
        self._background = self.canvas.copy_from_bbox(self.figure.bbox)

    def _redraw(self) -> None:
        self._edited_aus = self.editor.source_aus(self.edited)[0].cpu() if self.edited is not None else None
        widths = {SERIES[0]: self.source_aus(), SERIES[1]: self.asked(self.values),
                  SERIES[2]: self._edited_aus if self._edited_aus is not None else torch.zeros(len(AU_NAMES))}
        for name, patches in self._bars.items():
            for patch, w in zip(patches, widths[name].tolist()):
                patch.set_width(w)
        self.canvas.restore_region(self._background)
        for artist in self._moving:
            self.figure.draw_artist(artist)
        self.map_image.value = rgba_png(self.canvas.buffer_rgba())

    def figure_now(self) -> Figure:
        """The AU figure as it stands (a plain matplotlib figure, for a static page)."""
        fig = Figure(figsize=(4.2, 4.6), dpi=80, layout="constrained")
        ax = fig.subplots()
        for i, (name, colour) in enumerate(zip(SERIES, COLOURS)):
            patches = self._bars[name]
            ax.barh([p.get_y() for p in patches], [p.get_width() for p in patches], height=patches[0].get_height(),
                    color=colour, label=name, align="edge")
        ax.set_yticks(range(len(AU_NAMES)), AU_NAMES, fontsize=7)
        ax.invert_yaxis()
        ax.set(xlim=(0, AU_MAX), title=f"{self.describe(self.values)}")
        ax.legend(fontsize=7, loc="lower right")
        return fig
