"""shrink_figures: face figures become JPEG, line plots stay PNG, nothing else moves."""

import base64
import io

import nbformat
import numpy as np
from PIL import Image

from gamutlib.reproduce.figures import JPEG_SHARE, _main, shrink_figures


def _png_b64(array):
    out = io.BytesIO()
    Image.fromarray(array).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def _notebook(*images):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("plt.show()")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": b, "text/plain": "<Figure>"}) for b in images]
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), cell]
    return nb


def _photo():  # smooth gradients with noise: a rendered face's statistics, not a plot's
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:160, 0:240]
    base = np.stack([(x + y) % 256, (2 * x) % 256, (3 * y) % 256], -1).astype(float)
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def _plot():  # a white page with two thin lines
    page = np.full((160, 240, 3), 255, np.uint8)
    page[80, :] = 0
    page[:, 120] = (30, 60, 200)
    return page


def test_a_photographic_figure_becomes_a_smaller_jpeg_and_a_plot_stays_png():
    photo, plot = _png_b64(_photo()), _png_b64(_plot())
    nb = _notebook(photo, plot)
    saved = shrink_figures(nb)
    first, second = nb.cells[1].outputs
    assert set(first["data"]) == {"image/jpeg", "text/plain"}
    jpeg = base64.b64decode(first["data"]["image/jpeg"])
    assert jpeg[:2] == b"\xff\xd8" and Image.open(io.BytesIO(jpeg)).size == (240, 160)
    assert len(first["data"]["image/jpeg"]) < JPEG_SHARE * len(photo)
    assert saved == len(photo) - len(first["data"]["image/jpeg"]) > 0
    assert second["data"]["image/png"] == plot  # the plot is cheaper as PNG: untouched
    assert nb.cells[0].source == "# title"


def test_the_command_rewrites_only_notebooks_it_shrinks(tmp_path):
    lean, heavy = tmp_path / "lean.ipynb", tmp_path / "heavy.ipynb"
    nbformat.write(_notebook(_png_b64(_plot())), lean)
    nbformat.write(_notebook(_png_b64(_photo())), heavy)
    before_lean, before_heavy = lean.read_bytes(), heavy.stat().st_size
    assert _main([str(lean), str(heavy)]) == 0
    assert lean.read_bytes() == before_lean
    assert heavy.stat().st_size < before_heavy
    nbformat.validate(nbformat.read(heavy, as_version=4))
    assert shrink_figures(nbformat.read(heavy, as_version=4)) == 0  # a second pass finds nothing to do


def test_an_explorers_saved_image_becomes_jpeg_and_other_widgets_stay():
    from gamutlib.reproduce.figures import WIDGET_STATE

    photo = _png_b64(_photo())
    nb = _notebook()
    nb.metadata["widgets"] = {WIDGET_STATE: {"state": {
        "a": {"model_name": "ImageModel", "state": {"format": "png", "width": "128"},
              "buffers": [{"data": photo, "encoding": "base64", "path": ["value"]}]},
        "b": {"model_name": "FloatSliderModel", "state": {"value": 0.5}},
    }, "version_major": 2, "version_minor": 0}}
    saved = shrink_figures(nb)
    image = nb.metadata["widgets"][WIDGET_STATE]["state"]["a"]
    assert image["state"]["format"] == "jpeg" and saved == len(photo) - len(image["buffers"][0]["data"]) > 0
    assert base64.b64decode(image["buffers"][0]["data"])[:2] == b"\xff\xd8"
    assert nb.metadata["widgets"][WIDGET_STATE]["state"]["b"] == {"model_name": "FloatSliderModel", "state": {"value": 0.5}}
