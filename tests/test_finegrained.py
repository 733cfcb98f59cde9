"""FineGrained (relative AUs, U-Net with MSF) and GANimation on AUs, on CPU at 32 px."""

import json
import math

import pytest
import torch
from click.testing import CliRunner

from gamutlib.constants import AU_NAMES
from gamutlib.losses import loss_cond, loss_tv
from gamutlib.models.au_condition import condition, identity_condition, normalized_aus, target_aus
from gamutlib.models.finegrained import DELTA, FineGrained, FineGrainedEditor, Generator
from gamutlib.models.ganimation import GANimation
from gamutlib.models.ganimation_au import GANimationAU
from gamutlib.models.msf import MSF
from gamutlib.training import TrainConfig, Trainer, start_run

SIZE = 32
TINY = dict(image_size=SIZE, g_conv_dim=4, d_conv_dim=8, d_repeat_num=3, batch_size=4)
TINY_GANIMATION = dict(image_size=SIZE, g_conv_dim=4, g_repeat_num=1, d_conv_dim=8, d_repeat_num=3, batch_size=4)


def fixed_batch(n=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"image": torch.rand(n, 3, SIZE, SIZE, generator=g) * 2 - 1, "v_src": torch.rand(n, 17, generator=g)}


# ----------------------------------------------------------------- networks


@pytest.mark.parametrize("k_msf", [0, 1, 2, 3])
def test_generator_shapes_for_each_k_msf(k_msf):
    G = Generator(conv_dim=4, k_msf=k_msf)
    assert len(G.msf) == k_msf
    y = G(torch.rand(2, 3, SIZE, SIZE) * 2 - 1, torch.rand(2, 17) - 0.5)
    assert y.shape == (2, 3, SIZE, SIZE) and y.abs().max() <= 1
    # more MSF modules, more parameters; k = 0 is the plain U-Net
    sizes = [sum(p.numel() for p in Generator(4, k_msf=k).parameters()) for k in range(4)]
    assert sizes == sorted(sizes) and len(set(sizes)) == 4


def test_msf_fuses_a_level_with_the_level_below():
    msf = MSF(channels=16, low_channels=24, c_dim=17)
    out = msf(torch.rand(2, 16, 8, 8), torch.rand(2, 24, 4, 4), torch.rand(2, 17))
    assert out.shape == (2, 16, 8, 8)
    with pytest.raises(ValueError, match="k_msf"):
        Generator(4, k_msf=4)
    with pytest.raises(ValueError, match="17"):
        Generator(4)(torch.rand(1, 3, SIZE, SIZE), torch.rand(1, 7))


def test_the_zero_relative_vector_adds_nothing_to_any_layer():
    """v_rel = 0 is the paper's 'change nothing' (Eq. 7's self-reconstruction):
    the tiled condition is exactly zero, so the weights that read it (the
    bottleneck's and every MSF's) cannot change the output; with v != 0 they do."""
    torch.manual_seed(0)
    G = Generator(conv_dim=4, k_msf=3).eval()
    x = torch.rand(2, 3, SIZE, SIZE) * 2 - 1
    zero, v = torch.zeros(2, 17), torch.rand(2, 17) - 0.5
    with torch.no_grad():
        before_zero, before_v = G(x, zero), G(x, v)
        convs = [G.bottleneck[0]] + [m for msf in G.msf for m in (msf.high_in[0], msf.low_in[0])]
        assert len(convs) == 7
        for conv in convs:
            conv.weight[:, -17:] += torch.randn_like(conv.weight[:, -17:])  # the condition's input channels
        assert torch.equal(G(x, zero), before_zero)
        assert not torch.allclose(G(x, v), before_v)
    src = torch.rand(3, 17)
    assert torch.equal(identity_condition(src, relative=True), torch.zeros(3, 17))
    assert torch.equal(identity_condition(src, relative=False), src)
    tgt = torch.rand(3, 17)
    assert torch.equal(condition(src, tgt, True), tgt - src) and torch.equal(condition(src, tgt, False), tgt)
    # the cycle's condition undoes the forward one
    assert torch.equal(condition(tgt, src, True), -(tgt - src))


