"""PortraitGAN and its baselines on CPU: networks, losses, data, engine, editor and CLI."""

import json
import math

import pytest
import torch
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.constants import N_LANDMARKS
from gamutlib.data import FaceStream, PairStream, landmark_modality_pairs
from gamutlib.faces import random_faces
from gamutlib.losses.texture import gram_loss, gram_matrix
from gamutlib.models.portraitgan import PortraitGAN, PortraitGANConfig, PortraitGenerator, RandomFeatures, with_landmark_maps
from gamutlib.models.portraitgan_editor import PortraitGANEditor, control_offsets, read_offsets, template_landmarks
from gamutlib.nn import PatchDiscriminator
from gamutlib.papers import editor_class, get_method, paper_of_method
from gamutlib.training.config import TrainConfig
from gamutlib.training.trainer import start_run
from gamutlib.weights import export_weights

TINY_PG = {"image_size": 64, "g_conv_dim": 8, "g_max_dim": 16, "g_repeat_num": 1, "d_conv_dim": 8, "batch_size": 2,
           "features": "random"}
TINY = {
    "portraitgan": TINY_PG,
    "cyclegan": {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "batch_size": 2},
    "stargan_modality": {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 3,
                         "batch_size": 2},
}


def tiny_batch(method: PortraitGAN, seed: int = 0) -> dict[str, torch.Tensor]:
    return next(method.data(torch.device("cpu"), seed))


# ---------------------------------------------------------------- networks


def test_generator_gives_every_level_at_its_scale():
    G = PortraitGenerator(n_modalities=3, conv_dim=8, max_dim=16, n_down=3, repeat_num=1, n_levels=3)
    x, lmap = torch.rand(2, 3, 64, 64) * 2 - 1, torch.rand(2, 1, 64, 64)
    code = torch.eye(3)[[0, 2]]
    levels = G.levels(x, lmap, code)
    assert [tuple(t.shape) for t in levels] == [(2, 3, 64, 64), (2, 3, 32, 32), (2, 3, 16, 16)]
    assert all(t.abs().max() <= 1 for t in levels)
    assert torch.equal(G(x, lmap, code), levels[0])  # forward is the final level alone
    with pytest.raises(ValueError, match="modality code"):
        G(x, lmap, torch.ones(2, 2))
    with pytest.raises(ValueError, match="landmark map"):
        G(x, lmap[:, :, :32], code)
    with pytest.raises(ValueError, match="n_levels"):
        PortraitGenerator(n_down=2, n_levels=3)


def test_one_critic_per_level_sees_its_scale():
    method = PortraitGAN(TINY_PG)
    assert sorted(method.networks()) == ["D0", "D1", "G"]
    batch = tiny_batch(method)
    outs = method.translate(batch["image_a"], batch, "b")
    for k, name in enumerate(method.critics):
        for fake in method.level_fakes(outs, k):
            assert fake.shape[-1] == 64 // 2**k
            score, feats = getattr(method, name)(fake)
            assert score.dim() == 4 and score.shape[1] == 1 and len(feats) == 4
    with pytest.raises(ValueError, match="at least 24 px"):
        PatchDiscriminator(16, 8, 3)


def test_ablation_switches():
    single = PortraitGAN({**TINY_PG, "multi_level": False})
    assert sorted(single.networks()) == ["D0", "G"] and len(single.G.aux_rgb) == 0
    forward_only = PortraitGAN({**TINY_PG, "backward_cycle": False})
    batch = tiny_batch(forward_only)
    assert forward_only.directions(batch) == [("a", "b")]
    no_texture = PortraitGAN({**TINY_PG, "lambda_texture": 0.0, "features": "no_such_network"})
    losses = no_texture.g_phase(tiny_batch(no_texture), 0)
    assert float(losses["loss_texture"]) == 0.0  # and the missing network was never asked for


def test_missing_feature_network_stops_training_with_a_clear_error(tmp_path):
    method = PortraitGAN({**TINY_PG, "features": "no_such_feature_net"})
    with pytest.raises(FileNotFoundError, match="texture loss needs the benchmark feature network.*lambda_texture = 0"):
        method.to("cpu")


