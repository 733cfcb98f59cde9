"""A new paper moves in through the registry alone: CLI choices, table protocols, a smoke evaluation."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gamutlib.cli import main
from gamutlib.contract import Control, Phase, register_method
from gamutlib.evaluation.protocol import EvaluationRun, TableProtocol
from gamutlib.papers import (
    Paper,
    editable_methods,
    get_method,
    method_of,
    register_paper,
    table_protocols,
    unregister_paper,
    weight_names,
)
from gamutlib.reproduce.compare import compare_table
from gamutlib.reproduce.profiles import by_profile

# ----------------------------------------------------------------- the toy paper, declared in this file only


class Brighten(nn.Module):
    """The toy generator: adds a learned offset times the code to the image."""

    def __init__(self) -> None:
        super().__init__()
        self.gain = nn.Parameter(torch.tensor(0.5))

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return (x + self.gain * z[:, :1, None, None]).clamp(-1, 1)


@register_method("toy_brighten")
class ToyBrighten:
    """One tiny method: a single parameter, one phase that pulls brightened faces towards +1."""

    name = "toy_brighten"

    def __init__(self, config: dict) -> None:
        self.config = dict(config)
        self.G = Brighten()

    def networks(self) -> dict[str, nn.Module]:
        return {"G": self.G}

    def optim_groups(self) -> dict:
        return {"G": {"lr": 1e-2}}

    def phases(self) -> list[Phase]:
        return [Phase("G", ("G",), lambda batch, step: {"loss": (1 - self.G(batch["image"], batch["z"])).mean()})]

    def data(self, device, seed):
        g = torch.Generator().manual_seed(seed)
        while True:
            yield {"image": torch.rand(2, 3, 8, 8, generator=g).to(device) * 2 - 1, "z": torch.ones(2, 1, device=device)}

    def samples(self, batch):
        return batch["image"]

    def export(self) -> dict[str, nn.Module]:
        return {"G": self.G}


class ToyEditor:
    """Brighten a face by ``amount``."""

    method_cls = ToyBrighten
    controls = (Control("amount", "how much brighter", 0.0, 1.0, 0.0),)
    shortcuts = ()


#: How many faces each profile affords (the one owner of profile -> size is by_profile).
TOY_SIZES = {"smoke": 4, "cpu": 16, "gpu": 64}


def toy_open_run(profile: str, weights_dir: str = "weights", device=None, allow_fallback: bool = False,
                 names=None) -> EvaluationRun:
    n = by_profile(TOY_SIZES, profile)
    model = get_method("toy_brighten").G
    model.name, model.source = "toy_brighten", "built in the test"
    images = torch.linspace(-1, -0.5, n).reshape(n, 1, 1, 1).expand(n, 3, 8, 8)
    return EvaluationRun("toy", profile, n, "cpu", judge=None, images=images, labels=torch.zeros(n),
                         models={"toy_brighten": model})


def mean_brightness(model, run: EvaluationRun) -> dict:
    with torch.no_grad():
        out = model(run.images, torch.ones(len(run.images), 1))
    return {"method": model.name, "brightness": round(float(out.mean()), 4)}


TOY_TABLE = TableProtocol(
    paper="toy", name="table1_brightness", methods={"toy_brighten": "Toy"}, row=mean_brightness,
    describe=lambda run: f"{run.sizes} ramp faces, code 1", paper_numbers={"source": "none: a toy"},
    tolerance={"abs": 1e-3, "rel": 0.0}, seed_key="table1",
)


@pytest.fixture
def toy_paper():
    paper = register_paper(Paper(
        name="toy", title="A toy paper", methods={"toy_brighten": __name__}, weights={"toy_brighten": "toy_brighten"},
        editors={"toy_brighten": ToyEditor}, tables=(TOY_TABLE,), evaluation=toy_open_run,
    ))
    yield paper
    unregister_paper("toy")


# ----------------------------------------------------------------- what the house gives it


def unwrapped(text: str) -> str:
    """Help text without its line breaks and indents: click wraps a long choice list mid-name."""
    return "".join(text.split())


def test_the_cli_offers_the_toy_paper_everywhere(toy_paper):
    runner = CliRunner()
    assert "toy_brighten" in unwrapped(runner.invoke(main, ["train", "--help"]).output)
    assert "toy" in runner.invoke(main, ["evaluate", "--help"]).output
    assert "toy_brighten" in unwrapped(runner.invoke(main, ["evaluate", "toy", "--help"]).output)
    help_text = runner.invoke(main, ["edit", "toy_brighten", "--help"]).output
    assert "--amount" in help_text and "How much brighter" in help_text
    assert "toy_brighten" in editable_methods() and "toy_brighten" in unwrapped(runner.invoke(main, ["bench", "edit", "--help"]).output)
    assert weight_names("toy") == ["toy_brighten"] and method_of("toy_brighten") == "toy_brighten"


def test_its_declared_control_refuses_a_nan_naming_itself(toy_paper, tmp_path):
    result = CliRunner().invoke(main, ["edit", "toy_brighten", str(tmp_path / "face.png"), "--amount", "nan",
                                       "--out", str(tmp_path / "o.png")])
    assert result.exit_code == 1 and "amount must be a finite number in [0, 1]" in result.output


def test_its_table_protocol_and_a_smoke_evaluation(toy_paper, tmp_path):
    (table,) = table_protocols("toy")
    run = toy_open_run("smoke")
    assert table.describe(run) == "4 ramp faces, code 1"
    path = table.write(run, tmp_path, producer="tests/test_papers.py")
    written = json.loads(path.read_text())
    assert written["rows"] == [{"method": "Toy", "brightness": -0.25}] and written["producer"] == "tests/test_papers.py"
    assert compare_table("toy/table1_brightness", written, written).state == "agrees"

    result = CliRunner().invoke(main, ["evaluate", "toy", "toy_brighten", "--seed", "0", "--profile", "smoke",
                                       "--results-dir", str(tmp_path), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "toy" / "seeds" / "toy_brighten-seed0.json").read_text())
    assert record["table1"] == {"method": "toy_brighten", "brightness": -0.25} and record["profile"] == "smoke"


def test_the_toy_trains_through_the_one_engine(toy_paper, tmp_path):
    result = CliRunner().invoke(main, ["train", "toy_brighten", "--steps", "3", "--device", "cpu", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "trained 3 steps" in result.output


def test_a_paper_cannot_claim_another_papers_method(toy_paper):
    with pytest.raises(ValueError, match="already declared by 'toy'"):
        register_paper(Paper(name="copycat", title="", methods={"toy_brighten": __name__}))
    with pytest.raises(ValueError, match="settings must be given for exactly the profiles"):
        by_profile({"smoke": 1}, "smoke")
