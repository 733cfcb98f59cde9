"""The EGGAN series' evaluation (gamutlib.evaluation.eggan, eggan_tables, eggan_claims) on tiny models and
judges whose answers are known in advance."""

from __future__ import annotations

import json
import math

import pytest
import torch
from torch import nn

from gamutlib.constants import AU_MAX, AU_NAMES, EMOTIONS
from gamutlib.evaluation import eggan as ev
from gamutlib.evaluation import eggan_claims as cl
from gamutlib.judges.networks import IdentityJudge
from gamutlib.metrics.au_error import au_mse_pcc

SIZE = 32


@pytest.fixture(scope="module")
def pairs():
    return ev.edit_pairs(7, size=SIZE)


def colour_judge(images: torch.Tensor) -> torch.Tensor:
    """A stand-in AU judge that reads 17 'AUs' from the mean colour (varies across faces, in [0, 5])."""
    w = torch.linspace(-2.0, 2.0, 3 * 17).view(3, 17)
    return (images.mean((2, 3)) @ w).abs().clamp(0, AU_MAX) * 2


def oracle(name: str, out: str) -> ev.PairEditor:
    """An editor that returns the pair's target face ("target") or the source unchanged ("source")."""
    def edit(x, target, aus, cls):
        return target.clone() if out == "target" else x.clone()

    return ev.PairEditor(name, "oracle", "test", edit, nn.Identity())


def test_pairs_are_fixed_and_the_truth_is_the_source_face_with_the_target_expression(pairs):
    again = ev.edit_pairs(7, size=SIZE)
    for field in ("source", "target", "target_aus", "truth"):
        assert torch.equal(getattr(pairs, field), getattr(again, field)), field
    assert pairs.target_class.tolist() == list(range(len(EMOTIONS)))  # the 7 classes in turn
    assert float(pairs.source_aus.abs().max()) == 0.0  # neutral sources, u_i = 0
    # the truth differs from its source by an expression (small, local), from the target by a whole person
    to_source = (pairs.truth - pairs.source).abs().mean((1, 2, 3))
    to_target = (pairs.truth - pairs.target).abs().mean((1, 2, 3))
    assert bool((to_source < to_target).all()), (to_source, to_target)
    strong = pairs.target_aus.sum(1) > 3  # an expressive target changes the truth
    assert bool((to_source[strong] > 0).all())
    with pytest.raises(ValueError, match="at least 2 pairs"):
        ev.edit_pairs(1, size=SIZE)


def test_table1_is_perfect_for_an_edit_that_returns_the_target(pairs):
    edits = ev.edits_of(oracle("copy", "target"), pairs, chunk_size=3)
    assert torch.equal(edits, pairs.target)
    row = ev.table1_row(edits, pairs, colour_judge, chunk_size=3)
    assert all(row[f"mse_{n}"] == 0.0 for n in AU_NAMES) and row["mse_avg"] == 0.0
    defined = [row[f"pcc_{n}"] for n in AU_NAMES if row[f"pcc_{n}"] is not None]
    assert defined and all(p == pytest.approx(1.0, abs=1e-4) for p in defined)
    # against the exact AUs: the stand-in judge's own error on the real targets
    want = au_mse_pcc(colour_judge(pairs.target), pairs.target_aus)
    assert row["truth_mse_avg"] == pytest.approx(want["mse_avg"], abs=1e-4) and row["truth_mse_avg"] > 0
    # an edit that changes nothing follows no target: worse
    still = ev.table1_row(ev.edits_of(oracle("none", "source"), pairs, 4), pairs, colour_judge)
    assert still["mse_avg"] > 0


def test_edits_against_the_truth_are_exact_for_the_truth_and_not_for_the_source(pairs):
    judge = IdentityJudge(size=SIZE, width=4).eval()
    exact = ev.edit_vs_truth_row(pairs.truth, pairs.truth, judge, chunk_size=3)
    assert exact["l1"] == 0.0 and exact["ssim"] == pytest.approx(1.0, abs=1e-4) and exact["identity_distance"] == pytest.approx(0.0, abs=1e-4)
    unedited = ev.edit_vs_truth_row(pairs.source, pairs.truth, judge)
    other = ev.edit_vs_truth_row(pairs.target, pairs.truth, judge)
    assert 0 < unedited["l1"] < other["l1"] and unedited["ssim"] > other["ssim"]
    with pytest.raises(ValueError, match="one shape"):
        ev.edit_vs_truth_row(pairs.truth[:3], pairs.truth, judge)
    with pytest.raises(ValueError, match="NaN"):
        ev.edit_vs_truth_row(torch.full_like(pairs.truth, float("nan")), pairs.truth, judge)