# ---------------------------------------------------------------- the texture loss (Eq. 8-9)


def test_gram_loss_by_hand():
    ident = lambda t: [t]  # noqa: E731
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    y = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).reshape(1, 2, 1, 2)
    # Gram / (C*H*W = 4): [[5, 11], [11, 25]] / 4 and [[1, 0], [0, 1]] / 4
    assert torch.allclose(gram_matrix(x)[0], torch.tensor([[5.0, 11.0], [11.0, 25.0]]) / 4)
    expected = (4**2 + 11**2 + 11**2 + 24**2) / 16  # sum over k, l of the squared differences
    assert math.isclose(float(gram_loss(ident, x, y)), expected, rel_tol=1e-6)


def test_relative_gram_loss_weighs_every_layer_alike():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    y = torch.tensor([[0.0, 1.0], [1.0, 0.0]]).reshape(1, 2, 1, 2)
    # by hand: one layer's distance over the target's squared Gram norm (2 / 16)
    by_hand = ((4**2 + 11**2 + 11**2 + 24**2) / 16) / (2 / 16)
    assert math.isclose(float(gram_loss(lambda t: [t], x, y, "relative")), by_hand, rel_tol=1e-6)
    # a layer 100x larger in scale dominates Eq. 9's sum but counts like the other in the relative form
    two_layers = lambda t: [t, 100 * t]  # noqa: E731
    summed = float(gram_loss(two_layers, x, y))
    assert math.isclose(summed, (1 + 100**4) * float(gram_loss(lambda t: [t], x, y)), rel_tol=1e-5)
    assert math.isclose(float(gram_loss(two_layers, x, y, "relative")), by_hand, rel_tol=1e-5)
    assert float(gram_loss(two_layers, x, x, "relative")) == 0.0
    with pytest.raises(ValueError, match="per_layer"):
        gram_loss(two_layers, x, y, "max")
    with pytest.raises(ValueError, match="texture_layers"):
        PortraitGANConfig(texture_layers="max")


def test_gram_loss_is_zero_for_identical_inputs_and_symmetric():
    features = RandomFeatures()
    x, y = torch.rand(2, 3, 32, 32) * 2 - 1, torch.rand(2, 3, 32, 32) * 2 - 1
    assert float(gram_loss(features, x, x)) == 0.0
    assert float(gram_loss(features, x, y)) > 0
    assert torch.allclose(gram_loss(features, x, y), gram_loss(features, y, x))
    # a texture statistic: the same pixels in another spatial order keep the Gram matrix of a pointwise map
    pointwise = lambda t: [t]  # noqa: E731
    assert float(gram_loss(pointwise, x, x.flip(-1))) < 1e-10
    with pytest.raises(ValueError, match="same, non-zero number"):
        gram_loss(lambda t: [t] * (1 if t is x else 2), x, y)


# ---------------------------------------------------------------- the cycles (Eq. 11)


class RecordingG(torch.nn.Module):
    """G that returns its input unchanged and records the conditions it was given."""

    def __init__(self, levels: int = 2):
        super().__init__()
        self.calls: list[tuple[torch.Tensor, torch.Tensor]] = []
        self.n_levels = levels
        self.w = torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, lmap, code):
        self.calls.append((lmap, code))
        return x + self.w

    def levels(self, x, lmap, code):
        out = self.forward(x, lmap, code)
        return [out] + [torch.nn.functional.avg_pool2d(out, 2**k) for k in range(1, self.n_levels)]


