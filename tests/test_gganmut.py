"""GGANmut options beyond the paper's defaults."""

import pytest


def test_space_learning_rate_scale_reaches_only_the_modes():
    from gamutlib.models.gganmut import GGANmut

    groups = GGANmut(space_lr_scale=10.0).optim_groups()
    assert groups["space"]["lr"] == pytest.approx(10 * groups["G"]["lr"])
    assert groups["G"]["lr"] == groups["D"]["lr"] == pytest.approx(1e-4)
    assert GGANmut().optim_groups()["space"]["lr"] == pytest.approx(1e-4)  # the paper's default


def test_init_eigenvalue_sets_every_mode_and_sharpens_p_z():
    import torch

    from gamutlib.models.gganmut import GaussianConditionSpace, GGANmut

    torch.manual_seed(0)
    wide = GaussianConditionSpace()
    torch.manual_seed(0)
    sharp = GaussianConditionSpace(init_eigenvalue=0.05)
    torch.testing.assert_close(sharp.eigenvalues(), torch.full((7, 2), 0.05))
    torch.testing.assert_close(sharp.means(), wide.means())  # only the covariances differ
    own = torch.arange(7)
    # p_z at each mode's own mean: sharper modes give that mode more of the mass
    p_wide, p_sharp = wide.p_z(wide.means())[own, own], sharp.p_z(sharp.means())[own, own]
    assert bool((p_sharp > p_wide).all())
    assert float(p_sharp.mean()) > 0.5 > float(p_wide.mean())
    assert float(GGANmut(init_eigenvalue=0.25).space.eigenvalues()[0, 0]) == pytest.approx(0.25)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_init_eigenvalue_must_be_positive(bad):
    from gamutlib.models.gganmut import GaussianConditionSpace

    with pytest.raises(ValueError, match="init_eigenvalue"):
        GaussianConditionSpace(init_eigenvalue=bad)