def test_verification_counts_pairs_at_the_judges_threshold(pairs):
    judge = IdentityJudge(size=SIZE, width=4).eval()
    assert ev.judge_verification(judge, pairs.source, pairs.source) == 100.0  # cos = 1 >= 0.5
    judge.threshold.fill_(1.5)  # no cosine reaches it
    assert ev.judge_verification(judge, pairs.source, pairs.source) == 0.0
    assert ev.verification_rate(torch.tensor([True, False, True, True])) == 75.0


class LinearAUEdit(nn.Module):
    """'G(E(x), u)': the source brightened by the mean asked AU (a linear edit), or by a step (``step``)."""

    def __init__(self, step: bool = False) -> None:
        super().__init__()
        self.step = step

    def forward(self, x, aus):
        s = aus.mean(1) / AU_MAX
        if self.step:
            s = (s > 0.2).float() * 0.4  # the targets below ask 2/5 = 0.4: a jump past alpha = 1/2
        return (x * 0.3 + s.view(-1, 1, 1, 1)).clamp(-1, 1)


def test_interpolation_reads_a_straight_line_as_progress_equal_to_alpha(pairs):
    def judge(images):  # reads back the brightening on every 'AU'
        return ((images.mean((1, 2, 3)) + 1) * 2)[:, None].expand(-1, 17).clamp(0, AU_MAX)

    # target AUs of one strength per face so that the step edit jumps once, halfway
    strong = ev.EditPairs(pairs.source, pairs.source_aus, pairs.source_identity, pairs.target,
                          torch.full_like(pairs.target_aus, 2.0), pairs.target_class, pairs.truth)
    line = ev.PairEditor("lin", "eggan", "test", lambda *a: None, nn.Identity(),
                         interpolate=lambda x, aus: LinearAUEdit()(x, aus))
    out = ev.interpolation_readings(line, strong, judge, steps=5)
    assert out["alphas"] == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert out["progress"] == pytest.approx(out["alphas"], abs=1e-4)
    assert out["pearson_r"] == pytest.approx(1.0, abs=1e-6) and out["max_deviation"] < 1e-4
    step = ev.PairEditor("step", "eggan", "test", lambda *a: None, nn.Identity(),
                         interpolate=lambda x, aus: LinearAUEdit(step=True)(x, aus))
    jumped = ev.interpolation_readings(step, strong, judge, steps=5)
    assert jumped["max_deviation"] >= 0.25 - 1e-4  # 0 then 1: a quarter off the line at least
    row = ev.fig3_row(out)
    assert row["progress_0.25"] == pytest.approx(0.25, abs=1e-4)
    with pytest.raises(ValueError, match="not conditioned on AU"):
        oracle("copy", "target").edit_aus(pairs.source, strong.target_aus)
    with pytest.raises(ValueError, match=r"\[0, 5\]"):
        line.edit_aus(pairs.source, torch.full_like(strong.target_aus, 7.0))


def test_the_shipped_file_round_trips_and_other_files_fail_clearly(tmp_path):
    from gamutlib.papers import get_method
    from gamutlib.weights import export_weights

    x = ev.edit_pairs(2, size=ev.IMAGE_SIZE)
    method = get_method("eggan", {"image_size": ev.IMAGE_SIZE, **ev.TINY["eggan"], "feature_weights": ""})
    export_weights("eggan", method.export(), method.config, root=tmp_path)
    editor = ev.load_editor("eggan", root=tmp_path)
    assert editor.method == "eggan" and editor.source.endswith("eggan.safetensors")
    with torch.no_grad():
        want = method.G(method.E(x.source), x.target_aus).clamp(-1, 1)
    got = editor.edit(x.source, x.target, x.target_aus, x.target_class)
    assert torch.allclose(got, want, atol=3e-2)  # fp16 file
    hgan = get_method("hgan", {"image_size": ev.IMAGE_SIZE, **ev.TINY["hgan"], "feature_weights": ""})
    export_weights("hgan", hgan.export(), hgan.config, root=tmp_path)
    h = ev.load_editor("hgan", root=tmp_path)
    with torch.no_grad():
        assert torch.allclose(h.edit(x.source, x.target, x.target_aus, x.target_class),
                              hgan.transfer(x.source, x.target, 1.0), atol=3e-2)
    # a file of another network under EGGAN's name, a missing file, a name outside the tables
    other = tmp_path / "other"
    export_weights("eggan", hgan.export(), hgan.config, root=other)
    with pytest.raises(ValueError, match="hgan"):
        ev.load_editor("eggan", root=other)
    with pytest.raises(FileNotFoundError, match="gamut train hgan"):
        ev.load_editor("hgan", root=other)
    with pytest.raises(ValueError, match="EGGAN tables"):
        ev.load_editor("feature_net", root=tmp_path)


