"""Nothing the package does writes warnings or font fallbacks into a chapter's output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import scipy.linalg

from gamutlib.metrics.frechet import frechet_distance_of_features

ROOT = Path(__file__).resolve().parents[1]
MATHTEXT = "import matplotlib.pyplot as plt\nfig, ax = plt.subplots()\nax.set_title('$S_c$ and $S_r$')\nfig.savefig(__import__('io').BytesIO())\n"


def stale_font_cache(folder: Path) -> None:
    """A matplotlib config folder whose font cache lists only system fonts,
    as one written while matplotlib's own font folder could not be read."""
    import matplotlib
    from matplotlib import font_manager

    data = str(Path(matplotlib.get_data_path()).resolve())
    manager = font_manager.FontManager()
    manager.ttflist = [f for f in manager.ttflist if not str(Path(f.fname).resolve()).startswith(data)]
    folder.mkdir()
    font_manager.json_dump(manager, folder / f"fontlist-v{font_manager.FontManager.__version__}.json")


def run_python(code: str, config: Path) -> str:
    env = {**os.environ, "MPLCONFIGDIR": str(config), "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_mathtext_finds_matplotlibs_own_fonts_under_a_stale_cache(tmp_path):
    stale_font_cache(tmp_path / "mpl")
    # the fault: a plain matplotlib falls back for every mathtext font
    assert run_python(MATHTEXT, tmp_path / "mpl").count("findfont") >= 10
    # gamutlib.viz (imported by every chapter that draws) registers them first
    assert run_python("import gamutlib.viz\n" + MATHTEXT, tmp_path / "mpl") == ""
    # and leaves the shared cache file as it found it
    cache = json.loads(next((tmp_path / "mpl").glob("fontlist-*.json")).read_text())
    assert not any("STIX" in entry["name"] for entry in cache["ttflist"])


def test_fed_on_singular_covariances_is_quiet_and_finite():
    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(40, 64)), rng.normal(size=(40, 64)) + 0.5
    real[:, :10] = fake[:, :10] = 0.0  # dead ReLU units: both covariances singular
    with warnings.catch_warnings(record=True) as plain:
        warnings.simplefilter("always")
        scipy.linalg.sqrtm(np.cov(real, rowvar=False) @ np.cov(fake, rowvar=False))
    assert any(issubclass(w.category, scipy.linalg.LinAlgWarning) for w in plain)  # scipy does warn here
    with warnings.catch_warnings(record=True) as ours:
        warnings.simplefilter("always")
        distance = frechet_distance_of_features(real, fake)
    assert ours == []
    assert np.isfinite(distance) and distance > 0
