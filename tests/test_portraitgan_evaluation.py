"""The PortraitGAN series' evaluation on CPU: exact targets, measures, loading, tables, claims, dlib."""

import json

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from gamutlib.cli import main
from gamutlib.evaluation import portraitgan as ev
from gamutlib.evaluation import portraitgan_tables as pt
from gamutlib.evaluation.claims import COLUMNS, VERDICTS
from gamutlib.judges.networks import AUJudge, IdentityJudge
from gamutlib.metrics.pixel_error import mse_error
from gamutlib.papers import get_method
from gamutlib.weights import export_weights

SIZE = 32
TINY_PG = {"image_size": SIZE, "g_conv_dim": 8, "g_max_dim": 16, "g_repeat_num": 1, "d_conv_dim": 8, "d_n_layers": 2, "batch_size": 2,
           "features": "random"}


@pytest.fixture(scope="module")
def truth():
    return ev.edit_truth(3, SIZE, seed=7, path_steps=3, n_path=2)


@pytest.fixture(scope="module")
def judges():
    torch.manual_seed(0)
    return pt.EditJudges(AUJudge(size=SIZE, width=4, hidden=16).eval(), IdentityJudge(size=SIZE, width=4).eval())


class Lookup(nn.Module):
    """An oracle generator: returns the stored answer for each stored input (exactly), for checking the measures."""

    def __init__(self, inputs: torch.Tensor, answers: torch.Tensor) -> None:
        super().__init__()
        self.inputs, self.answers = inputs, answers
        self.anchor = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor, *condition: torch.Tensor) -> torch.Tensor:
        index = [int((self.inputs - xi).abs().flatten(1).sum(1).argmin()) for xi in x]
        return self.answers[index] + 0 * self.anchor


def test_targets_are_the_same_face_along_the_path(truth):
    n_path, steps = truth["path_photo"].shape[:2]
    assert (n_path, steps) == (2, 3)
    # t = 1 is expression B exactly; t < 1 lies between A and B
    assert torch.equal(truth["path_photo"][:, -1], truth["photo_b"][:n_path])
    assert torch.equal(truth["path_style"][:, -1], truth["style_b"][:n_path])
    assert torch.allclose(truth["path_landmarks"][:, -1], truth["landmarks_b"][:n_path])
    middle = truth["path_landmarks"][:, 0]
    assert not torch.allclose(middle, truth["landmarks_a"][:n_path]) and not torch.allclose(middle, truth["landmarks_b"][:n_path])
    # the sketch target is the same face: another picture, the same seed gives the same faces
    assert not torch.allclose(truth["style_a"], truth["photo_a"])
    again = ev.edit_truth(3, SIZE, seed=7, path_steps=3, n_path=2)
    assert all(torch.equal(again[k], truth[k]) for k in truth)
    with pytest.raises(ValueError, match="style must be one of"):
        ev.edit_truth(2, SIZE, style="photo")


def test_table1_quality_is_perfect_for_an_oracle_and_exact_for_the_identity(truth):
    oracle = ev.ModalityModel("cyclegan", "cyclegan", Lookup(truth["photo_a"], truth["style_a"]),
                              {"image_size": SIZE, "target": "sketch"}, "test oracle")
    scores = ev.modality_scores(oracle, truth)
    assert scores["mse"] == 0.0 and scores["ssim"] == pytest.approx(1.0, abs=1e-4) and scores["n_faces"] == 3
    unchanged = ev.ModalityModel("cyclegan", "cyclegan", Lookup(truth["photo_a"], truth["photo_a"]),
                                 {"image_size": SIZE, "target": "sketch"}, "test identity")
    scores = ev.modality_scores(unchanged, truth)
    assert scores["mse"] == pytest.approx(round(mse_error(truth["photo_a"], truth["style_a"]), 5))
    assert scores["mse"] > 0.005 and scores["ssim"] < 0.99