def _record(name, seed, mse, pcc, acc, l1, ssim=0.8, r=0.99):
    return {"name": name, "seed": seed, "table1": {"mse_avg": mse, "pcc_avg": pcc, "truth_mse_avg": mse + 0.1},
            "table2": {"accuracy_judge": acc}, "edit_vs_truth": {"l1": l1, "ssim": ssim},
            "fig3": {"pearson_r": r} if name == "eggan" else None}


def test_claims_follow_the_generic_rules():
    records = [_record("eggan", s, 0.20 + 0.01 * s, 0.70, 97 + s, 0.03, ssim=0.80 + 0.01 * s) for s in range(3)]
    records += [_record("hgan", s, 0.50 + 0.01 * s, 0.40, 80 + s, 0.08) for s in range(3)]
    records += [_record("stargan", 0, 0.60, 0.30, 93, 0.05)]
    ablations = [{**_record("eggan", 0, 0.5, 0.5, 60, 0.05, ssim=0.5), "config": "eggan__no_id"},
                 {**_record("eggan", 0, 0.2, 0.7, 97, 0.03, ssim=0.805), "config": "eggan__no_per"}]  # within the seeds
    rows = cl.claims(records, ablations)
    by = {r["claim"][:12]: r for r in rows}
    mse = next(r for r in rows if r["claim"].startswith("T1 MSE: EGGAN"))
    # StarGAN has one seed (the GANmut series' shipped one): judged with EGGAN's seed spread
    assert mse["verdict"] == "holds" and "SGAN has one seed, judged with EGAN's seed spread" in mse["why"]
    close = [r for r in records if r["name"] != "stargan"] + [_record("stargan", 0, 0.215, 0.30, 93, 0.05)]
    mse = next(r for r in cl.claims(close, ablations) if r["claim"].startswith("T1 MSE: EGGAN"))
    assert mse["verdict"] == "does not hold" and "EGAN and SGAN within the seed spread" in mse["why"]
    no_sgan = cl.claims([r for r in records if r["name"] != "stargan"], ablations)
    assert next(r for r in no_sgan if r["claim"].startswith("T1 MSE: EGGAN"))["verdict"] == "not testable here"
    # EGGAN vs HGAN alone, two seeds each: the ordering rule decides
    only = [(c, p, m, ((a, b),)) for c, p, m, prs in cl.ORDER_CLAIMS for a, b in prs if "stargan" not in (a, b)]
    from gamutlib.evaluation.claims import ordering_verdict

    est = cl.seed_estimates(records, cl.all_metrics())
    verdicts = {m: ordering_verdict([(a, est[a][m], b, est[b][m]) for a, b in prs])[0] for _, _, m, prs in only}
    assert verdicts == {"table1.mse_avg": "holds", "table1.pcc_avg": "holds", "table1.truth_mse_avg": "holds",
                        "table2.accuracy_judge": "holds", "edit_vs_truth.l1": "holds"}
    fig3 = next(r for r in rows if r["claim"].startswith("Fig. 3"))
    assert fig3["verdict"] == "holds"
    ablation = {r["claim"].split(",")[1].split(":")[0].strip(): r["verdict"] for r in rows if "ablation" in r["claim"]}
    assert ablation == {"without L_per": "does not hold", "without L_id": "holds", "without MS-SSIM": "not testable here"}
    assert all(set(r) == {"claim", "paper", "ours", "verdict", "why"} for r in rows) and by


