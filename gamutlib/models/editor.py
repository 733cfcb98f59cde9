"""Editing one face with a trained generator: input checks, speed variants, the shared editor.

The widget, ``gamut edit`` and the edit benchmark call the method-specific
editors (GANmutEditor, GGANmutEditor, both ``SpaceEditor``); this module holds
what they share: every value a user types is checked against the editor's
declared controls, and a bad one raises one ValueError that names it.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import torch
from torch import nn

from gamutlib.constants import EMOTIONS
from gamutlib.contract.controls import Control, check_values


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
    """A finite float in [lo, hi], else a ValueError naming ``name`` and the value
    (a one-off control: the same check and message as a declared ``Control``)."""
    return Control(name, "", lo, hi, unit=unit.strip()).check(value)  # type: ignore[return-value]


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


def codes_per_image(z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(N, d): ``z`` on x's device and dtype, one row per image of ``x`` (a single code broadcast)."""
    z = z.to(device=x.device, dtype=x.dtype)
    if z.dim() == 1:
        z = z.unsqueeze(0)
    if z.shape[0] == 1 and x.shape[0] > 1:
        z = z.expand(x.shape[0], -1)
    return z


def run_as(net: nn.Module, variant: str, *inputs: Any) -> Any:
    """net(*inputs) run as ``variant`` (see SPEED_VARIANTS; net prepared by prepare_generator):
    image inputs in NHWC for channels_last, bf16 autocast, torch.compile; the raw output.
    Inputs are tensors or, for a decoder, lists of feature maps (passed as they are)."""
    if "channels_last" in variant:
        inputs = tuple(t.contiguous(memory_format=torch.channels_last) if isinstance(t, torch.Tensor) and t.dim() == 4
                       else t for t in inputs)
    device = next(t.device for t in inputs if isinstance(t, torch.Tensor))
    net = _compiled(net) if variant == "compiled" else net
    with torch.inference_mode(), torch.autocast(device.type, dtype=torch.bfloat16, enabled="bf16" in variant):
        return net(*inputs)


def as_image(out: torch.Tensor) -> torch.Tensor:
    """A generator's output as the editors return it: float32, clamped to [-1, 1], contiguous."""
    return out.float().clamp(-1, 1).contiguous()


def run_generator(G: nn.Module, x: torch.Tensor, z: torch.Tensor, variant: str = "fp32") -> torch.Tensor:
    """G(x, z) for one code per image (z broadcast when a single code is given),
    run as ``variant`` (see SPEED_VARIANTS; G prepared by prepare_generator)."""
    return as_image(run_as(G, variant, x, codes_per_image(z, x)))


class NetPart(nn.Module):
    """One method of a network (``encode``, ``decode``) as a module, so that ``run_as``
    runs it as any variant (torch.compile needs a module); shares the network's weights."""

    def __init__(self, net: nn.Module, method: str) -> None:
        super().__init__()
        self.net, self.method = net, method

    def forward(self, *inputs: Any) -> Any:
        return getattr(self.net, self.method)(*inputs)


class SourceCache:
    """What an editor computes from the source face alone (an encoding, judged AUs),
    kept for the last source so that a slider move runs only the part that
    depends on the control.

    An entry is reused only for an equal source (same shape and values; a
    128 px comparison costs microseconds), the same speed variant and
    unchanged weights of ``net``: each parameter's and buffer's storage and
    in-place version counter (optimiser steps and ``load_state_dict`` advance
    the counter; ``.to(...)`` and a memory-format change move the storage)."""

    def __init__(self, net: nn.Module) -> None:
        self.net = net
        self._key: tuple | None = None
        self._source: torch.Tensor | None = None
        self._value: Any = None

    def _weights(self) -> tuple[tuple[int, int], ...]:
        return tuple((t.data_ptr(), t._version) for t in (*self.net.parameters(), *self.net.buffers()))

    def get(self, x: torch.Tensor, variant: str, compute: Any) -> Any:
        """``compute(x)`` for this source, computed once while the source, variant and weights stay."""
        key = (variant, x.dtype, x.device, tuple(x.shape), self._weights())
        if self._key != key or self._source is None or not torch.equal(self._source, x):
            self._value = compute(x)
            self._source, self._key = x.detach().clone(), key
        return self._value

    def clear(self) -> None:
        self._key = self._source = self._value = None


#: The shortcut every emotion editor offers: a named emotion and how far towards it.
EMOTION = Control("emotion", "a learned emotion, by name (its code at full intensity)", choices=EMOTIONS, default="neutral")
INTENSITY = Control("intensity", "how far from neutral towards that emotion (0 = neutral, 1 = its full code)",
                    0.0, 1.0, 1.0)


#: The random initialisers of torch.nn.init that layers call when built.
_RANDOM_INITS = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "xavier_uniform_", "xavier_normal_",
                 "trunc_normal_", "orthogonal_")


