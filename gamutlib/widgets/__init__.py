"""Interactive explorers (ipywidgets).

``GANmutExplorer(editor, judge=None, source=0)`` (rho/theta sliders) and
``GGANmutExplorer`` (x/y sliders), or ``explorer_for(editor)``, edit a
benchmark face or an image file live and draw the current code on the learned
map; the sliders are the editor's declared controls. ``explorer.snapshot()``
is the static figure for the rendered book. The faces they edit come from
``gamutlib.face_source``. ipywidgets is imported only when an explorer is built.
"""

__all__ = ["Explorer", "GANmutExplorer", "GGANmutExplorer", "explorer_for"]


def __getattr__(name: str):
    if name in __all__:
        from gamutlib.widgets import explorer

        return getattr(explorer, name)
    raise AttributeError(f"module 'gamutlib.widgets' has no attribute {name!r}")