def test_targets_are_the_batch_own_aus_and_normalised():
    torch.manual_seed(1)
    src = torch.rand(6, 17)
    tgt = target_aus(src)
    assert sorted(map(tuple, tgt.tolist())) == sorted(map(tuple, src.tolist()))
    noisy = target_aus(src, noise=0.1)
    assert noisy.min() >= 0 and noisy.max() <= 1
    assert torch.equal(normalized_aus(torch.full((1, 17), 5.0)), torch.ones(1, 17))
    with pytest.raises(ValueError, match="17"):
        normalized_aus(torch.rand(2, 7))


# ----------------------------------------------------------------- losses


def test_loss_cond_and_loss_tv_values():
    v = torch.rand(4, 17)
    assert loss_cond(v, v) == 0
    assert loss_cond(v + 0.5, v).item() == pytest.approx(0.25)  # a mean over AUs, not a sum
    with pytest.raises(ValueError, match="do not match"):
        loss_cond(v, v[:, :7])
    assert loss_tv(torch.full((2, 3, 8, 8), 0.3)) == 0
    stripes = torch.zeros(2, 3, 8, 8)
    stripes[..., ::2] = 1.0  # 7 jumps of 1 per row, 8 rows, 3 channels
    assert loss_tv(stripes).item() == pytest.approx(7 * 8 * 3)


