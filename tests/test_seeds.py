"""Seed records of the GANmut series: written, read back, summarised, compared."""

import gzip
import json
import statistics

import pytest

from gamutlib.evaluation.seeds import read_seed_records, record_agreement, seed_summary, write_seed_record


def rows(acc, fed, smooth=None):
    return {"table1": None if smooth is None else {"method": "x", "mean": smooth},
            "table2": {"method": "x", "ere_setting1": 0.02, "ere_setting2": 0.03, "fed": fed},
            "table3": {"method": "x", "mean": acc}}


def test_records_round_trip_and_summarise(tmp_path):
    for seed, (acc, fed) in enumerate([(70.0, 10.0), (74.0, 12.0), (78.0, 11.0)]):
        write_seed_record(tmp_path, "stargan", seed, "gpu", rows(acc, fed, smooth=0.3 + seed / 100), "w",
                          {"iterations": 10000})
    write_seed_record(tmp_path, "gganmut", 0, "gpu", rows(60.0, 30.0), "w")
    write_seed_record(tmp_path, "gganmut", 1, "cpu", rows(10.0, 90.0), "w")  # another profile: left out below
    records = read_seed_records(tmp_path, profile="gpu")
    assert [(r["name"], r["seed"]) for r in records] == [("gganmut", 0), ("stargan", 0), ("stargan", 1), ("stargan", 2)]
    summary = {row["method"]: row for row in seed_summary(records)}
    star = summary["stargan"]
    assert star["seeds"] == [0, 1, 2] and star["iterations"] == [10000]
    assert star["table3_mean_mean"] == pytest.approx(74.0)
    assert star["table3_mean_std"] == pytest.approx(statistics.stdev([70.0, 74.0, 78.0]), abs=1e-4)
    assert star["table2_fed_mean"] == pytest.approx(11.0)
    assert star["table1_mean_mean"] == pytest.approx(0.31)
    one = summary["gganmut"]
    assert one["table3_mean_std"] is None and one["table3_mean_n"] == 1  # one seed has no spread
    assert "table1_mean_mean" not in one  # GGANmut is not in Table 1
    assert len(read_seed_records(tmp_path)) == 5


def test_bad_records_are_refused(tmp_path):
    with pytest.raises(ValueError, match="seed"):
        write_seed_record(tmp_path, "stargan", -1, "gpu", rows(1.0, 1.0), "w")
    with pytest.raises(ValueError, match="name"):
        write_seed_record(tmp_path, "../evil", 0, "gpu", rows(1.0, 1.0), "w")
    with pytest.raises(ValueError, match="no table scored"):
        write_seed_record(tmp_path, "stargan", 0, "gpu", {"table1": None, "table2": None}, "w")
    assert not (tmp_path / "ganmut" / "seeds").exists() or not list((tmp_path / "ganmut" / "seeds").iterdir())


def test_record_agreement_applies_the_tolerance(tmp_path):
    write_seed_record(tmp_path, "stargan", 0, "gpu", rows(74.0, 10.0, smooth=0.30), "w")
    records = read_seed_records(tmp_path)
    tolerance = {"table1": {"abs": 0.005, "rel": 0.0}, "table2": {"abs": 0.0, "rel": 0.01}, "table3": {"abs": 1.0, "rel": 0.0}}
    close = record_agreement({"stargan": rows(74.5, 10.05, smooth=0.301)}, records, tolerance)
    assert len(close) == 5 and all(r["agrees"] for r in close)
    far = {r["metric"]: r["agrees"] for r in record_agreement({"stargan": rows(76.0, 10.5, smooth=0.30)}, records, tolerance)}
    assert far == {"table1.mean": True, "table2.ere_setting1": True, "table2.ere_setting2": True,
                   "table2.fed": False, "table3.mean": False}
    assert record_agreement({"ganmut": rows(1.0, 1.0)}, records, tolerance) == []  # no record, nothing compared