@contextmanager
def skip_random_init() -> Iterator[None]:
    """Build networks without drawing their random weights (a fifth of a second
    of `gamut edit` for GANmut's G and D): for networks whose every parameter
    is then loaded from a file, which `gamutlib.weights.load_into` checks.
    Parameters keep whatever memory they were given until then. The
    initialisers are replaced in torch.nn.init for the duration: do not build
    other networks in another thread meanwhile."""
    saved = {name: getattr(nn.init, name) for name in _RANDOM_INITS}
    try:
        for name in _RANDOM_INITS:
            setattr(nn.init, name, lambda tensor, *args, **kwargs: tensor)
        yield
    finally:
        for name, fn in saved.items():
            setattr(nn.init, name, fn)


class SpaceEditor:
    """Edit faces with a generator conditioned on a learned 2-D space (GANmut, GGANmut).

    A subclass declares its ``controls`` (the coordinates of a code, each a
    ``gamutlib.contract.Control``), says how checked values become a code
    (``code_of``) and how the emotion shortcut becomes coordinates
    (``values_for``). The declaration drives ``gamut edit``'s flags, the
    explorers' sliders, the edit benchmark and every range check.
    """

    method_cls: type  # the Method whose export the editor loads (GANmut, GGANmut)
    controls: tuple[Control, ...] = ()
    shortcuts: tuple[Control, ...] = (EMOTION, INTENSITY)
    #: Codes the edit benchmark times and checks (gamutlib.bench.edit).
    example_values: tuple[dict[str, float], ...] = ()

    def __init__(self, G: nn.Module, space: nn.Module, image_size: int = 128, variant: str = "fp32") -> None:
        self.G = G.eval()
        self.space = space.eval()
        self.image_size = image_size
        self.variant = prepare_generator(self.G, variant)  # see SPEED_VARIANTS

    def use_variant(self, variant: str) -> None:
        """Run G as ``variant`` from now on (``gamut bench edit`` says which is fastest)."""
        self.variant = prepare_generator(self.G, variant)

    @classmethod
    def from_method(cls, method: Any) -> "SpaceEditor":
        return cls(method.G, method.space, method.cfg.image_size)

    @classmethod
    def from_weights(cls, name: str | None = None, root: str = "weights", verify: bool = True) -> "SpaceEditor":
        """Load ``<root>/<name>.safetensors`` (default: the method's name) written by the trainer's export."""
        from gamutlib.weights import load_into, load_weights

        name = name or cls.method_cls.name
        expected = {"method": cls.method_cls.name}
        loaded = load_weights(name, expected=expected, root=root, verify=verify)
        with skip_random_init():  # G and space are overwritten from the file; D is dropped
            method = cls.method_cls(loaded[1])
        load_into({"G": method.G, "space": method.space}, name, expected=expected, root=root, verify=verify, loaded=loaded)
        return cls.from_method(method)

    # -- what a subclass defines ----------------------------------------------

    def code_of(self, values: dict[str, float]) -> torch.Tensor:
        """(1, 2): the code of checked coordinate values."""
        raise NotImplementedError

    def values_for(self, emotion: str | int, intensity: float = 1.0) -> dict[str, float]:
        """The coordinates of ``emotion`` at ``intensity`` (the shortcut)."""
        raise NotImplementedError

    # -- shared ----------------------------------------------------------------

    def check(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Every coordinate checked (a missing one takes its default); a bad one raises naming it."""
        return check_values(self.controls, values)  # type: ignore[return-value]

    def resolve(self, values: Mapping[str, Any]) -> dict[str, float]:
        """Coordinates from either the coordinates or the shortcut (``emotion`` and
        optional ``intensity``), never both; checked."""
        shortcut = {k: v for k, v in values.items() if k in {c.name for c in self.shortcuts} and v is not None}
        coordinates = {k: v for k, v in values.items() if k not in shortcut and v is not None}
        if not shortcut:
            return self.check(coordinates)
        if coordinates:
            raise ValueError(f"give either {'/'.join(c.name for c in self.controls)} or "
                             f"{'/'.join(c.name for c in self.shortcuts)}, not both")
        checked = check_values(self.shortcuts, shortcut)
        if "emotion" not in shortcut:
            raise ValueError("intensity needs an emotion to go towards")
        return self.check(self.values_for(checked["emotion"], checked["intensity"]))

    def edit_values(self, x: torch.Tensor, values: Mapping[str, Any]) -> torch.Tensor:
        """G(x, code of ``values``): coordinates or the emotion shortcut, checked."""
        return self.edit_code(x, self.code_of(self.resolve(values)))

    def edit_code(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """G(x, z) for codes already checked or produced by codes_for."""
        return run_generator(self.G, check_image(x, self.image_size), z, self.variant)