class Identity(torch.nn.Module):
    """A G that changes nothing and records the conditions it is given."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def forward(self, x, v):
        self.seen.append(v.clone())
        return x


@pytest.mark.parametrize("relative", [True, False])
def test_phases_combine_the_paper_terms_with_its_weights(relative):
    torch.manual_seed(0)
    method = FineGrained(**TINY, use_relative=relative)
    batch = fixed_batch()
    d = method.d_phase(batch, 0)
    assert set(d) == {"loss", "loss_adv", "loss_gp", "loss_cond"}
    torch.testing.assert_close(d["loss"], d["loss_adv"] + 10 * d["loss_gp"] + 150 * d["loss_cond"])
    with torch.no_grad():
        _, au_real = method.D(batch["image"])
    torch.testing.assert_close(d["loss_cond"], loss_cond(au_real, batch["v_src"]))  # Eq. 5: real images, v_src
    g = method.g_phase(batch, 0)
    assert set(g) == {"loss", "loss_adv", "loss_cond", "loss_self", "loss_cyc", "loss_tv"}
    torch.testing.assert_close(g["loss"], g["loss_adv"] + 150 * g["loss_cond"] + 30 * (g["loss_self"] + g["loss_cyc"])
                               + 5e-6 * g["loss_tv"])
    assert all(math.isfinite(float(v.detach())) for v in (*d.values(), *g.values()))

    # with a G that changes nothing, both reconstructions are exact and TV is the input's
    method.G = Identity()
    g = method.g_phase(batch, 0)
    assert g["loss_self"] == 0 and g["loss_cyc"] == 0
    torch.testing.assert_close(g["loss_tv"], loss_tv(batch["image"]))
    forward, self_rec, cycle = method.G.seen
    src = batch["v_src"]
    if relative:
        assert torch.equal(self_rec, torch.zeros_like(src)) and torch.equal(cycle, -forward)
    else:
        assert torch.equal(self_rec, src) and torch.equal(cycle, src)


def test_ganimation_on_aus_phases():
    torch.manual_seed(0)
    for conditioning in ("absolute", "relative"):
        method = GANimationAU(**TINY_GANIMATION, conditioning=conditioning)
        assert method.G.c_dim == 17 and method.cfg.lambda_cond == 160 and method.cfg.lambda_A == 0.1
        d, g = method.d_phase(fixed_batch(), 0), method.g_phase(fixed_batch(), 0)
        assert "loss_cond" in d and "loss_cond" in g and all(math.isfinite(float(v.detach())) for v in (*d.values(), *g.values()))
    with pytest.raises(ValueError, match="ganimation_au conditions on AUs"):
        GANimationAU(**TINY_GANIMATION, conditioning="categorical")
    with pytest.raises(ValueError, match="conditioning must be one of"):
        GANimation(**TINY_GANIMATION, conditioning="sideways")
    with pytest.raises(ValueError, match="c_dim = 17"):
        GANimation(**TINY_GANIMATION, conditioning="absolute")  # 7 categories cannot carry AUs


def test_the_shipped_ganimation_is_unchanged():
    """Outputs of weights/ganimation.safetensors on a fixed input, recorded with
    the code before AU conditioning was added to GANimation."""
    from gamutlib.weights import load_into, load_weights

    _, config = load_weights("ganimation", expected={"method": "ganimation"})
    method = GANimation(config)
    assert method.cfg.conditioning == "categorical" and method.G.c_dim == 7
    load_into({"G": method.G}, "ganimation", expected={"method": "ganimation"})
    x = torch.rand(2, 3, 128, 128, generator=torch.Generator().manual_seed(1234)) * 2 - 1
    c = torch.zeros(2, 7)
    c[0, 1] = c[1, 3] = 1
    with torch.no_grad():
        y, _, A = method.G.eval().render(x, c)
    w = torch.rand(y.shape, generator=torch.Generator().manual_seed(99))
    assert float((y.double() * w).sum()) == pytest.approx(32.661541962632825, abs=1e-3)
    assert float((A.double() * w[:, :1]).sum()) == pytest.approx(16207.078984927528, rel=1e-6)
    torch.testing.assert_close(y[0, :, 64, 60:64], torch.tensor(
        [[0.4553685188293457, 0.5269860029220581, -0.02703900635242462, -0.9785264730453491],
         [0.6354297995567322, -0.184568852186203, -0.1863662302494049, -0.27594518661499023],
         [0.4216175973415375, 0.9468546509742737, -0.6011987328529358, -0.8871585130691528]]), atol=1e-5, rtol=0)


# ----------------------------------------------------------------- the engine


def train_config(**kw):
    base = dict(steps=4, seed=3, log_every=2, summary_every=4, sample_every=4, checkpoint_every=4, keep_checkpoints=3,
                progress=False, device="cpu")
    base.update(kw)
    return TrainConfig(**base)


@pytest.mark.parametrize("make", [
    lambda: FineGrained(**TINY, n_critic=2),
    lambda: GANimationAU(**TINY_GANIMATION, n_critic=2),
    lambda: GANimationAU(**TINY_GANIMATION, n_critic=2, conditioning="relative"),
], ids=["finegrained", "ganimation_au", "ganimation_au_relative"])
def test_engine_steps_log_the_conditional_losses(make, tmp_path):
    method = make()
    G_before = [p.detach().clone() for p in method.G.parameters()]
    trainer = Trainer(method, train_config(), run_dir=tmp_path)
    last = trainer.fit()
    for key in ("D/loss_cond", "G/loss_cond", "D/loss_adv", "G/loss_adv"):  # Fig. 9 reads the first two
        assert math.isfinite(last[key]), key
    assert any(not torch.equal(a, b) for a, b in zip(G_before, method.G.parameters()))
    logged = [json.loads(line) for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert any("D/loss_cond" in row and "G/loss_cond" in row for row in logged)
    assert list((tmp_path / "samples").glob("*.png"))


def resumed_name(out):
    return next(p.name for p in out.iterdir() if p.is_dir())


def fresh_finegrained():
    torch.manual_seed(7)  # the same initial networks for every run
    return FineGrained(**TINY, n_critic=2)


def test_resume_from_a_checkpoint_matches_one_run(tmp_path):
    one_go = start_run(fresh_finegrained(), train_config(), out=tmp_path / "a")
    one_go.fit()
    half = start_run(fresh_finegrained(), train_config(), out=tmp_path / "b")
    for _ in range(2):
        half.train_step()
    half.save_checkpoint()
    del half
    resumed = start_run(fresh_finegrained(), train_config(), resume=tmp_path / "b" / resumed_name(tmp_path / "b"))
    assert resumed.step == 2
    resumed.fit()
    for name in ("G", "D"):
        for (k, a), b in zip(one_go.nets[name].state_dict().items(), resumed.nets[name].state_dict().values()):
            assert torch.equal(a, b), f"{name}.{k}"


# ----------------------------------------------------------------- the editor


def test_delta_controls_parse_check_and_name_the_au():
    assert [c.name for c in DELTA.components] == list(AU_NAMES)
    assert DELTA.parse(["AU12=+2", "au4=-1.5", "AU01=0.5"]) == {"AU12": 2.0, "AU04": -1.5, "AU01": 0.5}
    full = DELTA.check({"AU12": 1})
    assert full["AU12"] == 1 and sum(abs(v) for v in full.values()) == 1  # the other 16 stay 0
    for item, fragment in (("AU12=nan", "AU12 must be a finite number"), ("AU12=9", "AU12 must lie in [-5, 5]; got 9"),
                           ("AU20=abc", "AU20 must be a number"), ("AU03=1", "unknown key 'AU03'"),
                           ("AU12", "takes KEY=VALUE")):
        with pytest.raises(ValueError, match=fragment.replace("[", r"\[").replace("]", r"\]")):
            DELTA.parse([item])
    with pytest.raises(ValueError, match="AU12 is given twice"):
        DELTA.parse(["AU12=1", "au12=2"])


def test_editor_edits_with_the_relative_vector_and_reads_the_source_with_a_judge():
    torch.manual_seed(0)
    method = FineGrained(**TINY)
    x = torch.rand(1, 3, SIZE, SIZE) * 2 - 1
    editor = FineGrainedEditor.from_method(method)
    with torch.no_grad():
        expected = method.G.eval()(x, torch.tensor([[0.4 if n == "AU12" else 0.0 for n in AU_NAMES]]))
    torch.testing.assert_close(editor.edit_values(x, {"AU12": 2}), expected.clamp(-1, 1))
    with pytest.raises(ValueError, match="AU12 must be a finite number"):
        editor.edit_values(x, {"AU12": float("nan")})
    with pytest.raises(ValueError, match="no AU judge"):
        editor.source_aus(x)
    judged = torch.full((1, 17), 4.0)
    editor = FineGrainedEditor.from_method(method, au_judge=lambda faces: judged.expand(faces.shape[0], -1))
    clipped = editor.clip_to_range(x, {"AU12": 3, "AU04": -5})
    names = list(AU_NAMES)
    assert clipped[0, names.index("AU12")] == 1 and clipped[0, names.index("AU04")] == -4  # 4 + 3 -> 5, 4 - 5 -> 0
    with pytest.raises(ValueError, match="relative"):
        FineGrainedEditor.from_method(FineGrained(**TINY, use_relative=False))


def test_gamut_edit_finegrained_delta(tmp_path):
    from gamutlib.cli import main
    from gamutlib.data.images import read_image, save_image
    from gamutlib.face_source import benchmark_face
    from gamutlib.weights import export_weights

    torch.manual_seed(5)
    method = FineGrained(**TINY)
    path = export_weights("finegrained", method.export(), method.config, root=tmp_path)
    crop = tmp_path / "face.png"
    save_image(benchmark_face(4, SIZE).face, crop)

    def edit(*args):
        return CliRunner().invoke(main, ["edit", "finegrained", str(crop), "--weights", str(path), *args])

    out = tmp_path / "edited.png"
    result = edit("--delta", "AU12=+2", "--delta", "AU4=-1", "--out", str(out))
    assert result.exit_code == 0, result.output
    edited = read_image(out)
    assert edited.shape[-2:] == (SIZE, SIZE)
    with torch.no_grad():
        v = torch.zeros(1, 17)
        v[0, list(AU_NAMES).index("AU12")], v[0, list(AU_NAMES).index("AU04")] = 0.4, -0.2
        want = method.G.eval()(read_image(crop).unsqueeze(0) if read_image(crop).dim() == 3 else read_image(crop), v)
    assert (edited.reshape(want.shape) - want).abs().max() <= 2 / 255 + 1e-6  # one 8-bit rounding each way
    for args, fragment in ((["--delta", "AU12=nan"], "AU12 must be a finite number"),
                           (["--delta", "AU12=7"], "AU12 must lie in [-5, 5]; got 7"),
                           (["--delta", "AU99=1"], "unknown key 'AU99'")):
        result = edit(*args, "--out", str(tmp_path / "bad.png"))
        lines = result.output.strip().splitlines()
        assert result.exit_code != 0 and len(lines) == 1 and lines[0].startswith("Error: ") and fragment in lines[0], result.output
    assert not (tmp_path / "bad.png").exists()
    help_text = CliRunner().invoke(main, ["edit", "finegrained", "--help"]).output
    assert "--delta KEY=VALUE" in help_text and "AU45" in help_text
