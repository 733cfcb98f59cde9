"""How many faces a training stream renders at once, and GAMUT_RENDER_AHEAD."""

import pytest
import torch

from gamutlib.data.stream import RENDER_AHEAD_ENV, default_render_ahead


def test_defaults_are_1024_on_cuda_and_one_batch_on_a_cpu(monkeypatch):
    monkeypatch.delenv(RENDER_AHEAD_ENV, raising=False)
    assert default_render_ahead(torch.device("cuda"), 16) == 1024
    assert default_render_ahead(torch.device("cpu"), 16) == 16


def test_the_environment_sets_it_on_any_device(monkeypatch):
    monkeypatch.setenv(RENDER_AHEAD_ENV, "128")
    assert default_render_ahead(torch.device("cuda"), 16) == 128
    assert default_render_ahead(torch.device("cpu"), 16) == 128


@pytest.mark.parametrize("bad", ["0", "-4", "many", "1.5"])
def test_a_bad_value_is_one_clear_error(monkeypatch, bad):
    monkeypatch.setenv(RENDER_AHEAD_ENV, bad)
    with pytest.raises(ValueError, match=RENDER_AHEAD_ENV):
        default_render_ahead(torch.device("cuda"), 16)
