"""GGANmut options beyond the paper's defaults."""

import pytest


def test_space_learning_rate_scale_reaches_only_the_modes():
    from gamutlib.models.gganmut import GGANmut

    groups = GGANmut(space_lr_scale=10.0).optim_groups()
    assert groups["space"]["lr"] == pytest.approx(10 * groups["G"]["lr"])
    assert groups["G"]["lr"] == groups["D"]["lr"] == pytest.approx(1e-4)
    assert GGANmut().optim_groups()["space"]["lr"] == pytest.approx(1e-4)  # the paper's default
