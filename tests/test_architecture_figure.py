"""The model chapter's diagram of G and D: every head and the loss it feeds is drawn."""

import matplotlib

matplotlib.use("Agg")

from gamutlib.viz.architecture import plot_ganmut_architecture


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts)


def test_linear_diagram_names_heads_and_losses():
    fig = plot_ganmut_architecture()
    text = _texts(fig)
    for piece in ("D_{src}", "D_{cls}", "D_{coord}", "gradient penalty", "\\mathcal{L}_\\rho", "\\mathcal{L}_{info}",
                  "\\mathcal{L}_{rec}", "6 directions", "6 residual blocks", "(32->128)", "(64->2048 ch"):
        assert piece in text, piece
    assert "L}_{div}" not in text
    fig.canvas.draw()  # every label parses as mathtext


def test_gaussian_diagram_has_modes_and_divergence():
    fig = plot_ganmut_architecture(gaussian=True, g_width=64)
    text = _texts(fig)
    assert "7 modes" in text and "\\mathcal{L}_{div}" in text and "(64->256)" in text
    assert "\\mathcal{L}_\\rho" not in text
    fig.canvas.draw()


def test_figure_jpeg_is_a_smaller_jpeg():
    import io

    import numpy as np
    from matplotlib.figure import Figure
    from PIL import Image

    from gamutlib.viz.figure_jpeg import figure_jpeg
    from gamutlib.viz.image_grid import figure_png

    fig = Figure(figsize=(4, 3))
    fig.subplots().imshow(np.random.default_rng(0).random((64, 64, 3)))
    data = figure_jpeg(fig, dpi=72)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.size == (288, 216)
    assert len(data) < len(figure_png(fig, dpi=72))
