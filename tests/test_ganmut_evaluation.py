"""The GANmut series' evaluation protocols (gamutlib.evaluation.ganmut) on tiny
models with judges whose answers are known in advance."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from gamutlib.constants import EMOTIONS
from gamutlib.evaluation import ganmut as ev
from gamutlib.faces.emotion import emotion_prototypes
from gamutlib.metrics.ere import emotion_reconstruction_error
from gamutlib.models.ganmut import LinearConditionSpace
from gamutlib.models.gganmut import GaussianConditionSpace

SIZE = 32
NEUTRAL = EMOTIONS.index("neutral")


class FillG(nn.Module):
    """G(x, z) = a flat image whose value encodes the code: 2 t - 1 with t the
    intensity of the code (|z| for 2-D codes, 1 - z_neutral for one-hots)."""

    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        t = z.norm(dim=1) if z.shape[1] == 2 else 1 - z[:, NEUTRAL]
        return (2 * t - 1).view(-1, 1, 1, 1).expand_as(x).clone()


class IdentityG(nn.Module):
    def forward(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        return x.clone()


def ramp_judge(images: torch.Tensor) -> torch.Tensor:
    """Softmax-like scores: neutral 1 - m, every other class m / 6, m = mean pixel in [0, 1]."""
    m = (images.mean((1, 2, 3)) + 1) / 2
    probs = (m / 6)[:, None].repeat(1, 7)
    probs[:, NEUTRAL] = 1 - m
    return probs


def pixel_judge(images: torch.Tensor) -> torch.Tensor:
    """A judge that depends on the face: the softmax of 7 pixel averages."""
    return torch.softmax(8 * images[:, :, :7, :7].mean((1, 2)), dim=1)


def linear_model(G: nn.Module) -> ev.Conditioned:
    space = LinearConditionSpace()
    with torch.no_grad():
        angles = torch.arange(6) * (2 * math.pi / 6) + 0.1
        space.raw_directions.copy_(torch.stack([angles.cos(), angles.sin()], 1))
    return ev.conditioned("ganmut", "ganmut", G, space, SIZE, "test")


def faces(n: int = 4, seed: int = 0) -> torch.Tensor:
    return torch.rand(n, 3, SIZE, SIZE, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_codes_per_kind_have_the_documented_shapes():
    sizes = ev.sizes_for("smoke")
    lin = linear_model(FillG())
    cat = ev.conditioned("stargan", "stargan", FillG(), None, SIZE, "test")
    gau = ev.conditioned("gganmut", "gganmut", FillG(), GaussianConditionSpace(), SIZE, "test")
    assert lin.class_codes()[NEUTRAL].abs().max() == 0  # neutral is the origin
    assert torch.allclose(lin.class_codes().norm(dim=1)[1:], torch.ones(6))
    assert torch.equal(cat.class_codes(), torch.eye(7))
    assert ev.path_codes(lin, [1, 2]).shape == (2, 11, 2) and ev.path_codes(cat, [1]).shape == (1, 11, 7)
    assert lin.search_grid(sizes).shape == (1 + 4 * 2, 2)
    assert gau.search_grid(sizes).shape == (9, 2)
    assert lin.search_grid(ev.sizes_for("gpu")).shape == (1 + 21 * 20, 2)  # the paper's 0.05 radii x 2 pi / 21
    assert gau.search_grid(ev.sizes_for("gpu")).shape == (21 * 21, 2) and ev.sizes_for("gpu").is_paper_grid
    codes = lin.sampling_codes(torch.zeros(100, dtype=torch.long), torch.Generator().manual_seed(0))
    assert codes.norm(dim=1).max() <= 1 + 1e-6
    g_codes = gau.sampling_codes(torch.full((50,), 3), torch.Generator().manual_seed(0))
    assert g_codes.abs().max() <= 1 and (g_codes - gau.class_codes()[3]).norm(dim=1).mean() < 0.3
    with pytest.raises(ValueError, match="profile"):
        ev.sizes_for("huge")
    with pytest.raises(ValueError, match="method"):
        ev.conditioned("x", "pix2pix", FillG(), None, SIZE, "test")


@pytest.mark.parametrize("method", ["ganmut", "stargan"])
def test_smoothness_of_an_even_ramp_is_one_tenth(method):
    """The judged score rises by the same amount at each of the 10 steps: s = 1/10."""
    model = linear_model(FillG()) if method == "ganmut" else ev.conditioned("stargan", "stargan", FillG(), None, SIZE, "t")
    row = ev.smoothness_row(model, ramp_judge, faces(3), classes=(1, 4))
    assert row["happy"] == pytest.approx(0.1, abs=1e-4) and row["fearful"] == pytest.approx(0.1, abs=1e-4)
    assert row["undefined"] == 0 and row["n_faces"] == 3


def test_interpolation_strip_follows_the_ramp():
    images, scores = ev.interpolation_strip(linear_model(FillG()), ramp_judge, faces(1)[0], emotion=2, steps=5)
    assert images.shape == (5, 3, SIZE, SIZE)
    assert torch.allclose(scores, torch.linspace(0, 1, 5) / 6, atol=1e-5)


def test_ere_is_zero_when_the_grid_reproduces_the_target_and_matches_the_metric():
    same = faces(1).expand(16, -1, -1, -1).clone()  # every face of the batch is the target face
    model = ev.conditioned("stargan", "stargan", IdentityG(), None, SIZE, "t")
    out = ev.ere_both_settings(model, pixel_judge, same, torch.eye(7))
    assert out["ere_setting1"] < 1e-10 and out["ere_setting2"] < 1e-10
    # different faces: the same maths as the metric module, for both settings
    x = faces(20, seed=3)
    lin = linear_model(FillG())
    grid = lin.search_grid(ev.sizes_for("smoke"))
    both = ev.ere_both_settings(lin, pixel_judge, x, grid)
    for setting, k in ((1, 3), (2, 2)):
        ref = emotion_reconstruction_error(lin, pixel_judge, x, grid, top_k=k)
        assert both[f"ere_setting{setting}"] == pytest.approx(ref["ere"], rel=1e-6)
        assert both[f"ere_setting{setting}"] > 1e-4  # a flat face cannot copy a textured one's scores


def test_accuracy_is_100_when_the_judge_reads_the_class_the_code_asks_for():
    class ClassG(nn.Module):
        def forward(self, x, z):
            return (z.argmax(1).float() / 3 - 1).view(-1, 1, 1, 1).expand_as(x).clone()

    def class_judge(images):
        k = ((images.mean((1, 2, 3)) + 1) * 3).round().long()
        return torch.nn.functional.one_hot(k, 7).float()

    row = ev.accuracy_row(ev.conditioned("stargan", "stargan", ClassG(), None, SIZE, "t"), class_judge, faces(2))
    assert all(row[name] == 100.0 for name in EMOTIONS) and row["mean"] == 100.0
    wrong = ev.accuracy_row(ev.conditioned("stargan", "stargan", FillG(), None, SIZE, "t"), class_judge, faces(2))
    assert wrong["mean"] < 100.0


def test_fed_of_an_identity_generator_is_zero_and_tsne_places_every_point():
    features = lambda x: x[:, :, ::8, ::8].flatten(1)  # noqa: E731  (48 features)
    x = faces(64, seed=1)
    model = ev.conditioned("stargan", "stargan", IdentityG(), None, SIZE, "t")
    out = ev.fed_generated(model, features, x, torch.randint(0, 7, (64,)))
    assert abs(out["fed"]) < 1e-6
    flat = ev.fed_generated(linear_model(FillG()), features, x, torch.zeros(64, dtype=torch.long))
    assert flat["fed"] > 1.0
    assert ev.fed_real(features, x) > 0
    points, is_real = ev.tsne_points(out["features_real"][:10], flat["features_fake"][:10])
    assert points.shape == (20, 2) and is_real.sum() == 10


def test_direction_similarity_is_perfect_against_the_space_itself():
    model = linear_model(FillG())
    out = ev.direction_similarity(model, model.class_codes())  # "prototypes" = the learned vectors
    assert len(out["pairs"]) == 15 and out["spearman"] == pytest.approx(1.0)
    assert all(0 <= a <= 180 for a in out["learned_angle_deg"])
    real = ev.direction_similarity(model, emotion_prototypes())
    assert -1 <= real["spearman"] <= 1
    with pytest.raises(ValueError, match="one-hot"):
        ev.direction_similarity(ev.conditioned("stargan", "stargan", FillG(), None, SIZE, "t"), emotion_prototypes())


def test_rho_tracks_the_measured_intensity_of_a_proportional_au_judge():
    protos = emotion_prototypes()

    def au_judge(images):  # AUs grow with the code's intensity along every prototype
        m = (images.mean((1, 2, 3)) + 1) / 2
        return m[:, None] * protos.sum(0)[None]

    out = ev.rho_vs_au_intensity(linear_model(FillG()), au_judge, faces(2), protos, rhos=(0.0, 0.5, 1.0))
    assert all(r == pytest.approx(1.0, abs=1e-6) for r in out["pearson_r"].values())
    assert all(s > 0 for s in out["slope"].values())
    with pytest.raises(ValueError, match="start at 0"):
        ev.rho_vs_au_intensity(linear_model(FillG()), au_judge, faces(2), protos, rhos=(0.5, 1.0))


def test_compound_fit_recovers_a_known_mixture():
    """An AU judge that outputs the true 50/50 compound of happy and surprised
    for any non-neutral edit: the fit gives both prototypes half the weight."""
    protos = emotion_prototypes()
    happy, surprised = EMOTIONS.index("happy"), EMOTIONS.index("surprised")

    def au_judge(images):
        m = (images.mean((1, 2, 3)) + 1) / 2  # 0 for the neutral edit, 1 at rho = 1
        return m[:, None] * (0.5 * protos[happy] + 0.5 * protos[surprised])[None]

    out = ev.compound_aus(linear_model(FillG()), au_judge, faces(2), protos, pairs=[(happy, surprised)])
    row = out["pairs"][0]
    assert row["share_min"] == pytest.approx(0.5, abs=1e-3) and row["r2"] == pytest.approx(1.0, abs=1e-6)
    assert len(ev.neighbour_pairs(linear_model(FillG()))) == 6


def test_shipped_files_round_trip_and_missing_files_fail_clearly(tmp_path):
    from gamutlib.papers import get_method
    from gamutlib.weights import export_weights

    method = get_method("ganmut", {"image_size": SIZE, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 4})
    export_weights("ganmut", method.export(), {**method.config, "method": "ganmut"}, root=tmp_path)
    loaded = ev.load_conditioned("ganmut", root=tmp_path)
    assert loaded.kind == "linear" and loaded.image_size == SIZE
    x, z = faces(2), torch.tensor([[0.3, -0.2], [0.0, 0.5]])
    with torch.no_grad():
        want = method.G(x, z).clamp(-1, 1)
    assert torch.allclose(loaded(x, z), want, atol=2e-2)  # fp16 file
    assert torch.allclose(loaded.class_codes(), method.space.directions_with_neutral(), atol=1e-2)
    with pytest.raises(FileNotFoundError, match="gamut train"):
        ev.load_or_fallback("gganmut", root=tmp_path, allow_fallback=False)
    with pytest.raises(ValueError, match="polar space"):
        ev.wheel_edits(ev.conditioned("stargan", "stargan", FillG(), None, SIZE, "t"), x[0], torch.zeros(2), torch.ones(2))


def test_training_record_reads_logs_configs_and_sample_steps(tmp_path):
    import json

    from gamutlib.evaluation.training_record import loss_series, read_training_record, training_summary

    run = tmp_path / "ganmut"
    (run / "samples").mkdir(parents=True)
    lines = [{"step": 100, "img_s": 400.0, "D/loss": 3.0, "G/loss": 5.0}, {"step": 200, "img_s": 500.0, "D/loss": 2.0}]
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    (run / "config.json").write_text(json.dumps({"method": "ganmut", "train": {"steps": 40000}, "model": {"image_size": 128}}))
    (run / "samples" / "samples-0000200.png").write_bytes(b"")
    (run / "samples-0000100.png").write_bytes(b"")
    (tmp_path / "not_a_run").mkdir()
    record = read_training_record(tmp_path)
    assert list(record) == ["ganmut"]
    assert [s for s, _ in record["ganmut"]["samples"]] == [100, 200]
    assert loss_series(record["ganmut"]["log"], "D")["D/loss"] == ([100, 200], [3.0, 2.0])
    row = training_summary(record)[0]
    assert row["steps"] == 200 and row["planned_steps"] == 40000 and row["image_size"] == 128
    assert read_training_record(tmp_path / "absent") == {}


def test_resume_demo_continues_the_step_counter_and_matches_the_straight_run(tmp_path):
    from gamutlib.evaluation.training_record import resume_demo

    tiny = {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, "d_repeat_num": 4,
            "batch_size": 2, "n_critic": 1, "n_c": 1}
    demo = resume_demo("ganmut", tiny, steps=2, stop_at=1, out=tmp_path)
    assert demo["stopped_early"] and demo["stopped_at"] == 1 and demo["resumed_from"] == 1 and demo["final_step"] == 2
    assert demo["max_loss_difference"] == 0.0 and demo["weights_equal"]
    with pytest.raises(ValueError, match="stop_at"):
        resume_demo("ganmut", tiny, steps=2, stop_at=2, out=tmp_path)


def test_keep_sample_grids_copies_first_middle_last_at_half_size(tmp_path):
    from PIL import Image

    from gamutlib.evaluation.training_record import keep_sample_grids

    run = tmp_path / "run"
    (run / "samples").mkdir(parents=True)
    for step in (100, 200, 300, 400, 500):
        Image.new("RGB", (64, 32), (step % 256, 0, 0)).save(run / "samples" / f"samples-{step:07d}.png")
    kept = keep_sample_grids(run, tmp_path / "dest")
    assert [p.name for p in kept] == ["samples-0000100.jpg", "samples-0000300.jpg", "samples-0000500.jpg"]
    assert all(Image.open(p).size == (32, 16) for p in kept)
    assert keep_sample_grids(tmp_path / "empty", tmp_path / "dest2") == []


def test_cpu_protocol_tables_refile_a_cpu_run(tmp_path):
    """On the cpu profile the tables just written are re-filed under the names the
    record is compared by, rows and protocol unchanged, Table 3 within one face."""
    from gamutlib.evaluation import ganmut_tables as tables
    from gamutlib.evaluation.protocol import EvaluationRun
    from gamutlib.reproduce import read_table, write_table

    for i, table in enumerate(tables.TABLES):
        write_table(tmp_path, "ganmut", table.name, rows=[{"method": "GANmut", "x": i}], paper_numbers={},
                    protocol=f"protocol {i}", seeds=[0], tolerance=table.tolerance)
    run = EvaluationRun("ganmut", "cpu", sizes=None, device="cpu", judge=None, images=None, labels=None)
    written = tables.write_cpu_protocol(run, tmp_path)
    assert [p.stem for p in written] == [t.name + "_cpu_protocol" for t in tables.TABLES]
    for i, (table, path) in enumerate(zip(tables.TABLES, written)):
        copy = read_table(tmp_path, "ganmut", path.stem)
        assert copy["rows"] == [{"method": "GANmut", "x": i}] and copy["protocol"] == f"protocol {i}"
        assert copy["producer"] == tables.CHAPTER
    assert read_table(tmp_path, "ganmut", "table3_accuracy_cpu_protocol")["tolerance"]["abs"] > 100 / 16
    smoke = EvaluationRun("ganmut", "smoke", sizes=None, device="cpu", judge=None, images=None, labels=None)
    assert tables.write_cpu_protocol(smoke, tmp_path / "smoke") == []


def test_plain_fp32_restores_tf32_settings():
    import torch

    from gamutlib.devices import plain_fp32

    before = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    with plain_fp32():
        assert not torch.backends.cudnn.allow_tf32 and not torch.backends.cuda.matmul.allow_tf32
    assert (torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32) == before
