"""Figures shared by the notebooks, the widgets and the CLI.

- ``condition_space``: GANmut's learned map (directions or Gaussian modes).
- ``emotion_bars``: emotion distributions (judge softmax, p_z) as bars.
- ``image_grid``: grids of faces, PNG bytes of one face or a figure.
- ``emotion_wheel``: the supplement's wheels of emotion.
- ``fonts``: matplotlib's own fonts, registered even under a stale font cache.
"""

from gamutlib.viz.condition_space import EMOTION_COLORS, plot_gaussian_space, plot_linear_space
from gamutlib.viz.emotion_bars import plot_emotion_bars
from gamutlib.viz.emotion_wheel import plot_emotion_wheel, wheel_codes
from gamutlib.viz.fonts import ensure_bundled_fonts
from gamutlib.viz.image_grid import figure_png, plot_image_grid, png_bytes, to_uint8

__all__ = [
    "EMOTION_COLORS",
    "figure_png",
    "plot_emotion_bars",
    "plot_emotion_wheel",
    "plot_gaussian_space",
    "plot_image_grid",
    "plot_linear_space",
    "png_bytes",
    "to_uint8",
    "wheel_codes",
]

# before any figure is drawn: mathtext must find matplotlib's own fonts (see gamutlib.viz.fonts)
ensure_bundled_fonts()
