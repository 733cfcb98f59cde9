"""The synthesis table assembled from toy records: numbers, reasons, every row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gamutlib.evaluation import synthesis as syn
from gamutlib.evaluation import synthesis_figures as figures
from gamutlib.evaluation import synthesis_tasks as tasks

#: Parameters and file size stand-ins (computing them builds every generator; one test does that).
SIZES = {m: {"params_M": 1.0, "fp16_MB": 2.0} for m in
         ("stargan", "ganimation", "ganmut", "gganmut", "eggan", "hgan", "finegrained", "finegrained__kmsf0",
          "finegrained__kmsf1", "finegrained__kmsf2", "finegrained__absolute", "portraitgan", "cyclegan")}


def _record(root: Path, series: str, name: str, seed: int, **tables) -> None:
    folder = root / series / "seeds"
    folder.mkdir(parents=True, exist_ok=True)
    record = {"name": name, "seed": seed, "profile": "gpu", "weights": f"weights/{name}.safetensors", **tables}
    (folder / f"{name}-seed{seed}.json").write_text(json.dumps(record))


@pytest.fixture
def record(tmp_path: Path) -> Path:
    """The GANmut series recorded (three seeds of GANmut, one of GANimation without Table 1); nothing else."""
    for seed, accuracy in enumerate((40.0, 50.0, 60.0)):
        _record(tmp_path, "ganmut", "ganmut", seed, table1={"mean": 0.3}, table2={"ere_setting1": 0.02, "fed": 30.0},
                table3={"mean": accuracy})
    _record(tmp_path, "ganmut", "ganimation", 0, table1=None, table2={"ere_setting1": 0.03, "fed": 2.0},
            table3={"mean": 70.0})
    _record(tmp_path, "ganmut", "ganmut", 7, table3={"mean": 99.0})  # a smoke record: never read
    smoke = tmp_path / "ganmut" / "seeds" / "ganmut-seed7.json"
    smoke.write_text(json.dumps({**json.loads(smoke.read_text()), "profile": "smoke"}))
    (tmp_path / "ganmut" / "edit_latency.json").write_text(json.dumps({"rows": [
        {"method": "ganmut", "threads": 2, "variant": "fp32", "median_ms": 22.5},
        {"method": "ganmut", "threads": 2, "variant": "bf16", "median_ms": 10.0}]}))
    return tmp_path


def test_a_method_with_seeds_gets_mean_and_std_over_its_gpu_seeds(record):
    _, cells = syn.assemble(record, SIZES)
    cell = cells["GANmut"]["accuracy"]
    assert cell.estimate.mean == pytest.approx(50.0) and cell.estimate.std == pytest.approx(10.0)
    assert cell.estimate.n == 3  # the smoke record is left out
    assert cell.shown() == "50 ± 10"
    assert cells["GANimation"]["accuracy"].shown() == 70.0  # one seed: the number itself
    assert cells["GANmut"]["latency_ms"].shown() == 22.5  # fp32, not the faster bf16 row


def test_a_control_that_cannot_express_the_task_says_so(record):
    _, cells = syn.assemble(record, SIZES)
    for column in ("accuracy", "fed", "au_mse", "identity", "nme"):  # CycleGAN takes no expression
        assert cells["CycleGAN"][column].reason == syn.CANNOT_EXPRESS
    assert cells["CycleGAN"]["params_M"].shown() == 1.0  # but it has a size
    assert cells["StarGAN"]["recon_l1"].reason == syn.CANNOT_EXPRESS  # a class cannot ask for "no change"
    assert cells["EGGAN"]["ere"].reason == syn.CANNOT_EXPRESS  # ERE searches an emotion code
    assert cells["PortraitGAN"]["modality_mse"].reason != syn.CANNOT_EXPRESS
    assert not syn.can_express("modality", "emotion_class") and syn.can_express("relative_au", "reconstruction")
    with pytest.raises(ValueError, match="unknown control kind"):
        syn.can_express("telepathy", "any")


def test_a_missing_series_is_not_recorded_and_a_recorded_one_says_what_its_protocol_leaves_out(record):
    _, cells = syn.assemble(record, SIZES)
    assert cells["EGGAN"]["au_mse"].reason == "not recorded yet (the eggan series is not trained)"
    assert cells["StarGAN"]["identity"].reason == syn.not_recorded("eggan")
    assert cells["PortraitGAN"]["nme"].reason == syn.not_recorded("portraitgan")
    assert cells["GANimation"]["smoothness"].reason == syn.not_in_protocol("ganmut")  # its table1 is null
    assert cells["StarGAN"]["accuracy"].reason == syn.not_in_protocol("ganmut")  # no StarGAN record in this toy
    assert cells["StarGAN"]["latency_ms"].reason.startswith("not measured")


def test_all_ten_rows_written_with_no_blank_cell(record, tmp_path):
    out = tmp_path / "out"
    path, _ = syn.write_all_methods(record, out, SIZES)
    table = json.loads(path.read_text())
    assert path == out / "synthesis" / "all_methods.json"
    assert table["producer"] == syn.CHAPTER
    assert [r["method"] for r in table["rows"]] == [m.label for m in syn.METHODS]
    assert len(table["rows"]) == 10
    for row in table["rows"]:
        for column in (m.column for m in syn.METRICS):
            assert row[column] not in (None, ""), (row["method"], column)
    assert "series recorded: ganmut;" in table["protocol"]


def test_the_best_ablation_is_the_lowest_ed_once_recorded(record):
    for seed, ed in enumerate((0.30, 0.32)):
        _record(record, "finegrained", "finegrained__kmsf1", seed, table1={"ed_truth": ed, "acd": 0.3, "is": 2.0})
    _record(record, "finegrained", "finegrained__absolute", 0, table1={"ed_truth": 0.25, "acd": 0.4, "is": 2.0})
    methods, cells = syn.assemble(record, SIZES)
    best = methods[7]
    assert best.weights == "finegrained__absolute" and best.control == "au"
    assert cells[best.label]["ed"].shown() == 0.25
    assert cells["FineGrained"]["ed"].reason == syn.not_in_protocol("finegrained")


def test_sizes_come_from_the_shipped_config_as_the_footprint_bench_measures_them():
    from gamutlib.bench.footprint import fp16_file_bytes, generator_footprint

    ours, bench = syn.footprint("stargan", fp16_file_bytes), generator_footprint("stargan", 32, 6)
    assert ours == {"params_M": bench["params_M"], "fp16_MB": bench["fp16_MB"]}
    assert syn.footprint("hgan", fp16_file_bytes)["params_M"] > 0
    sizes = dict(SIZES)
    del sizes["cyclegan"]
    with pytest.raises(ValueError, match="no size of cyclegan"):
        syn.assemble(Path("no-record-here"), sizes)


def test_the_scoreboard_counts_the_verdicts_and_lists_what_is_not_recorded(record):
    rows = [{"claim": "a", "paper": "1", "ours": "2", "verdict": "holds", "why": "x"},
            {"claim": "b", "paper": "1", "ours": "2", "verdict": "does not hold", "why": "x"},
            {"claim": "c", "paper": "1", "ours": "2", "verdict": "does not hold", "why": "x"}]
    (record / "ganmut" / "claims.json").write_text(json.dumps({"rows": rows}))
    board = syn.scoreboard(record)
    assert [r["claim"] for r in board if r["paper"] == "ganmut"] == ["a", "b", "c"]
    assert [r["verdict"] for r in board if r["paper"] != "ganmut"] == ["not recorded"] * 3
    counts = syn.scoreboard_counts(board)
    assert counts[0] == {"series": "ganmut", "recorded": True, "holds": 1, "does not hold": 2, "not testable here": 0}
    assert not any(c["recorded"] for c in counts[1:])
    text = syn.reading(counts)
    assert text.startswith("ganmut: 1 of 3 claims hold, 2 do not, 0 are not testable here.")
    assert "Not recorded yet: eggan, finegrained, portraitgan." in text


def _task(intensity: float = 0.8):
    from gamutlib.faces.emotion import emotion_to_aus
    from gamutlib.faces.identity import identities_from_ids, split_ids

    identity = identities_from_ids(split_ids("test", torch.arange(2)))
    neutral = torch.zeros(2, 7)
    neutral[:, 0] = 1.0
    source = emotion_to_aus(neutral, torch.zeros(2), identity)
    return tasks.common_task(identity, source, "happy", intensity, size=32)


def test_one_target_expression_in_every_control_kind():
    from gamutlib.constants import AU_IDS, EMOTIONS
    from gamutlib.faces.identity import identities_from_ids, split_ids
    from gamutlib.faces.render import render

    task = _task(0.8)
    happy = EMOTIONS.index("happy")
    code = tasks.to_control(task, "emotion")["code"]
    assert code.shape == (2, 7) and code[:, happy].tolist() == pytest.approx([0.8, 0.8]) and code.sum() == pytest.approx(1.6)
    points = torch.randn(7, 2)
    assert torch.allclose(tasks.to_control(task, "plane", class_points=points)["code"], 0.8 * points[happy].expand(2, 2))
    assert torch.equal(tasks.to_control(task, "au")["aus"], task.target_aus)
    au12 = AU_IDS.index(12)  # the lip-corner puller of a smile
    assert (task.target_aus[:, au12] > task.source_aus[:, au12] + 2).all()
    delta = tasks.to_control(task, "relative_au")["delta"]
    assert torch.allclose(task.source_aus + delta, task.target_aus)
    marks = tasks.to_control(task, "landmarks")["landmarks"]
    before = render(task.identity, task.source_aus, size=32)["landmarks"]
    assert marks.shape == (2, 68, 2) and (marks - before).abs().max() > 0.1  # the mouth moved
    others = identities_from_ids(split_ids("test", torch.arange(2, 4)))
    assert tasks.to_control(task, "reference", reference_identity=others)["image"].shape == (2, 3, 32, 32)
    with pytest.raises(ValueError, match="cannot express"):
        tasks.to_control(task, "modality")
    with pytest.raises(ValueError, match="class_points"):
        tasks.to_control(task, "plane")
    with pytest.raises(ValueError, match="intensity"):
        _task(1.5)


def test_the_figures_degrade_when_few_methods_have_numbers(record):
    import matplotlib

    matplotlib.use("Agg")
    methods, cells = syn.assemble(record, SIZES)
    columns, scaled = figures.normalised(methods, cells)
    assert "accuracy" in columns and "au_mse" not in columns  # two GANmut methods have accuracy; no one has AU MSE
    assert scaled["GANimation"][columns.index("accuracy")] == 1.0 and scaled["GANmut"][columns.index("accuracy")] == 0.0
    assert figures.tradeoff_points(methods, cells) == []  # no identity number yet
    figures.tradeoff_figure(methods, cells)
    figures.parallel_figure(methods, cells)


class _SaysHappy:
    """A toy emotion judge that reads every face as happy."""

    def probs(self, x):
        out = torch.zeros(len(x), 7)
        out[:, 1] = 1.0
        return out


class _MeanColour:
    """A toy identity judge: the mean colour as the embedding, one person above cosine 0.999."""

    threshold = 0.999

    def embed(self, x):
        return x.mean((2, 3)) + 2.0


class _Unchanged(torch.nn.Module):
    """A generator that returns its input: an edit that does nothing."""

    def forward(self, x, code):
        assert code.shape == (len(x), 7)
        return x


def test_the_common_task_scores_every_method_against_the_exact_edit():
    faces = tasks.common_faces(2, size=32)
    models = {"StarGAN": (syn.METHODS[0], _Unchanged())}
    rows = tasks.common_task_rows(models, faces, ("happy", "sad"), _SaysHappy(), _MeanColour(), size=32)
    exact, unchanged = rows
    assert exact == {"method": "exact edit", "l1_to_exact": 0.0, "ssim_to_exact": 1.0, "accuracy": 50.0,
                     "identity": exact["identity"], "n_edits": 4}  # the toy judge reads happy in half of them
    assert unchanged["method"] == "StarGAN" and unchanged["n_edits"] == 4
    assert unchanged["l1_to_exact"] > 0.0 and unchanged["ssim_to_exact"] < 1.0  # doing nothing is not the edit
    assert unchanged["identity"] == 100.0  # ... but keeps the person


def test_an_ablation_does_not_inherit_its_methods_edit_latency(record):
    _record(record, "finegrained", "finegrained", 0, table1={"ed_truth": 0.2})
    (record / "finegrained" / "edit_latency.json").write_text(json.dumps({"rows": [
        {"method": "finegrained", "threads": 2, "variant": "fp32", "median_ms": 15.0}]}))
    _, cells = syn.assemble(record, SIZES)
    assert cells["FineGrained"]["latency_ms"].shown() == 15.0
    assert cells["FineGrained, best ablation"]["ed"].reason.startswith("no ablation recorded yet")
    assert cells["FineGrained, best ablation"]["latency_ms"].reason.startswith("not measured")


def test_a_record_only_generator_is_left_out_as_a_result_not_a_missing_file(tmp_path, monkeypatch):
    """CycleGAN is a result of the PortraitGAN series' gpu record: a reader's run says so, and the
    cpu protocol leaves it out even where its file lies in weights/ (the gpu record's machine)."""
    from gamutlib.papers import record_only

    cyclegan = next(m for m in syn.METHODS if m.weights == "cyclegan")
    portrait = next(m for m in syn.METHODS if m.weights == "portraitgan")
    assert "cyclegan" in record_only() and "portraitgan" not in record_only()
    # CycleGAN's control cannot ask for an expression, so it never reaches the file check; a
    # record-only generator that can (FineGrained's ablations) gets the reason
    ablation = syn.SynthMethod("FineGrained k_MSF 2", "finegrained__kmsf2", "finegrained", "relative_au")
    assert "finegrained__kmsf2" in record_only()
    _, left_out = tasks.load_available([cyclegan, portrait, ablation], tmp_path)
    assert left_out[cyclegan.label] == syn.CANNOT_EXPRESS
    assert left_out[ablation.label] == "a result of the finegrained series' gpu record, not a shipped file"
    assert left_out[portrait.label] == "no weights yet (portraitgan.safetensors)"
    # its file present: the record loads it, the cpu protocol (shipped_only) still leaves it out
    loaded = []
    monkeypatch.setattr(tasks, "load_editor", lambda m, *a, **k: loaded.append(m.weights) or object())
    monkeypatch.setattr("gamutlib.weights.has_weights", lambda root, name: True)
    models, _ = tasks.load_available([ablation], tmp_path)
    assert list(models) == [ablation.label] and loaded == ["finegrained__kmsf2"]
    models, left_out = tasks.load_available([ablation], tmp_path, shipped_only=True)
    assert not models and left_out[ablation.label].startswith("a result of the finegrained series")


def test_training_speed_is_read_from_a_per_seed_training_folder_too(tmp_path):
    """The GANmut/EGGAN series keep training/<weights>/, PortraitGAN's training/<weights>-seed0/."""
    for folder, speeds in (("ganmut/training/ganmut", (100.0, 300.0, 200.0)),
                           ("portraitgan/training/portraitgan-seed0", (50.0, 70.0))):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "log.jsonl").write_text("".join(json.dumps({"step": i, "img_s": v}) + "\n"
                                                             for i, v in enumerate(speeds)))
    assert syn.training_img_s(tmp_path, "ganmut", "ganmut") == 200.0
    assert syn.training_img_s(tmp_path, "portraitgan", "portraitgan") == 60.0
    assert syn.training_img_s(tmp_path, "portraitgan", "cyclegan") is None


