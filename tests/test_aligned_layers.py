"""The channels_last fast-path layers compute what the torch layers compute."""

import pytest
import torch
from torch import nn

from gamutlib.nn import AlignedConv2d, InstanceNorm2d

CL = torch.channels_last


def _pair(cls_new, cls_ref, *args, **kw):
    torch.manual_seed(0)
    ref = cls_ref(*args, **kw)
    new = cls_new(*args, **kw)
    new.load_state_dict(ref.state_dict())
    return new, ref


@pytest.mark.parametrize("cin,cout,bias", [(10, 16, False), (3, 8, True), (16, 3, False), (5, 1, True)])
def test_aligned_conv_matches_conv_values_and_gradients(cin, cout, bias):
    new, ref = _pair(AlignedConv2d, nn.Conv2d, cin, cout, 3, 1, 1, bias=bias)
    new = new.to(memory_format=CL)  # channels_last weights: the padded path
    x = torch.randn(2, cin, 12, 12, dtype=torch.double)
    new, ref = new.double().to(memory_format=CL), ref.double()
    xa = x.clone().to(memory_format=CL).requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    ya, yb = new(xa), ref(xb)
    assert ya.shape == yb.shape == (2, cout, 12, 12)
    torch.testing.assert_close(ya, yb)
    g = torch.randn_like(yb)
    ya.backward(g), yb.backward(g)
    torch.testing.assert_close(xa.grad, xb.grad)
    torch.testing.assert_close(new.weight.grad, ref.weight.grad)
    assert new.weight.grad.shape == (cout, cin, 3, 3)
    if bias:
        torch.testing.assert_close(new.bias.grad, ref.bias.grad)


def test_aligned_conv_double_backward_for_gradient_penalties():
    new, ref = _pair(AlignedConv2d, nn.Conv2d, 3, 8, 4, 2, 1)
    new, ref = new.double().to(memory_format=CL), ref.double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.double)
    grads = []
    for net, inp in ((new, x.clone().to(memory_format=CL)), (ref, x.clone())):
        inp.requires_grad_(True)
        out = torch.nn.functional.leaky_relu(net(inp), 0.2).pow(2).sum()
        (g,) = torch.autograd.grad(out, inp, create_graph=True)
        g.pow(2).sum().backward()
        grads.append(net.weight.grad)
    torch.testing.assert_close(grads[0], grads[1])


def test_aligned_conv_keeps_the_parent_path_and_state_keys():
    new, ref = _pair(AlignedConv2d, nn.Conv2d, 10, 16, 7, 1, 3, bias=False)
    assert new.state_dict().keys() == ref.state_dict().keys()
    x = torch.randn(1, 10, 16, 16)
    assert torch.equal(new(x), ref(x))  # NCHW weights: exactly the parent's code


def test_instance_norm_channels_last_matches_torch():
    new, ref = _pair(InstanceNorm2d, nn.InstanceNorm2d, 6, affine=True)
    with torch.no_grad():
        new.weight.uniform_(0.5, 1.5), new.bias.normal_()
        ref.load_state_dict(new.state_dict())
    x = torch.randn(3, 6, 10, 10, dtype=torch.double) * 3 + 1
    new, ref = new.double(), ref.double()
    xa = x.clone().to(memory_format=CL).requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    ya, yb = new(xa), ref(xb)
    assert ya.is_contiguous(memory_format=CL)  # the layout survives
    torch.testing.assert_close(ya, yb)
    g = torch.randn_like(yb)
    ya.backward(g), yb.backward(g)
    torch.testing.assert_close(xa.grad, xb.grad)
    torch.testing.assert_close(new.weight.grad, ref.weight.grad)
    torch.testing.assert_close(new.bias.grad, ref.bias.grad)


def test_generator_channels_last_equals_nchw():
    from gamutlib.models.stargan import Generator

    torch.manual_seed(0)
    G = Generator(conv_dim=8, c_dim=7, repeat_num=1).double()
    x, c = torch.randn(2, 3, 16, 16, dtype=torch.double), torch.eye(7, dtype=torch.double)[:2]
    ref = G(x, c)
    G = G.to(memory_format=CL)
    out = G(x.to(memory_format=CL), c)
    torch.testing.assert_close(out, ref)