def test_cycles_use_the_original_conditions_and_an_identity_g_reconstructs_exactly():
    method = PortraitGAN(TINY_PG)
    method.G = RecordingG()
    batch = tiny_batch(method)
    losses = method.g_phase(batch, 0)
    # an identity G: both cycles return their inputs, the identity term is |I_A - I_B|
    assert float(losses["loss_cyc"].detach()) == 0.0
    expected_id = (batch["image_a"] - batch["image_b"]).abs().mean() + (batch["image_b"] - batch["image_a"]).abs().mean()
    assert torch.allclose(losses["loss_id"], expected_id)
    calls = method.G.calls
    # forward cycle: (L_B, c_B) then back with (L_A, c_A); backward cycle: (L_A, c_A) then (L_B, c_B)
    sides = ["b", "a", "a", "b"]
    assert len(calls) == 4
    for (lmap, code), side in zip(calls, sides):
        assert torch.equal(lmap, batch[f"map_{side}"])
        assert torch.equal(code.argmax(1), batch[f"modality_{side}"])


def test_losses_are_finite_and_reach_the_right_networks():
    torch.manual_seed(0)
    method = PortraitGAN(TINY_PG)
    batch = tiny_batch(method)
    d = method.d_phase(batch, 0)
    d["loss"].backward()
    assert all(p.grad is None for p in method.G.parameters())  # D's phase never moves G
    assert all(getattr(method, n).blocks[0][0].weight.grad is not None for n in method.critics)
    g = method.g_phase(batch, 0)
    assert all(torch.isfinite(v) for v in g.values())
    assert set(g) == {"loss", "loss_adv", "loss_cyc", "loss_fm", "loss_id", "loss_texture"}
    g["loss"].backward()
    assert method.G.aux_rgb[0][0].weight.grad is not None  # the auxiliary head is supervised
    assert method.samples(batch).shape == (1, 3, 2 * 64, 5 * 64)


# ---------------------------------------------------------------- data


def test_pair_stream_gives_the_same_face_with_new_landmarks_and_modality():
    pairs = landmark_modality_pairs(6, size=32, seed=1, p_same_expression=0.0, p_same_modality=0.0)
    assert torch.all(pairs["modality_a"] != pairs["modality_b"])
    assert not torch.allclose(pairs["landmarks_a"], pairs["landmarks_b"])
    same = landmark_modality_pairs(4, size=32, seed=1, p_same_expression=1.0, p_same_modality=1.0)
    # same expression and modality: the target is exactly the source (one identity, pose, light, background)
    assert torch.equal(same["landmarks_a"], same["landmarks_b"])
    assert torch.equal(same["image_a"], same["image_b"])
    fixed_landmarks = landmark_modality_pairs(4, size=32, seed=2, p_same_expression=1.0, p_same_modality=0.0)
    assert torch.equal(fixed_landmarks["landmarks_a"], fixed_landmarks["landmarks_b"])  # Table 1's task
    assert not torch.equal(fixed_landmarks["image_a"], fixed_landmarks["image_b"])
    with pytest.raises(ValueError, match="modalities"):
        landmark_modality_pairs(2, modalities=("photo", "oil"))


def test_pair_stream_resumes_exactly_and_face_stream_is_unchanged():
    stream = PairStream(2, size=32, seed=3)
    next(stream)
    state = stream.state_dict()
    expected = next(stream)
    again = PairStream(2, size=32, seed=99)
    again.load_state_dict(state)
    got = next(again)
    assert all(torch.equal(expected[k], got[k]) for k in expected)
    # FaceStream still serves random_faces' batches from its generator
    face = next(FaceStream(3, size=32, seed=5))
    direct = random_faces(3, size=32, split="train", generator=torch.Generator().manual_seed(5))
    assert face.keys() == direct.keys()
    assert all(torch.equal(face[k], direct[k]) for k in face)


# ---------------------------------------------------------------- the engine


@pytest.mark.parametrize("name", ["portraitgan", "cyclegan", "stargan_modality"])
def test_engine_trains_each_method_a_few_steps(tmp_path, name):
    torch.manual_seed(0)
    method = get_method(name, TINY[name])
    before = {k: v.clone() for k, v in method.export()["G"].state_dict().items()}
    steps = 5 if name == "stargan_modality" else 3  # StarGAN's G steps once per n_critic = 5 D steps
    cfg = TrainConfig(steps=steps, device="cpu", progress=False, log_every=1, sample_every=steps, checkpoint_every=steps)
    trainer = start_run(method, cfg, out=tmp_path)
    trainer.fit()
    log = [json.loads(line) for line in (trainer.run_dir / "log.jsonl").read_text().splitlines()]
    losses = [v for row in log for k, v in row.items() if k.endswith("loss") or "/loss" in k]
    assert losses and all(math.isfinite(v) for v in losses)
    after = method.export()["G"].state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # G was trained


