"""A trained generator with its conditioning, and what every paper's evaluation needs.

Nothing here names a paper or a method: a paper's evaluation module supplies
a *conditioning* (which code stands for "emotion c", the search grid, the
sampling codes) and gets back

- ``Conditioned``: G plus that conditioning, one object for every table;
- ``load_conditioned`` / ``tiny_fallback`` / ``load_or_fallback``: shipped
  weights through the paper registry, or (smoke profile only) a tiny
  generator trained on the spot through the same engine;
- ``generate``: G(x_n, z_n) in chunks;
- ``test_faces``: the benchmark's held-out faces, the same on every device;
- ``RealFeatures``: the judge's features of the real test faces, computed
  once per run and shared by every FED of that run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from gamutlib.metrics.batched import map_batches
from gamutlib.metrics.checks import check_images


class Conditioning(Protocol):
    """How a method of a paper is conditioned (gamutlib.evaluation.ganmut has the GANmut series')."""

    kind: str
    code_dim: int

    def class_codes(self, model: "Conditioned") -> torch.Tensor: ...

    def search_grid(self, model: "Conditioned", sizes: Any) -> torch.Tensor: ...

    def sampling_codes(self, model: "Conditioned", labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor: ...


class Conditioned(nn.Module):
    """A trained generator with its conditioning: ``G(x, z)`` plus the codes
    the paper's tables ask for, read from ``conditioning`` (which gets the
    generator's learned condition space, where it has one)."""

    def __init__(self, name: str, method: str, G: nn.Module, space: nn.Module | None, image_size: int, source: str,
                 conditioning: Conditioning) -> None:
        super().__init__()
        self.name, self.method, self.conditioning = name, method, conditioning
        self.G, self.space = G.eval(), (space.eval() if space is not None else None)
        self.image_size, self.source = image_size, source

    @property
    def kind(self) -> str:
        return self.conditioning.kind

    @property
    def code_dim(self) -> int:
        return self.conditioning.code_dim

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return self.G(x, z.to(x.dtype)).clamp(-1, 1)

    # The codes a paper's tables ask for, read from the conditioning with this generator's space.

    @torch.no_grad()
    def class_codes(self) -> torch.Tensor:
        """(C, D): the code of each class at full strength."""
        return self.conditioning.class_codes(self)

    def search_grid(self, sizes: Any) -> torch.Tensor:
        """(K, D): the codes a reconstruction search walks (ERE)."""
        return self.conditioning.search_grid(self, sizes)

    @torch.no_grad()
    def sampling_codes(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """(N, D): the codes a distribution metric (FED) edits the faces with."""
        return self.conditioning.sampling_codes(self, labels, generator)


ConditioningFor = Callable[[str], Conditioning]  # method name -> its conditioning


def _build_method(method_name: str, config: dict[str, Any]) -> Any:
    from gamutlib.papers import get_method

    return get_method(method_name, {k: v for k, v in config.items() if k != "method"})


def load_conditioned(name: str, conditioning_for: ConditioningFor, root: str | Path = "weights",
                     device: torch.device | str = "cpu", verify: bool = True) -> Conditioned:
    """A shipped generator ``<root>/<name>.safetensors`` with its condition space."""
    from gamutlib.papers import method_of
    from gamutlib.weights import has_weights, load_into, load_weights, plain_path

    path = plain_path(root, name)
    if not has_weights(root, name):
        raise FileNotFoundError(f"{path} is missing: train and export it with `gamut train {method_of(name)} --export {name}`")
    _, config = load_weights(name, root=root, verify=verify)
    method_name = config.get("method", "")
    conditioning = conditioning_for(method_name)  # refuses a method the paper does not evaluate
    method = _build_method(method_name, config)
    modules = method.export()
    load_into(modules, name, root=root, verify=verify)
    size = int(config.get("image_size", 128))
    return Conditioned(name, method_name, modules["G"], modules.get("space"), size, f"{path}", conditioning).to(device)


def tiny_fallback(name: str, conditioning_for: ConditioningFor, overrides: dict[str, Any] | None = None, steps: int = 2,
                  image_size: int = 128, seed: int = 0, device: torch.device | str = "cpu") -> Conditioned:
    """A narrow generator of ``name``'s method trained ``steps`` steps right here,
    through the same engine, for when the shipped file is absent (its numbers
    say nothing about the method; the chapter says so). ``overrides`` are the
    method's own settings on top of the narrow StarGAN-layout defaults."""
    from gamutlib.papers import method_of
    from gamutlib.training import TrainConfig
    from gamutlib.training.trainer import Trainer

    method_name = method_of(name)
    d_layers = max(1, min(6, int(math.log2(image_size)) - 1))  # D's trunk halves the image d_layers times
    model = {"image_size": image_size, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": d_layers,
             "batch_size": 4, "n_critic": 1, **(overrides or {})}
    method = _build_method(method_name, model)
    config = TrainConfig(steps=steps, seed=seed, device=str(device), progress=False, log_every=max(steps, 1),
                         sample_every=10**9, checkpoint_every=10**9, precision="fp32", cuda_graphs=False)
    Trainer(method, config, run_dir=None).fit()
    modules = method.export()
    return Conditioned(name, method_name, modules["G"], modules.get("space"), image_size,
                       f"tiny fallback (width 8, {steps} training steps): weights/{name}.safetensors is absent",
                       conditioning_for(method_name)).to(device)


@torch.no_grad()
def generate(model: nn.Module, images: torch.Tensor, codes: torch.Tensor, chunk_size: int = 256,
             device: torch.device | str | None = None) -> torch.Tensor:
    """G(x_n, z_n), one code per face (N, D), in chunks, on images' device."""
    check_images(images)
    if codes.ndim != 2 or codes.shape[0] != images.shape[0]:
        raise ValueError(f"need one code per face: images {tuple(images.shape)}, codes {tuple(codes.shape)}")
    device = torch.device(device) if device is not None else images.device
    out = [model(x.to(device), z.to(device)).to(images.device)
           for x, z in zip(images.split(chunk_size), codes.split(chunk_size))]
    return torch.cat(out)


def test_faces(n: int, seed: int, size: int = 128, device: torch.device | str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` held-out benchmark faces and their labels: the same faces on every device and in every run."""
    from gamutlib.data import FaceTestSet

    test = FaceTestSet(n, size=size, seed=seed, device=device)
    return test.data["image"], test.data["label"]


class RealFeatures:
    """The judge's features of real faces, computed once per (judge function, faces).

    Every FED of a run compares edits against the same real faces; without
    this each method's FED recomputed them (same numbers, four times the work)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, int, tuple[int, ...]], torch.Tensor] = {}

    def __call__(self, judge_features: Any, images: torch.Tensor, chunk_size: int = 256,
                 device: torch.device | str | None = None) -> torch.Tensor:
        # the callable itself (bound methods of one judge compare equal), the faces by storage and shape
        key = (judge_features, images.data_ptr(), tuple(images.shape))
        if key not in self._cache:
            self._cache[key] = map_batches(judge_features, images, chunk_size, device)
        return self._cache[key]
