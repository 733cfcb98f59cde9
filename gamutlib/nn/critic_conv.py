"""A convolution for critics trained with a gradient penalty.

WGAN-GP and R1 differentiate D twice: once for dD/dx (kept in the graph),
then the penalty on it for D's weights. PyTorch's generic double backward of a
convolution computes the weight term as a convolution with an image-sized
kernel; for D's first layer at 128 px and batch 16 that one call takes
~1.3 ms on an H100, more than all of G's residual convolutions together.

``CriticConv2d`` computes the same function, but its backward is written with
ordinary differentiable ops: dL/dx is ``conv_transpose2d`` of the output
gradient with the weight, dL/dW is cuDNN's weight-gradient kernel. The
penalty's second derivative is then the backward of ``conv_transpose2d``,
which cuDNN runs with its regular forward and weight-gradient kernels. The
values are the same derivatives (tests compare them with autograd's in float64).

It also pads odd channel counts like ``AlignedConv2d`` (it is one).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gamutlib.nn.aligned import AlignedConv2d


def _engine_wants(ctx, index: int) -> bool:
    """Does this backward pass need the gradient of input ``index``?

    ``autograd.grad(out, x_hat)`` (the penalty's dD/dx) needs no weight
    gradients; computing them anyway would cost one weight-gradient pass.
    """
    if not ctx.needs_input_grad[index]:
        return False
    node = ctx.next_functions[index][0]
    if node is None:
        return False
    try:
        return bool(torch._C._will_engine_execute_node(node))
    except (AttributeError, RuntimeError):  # a leaf inside autograd.grad(), or no such API: compute it
        return True


class _Conv2dWithConvGradients(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding):  # type: ignore[override]
        ctx.save_for_backward(x, weight)
        ctx.stride, ctx.padding, ctx.has_bias = stride, padding, bias is not None
        return F.conv2d(x, weight, bias, stride, padding)

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        grad_x = grad_w = grad_b = None
        if _engine_wants(ctx, 0):
            k = weight.shape[-2:]
            # output_padding recovers the input size a strided conv rounds away
            expected = [(grad_out.shape[-2 + i] - 1) * ctx.stride[i] - 2 * ctx.padding[i] + k[i] for i in range(2)]
            extra = [x.shape[-2 + i] - expected[i] for i in range(2)]
            grad_x = F.conv_transpose2d(grad_out, weight, None, ctx.stride, ctx.padding, extra)
        if _engine_wants(ctx, 1):
            grad_w = torch.ops.aten.convolution_backward(
                grad_out, x, weight, None, ctx.stride, ctx.padding, (1, 1), False, (0, 0), 1, (False, True, False)
            )[1]
        if ctx.has_bias and _engine_wants(ctx, 2):
            grad_b = grad_out.sum((0, 2, 3))
        return grad_x, grad_w, grad_b, None, None


class CriticConv2d(AlignedConv2d):
    """``nn.Conv2d`` whose gradients are convolutions (see the module docstring).

    Same parameters and state dict as ``nn.Conv2d``. The convolution-gradient
    path runs while gradients are being recorded, for zero padding, no groups
    and no dilation, on CUDA (``conv_gradients`` None, the default) or wherever
    ``conv_gradients`` is True; otherwise it is the plain convolution (on CPU
    the generic double backward is the faster one).
    """

    conv_gradients: bool | None = None

    def _conv_forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        wanted = x.is_cuda if self.conv_gradients is None else self.conv_gradients
        if not (wanted and torch.is_grad_enabled()) or self.padding_mode != "zeros" or self.groups != 1 \
                or self.dilation != (1, 1) or isinstance(self.padding, str):
            return super()._conv_forward(x, weight, bias)
        device = x.device.type
        if torch.is_autocast_enabled(device):
            # cast outside the Function, so the casts are in the graph (the penalty's
            # second derivative reaches the fp32 weights through them)
            dtype = torch.get_autocast_dtype(device)
            x, weight = x.to(dtype), weight.to(dtype)
            bias = bias.to(dtype) if bias is not None else None
        else:
            # a view puts a node between the Function and the parameter, so the
            # backward can ask whether the engine wants the weight's gradient
            weight = weight.view_as(weight)
            bias = bias.view_as(bias) if bias is not None else None
        with torch.autocast(device, enabled=False):
            return _Conv2dWithConvGradients.apply(x, weight, bias, self.stride, self.padding)
