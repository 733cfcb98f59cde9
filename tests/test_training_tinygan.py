"""A tiny WGAN-GP method for the engine's tests (8-16 px, a few hundred weights)."""

from __future__ import annotations

from typing import Any, Iterator

import torch
from torch import nn

from gamutlib.losses.gradient_penalty import wgan_gp
from gamutlib.contract.method import Phase


class SeededStream:
    """Endless batches from its own generator, with state_dict (exact resume)."""

    def __init__(self, device: torch.device, seed: int, size: int, batch: int) -> None:
        self.gen = torch.Generator().manual_seed(seed)
        self.device, self.size, self.batch = device, size, batch

    def __iter__(self) -> "SeededStream":
        return self

    def __next__(self) -> dict[str, torch.Tensor]:
        image = torch.rand(self.batch, 3, self.size, self.size, generator=self.gen) * 2 - 1
        label = torch.randint(0, 2, (self.batch,), generator=self.gen)
        return {"image": image.to(self.device), "label": label.to(self.device)}

    def state_dict(self) -> dict[str, Any]:
        return {"gen": self.gen.get_state()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.gen.set_state(state["gen"])


def stateless_stream(device: torch.device, seed: int, size: int, batch: int) -> Iterator[dict[str, torch.Tensor]]:
    gen = torch.Generator().manual_seed(seed)
    while True:
        image = torch.rand(batch, 3, size, size, generator=gen) * 2 - 1
        yield {"image": image.to(device), "label": torch.randint(0, 2, (batch,), generator=gen).to(device)}


class Wrapped(nn.Module):
    """Our own module class around a Sequential: torch.compile skips torch.nn's
    own forward methods, so only user code like this gets compiled."""

    def __init__(self, *layers: nn.Module) -> None:
        super().__init__()
        self.main = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x)


class TinyGAN:
    """G: 3->3 conv net with dropout (draws from the global RNG); D: conv -> score."""

    name = "tiny"

    def __init__(self, config: dict[str, Any] | None = None) -> None:
        self.config = {"size": 8, "batch": 4, "width": 4, "n_critic": 2, "lambda_gp": 10.0,
                       "stateful_data": True, "lr": 1e-3, "nan_at": -1, **(config or {})}
        w = self.config["width"]
        torch.manual_seed(0)
        self.G = Wrapped(nn.Conv2d(3, w, 3, padding=1), nn.ReLU(), nn.Dropout(0.2), nn.Conv2d(w, 3, 3, padding=1), nn.Tanh())
        self.D = Wrapped(nn.Conv2d(3, w, 3, stride=2, padding=1), nn.LeakyReLU(0.2), nn.Flatten(), nn.LazyLinear(1))
        self.D(torch.zeros(1, 3, self.config["size"], self.config["size"]))  # materialise the lazy layer

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G, "D": self.D}

    def optim_groups(self) -> dict[str, dict[str, Any]]:
        lr = self.config["lr"]
        return {"G": {"lr": lr, "betas": (0.5, 0.999)}, "D": {"lr": 2 * lr, "betas": [0.5, 0.999]}}

    def d_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        real = batch["image"]
        with torch.no_grad():
            fake = self.G(real)
        loss_real = -self.D(real).mean()
        loss_fake = self.D(fake).mean()
        loss_gp = wgan_gp(self.D, real, fake)
        loss = loss_real + loss_fake + self.config["lambda_gp"] * loss_gp
        if step == self.config["nan_at"]:
            loss = loss * float("nan")
        return {"loss": loss, "loss_real": loss_real, "loss_fake": loss_fake, "loss_gp": loss_gp}

    def g_phase(self, batch: dict[str, torch.Tensor], step: int) -> dict[str, torch.Tensor]:
        fake = self.G(batch["image"])
        loss_adv = -self.D(fake).mean()
        loss_rec = (fake - batch["image"]).abs().mean()
        return {"loss": loss_adv + loss_rec, "loss_adv": loss_adv, "loss_rec": loss_rec}

    def phases(self) -> list[Phase]:
        return [
            Phase("D", ("D",), self.d_phase, capturable=True),
            Phase("G", ("G",), self.g_phase, every=self.config["n_critic"], capturable=True),
        ]

    def data(self, device: torch.device, seed: int):
        c = self.config
        if c["stateful_data"]:
            return SeededStream(device, seed, c["size"], c["batch"])
        return stateless_stream(device, seed, c["size"], c["batch"])

    def samples(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        x = batch["image"][:2]
        return torch.cat([x, self.G(x)])

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}


# The method above is shared by the engine's tests; these check the registry with it.


def test_registry_finds_a_registered_method_and_names_unknown_ones():
    import pytest

    from gamutlib.contract.registry import register_method
    from gamutlib.papers import available_methods, get_method

    register_method("tiny_registry_test")(TinyGAN)
    method = get_method("tiny_registry_test", {"width": 2})
    assert isinstance(method, TinyGAN) and method.config["width"] == 2
    assert "tiny_registry_test" in available_methods()
    with pytest.raises(ValueError, match="unknown method 'nope'"):
        get_method("nope")
    with pytest.raises(ValueError, match="already registered"):
        register_method("tiny_registry_test")(lambda config: None)