def test_edit_rows_floor_and_reference(truth, judges):
    exact = ev.edit_row(ev.reference_outputs(truth, "target"), truth, judges)
    unchanged = ev.edit_row(ev.reference_outputs(truth, "input"), truth, judges)
    for task in ("shape", "shape_modality", "path", "path_modality"):
        assert exact[f"{task}_mse"] == 0.0 and exact[f"{task}_ssim"] == pytest.approx(1.0, abs=1e-4)
        assert exact[f"{task}_id_dist"] == pytest.approx(0.0, abs=1e-4)
        assert unchanged[f"{task}_mse"] > 0.0
    # leaving a photo as a photo is far from its sketch target
    assert unchanged["shape_modality_mse"] > 10 * unchanged["shape_mse"]
    assert unchanged["path_modality_mse"] > 10 * unchanged["path_mse"]
    # an oracle PortraitGAN (keyed on its input image, landmark map and code) that returns each
    # task's target scores exactly as the targets themselves do
    from gamutlib.models.portraitgan import landmark_map

    targets = ev.edit_targets(truth)
    x, steps = truth["photo_a"], truth["path_photo"].shape[1]
    lm_b, lm_path = landmark_map(truth["landmarks_b"], SIZE), landmark_map(truth["path_landmarks"].flatten(0, 1), SIZE)
    path_in = x[:2].repeat_interleave(steps, 0) + lm_path
    keys = torch.cat([x + lm_b, x + 1e-3 + lm_b, path_in, path_in + 1e-3])
    answers = torch.cat([targets[task][0] for task in ("shape", "shape_modality", "path", "path_modality")])
    oracle_g = Lookup(keys, answers)

    class ByTask(nn.Module):  # G(x, map, code)
        def __init__(self):
            super().__init__()
            self.g = oracle_g

        def forward(self, images, lmap, code):
            return self.g(images + torch.where(code[:, 2:3] > 0, 1e-3, 0.0)[:, :, None, None] + lmap)

    oracle = ev.ModalityModel("portraitgan", "portraitgan", ByTask(),
                              {"image_size": SIZE, "modalities": ["photo", "cartoon", "sketch"]}, "test oracle")
    assert ev.edit_row(ev.edit_outputs(oracle, truth), truth, judges) == exact


def test_portraitgan_outputs_follow_landmarks_and_modality(truth):
    method = get_method("portraitgan", TINY_PG)
    model = ev.ModalityModel("portraitgan", "portraitgan", method.G, method.config, "random init")
    x = truth["photo_a"]
    same = ev.translate(model, x, truth["landmarks_a"], "photo")
    assert not torch.allclose(same, ev.translate(model, x, truth["landmarks_b"], "photo"))
    assert not torch.allclose(same, ev.translate(model, x, truth["landmarks_a"], "sketch"))
    assert same.shape == x.shape and same.abs().max() <= 1


def test_bad_input_is_refused_with_one_clear_error(truth):
    cycle = ev.ModalityModel("cyclegan", "cyclegan", nn.Identity(), {"image_size": SIZE, "target": "sketch"}, "t")
    with pytest.raises(ValueError, match="translates to sketch, not 'cartoon'"):
        ev.translate(cycle, truth["photo_a"], truth["landmarks_a"], "cartoon")
    with pytest.raises(ValueError, match="cannot edit a face's shape"):
        ev.edit_outputs(cycle, truth)
    bad = truth["landmarks_a"].clone()
    bad[0, 3, 0] = float("nan")
    with pytest.raises(ValueError, match="NaN"):
        ev.translate(cycle, truth["photo_a"], bad, "sketch")
    with pytest.raises(ValueError, match=r"\(N, 68, 2\) landmarks"):
        ev.translate(cycle, truth["photo_a"], truth["landmarks_a"][:1], "sketch")
    with pytest.raises(ValueError, match="images for cyclegan must be 32x32 pixels, got 16x16"):
        ev.translate(cycle, truth["photo_a"][:, :, :16, :16], truth["landmarks_a"], "sketch")
    with pytest.raises(ValueError, match="must lie in"):
        ev.translate(cycle, truth["photo_a"] * 255, truth["landmarks_a"], "sketch")
    with pytest.raises(ValueError, match="not a generator of the PortraitGAN series"):
        ev.ModalityModel("stargan", "stargan", nn.Identity(), {}, "t")


def test_loading_refuses_missing_files_and_other_models(tmp_path):
    with pytest.raises(FileNotFoundError, match="train_portraitgan.sh"):
        ev.load_model("portraitgan", tmp_path)
    full = get_method("portraitgan", TINY_PG)
    export_weights("portraitgan", full.export(), full.config, root=tmp_path)
    loaded = ev.load_model("portraitgan", tmp_path)
    x = torch.rand(1, 3, SIZE, SIZE) * 2 - 1
    lm = ev.edit_truth(1, SIZE)["landmarks_a"]
    assert torch.allclose(loaded(x, lm, "sketch"), ev.ModalityModel("p", "portraitgan", full.G, full.config, "")(x, lm, "sketch"),
                          atol=2e-2)  # the file holds fp16
    # an ablation's run exports under the method's name: the file must be that ablation
    with pytest.raises(ValueError, match="lambda_texture is 10.0, portraitgan__no_texture has 0.0"):
        ev.load_model("portraitgan__no_texture", tmp_path)
    cycle = get_method("cyclegan", {"image_size": SIZE, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8})
    other = tmp_path / "other"
    export_weights("portraitgan", cycle.export(), cycle.config, root=other)
    with pytest.raises(ValueError, match="holds a 'cyclegan' generator, not 'portraitgan'"):
        ev.load_model("portraitgan", other)