def test_the_common_task_reading_sorts_methods_by_what_their_edits_keep():
    rows = [{"method": "exact edit", "l1_to_exact": 0.0, "ssim_to_exact": 1.0, "accuracy": 100.0, "identity": 100.0},
            {"method": "A", "l1_to_exact": 0.01, "ssim_to_exact": 0.9, "accuracy": 80.0, "identity": 90.0},
            {"method": "B, ablation", "l1_to_exact": 0.05, "ssim_to_exact": 0.95, "accuracy": 70.0, "identity": 10.0},
            {"method": "C", "l1_to_exact": 0.02, "ssim_to_exact": 0.5, "accuracy": 20.0, "identity": 95.0},
            {"method": "D", "l1_to_exact": 0.09, "ssim_to_exact": 0.4, "accuracy": 10.0, "identity": 5.0}]
    text = tasks.common_task_reading(rows)
    assert "A (0.01) by L1, B, ablation (0.95) by SSIM" in text  # the exact edit is the ceiling, not a contender
    assert "most often on A (80%)" in text and "kept most often by C (95%)" in text
    assert "person (each on at least 50% of the edits): A." in text
    assert "cost: B, ablation." in text and "emotion: C." in text and "Neither: D." in text
    assert tasks.common_task_reading(rows[:1]).startswith("No generator")


def test_held_claims_lists_only_what_holds():
    rows = [{"paper": "eggan", "claim": "straight", "verdict": "holds"},
            {"paper": "eggan", "claim": "better", "verdict": "does not hold"}]
    assert syn.held_claims(rows) == "- **eggan**: straight"
    assert syn.held_claims(rows[1:]) == "No claim holds on this record."