def test_evaluate_ganmut_cli_scores_a_generator(tmp_path):
    from click.testing import CliRunner

    from gamutlib.cli import main
    from gamutlib.models.stargan import StarGAN
    from gamutlib.weights import export_weights

    method = StarGAN(image_size=128, g_conv_dim=4, g_repeat_num=1, d_conv_dim=4, d_repeat_num=6, batch_size=2)
    export_weights("stargan", method.export(), dict(method.config), root=tmp_path / "w", method="stargan")
    runner = CliRunner()
    args = ["evaluate", "ganmut", "stargan", "--seed", "3", "--weights-dir", str(tmp_path / "w"), "--profile", "smoke",
            "--results-dir", str(tmp_path / "r"), "--device", "cpu"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "r" / "ganmut" / "seeds" / "stargan-seed3.json").read_text())
    assert record["seed"] == 3 and record["profile"] == "smoke"
    assert 0.0 <= record["table3"]["mean"] <= 100.0 and record["table1"]["n_faces"] == 1
    missing = runner.invoke(main, [*args[:5], "--weights-dir", str(tmp_path / "none"), *args[7:]])
    assert missing.exit_code != 0 and "missing" in missing.output


def test_chapter_helpers_regroup_and_format():
    from gamutlib.evaluation.seeds import rows_by_name, spread_rows, start_ablation_rows

    summary = [{"method": "stargan", "seeds": [0, 1, 2], "table3_mean_mean": 74.0, "table3_mean_std": 4.0},
               {"method": "gganmut", "seeds": [0], "table3_mean_mean": 60.0, "table3_mean_std": None},
               {"method": "ganmut_rho1", "seeds": [0, 1], "table1_mean_mean": 0.3, "table1_mean_std": 0.01}]
    spread = spread_rows(summary, "table3", ("mean",), {"stargan": "StarGAN", "gganmut": "GGANmut"})
    assert spread == [{"method": "StarGAN", "seeds": 3, "mean": "74 ± 4"}, {"method": "GGANmut", "seeds": 1, "mean": "60"}]
    t1 = {"ganmut": "GANmut (lambda_rho 4)"}
    other = {"ganmut": "GANmut", "stargan": "StarGAN"}
    live = rows_by_name({"table1": [{"method": "GANmut (lambda_rho 4)", "mean": 0.3}],
                         "table3": [{"method": "Real", "mean": 80.0}, {"method": "GANmut", "mean": 40.0},
                                    {"method": "StarGAN", "mean": 70.0}]}, t1, other)
    assert live == {"ganmut": {"table1": {"method": "GANmut (lambda_rho 4)", "mean": 0.3},
                               "table3": {"method": "GANmut", "mean": 40.0}},
                    "stargan": {"table1": None, "table3": {"method": "StarGAN", "mean": 70.0}}}
    rec = {"seed": 0, **rows(15.0, 97.0)}
    ab = start_ablation_rows(rec, [{"seed": 2, **rows(50.0, 40.0)}, {"seed": 0, **rows(60.0, 30.0)}])
    assert [r["start"] for r in ab] == ["paper: sigma^2 = 1, seed 0", "sharp: sigma^2 = 0.05, seed 0",
                                         "sharp: sigma^2 = 0.05, seed 2"]
    assert [r["accuracy_mean"] for r in ab] == [15.0, 60.0, 50.0]


def test_seed_logs_are_read_per_generator_in_seed_order(tmp_path):
    from gamutlib.evaluation.seeds import read_seed_logs

    folder = tmp_path / "ganmut" / "seeds" / "logs"
    folder.mkdir(parents=True)
    for seed in (2, 0, 10):
        (folder / f"ganmut_rho1-seed{seed}.jsonl").write_text(json.dumps({"step": 100, "G/loss_cls": seed}) + "\n")
    (folder / "notes.txt").write_text("not a log")
    # the record keeps finished logs gzipped: read alike
    (folder / "ganmut_rho1-seed5.jsonl.gz").write_bytes(gzip.compress(b'{"step": 100, "G/loss_cls": 5}\n'))
    logs = read_seed_logs(tmp_path)
    assert list(logs) == ["ganmut_rho1"]
    assert [seed for seed, _ in logs["ganmut_rho1"]] == [0, 2, 5, 10]
    assert logs["ganmut_rho1"][2][1] == [{"step": 100, "G/loss_cls": 5}]
    # one seed in both forms is read once, from the plain (newer) file
    (folder / "ganmut_rho1-seed2.jsonl.gz").write_bytes(gzip.compress(b'{"step": 1}\n'))
    again = read_seed_logs(tmp_path)["ganmut_rho1"]
    assert [seed for seed, _ in again] == [0, 2, 5, 10] and again[1][1] == [{"step": 100, "G/loss_cls": 2}]
    assert logs["ganmut_rho1"][1][1] == [{"step": 100, "G/loss_cls": 2}]
    assert read_seed_logs(tmp_path / "nothing") == {}