def test_inference_time_is_per_image_and_leaves_the_threads_alone(truth):
    model = ev.ModalityModel("cyclegan", "cyclegan", nn.Conv2d(3, 3, 3, padding=1), {"image_size": SIZE, "target": "sketch"}, "t")
    before = torch.get_num_threads()
    ms = ev.inference_ms(model, truth, "cpu", repeats=2, threads=1)
    assert 0 < ms < 1000 and torch.get_num_threads() == before


def records(pg_mse, base_mse, ablation_mse, times=(10.0, 9.0)):
    rows = []
    for seed, mse in enumerate(pg_mse):
        rows.append({"name": "portraitgan", "seed": seed,
                     "table1": {"mse": mse, "ssim": 0.6 - mse, "gpu_ms": times[0] if seed == 0 else 99.0},
                     "ablation": {"modality_mse": mse, "shape_modality_mse": mse + 0.01}})
    rows.append({"name": "cyclegan", "seed": 0, "table1": {"mse": base_mse, "ssim": 0.6 - base_mse, "gpu_ms": 5.0}})
    rows.append({"name": "stargan_modality", "seed": 0, "table1": {"mse": base_mse, "ssim": 0.6 - base_mse, "gpu_ms": times[1]}})
    for name in ev.ABLATIONS:
        rows.append({"name": name, "seed": 0, "ablation": {"modality_mse": ablation_mse, "shape_modality_mse": ablation_mse + 0.01}})
    return rows


def test_claims_follow_the_numbers(tmp_path):
    good = pt.portraitgan_claims(records([0.020, 0.021, 0.019], 0.030, 0.040))
    assert all(tuple(r) == COLUMNS and r["verdict"] in VERDICTS for r in good)
    by_claim = [r["verdict"] for r in good]
    assert by_claim[:3] == ["holds"] * 3  # MSE, SSIM, time (10 / 9 ms = 1.1x)
    assert by_claim[3:9] == ["holds"] * 6  # every ablation is worse beyond PortraitGAN's spread
    assert by_claim[-1] == "not testable here"  # the user study
    close = pt.portraitgan_claims(records([0.020, 0.025, 0.015], 0.021, 0.0205, times=(20.0, 9.0)))
    assert [r["verdict"] for r in close][:9] == ["does not hold"] * 9
    assert "within the seed spread" in close[0]["why"] and "2.22" in close[2]["why"]
    worse = pt.portraitgan_claims(records([0.030, 0.031, 0.029], 0.020, 0.020))
    assert "PortraitGAN > CycleGAN" in worse[0]["why"]
    assert [r["verdict"] for r in pt.portraitgan_claims([])] == ["not testable here"] * 10
    # SSIM is shown as measured (not negated)
    assert "PortraitGAN 0.58" in good[1]["ours"]
    (tmp_path / "portraitgan" / "seeds").mkdir(parents=True)
    for r in records([0.020, 0.021, 0.019], 0.030, 0.040):
        (tmp_path / "portraitgan" / "seeds" / f"{r['name']}-seed{r['seed']}.json").write_text(json.dumps({**r, "profile": "gpu"}))
    smoke = {"name": "cyclegan", "seed": 1, "profile": "smoke", "table1": {"mse": 0.001, "ssim": 0.9, "gpu_ms": 1.0}}
    (tmp_path / "portraitgan" / "seeds" / "cyclegan-seed1.json").write_text(json.dumps(smoke))  # never counted
    written = pt.record_claims(tmp_path, tmp_path / "out")
    table = json.loads((tmp_path / "out" / "portraitgan" / "claims.json").read_text())
    assert table["rows"] == written and table["seeds"] == [0, 1, 2] and table["producer"] == pt.CHAPTER
    assert written[0]["verdict"] == "holds" and "CycleGAN 0.03 (1 seed)" in written[0]["ours"]


def test_spread_verdict_needs_some_spread():
    one = pt.estimate([0.1])
    assert pt.spread_verdict([("a", one, "b", one)])[0] == "not testable here"
    assert pt.spread_verdict([("a", None, "b", one)]) == ("not testable here", "no record of a")


