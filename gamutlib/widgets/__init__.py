"""Interactive explorers (ipywidgets) and the face sources they edit.

``GANmutExplorer(editor, judge=None, source=0)`` (rho/theta sliders) and
``GGANmutExplorer`` (x/y sliders) edit a benchmark face or an image file live
and draw the current code on the learned map; ``explorer.snapshot()`` is the
static figure for the rendered book. ipywidgets is imported only when an
explorer is built, so the face sources work without the notebook extra.
"""

from gamutlib.widgets.source import FaceSource, benchmark_face, face_source, load_face

__all__ = ["FaceSource", "GANmutExplorer", "GGANmutExplorer", "benchmark_face", "explorer_for", "face_source", "load_face"]


def __getattr__(name: str):
    if name in ("GANmutExplorer", "GGANmutExplorer", "Explorer", "explorer_for"):
        from gamutlib.widgets import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module 'gamutlib.widgets' has no attribute {name!r}")
