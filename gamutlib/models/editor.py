"""Editing one face with a trained generator: input checks and weight loading.

The widget and ``gamut edit`` call the method-specific editors (GANmutEditor,
GGANmutEditor); this module holds what they share: every value a user types is
checked here, and a bad one raises one ValueError that names it.
"""

from __future__ import annotations

import math
import weakref
from typing import Any

import torch
from torch import nn

from gamutlib.constants import EMOTIONS


def check_image(x: Any, size: int) -> torch.Tensor:
    """A float image (3, H, W) or batch (N, 3, H, W) in [-1, 1] of ``size`` px, as a batch."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"the image must be a torch.Tensor (N, 3, H, W) in [-1, 1]; got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(f"the image must be a float tensor in [-1, 1]; got dtype {x.dtype}")
    if x.dim() == 3:
        x = x.unsqueeze(0)
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"the image must be (N, 3, H, W) or (3, H, W); got shape {tuple(x.shape)}")
    if tuple(x.shape[-2:]) != (size, size):
        raise ValueError(
            f"the image is {x.shape[-2]}x{x.shape[-1]} px but this generator edits {size}x{size} faces; "
            "align and resize the face first"
        )
    if not torch.isfinite(x).all():
        raise ValueError("the image contains NaN or infinite values")
    lo, hi = float(x.min()), float(x.max())
    if lo < -1.0 - 1e-3 or hi > 1.0 + 1e-3:
        raise ValueError(f"image values must lie in [-1, 1]; got [{lo:.3g}, {hi:.3g}] (map [0, 255] with x / 127.5 - 1)")
    return x


def check_scalar(name: str, value: Any, lo: float, hi: float, unit: str = "") -> float:
    """A finite float in [lo, hi], else a ValueError naming ``name`` and the value."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [{lo:g}, {hi:g}]{unit}; got {value!r}") from None
    if math.isnan(v) or math.isinf(v):
        raise ValueError(f"{name} must be a finite number in [{lo:g}, {hi:g}]{unit}; got {v}")
    if not lo <= v <= hi:
        raise ValueError(f"{name} must lie in [{lo:g}, {hi:g}]{unit}; got {v:g}")
    return v


def emotion_index(emotion: str | int) -> int:
    """An emotion by name (``"happy"``) or index into gamutlib.constants.EMOTIONS."""
    if isinstance(emotion, str):
        key = emotion.strip().lower()
        if key not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}; choose one of {', '.join(EMOTIONS)}")
        return EMOTIONS.index(key)
    if isinstance(emotion, bool) or not isinstance(emotion, int) or not 0 <= emotion < len(EMOTIONS):
        raise ValueError(f"emotion must be a name or an index in [0, {len(EMOTIONS) - 1}]; got {emotion!r}")
    return emotion


#: How an editor runs G (timed and checked by ``gamut bench edit``). All run
#: under torch.inference_mode (no autograd bookkeeping); the output is float32.
SPEED_VARIANTS = {
    "fp32": "float32, contiguous NCHW",
    "channels_last": "float32, weights and input in NHWC (oneDNN's native conv layout)",
    "bf16": "bfloat16 autocast (fast on CPUs with AVX512-BF16/AMX), float32 weights",
    "channels_last_bf16": "NHWC and bfloat16 autocast",
    "compiled": "float32, G through torch.compile (needs a C++ compiler; compiles on the first edit, 10-30 s)",
}

# torch.compile'd wrappers of the generators run as "compiled", built once per G
# (the wrapper holds its G, so an entry lasts as long as the process: a few
# generators per session at most).
_COMPILED: "weakref.WeakKeyDictionary[nn.Module, nn.Module]" = weakref.WeakKeyDictionary()


def _compiled(G: nn.Module) -> nn.Module:
    if G not in _COMPILED:
        _COMPILED[G] = torch.compile(G, dynamic=False)
    return _COMPILED[G]


def check_variant(variant: str) -> str:
    if variant not in SPEED_VARIANTS:
        raise ValueError(f"unknown speed variant {variant!r}; choose one of {', '.join(SPEED_VARIANTS)}")
    return variant


def prepare_generator(G: nn.Module, variant: str) -> str:
    """Put G's weights in the memory format ``variant`` runs in (in place); returns the variant."""
    check_variant(variant)
    G.to(memory_format=torch.channels_last if "channels_last" in variant else torch.contiguous_format)
    return variant


def run_generator(G: nn.Module, x: torch.Tensor, z: torch.Tensor, variant: str = "fp32") -> torch.Tensor:
    """G(x, z) for one code per image (z broadcast when a single code is given),
    run as ``variant`` (see SPEED_VARIANTS; G prepared by prepare_generator)."""
    z = z.to(device=x.device, dtype=x.dtype)
    if z.dim() == 1:
        z = z.unsqueeze(0)
    if z.shape[0] == 1 and x.shape[0] > 1:
        z = z.expand(x.shape[0], -1)
    if "channels_last" in variant:
        x = x.contiguous(memory_format=torch.channels_last)
    bf16 = "bf16" in variant
    net = _compiled(G) if variant == "compiled" else G
    with torch.inference_mode(), torch.autocast(x.device.type, dtype=torch.bfloat16, enabled=bf16):
        out = net(x, z)
    return out.float().clamp(-1, 1).contiguous()
