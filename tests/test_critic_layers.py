"""The engine's same-maths speed-ups for critics: joined forwards
(critic_with_gp), convolution gradients (CriticConv2d) and channel padding
(AlignedConv2d), each checked against the plain computation in float64."""

import pytest
import torch

from gamutlib.losses.gradient_penalty import critic_with_gp, wgan_gp
from gamutlib.models.stargan import Discriminator
from gamutlib.nn import AlignedConv2d, CriticConv2d


def small_critic(conv_gradients: bool | None = None) -> Discriminator:
    torch.manual_seed(0)
    D = Discriminator(image_size=32, conv_dim=8, c_dim=7, repeat_num=4).double()
    for m in D.modules():
        if isinstance(m, CriticConv2d):
            m.conv_gradients = conv_gradients
    return D


def critic_loss_and_grads(D, real, fake, batching):
    torch.manual_seed(3)
    D.zero_grad(set_to_none=True)
    (src_r, cls_r), (src_f, _), gp = critic_with_gp(D, real, fake, batching)
    loss = -src_r.mean() + src_f.mean() + cls_r.square().mean() + 10 * gp
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in D.parameters()], gp.detach()


@pytest.mark.parametrize("batching", ["separate", "pair", "all"])
def test_critic_with_gp_is_three_separate_forwards(batching):
    D = small_critic()
    real, fake = torch.randn(4, 3, 32, 32, dtype=torch.float64), torch.randn(4, 3, 32, 32, dtype=torch.float64)
    # the reference arrangement: D(real), D(fake), then wgan_gp on its own
    torch.manual_seed(3)
    D.zero_grad(set_to_none=True)
    src_r, cls_r = D(real)
    src_f, _ = D(fake)
    gp_ref = wgan_gp(lambda x: D(x)[0], real, fake)
    loss_ref = -src_r.mean() + src_f.mean() + cls_r.square().mean() + 10 * gp_ref
    loss_ref.backward()
    grads_ref = [p.grad.clone() for p in D.parameters()]

    loss, grads, gp = critic_loss_and_grads(D, real, fake, batching)
    torch.testing.assert_close(gp, gp_ref.detach(), rtol=1e-10, atol=1e-12)
    torch.testing.assert_close(loss, loss_ref.detach(), rtol=1e-10, atol=1e-12)
    for a, b in zip(grads, grads_ref):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


def test_joined_forwards_refuse_a_batch_norm_critic():
    D = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    x = torch.randn(2, 3, 8, 8)
    with pytest.raises(ValueError, match="batch norm"):
        critic_with_gp(_TupleOut(D), x, x, "all")
    with pytest.raises(ValueError, match="batching must be one of"):
        critic_with_gp(_TupleOut(D), x, x, "joint")
    out_real, _, _ = critic_with_gp(_TupleOut(D), x, x, "separate")  # separate is always allowed
    assert out_real[0].shape == (2, 4, 6, 6)


class _TupleOut(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return (self.net(x),)


def test_critic_conv_gives_autograds_penalty_gradients():
    # The convolution-gradient path (on CUDA by default) forced on CPU: the
    # penalty's gradients in D's weights equal PyTorch's generic double backward.
    real, fake = torch.randn(3, 3, 32, 32, dtype=torch.float64), torch.randn(3, 3, 32, 32, dtype=torch.float64)
    plain = critic_loss_and_grads(small_critic(conv_gradients=False), real, fake, "all")
    ours = critic_loss_and_grads(small_critic(conv_gradients=True), real, fake, "all")
    torch.testing.assert_close(ours[0], plain[0], rtol=1e-10, atol=1e-12)
    for a, b in zip(ours[1], plain[1]):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("size,stride,bias", [(9, 2, True), (8, 1, False), (16, 2, False)])
def test_critic_conv_passes_gradcheck_and_gradgradcheck(size, stride, bias):
    conv = CriticConv2d(3, 5, 4 if stride == 2 else 3, stride, 1, bias=bias).double()
    conv.conv_gradients = True
    x = torch.randn(2, 3, size, size, dtype=torch.float64, requires_grad=True)
    args = (x, conv.weight) + ((conv.bias,) if bias else ())

    def fn(x, w, b=None):
        return conv._conv_forward(x, w, b)

    assert torch.autograd.gradcheck(fn, args)
    assert torch.autograd.gradgradcheck(fn, args)


def test_critic_conv_is_a_plain_conv_without_gradients():
    conv = CriticConv2d(3, 8, 4, 2, 1).double()
    conv.conv_gradients = True
    x = torch.randn(2, 3, 16, 16, dtype=torch.float64)
    with torch.no_grad():
        torch.testing.assert_close(conv(x), torch.nn.functional.conv2d(x, conv.weight, conv.bias, 2, 1))
    assert set(conv.state_dict()) == {"weight", "bias"}  # nn.Conv2d's keys: checkpoints load either way


@pytest.mark.parametrize("cin,cout,stride", [(10, 64, 1), (64, 3, 1), (3, 16, 2), (5, 1, 1)])
def test_aligned_conv_padding_is_the_same_convolution(cin, cout, stride):
    conv = AlignedConv2d(cin, cout, 7 if stride == 1 else 4, stride, 3 if stride == 1 else 1, bias=cout == 16).double()
    x = torch.randn(2, cin, 16, 16, dtype=torch.float64, requires_grad=True)
    padded = conv.padded_forward(x)
    plain = torch.nn.Conv2d.forward(conv, x)
    torch.testing.assert_close(padded, plain, rtol=1e-12, atol=1e-12)
    # and so are its gradients
    g_padded = torch.autograd.grad(padded.square().sum(), [x, conv.weight])
    g_plain = torch.autograd.grad(plain.square().sum(), [x, conv.weight])
    for a, b in zip(g_padded, g_plain):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    # on CPU the layer is the plain convolution
    assert torch.equal(conv(x), plain)