def test_the_paper_numbers_are_the_papers():
    t1 = ev.PAPER_TABLE1
    assert t1["EGAN"]["mse_avg"] == 0.24 and t1["HGAN"]["pcc_AU12"] == 0.98 and t1["SGAN"]["pcc_AU02"] == 0.00
    assert len([k for k in t1["SGAN"] if k.startswith("mse_")]) == 18
    assert ev.PAPER_TABLE2["Real"]["accuracy_judge"] == 99.63 and ev.PAPER_TABLE2["HGAN"]["accuracy_judge"] == 76.54
    # every row's average is the paper's printed Avg, which matches its 17 AUs to rounding
    for method in ("HGAN", "SGAN", "EGAN"):
        mean = sum(t1[method][f"mse_{n}"] for n in AU_NAMES) / 17
        assert math.isclose(mean, t1[method]["mse_avg"], abs_tol=0.011), method


def test_gamut_evaluate_scores_a_seed_on_the_smoke_profile(tmp_path):
    from click.testing import CliRunner

    from gamutlib.cli import main
    from gamutlib.papers import get_method
    from gamutlib.weights import export_weights

    method = get_method("eggan", {"image_size": ev.IMAGE_SIZE, **ev.TINY["eggan"], "feature_weights": ""})
    export_weights("eggan", method.export(), method.config, root=tmp_path / "w")
    result = CliRunner().invoke(main, ["evaluate", "eggan", "eggan", "--seed", "1", "--weights-dir", str(tmp_path / "w"),
                                       "--profile", "smoke", "--results-dir", str(tmp_path / "r"), "--device", "cpu"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "r" / "eggan" / "seeds" / "eggan-seed1.json").read_text())
    assert record["seed"] == 1 and record["profile"] == "smoke"
    assert set(record) >= {"table1", "table2", "edit_vs_truth", "fig3"}
    assert record["table1"]["n_pairs"] == ev.sizes_for("smoke").n_pairs
    assert 0 <= record["table2"]["accuracy_judge"] <= 100 and math.isfinite(record["fig3"]["pearson_r"])
    bad = CliRunner().invoke(main, ["evaluate", "eggan", "hgan", "--seed", "0", "--weights-dir", str(tmp_path / "w"),
                                    "--profile", "smoke", "--results-dir", str(tmp_path / "r"), "--device", "cpu"])
    assert bad.exit_code != 0 and "gamut train hgan" in bad.output


def test_ablation_records_take_their_config_from_the_file_name(tmp_path):
    folder = tmp_path / "eggan" / "ablations"
    folder.mkdir(parents=True)
    (folder / "eggan__no_id-seed0.json").write_text(json.dumps({**_record("eggan", 0, 0.3, 0.6, 50, 0.05), "profile": "gpu"}))
    (folder / "eggan__no_id-seed0.log.jsonl").write_text("{}\n")
    (folder / "eggan__no_per-seed0.json").write_text(json.dumps({**_record("eggan", 0, 0.3, 0.6, 50, 0.05), "profile": "smoke"}))
    records = cl.read_ablation_records(tmp_path)
    assert [r["config"] for r in records] == ["eggan__no_id"]
    assert [r["config"] for r in cl.read_ablation_records(tmp_path, profile=None)] == ["eggan__no_id", "eggan__no_per"]


