"""The GANmut series' networks and training phases (CPU, 32 px, tiny widths)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from gamutlib.models import (
    GANimation,
    GANimationConfig,
    GANmut,
    GANmutConfig,
    GGANmut,
    GGANmutConfig,
    StarGAN,
    StarGANConfig,
)
from gamutlib.models import ganimation, stargan
from gamutlib.models.translation import grid, one_hot

TINY = dict(image_size=32, g_conv_dim=8, d_conv_dim=8, g_repeat_num=1, d_repeat_num=3, batch_size=8)
METHODS = {
    "stargan": lambda: StarGAN(**TINY),
    "ganimation": lambda: GANimation(**TINY),
    "ganmut": lambda: GANmut(n_c=5, **TINY),
    "gganmut": lambda: GGANmut(n_c=7, **TINY),
}


def batch(n: int = 8, size: int = 32) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return {
        "image": torch.rand(n, 3, size, size, generator=g) * 2 - 1,
        "label": torch.arange(n) % 7,
    }


def n_params(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def test_stargan_shapes():
    G = stargan.Generator(conv_dim=8, c_dim=7, repeat_num=2)
    D = stargan.Discriminator(image_size=32, conv_dim=8, c_dim=7, repeat_num=3)
    x = batch(3)["image"][:3]
    y = G(x, one_hot(torch.tensor([0, 3, 6])))
    assert y.shape == x.shape
    assert y.abs().max() <= 1
    src, cls = D(y)
    assert src.shape == (3, 1, 4, 4)  # PatchGAN map, 32 / 2**3
    assert cls.shape == (3, 7)


def test_stargan_condition_reaches_every_pixel():
    G = stargan.Generator(conv_dim=8, c_dim=7, repeat_num=1)
    x = batch(1)["image"][:1]
    y0, y1 = G(x, one_hot(torch.tensor([0]))), G(x, one_hot(torch.tensor([1])))
    changed = (y0 - y1).abs().sum(1) > 0
    assert changed.float().mean() > 0.99


def test_bad_inputs_are_named():
    G = stargan.Generator(conv_dim=8, c_dim=7, repeat_num=1)
    x = batch(2)["image"][:2]
    with pytest.raises(ValueError, match="condition of size 7"):
        G(x, torch.zeros(2, 5))
    with pytest.raises(ValueError, match="N=2"):
        G(x, torch.zeros(3, 7))
    D = stargan.Discriminator(image_size=32, conv_dim=8, repeat_num=3)
    with pytest.raises(ValueError, match="built for 32x32"):
        D(torch.zeros(1, 3, 64, 64))
    with pytest.raises(ValueError, match="divisible"):
        stargan.Discriminator(image_size=40, conv_dim=8, repeat_num=4)
    with pytest.raises(ValueError, match="labels must lie"):
        one_hot(torch.tensor([7]))
    with pytest.raises(ValueError, match="unknown StarGANConfig keys"):
        StarGAN(lamda_cls=1.0)


@pytest.mark.parametrize(
    "conv_dim, blocks, lo, hi",
    [(32, 6, 2.0e6, 2.2e6), (64, 6, 8.3e6, 8.5e6)],  # README "Sizes": 2.1 M and 8.4 M
)
def test_generator_sizes_match_the_design_table(conv_dim, blocks, lo, hi):
    assert lo < n_params(stargan.Generator(conv_dim, 7, blocks)) < hi


def test_ganimation_composes_attention_and_colour():
    G = ganimation.Generator(conv_dim=8, c_dim=7, repeat_num=1)
    x = batch(2)["image"][:2]
    y, C, A = G.render(x, one_hot(torch.tensor([1, 2])))
    assert A.shape == (2, 1, 32, 32) and C.shape == x.shape
    assert (A >= 0).all() and (A <= 1).all()
    torch.testing.assert_close(y, A * x + (1 - A) * C)
    torch.testing.assert_close(G(x, one_hot(torch.tensor([1, 2]))), y)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_phases_give_finite_losses_and_gradients_on_the_right_networks(name):
    method = METHODS[name]()
    nets = method.networks()
    b = batch()
    phases = {p.name: p for p in method.phases()}
    assert phases["D"].every == 1 and phases["G"].every == 5  # five D steps per G step

    for phase in (phases["D"], phases["G"]):
        for net in nets.values():
            net.zero_grad(set_to_none=True)
        out = phase.fn(b, 4)
        assert "loss" in out
        for key, value in out.items():
            assert value.dim() == 0 and torch.isfinite(value), f"{name} {phase.name} {key} = {value}"
        out["loss"].backward()
        for net_name in phase.nets:
            grads = [p.grad for p in nets[net_name].parameters()]
            assert all(g is not None for g in grads), f"{name} {phase.name}: {net_name} lacks gradients"
            assert sum(float(g.abs().sum()) for g in grads) > 0
        if phase.name == "D":
            # fakes are made without a graph: G (and the space) get nothing from D's loss
            for other in set(nets) - {"D"}:
                assert all(p.grad is None for p in nets[other].parameters()), f"{name}: D phase reached {other}"


@pytest.mark.parametrize("name", sorted(METHODS))
def test_samples_export_and_config(name):
    method = METHODS[name]()
    img = method.samples(batch())
    assert img.shape[0] == 1 and img.shape[1] == 3 and img.shape[2] == 4 * 32
    assert img.min() >= -1 and img.max() <= 1
    exported = method.export()
    assert "G" in exported and "D" not in exported
    if name in ("ganmut", "gganmut"):
        assert exported["space"] is method.space
    # the config is JSON and rebuilds the same architecture
    config = json.loads(json.dumps(method.config))
    assert config["method"] == name
    rebuilt = type(method)(config)
    assert rebuilt.G.state_dict().keys() == method.G.state_dict().keys()
    assert n_params(rebuilt.D) == n_params(method.D)
    assert set(method.optim_groups()) == set(method.networks())
    for group in method.optim_groups().values():
        assert group == {"lr": 1e-4, "betas": (0.5, 0.999)}


def test_paper_hyperparameters_are_the_defaults():
    s, m, g = StarGANConfig(), GANmutConfig(), GGANmutConfig()
    assert (s.lambda_cls, s.lambda_rec, s.lambda_gp, s.n_critic, s.batch_size) == (1, 10, 10, 5, 16)
    assert (m.lambda_cls, m.lambda_info, m.lambda_rho, m.tau, m.code_noise, m.n_c) == (1, 1, 4, 0.2, 0.1, 9)
    assert (g.lambda_cls_g, g.lambda_div, g.n_c) == (0.5, 2, 7)
    assert GANimationConfig().lambda_A == 1.0
    assert GANmut(**{**TINY, "batch_size": 16}).cfg.lambda_rho == 4.0  # the method keeps the defaults


def test_d_classification_learns_a_fixed_batch():
    method = StarGAN(**TINY)
    b = batch()
    opt = torch.optim.Adam(method.D.parameters(), lr=2e-3)
    first = None
    for _ in range(30):
        loss = torch.nn.functional.cross_entropy(method.D(b["image"])[1], b["label"])
        first = float(loss.detach()) if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first


def test_ganmut_generator_phase_reduces_its_losses_on_a_fixed_batch():
    torch.manual_seed(0)
    method = GANmut(n_c=5, **TINY)
    b = batch()
    params = list(method.G.parameters()) + list(method.space.parameters())
    opt = torch.optim.Adam(params, lr=2e-3, betas=(0.5, 0.999))
    history = []
    for _ in range(12):
        torch.manual_seed(3)  # the same codes every step: a fixed problem
        out = method.g_phase(b, 0)
        history.append(float(out["loss_rec"].detach()))
        opt.zero_grad()
        out["loss"].backward()
        opt.step()
    assert history[-1] < history[0]


def test_grid_layout():
    a = torch.zeros(2, 3, 4, 4)
    b = torch.ones(2, 3, 4, 4)
    g = grid([a, b])
    assert g.shape == (1, 3, 8, 8)
    assert (g[..., :4, :4] == 0).all() and (g[..., :4, 4:] == 1).all()


@pytest.mark.parametrize("name", ["ganmut", "gganmut"])
def test_the_trainer_drives_the_method_and_moves_the_space(tmp_path, name):
    """Ten steps through the real trainer: both phases run, the space learns
    with G, its directions stay unit, and samples are written."""
    from gamutlib.training.config import TrainConfig
    from gamutlib.training.trainer import Trainer

    method = METHODS[name]()

    def stream(device, seed):
        g = torch.Generator().manual_seed(seed)
        while True:
            yield {
                "image": (torch.rand(8, 3, 32, 32, generator=g) * 2 - 1).to(device),
                "label": torch.randint(0, 7, (8,), generator=g).to(device),
            }

    method.data = stream  # the benchmark stream is exercised by the training chapter
    space_before = {k: v.clone() for k, v in method.space.state_dict().items()}
    D_before = method.D.src_head.weight.detach().clone()
    trainer = Trainer(method, TrainConfig(steps=10, device="cpu", progress=False, log_every=5, sample_every=10, checkpoint_every=10), run_dir=tmp_path)
    last = trainer.fit()
    assert math.isfinite(last["D/loss"]) and math.isfinite(last["G/loss"])
    assert any(not torch.equal(space_before[k], v) for k, v in method.space.state_dict().items())
    assert not torch.equal(D_before, method.D.src_head.weight)
    if name == "ganmut":
        torch.testing.assert_close(method.space.directions().norm(dim=1), torch.ones(6))
    else:
        assert (torch.linalg.eigvalsh(method.space.covariances()) > 0).all()
    assert list((tmp_path / "samples").glob("*.png"))


def test_face_batches_mirror_images_and_forward_the_stream_state():
    from gamutlib.models.translation import FaceBatches

    class Stream:
        def __init__(self):
            self.position = 0

        def __iter__(self):
            while True:
                self.position += 1
                yield {"image": torch.arange(64.0).reshape(1, 1, 8, 8).expand(32, 3, 8, 8), "label": torch.zeros(32, dtype=torch.long), "aus": torch.zeros(32, 17)}

        def state_dict(self):
            return {"position": self.position}

    batches = FaceBatches(Stream())
    b = next(batches)
    assert set(b) == {"image", "label"}  # categorical labels only
    original = torch.arange(64.0).reshape(8, 8)
    mirrored = [bool(torch.equal(img[0], original.flip(-1))) for img in b["image"]]
    kept = [bool(torch.equal(img[0], original)) for img in b["image"]]
    assert all(m != k for m, k in zip(mirrored, kept))
    assert 4 <= sum(mirrored) <= 28
    assert batches.state_dict() == {"position": 1}
    assert not hasattr(FaceBatches(iter([])), "state_dict")


def test_shipped_training_configs_resolve():
    from pathlib import Path

    from gamutlib.contract.method import build_config
    from gamutlib.training.config import TrainConfig, read_config_file

    from gamutlib.models.finegrained import FineGrainedConfig
    from gamutlib.models.ganimation_au import GANimationAUConfig

    config_classes = {"stargan": StarGANConfig, "ganimation": GANimationConfig, "ganmut": GANmutConfig, "gganmut": GGANmutConfig,
                      "finegrained": FineGrainedConfig, "ganimation_au": GANimationAUConfig}
    files = sorted((Path(__file__).resolve().parents[1] / "gamutlib/models/configs").glob("*.toml"))
    assert {f.stem for f in files} >= {"stargan", "ganimation", "ganmut", "ganmut_rho1", "gganmut"}
    for path in files:
        data = read_config_file(path)
        if data["method"] not in config_classes:
            continue  # another series' config (EGGAN's: tests/test_eggan.py)
        train = TrainConfig.from_dict(data["train"])
        if data["method"] in config_classes:
            model = build_config(config_classes[data["method"]], data.get("model", {}), {})
        else:  # another paper's method: its config class through the registry
            from gamutlib.papers import get_method

            model = get_method(data["method"], data.get("model", {})).cfg
        assert train.lr_decay_steps == train.steps // 10, path.name  # the paper's last 10%
        assert model.image_size == 128 and model.batch_size == 16, path.name
