"""Matplotlib's own fonts, always known to its font manager.

Mathtext (``$S_c$`` in a title) loads the STIX, Computer Modern and DejaVu
Display fonts that ship inside matplotlib. The font manager knows fonts from
a cache file (``~/.cache/matplotlib/fontlist-*.json``) shared by every
process of the user; a cache written while matplotlib's own font folder could
not be read (seen when a shared environment was being reinstalled) lists only
the system fonts, and every later process then logs one "findfont: Font
family ... not found. Falling back to DejaVu Sans" per mathtext font, 21 in
all, into the notebook's output. ``ensure_bundled_fonts`` adds any bundled
font the manager lacks, in this process only (the cache file is left alone).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
from matplotlib import font_manager


def bundled_font_files() -> list[Path]:
    """The TrueType fonts shipped in matplotlib's data folder."""
    return sorted((Path(matplotlib.get_data_path()) / "fonts" / "ttf").glob("*.ttf"))


def ensure_bundled_fonts() -> list[Path]:
    """Register each bundled font the font manager does not list; return those added."""
    known = {Path(entry.fname).resolve() for entry in font_manager.fontManager.ttflist}
    added = []
    for path in bundled_font_files():
        if path.resolve() not in known:
            font_manager.fontManager.addfont(str(path))
            added.append(path)  # addfont also empties findfont's cache of earlier fallbacks
    return added
