"""GANmut's learned conditional spaces, its loss terms on hand-made inputs, and the editors."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gamutlib.constants import EMOTIONS
from gamutlib.losses import loss_attention_tv, loss_div, loss_info, loss_rho, rho_hat
from gamutlib.models import GANmut, GANmutEditor, GGANmut, GGANmutEditor
from gamutlib.models.ganmut import LinearConditionSpace, polar_to_xy, sample_linear_codes
from gamutlib.models.gganmut import GaussianConditionSpace, sample_gaussian_codes

NEUTRAL = EMOTIONS.index("neutral")
TINY = dict(image_size=32, g_conv_dim=8, d_conv_dim=8, g_repeat_num=1, d_repeat_num=3, batch_size=8)


# --- the linear space --------------------------------------------------------


def test_directions_are_unit_and_stay_unit_under_optimisation():
    space = LinearConditionSpace()
    assert space.raw_directions.abs().max() <= 1e-4 * math.sqrt(1 / 6)  # supp. Sec. 3 initialisation
    torch.testing.assert_close(space.directions().norm(dim=1), torch.ones(6))
    opt = torch.optim.Adam(space.parameters(), lr=0.5)
    target = torch.randn(6, 2)
    for _ in range(5):
        loss = ((space.directions() - target) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
    torch.testing.assert_close(space.directions().norm(dim=1), torch.ones(6))


def test_neutral_is_the_origin_and_codes_scale_with_rho():
    space = LinearConditionSpace()
    table = space.directions_with_neutral()
    assert table.shape == (7, 2)
    assert (table[NEUTRAL] == 0).all()
    label = torch.tensor([1, 2, NEUTRAL, 6])
    rho = torch.tensor([0.3, 1.0, 0.9, 0.5])
    z = space.code(label, rho)
    torch.testing.assert_close(z.norm(dim=1), torch.tensor([0.3, 1.0, 0.0, 0.5]))
    # the angle of a code is the angle of its direction
    theta = space.angles()
    assert ((theta >= 0) & (theta < 2 * math.pi)).all()
    torch.testing.assert_close(polar_to_xy(theta, torch.ones(6)), space.directions())


def test_batch_split_follows_the_paper():
    torch.manual_seed(0)
    space = LinearConditionSpace()
    label = torch.tensor([NEUTRAL, 1, 2, 3, 4, 5, 6, NEUTRAL, 1, 2, 3, 4, 5, 6, 1, 1])
    codes = sample_linear_codes(space, label, n_c=9, tau=0.2, noise=0.0)
    S_c = codes.on_direction
    assert S_c.tolist() == [True] * 9 + [False] * 7
    assert (codes.target[~S_c] == -1).all() and (codes.target[S_c] >= 0).all()
    # S_c targets are a permutation of the batch's labels (c =d c')
    assert set(codes.target[S_c].tolist()) <= set(label.tolist())
    emo = S_c & (codes.target != NEUTRAL)
    neu = S_c & (codes.target == NEUTRAL)
    assert ((codes.rho[emo] >= 0.2) & (codes.rho[emo] <= 1)).all()
    assert (codes.rho[neu] == 0).all() and (codes.z[neu] == 0).all()
    torch.testing.assert_close(codes.z[S_c], space.code(codes.target[S_c], codes.rho[S_c]))
    # S_r: anywhere in the unit disk, |z| = rho
    torch.testing.assert_close(codes.z[~S_c].norm(dim=1), codes.rho[~S_c])
    with_noise = sample_linear_codes(space, label, n_c=9, tau=0.2, noise=0.1)
    assert not torch.allclose(with_noise.z[:9], space.code(with_noise.target[:9], with_noise.rho[:9]))
    with pytest.raises(ValueError, match="n_c"):
        sample_linear_codes(space, label, n_c=17)


# --- L_rho and L_info --------------------------------------------------------


def logits_with_top(p: float, n: int = 7, top: int = 1) -> torch.Tensor:
    """Logits whose softmax puts p on class ``top`` and (1-p)/(n-1) elsewhere."""
    probs = torch.full((n,), (1 - p) / (n - 1))
    probs[top] = p
    return probs.log()


def test_rho_hat_is_the_top_softmax_score():
    logits = torch.stack([logits_with_top(0.9), logits_with_top(0.5, top=4)])
    torch.testing.assert_close(rho_hat(logits), torch.tensor([0.9, 0.5]))


def test_loss_rho_on_hand_made_inputs():
    # D is 0.9 sure of its top class
    logits = torch.stack([logits_with_top(0.9)] * 4)
    # rho 0.9: no loss; rho 0.5: (0.9 - 0.5)^2; rho 0.1 and 0.2: at or below tau, ignored
    rho = torch.tensor([0.9, 0.5, 0.1, 0.2])
    torch.testing.assert_close(loss_rho(logits, rho, tau=0.2), torch.tensor((0.0 + 0.16) / 2))
    # only sub-tau codes: nothing to match
    assert float(loss_rho(logits, torch.tensor([0.0, 0.1, 0.15, 0.2]))) == 0.0
    # a more confident D is pulled towards the code's rho: the gradient lowers the top logit
    x = logits_with_top(0.9)[None].clone().requires_grad_(True)
    loss_rho(x, torch.tensor([0.5])).backward()
    assert x.grad[0, 1] > 0


def test_loss_info_is_the_mean_squared_coordinate_error():
    z = torch.tensor([[0.5, 0.0], [0.0, -1.0]])
    pred = torch.tensor([[0.5, 0.2], [0.3, -1.0]])
    torch.testing.assert_close(loss_info(pred, z), torch.tensor((0.04 + 0.09) / 4))


# --- the Gaussian space -------------------------------------------------------


def perturbed_space() -> GaussianConditionSpace:
    space = GaussianConditionSpace()
    with torch.no_grad():
        space.log_eigenvalues.normal_(0, 1.5)
        space.orientation.uniform_(-math.pi, math.pi)
    return space


def test_covariances_are_spd_and_precisions_invert_them():
    for space in (GaussianConditionSpace(), perturbed_space()):
        S = space.covariances()
        torch.testing.assert_close(S, S.transpose(-1, -2))
        assert (torch.linalg.eigvalsh(S) > 0).all()
        torch.testing.assert_close(space.precisions() @ S, torch.eye(2).expand(7, 2, 2), atol=1e-4, rtol=1e-4)
        torch.testing.assert_close(torch.linalg.eigvalsh(S).sort(-1).values, space.eigenvalues().sort(-1).values)
    fresh = GaussianConditionSpace()  # supp. Sec. 3: sigma^2 = 1, theta = 0 -> identity
    torch.testing.assert_close(fresh.covariances(), torch.eye(2).expand(7, 2, 2))
    assert (fresh.means().abs() < math.tanh(math.sqrt(0.5)) + 1e-6).all()


def test_mahalanobis_matches_a_direct_solve_and_p_z_sums_to_one():
    space = perturbed_space()
    z = torch.rand(32, 2) * 2 - 1
    d2 = space.mahalanobis_sq(z)
    diff = z[:, None, :] - space.means()[None]
    direct = (diff * torch.linalg.solve(space.covariances()[None].expand(32, -1, -1, -1), diff)).sum(-1)
    torch.testing.assert_close(d2, direct, atol=1e-4, rtol=1e-4)
    p = space.p_z(z)
    assert (p >= 0).all()
    torch.testing.assert_close(p.sum(1), torch.ones(32))
    torch.testing.assert_close(p, F.softmax(-d2, dim=1))


def test_p_z_picks_the_nearest_mode_in_mahalanobis_not_euclidean_distance():
    space = GaussianConditionSpace(n_classes=2)
    with torch.no_grad():
        space.w.copy_(torch.atanh(torch.tensor([[0.0, 0.0], [0.6, 0.0]])))
        # mode 0 is long along y (sigma^2 = 4), mode 1 is round and small (sigma^2 = 0.04)
        space.log_eigenvalues.copy_(torch.tensor([[0.04, 4.0], [0.04, 0.04]]).log())
    # at each mean its own mode wins
    assert space.p_z(space.means()).argmax(1).tolist() == [0, 1]
    # (0.35, 0.8) is Euclidean-closer to mode 1 (0.84 vs 0.87), but along mode 0's
    # long axis: d^2 = 3.2 from mode 0 against 17.6 from the tight mode 1
    z = torch.tensor([[0.35, 0.8]])
    euclid = (z - space.means()).norm(dim=1)
    assert euclid.argmin() == 1
    assert space.p_z(z).argmax() == 0


def test_gaussian_batch_split():
    space = GaussianConditionSpace()
    codes = sample_gaussian_codes(space, n=16, n_c=7, device=torch.device("cpu"))
    assert codes.target[:7].tolist() == list(range(7)) and (codes.target[7:] == -1).all()
    torch.testing.assert_close(codes.z[:7], space.means())
    assert (codes.z[7:].abs() <= 1).all()
    # the S_c codes carry the means' gradient
    codes.z[:7].sum().backward()
    assert space.w.grad is not None and space.w.grad.abs().sum() > 0


def test_loss_div_is_a_symmetric_kl():
    logits = torch.randn(4, 7)
    assert float(loss_div(logits, logits)) == pytest.approx(0.0, abs=1e-6)
    a, b = torch.randn(4, 7), torch.randn(4, 7)
    torch.testing.assert_close(loss_div(a, b), loss_div(b, a))
    p, q = F.softmax(a, 1), F.softmax(b, 1)
    by_hand = ((p * (p / q).log()).sum(1) + (q * (q / p).log()).sum(1)).mean()
    torch.testing.assert_close(loss_div(a, b), by_hand)


def test_l_div_moves_the_modes_towards_a_fixed_classifier():
    torch.manual_seed(0)
    space = GaussianConditionSpace()
    z = torch.rand(64, 2) * 2 - 1
    # a fixed "D" that calls the right half of the square happy, the left half sad
    q_logits = torch.full((64, 7), -4.0)
    q_logits[z[:, 0] > 0, EMOTIONS.index("happy")] = 4.0
    q_logits[z[:, 0] <= 0, EMOTIONS.index("sad")] = 4.0
    opt = torch.optim.Adam(space.parameters(), lr=0.05)
    losses = []
    for _ in range(40):
        loss = loss_div(space.p_z_logits(z), q_logits)
        losses.append(float(loss.detach()))
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert losses[-1] < 0.5 * losses[0]
    mu = space.means().detach()
    assert mu[EMOTIONS.index("happy"), 0] > mu[EMOTIONS.index("sad"), 0]


def test_attention_total_variation_by_hand():
    A = torch.zeros(2, 1, 4, 4)
    A[0, 0, :, 2:] = 1.0  # one vertical edge, 4 px long
    torch.testing.assert_close(loss_attention_tv(A), torch.tensor(4.0 / 2))


# --- the editors ----------------------------------------------------------------


def face() -> torch.Tensor:
    return torch.rand(1, 3, 32, 32) * 2 - 1


def test_ganmut_editor_codes_and_edits():
    editor = GANmutEditor.from_method(GANmut(n_c=5, **TINY))
    z = editor.codes_for("happy", 0.5)
    torch.testing.assert_close(z.norm(), torch.tensor(0.5))
    assert (editor.codes_for("neutral", 1.0) == 0).all()
    assert editor.theta_of("neutral") is None
    theta = editor.theta_of("happy")
    x = face()
    y = editor.edit(x, theta, 0.5)
    assert y.shape == (1, 3, 32, 32) and y.abs().max() <= 1
    torch.testing.assert_close(y, editor.edit_code(x, z), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(editor.edit_xy(x, float(z[0]), float(z[1])), y, atol=1e-5, rtol=1e-5)
    assert editor.edit(x[0], 0.0, 0.0).shape == (1, 3, 32, 32)  # a single (3, H, W) image


@pytest.mark.parametrize(
    "theta, rho, message",
    [
        (float("nan"), 0.5, "theta must be a finite"),
        (0.5, float("nan"), "rho must be a finite"),
        (-0.1, 0.5, r"theta must lie in \[0, 6.28319\] radians; got -0.1"),
        (7.0, 0.5, "theta must lie"),
        (1.0, 1.5, r"rho must lie in \[0, 1\]; got 1.5"),
        (1.0, -0.01, "rho must lie"),
        ("left", 0.5, "theta must be a number"),
    ],
)
def test_ganmut_editor_rejects_bad_codes(theta, rho, message):
    editor = GANmutEditor.from_method(GANmut(n_c=5, **TINY))
    with pytest.raises(ValueError, match=message):
        editor.edit(face(), theta, rho)


def test_editors_reject_bad_images_and_points():
    editor = GANmutEditor.from_method(GANmut(n_c=5, **TINY))
    with pytest.raises(ValueError, match="64x64 px but this generator edits 32x32"):
        editor.edit(torch.zeros(1, 3, 64, 64), 0.0, 0.5)
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        editor.edit(torch.full((1, 3, 32, 32), 255.0), 0.0, 0.5)
    with pytest.raises(ValueError, match="NaN"):
        editor.edit(torch.full((1, 3, 32, 32), float("nan")), 0.0, 0.5)
    with pytest.raises(TypeError, match="torch.Tensor"):
        editor.edit([[0.0]], 0.0, 0.5)
    with pytest.raises(ValueError, match="outside the unit disk"):
        editor.edit_xy(face(), 0.9, 0.9)
    with pytest.raises(ValueError, match="unknown emotion 'joy'"):
        editor.codes_for("joy")
    with pytest.raises(ValueError, match="intensity must lie"):
        editor.codes_for("happy", 2.0)
    g_editor = GGANmutEditor.from_method(GGANmut(**TINY))
    with pytest.raises(ValueError, match=r"y must lie in \[-1, 1\]; got 1.2"):
        g_editor.edit_xy(face(), 0.0, 1.2)
    with pytest.raises(ValueError, match="x must be a finite"):
        g_editor.edit_xy(face(), float("inf"), 0.0)


def test_gganmut_editor():
    method = GGANmut(**TINY)
    editor = GGANmutEditor.from_method(method)
    mu = method.space.means().detach()
    torch.testing.assert_close(editor.codes_for("angry", 1.0), mu[EMOTIONS.index("angry")])
    torch.testing.assert_close(editor.codes_for("angry", 0.0), mu[NEUTRAL])
    p = editor.p_z(0.1, -0.2)
    assert p.shape == (7,) and float(p.sum()) == pytest.approx(1.0, abs=1e-6)
    y = editor.edit_xy(face(), 0.1, -0.2)
    assert y.shape == (1, 3, 32, 32)


@pytest.mark.parametrize("cls, editor_cls", [(GANmut, GANmutEditor), (GGANmut, GGANmutEditor)])
def test_weights_round_trip_carries_the_space(tmp_path, cls, editor_cls):
    from gamutlib.weights import export_weights

    method = cls(**{**TINY, "batch_size": 16})
    with torch.no_grad():
        next(iter(method.space.parameters())).add_(0.3)  # a space that differs from a fresh one
    export_weights(method.name, method.export(), method.config, root=tmp_path)
    editor = editor_cls.from_weights(method.name, root=str(tmp_path))
    for a, b in zip(editor.space.parameters(), method.space.parameters()):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)  # fp16 in the file
    x = face()
    z = torch.tensor([[0.3, -0.4]])
    ref = GANmutEditor(method.G, method.space, 32).edit_code(x, z)
    torch.testing.assert_close(editor.edit_code(x, z), ref, atol=2e-2, rtol=0)
    with pytest.raises(ValueError, match=method.name):  # the file says what it holds
        (GGANmutEditor if cls is GANmut else GANmutEditor).from_weights(method.name, root=str(tmp_path))