def test_portraitgan_resumes_from_a_checkpoint_bit_exactly(tmp_path):
    def cfg(**kw):
        return TrainConfig(**{"steps": 4, "device": "cpu", "progress": False, "log_every": 1, "sample_every": 100,
                              "checkpoint_every": 100, **kw})

    torch.manual_seed(0)
    one_go = start_run(PortraitGAN(TINY_PG), cfg(), out=tmp_path / "a")
    one_go.fit()
    torch.manual_seed(0)
    half = start_run(PortraitGAN(TINY_PG), cfg(), out=tmp_path / "b")
    for _ in range(2):
        half.train_step()
    half.save_checkpoint()
    resumed = start_run(PortraitGAN(TINY_PG), cfg(), resume=half.run_dir)
    assert resumed.step == 2
    resumed.fit()
    for name, net in one_go.nets.items():
        for k, v in net.state_dict().items():
            assert torch.equal(v, resumed.nets[name].state_dict()[k]), f"{name}.{k}"


# ---------------------------------------------------------------- the editor


@pytest.fixture(scope="module")
def editor():
    torch.manual_seed(0)
    return PortraitGANEditor.from_method(PortraitGAN({"image_size": 64, "g_conv_dim": 8, "g_max_dim": 16,
                                                      "g_repeat_num": 1, "d_conv_dim": 8}))


def test_controls_move_the_points_they_name():
    base = template_landmarks(128)
    assert base.shape == (1, N_LANDMARKS, 2) and bool(((base > 0) & (base < 127)).all())
    opened = control_offsets({"mouth_open": 1.0}, base, 128)[0]
    assert opened[57, 1] > 5 and opened[8, 1] > 2  # lower lip and chin drop (y grows downwards)
    assert torch.all(opened[17:48] == 0) and torch.all(opened[:, 0] == 0)  # eyes and brows stay; nothing moves sideways
    raised = control_offsets({"brow_raise": 1.0}, base, 128)[0]
    assert torch.all(raised[17:27, 1] < 0) and torch.all(raised[27:] == 0)
    slim = control_offsets({"jaw": -1.0}, base, 128)[0]
    left, right = slim[3, 0], slim[13, 0]
    assert left > 0 > right  # both sides of the jaw move towards the face's axis
    assert torch.all(control_offsets({"mouth_open": 0.0, "jaw": 0.0}, base, 128) == 0)


def test_edit_changes_with_controls_and_modality(editor):
    face = random_faces(1, size=64, split="test", seed=0)
    x, points = face["image"], face["landmarks"][0]
    out = editor.edit(x, {"modality": "photo"}, face_landmarks=points)
    assert out.shape == (1, 3, 64, 64) and out.abs().max() <= 1
    assert not torch.equal(out, editor.edit(x, {"modality": "sketch"}, face_landmarks=points))
    assert not torch.equal(out, editor.edit(x, {"mouth_open": 1.0}, face_landmarks=points))
    with pytest.raises(ValueError, match="mouth_open must lie in"):
        editor.edit(x, {"mouth_open": 2.0})
    with pytest.raises(ValueError, match="modality must be one of"):
        editor.edit(x, {"modality": "oil"})


def write(path, data):
    path.write_text(data if isinstance(data, str) else json.dumps(data))
    return path


@pytest.mark.parametrize("content, message", [
    ([[0, 0]] * 67, "holds 67 points; give exactly 68"),
    ("[" + ",".join(["[0, 0]"] * 67 + ["[NaN, 1]"]) + "]", "point 67 .* must be finite"),
    ([[0, 0]] * 67 + [[0]], "point 67 .* not a pair of numbers"),
    ({"points": []}, "without an 'offsets' list"),
    ("{not json", "not readable JSON"),
])
def test_offsets_json_is_validated(tmp_path, content, message):
    with pytest.raises(ValueError, match=message):
        read_offsets(write(tmp_path / "offsets.json", content))


