"""GGANmut options beyond the paper's defaults."""

import pytest


def test_space_learning_rate_scale_reaches_only_the_modes():
    from gamutlib.models.gganmut import GGANmut

    groups = GGANmut(space_lr_scale=10.0).optim_groups()
    assert groups["space"]["lr"] == pytest.approx(10 * groups["G"]["lr"])
    assert groups["G"]["lr"] == groups["D"]["lr"] == pytest.approx(1e-4)
    assert GGANmut().optim_groups()["space"]["lr"] == pytest.approx(1e-4)  # the paper's default


def test_div_per_class_is_the_reference_scale():
    import torch

    from gamutlib.losses import loss_div

    torch.manual_seed(0)
    a, b = torch.randn(5, 7), torch.randn(5, 7)
    full = loss_div(a, b)
    assert float(full) > 0
    torch.testing.assert_close(loss_div(a, b, per_class=True), full / 7)


def test_gganmut_passes_div_per_class_to_its_loss():
    import torch

    from gamutlib.models.gganmut import GGANmut

    losses = {}
    for per_class in (False, True):
        torch.manual_seed(0)
        m = GGANmut(image_size=64, g_conv_dim=4, d_conv_dim=4, d_repeat_num=6, g_repeat_num=1, batch_size=8,
                    div_per_class=per_class)
        batch = {"image": torch.rand(8, 3, 64, 64) * 2 - 1, "label": torch.arange(8) % 7}
        torch.manual_seed(1)
        losses[per_class] = m.g_phase(batch, 0)["loss_div"]
    torch.testing.assert_close(losses[True], losses[False] / 7)