def test_gamut_evaluate_scores_an_ablation_seed_on_smoke(tmp_path):
    result = CliRunner().invoke(main, ["evaluate", "portraitgan", "portraitgan__single_level", "--seed", "0", "--profile",
                                       "smoke", "--weights-dir", str(tmp_path / "none"), "--results-dir", str(tmp_path),
                                       "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "portraitgan" / "seeds" / "portraitgan__single_level-seed0.json").read_text())
    assert record["table1"] is None and record["landmark_edits"] is None
    assert set(record["ablation"]) >= {"modality_mse", "modality_ssim", "shape_nme", "shape_modality_id_dist"}
    assert "tiny fallback" in record["weights"]


def test_cpu_protocol_is_written_on_cpu_never_on_smoke(tmp_path):
    run = pt.open_run("smoke", device="cpu", names=["cyclegan", "stargan_modality", "portraitgan"])
    assert pt.write_cpu_protocol(run, tmp_path) == []
    run.profile = "cpu"  # a cpu run files its own tables under the cpu protocol's names
    written = pt.write_cpu_protocol(run, tmp_path)
    assert sorted(p.name for p in written) == ["landmark_edits_cpu_protocol.json", "table1_modality_cpu_protocol.json"]
    table1 = json.loads((tmp_path / "portraitgan" / "table1_modality_cpu_protocol.json").read_text())
    assert [r["method"] for r in table1["rows"]] == ["PortraitGAN"]  # the baselines are RECORD_ONLY
    assert all(set(r) == {"method", "mse", "ssim", "n_faces"} for r in table1["rows"])
    assert "ms per image" not in table1["protocol"] and table1["producer"] == pt.CHAPTER


def test_a_reader_cpu_run_holds_portraitgan_alone_and_the_gpu_record_every_method(tmp_path, monkeypatch):
    """The baselines are results, not shipped files: a cpu run with only PortraitGAN's file
    leaves them out, and the cpu protocol holds PortraitGAN's rows on every profile."""
    monkeypatch.setattr(ev, "sizes_for", lambda profile: ev.SIZES["smoke"])  # the cpu path on two faces
    full = get_method("portraitgan", {**TINY_PG, "image_size": 128})
    export_weights("portraitgan", full.export(), full.config, root=tmp_path)
    assert set(pt.RECORD_ONLY) == set(pt.TABLE1_METHODS) - {"portraitgan"}
    with pytest.raises(FileNotFoundError, match="cyclegan.safetensors is missing"):
        pt.open_run("cpu", weights_dir=str(tmp_path), device="cpu")
    run = pt.open_run("cpu", weights_dir=str(tmp_path), device="cpu", skip_missing=True)
    assert list(run.models) == ["portraitgan"]
    results = tmp_path / "results"
    pt.for_run(pt.TABLE1, run).write(run, results, producer=pt.CHAPTER)
    table1 = json.loads((results / "portraitgan" / "table1_modality.json").read_text())
    assert [r["method"] for r in table1["rows"]] == ["PortraitGAN"] and table1["rows"][0]["cpu_ms"] > 0
    written = pt.write_cpu_protocol(run, results, str(tmp_path))
    rows = {p.stem: [r["method"] for r in json.loads(p.read_text())["rows"]] for p in written}
    assert rows == {"table1_modality_cpu_protocol": ["PortraitGAN"],
                    "landmark_edits_cpu_protocol": ["Input unchanged", "Exact target", "PortraitGAN"]}
    cpu_protocol = json.loads((results / "portraitgan" / "table1_modality_cpu_protocol.json").read_text())["protocol"]
    # the gpu record holds every method, and measures the cpu protocol over the shipped one only
    baseline = ev.ModalityModel("cyclegan", "cyclegan", nn.Identity(), {"image_size": 128, "target": "sketch"}, "t")
    run.models["cyclegan"], run.profile = baseline, "gpu"
    assert list(pt.for_run(pt.TABLE1, run).methods) == ["cyclegan", "portraitgan"]
    pt.write_cpu_protocol(run, tmp_path / "gpu", str(tmp_path))
    again = json.loads((tmp_path / "gpu" / "portraitgan" / "table1_modality_cpu_protocol.json").read_text())
    assert [r["method"] for r in again["rows"]] == ["PortraitGAN"] and again["protocol"] == cpu_protocol


def test_cpu_protocol_tables_hold_no_timings():
    table1, edits = pt.cpu_protocol_tables()
    assert table1.name == "table1_modality_cpu_protocol" and edits.name == "landmark_edits_cpu_protocol"
    assert "columns" in table1.tolerance and "gpu_ms" not in table1.tolerance["columns"]


def test_dlib_reads_the_exact_targets_and_finds_no_face_in_a_blank():
    pytest.importorskip("dlib")
    from gamutlib.evaluation.portraitgan_dlib import dlib_nme

    faces = ev.edit_truth(2, 128, seed=3, path_steps=1)
    found = dlib_nme(faces["photo_b"], faces["landmarks_b"])
    assert found["found"] == 1.0 and 0 < found["nme"] < 0.1
    assert dlib_nme(torch.zeros(1, 3, 128, 128), faces["landmarks_b"][:1]) == {"nme": None, "found": 0.0}