def test_offsets_that_leave_the_image_are_named(tmp_path, editor):
    offsets = read_offsets(write(tmp_path / "o.json", {"offsets": [[0, 0]] * 30 + [[0, -900]] + [[0, 0]] * 37}))
    with pytest.raises(ValueError, match=r"point 30 would leave the 64x64 image"):
        editor.target_landmarks({}, offsets=offsets)
    moved = editor.target_landmarks({}, offsets=torch.full((68, 2), 1.0))
    assert torch.allclose(moved, template_landmarks(64) + 1.0)


def test_gamut_edit_portraitgan_on_a_random_weights_export(tmp_path):
    torch.manual_seed(0)
    method = PortraitGAN({"image_size": 64, "g_conv_dim": 8, "g_max_dim": 16, "g_repeat_num": 1, "d_conv_dim": 8})
    weights = export_weights("pg_test", method.export(), method.config, root=tmp_path)
    from gamutlib.data.images import save_image

    save_image(random_faces(1, size=64, split="test", seed=0)["image"], tmp_path / "face.png")
    good = write(tmp_path / "ok.json", [[1.0, -1.0]] * 68)
    run = lambda *args: CliRunner().invoke(main, ["edit", "portraitgan", str(tmp_path / "face.png"),  # noqa: E731
                                                  "--weights", str(weights), "--out", str(tmp_path / "out.png"), *args])
    result = run("--mouth-open", "0.5", "--modality", "sketch")
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and (tmp_path / "out.png").exists()
    assert run("--landmarks", str(good), "--smile-width", "-0.3").exit_code == 0
    bad = run("--landmarks", str(write(tmp_path / "bad.json", [[0, 0]] * 67)))
    assert bad.exit_code != 0 and "holds 67 points" in bad.output
    assert "mouth_open must lie in" in run("--mouth-open", "3").output


def test_registry_declares_the_paper():
    assert paper_of_method("portraitgan").name == "portraitgan"
    assert {"portraitgan", "cyclegan", "stargan_modality"} <= set(paper_of_method("cyclegan").methods)
    assert editor_class("portraitgan") is PortraitGANEditor
    assert get_method("stargan_modality", TINY["stargan_modality"]).cfg.c_dim == 2
    with pytest.raises(ValueError, match="c_dim must be 2"):
        get_method("stargan_modality", {"c_dim": 7})


def test_inference_timing_per_image():
    from gamutlib.bench.inference import time_per_image

    conv = torch.nn.Conv2d(3, 4, 3, padding=1)
    threads = torch.get_num_threads()
    row = time_per_image(conv, [torch.zeros(4, 3, 16, 16)], threads=1, repeats=5, warmup=1)
    assert row["batch"] == 4 and row["threads"] == 1 and 0 < row["median_ms"] <= row["p90_ms"]
    assert torch.get_num_threads() == threads  # restored
    with pytest.raises(ValueError, match="repeats >= 5"):
        time_per_image(conv, [torch.zeros(1, 3, 8, 8)], repeats=2)


@pytest.mark.parametrize("name, params_m", [("portraitgan", 0.952), ("cyclegan", 0.857), ("stargan_modality", 0.859)])
def test_shipped_generators_fit_the_tree_budget(name, params_m):
    """Each shipped generator <= 2.5 MB in fp16: the three together fit the ~5.6 MB the 48 MB tree has left."""
    from gamutlib.bench.footprint import fp16_file_bytes

    with torch.no_grad():
        shipped = get_method(name).export()
    params = sum(p.numel() for m in shipped.values() for p in m.parameters())
    assert math.isclose(params / 1e6, params_m, abs_tol=0.001)
    assert fp16_file_bytes(shipped) <= 2.5e6