def test_score_script_scores_seeds_and_files_ablations(tmp_path):
    """scripts/gpu/score_eggan.sh on the folders train_eggan.sh leaves (tiny networks, smoke profile)."""
    import os
    import subprocess
    import sys
    import tarfile
    from pathlib import Path

    from gamutlib.papers import get_method
    from gamutlib.weights import export_weights

    repo = Path(__file__).resolve().parents[1]
    work, weights, out = tmp_path / "runs", tmp_path / "weights", tmp_path / "out"
    method = get_method("eggan", {"image_size": ev.IMAGE_SIZE, **ev.TINY["eggan"], "feature_weights": ""})
    export_weights("eggan", method.export(), method.config, root=weights)  # seed 0: the shipped folder
    export_weights("eggan", method.export(), method.config, root=work / "eggan__no_id-seed0" / "weights")
    run = work / "eggan-seed0" / "run" / "2026-01-01-000000"
    run.mkdir(parents=True)
    (run / "config.json").write_text(json.dumps({"train": {"steps": 2, "seed": 0}, "model": {}}))
    (run / "log.jsonl").write_text(json.dumps({"step": 2}) + "\n")
    (work / "feature_net-seed0").mkdir()  # not a generator: skipped
    env = {**os.environ, "OUT": str(out), "WORK": str(work), "WEIGHTS": str(weights), "PROFILE": "smoke",
           "PYTHON": sys.executable, "PYTHONPATH": str(repo), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(["bash", str(repo / "scripts/gpu/score_eggan.sh")], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    with tarfile.open(out / "eggan-scores.tgz") as tar:
        names = set(tar.getnames())
    assert {"eggan/seeds/eggan-seed0.json", "eggan/ablations/eggan__no_id-seed0.json",
            "eggan/training/eggan/config.json", "eggan/training/eggan/log.jsonl"} <= names, names
    record = json.loads((out / "results/eggan/seeds/eggan-seed0.json").read_text())
    assert record["iterations"] == 2 and record["table1"]["n_pairs"] == ev.sizes_for("smoke").n_pairs
    assert cl.read_ablation_records(out / "results", profile="smoke")[0]["config"] == "eggan__no_id"


def test_dlib_table_calls_an_unchanged_face_the_same_person(tmp_path):
    from gamutlib.evaluation import eggan_tables as tables

    if ev.dlib_embedder() is None:
        pytest.skip("dlib (the `real` extra) is not installed")
    sizes = ev.sizes_for("smoke")
    run = tables.EGGANRun("eggan", "smoke", sizes, "cpu", None, None, None, {"eggan": oracle("eggan", "source")})
    path = tables.write_dlib_table(run, tmp_path)
    table = json.loads(path.read_text())
    rows = {r["method"]: r for r in table["rows"]}
    assert set(rows) == {"Real", "EGAN"} and rows["EGAN"]["accuracy_dlib"] == 100.0  # distance 0 < 0.6
    assert rows["EGAN"]["n_pairs"] == sizes.n_dlib and table["paper"]["EGAN"] == {"accuracy_dlib": 97.04}
    assert table["producer"] == "gamutlib/evaluation/eggan_tables.py"


def test_au_sliders_drive_the_edit_and_show_the_judged_aus():
    pytest.importorskip("ipywidgets")
    from gamutlib.models.eggan import EGGAN, EGGANEditor
    from gamutlib.widgets.au_explorer import AUExplorer

    torch.manual_seed(0)
    editor = EGGANEditor.from_method(EGGAN(image_size=SIZE, latent_dim=16, e_conv_dim=4, g_conv_dim=4, g_blocks=3,
                                           d_conv_dim=4, d_repeat_num=3, c_conv_dim=4, n_identities=8, feature_weights=""))
    ex = AUExplorer(editor, au_judge=colour_judge, source=3)
    assert [s.description for s in ex.sliders.values()] == [f"AU{i}" for i in (1, 2, 4, 5, 6, 7, 9, 10, 12, 14, 15, 17,
                                                                               20, 23, 25, 26, 45)]
    before = ex.edited.clone()
    ex.sliders["AU12"].value = 3.5  # a slider drag runs the same callback
    assert ex.values["AU12"] == 3.5 and ex.boxes["AU12"].value == 3.5
    assert not torch.equal(ex.edited, before)
    want = editor.edit_values(ex.source.face, {**{n: 0.0 for n in AU_NAMES}, "AU12": 3.5})
    assert torch.allclose(ex.edited, want)
    assert ex._asked[AU_NAMES.index("AU12")].get_height() == 3.5
    judged = colour_judge(ex.edited if ex.edited.ndim == 4 else ex.edited[None])[0]
    assert torch.allclose(ex.judged, judged.clamp(0, AU_MAX)) and "AU12 3.5" in ex.message.value
    # a value out of range is refused, named, and the face keeps its code
    kept = ex.edited.clone()
    ex.boxes["AU06"].value = 7.0
    assert "AU06" in ex.message.value and ex.boxes["AU06"].value == 0.0 and torch.equal(ex.edited, kept)
    # an emotion preset moves every slider to its prototype AUs
    ex.goto.value = "happy"
    assert ex.values == pytest.approx(editor.values_for("happy", 1.0))
    fig = ex.snapshot(intensities=(0.5, 1.0))
    assert len(fig.axes) == 6 * 3  # six emotions x (source + two intensities)
    with pytest.raises(TypeError, match="one control per AU"):
        from gamutlib.models.ganmut import GANmut, GANmutEditor

        AUExplorer(GANmutEditor.from_method(GANmut(image_size=SIZE, g_conv_dim=8, g_repeat_num=1, d_conv_dim=8,
                                                   d_repeat_num=2)))
