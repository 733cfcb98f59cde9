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
