"""gamutlib.viz.ddp_record: the multi-GPU record as the training chapter reads and draws it."""

import json

import pytest
from matplotlib.figure import Figure

from gamutlib.bench.ddp import summarise
from gamutlib.viz.ddp_record import (
    DDP_RECORD,
    images_seen,
    loss_check_rows,
    plot_ddp_losses,
    read_ddp_record,
    run_label,
    speed_rows,
    speed_spread,
)
from test_scaling import wobble, write_run


def synthetic_record(tmp_path):
    """<tmp>/ddp/<run>/ run folders (flattened as the record keeps them) and ddp_scaling.json."""
    runs = {
        "speed_1gpu": write_run(tmp_path / "src", "speed_1gpu", world=1, batch=16, rates=[1.0, 1.0, 100.0, 110.0, 90.0]),
        "ddp_2gpu": write_run(tmp_path / "src", "ddp_2gpu", world=2, batch=16, rates=[1.0, 1.0, 190.0, 190.0],
                              losses={"D/loss": wobble(-1.0, 4), "G/loss": wobble(3.0, 4)}),
        "single_b32": write_run(tmp_path / "src", "single_b32", world=1, batch=32, rates=[1.0] * 4,
                                losses={"D/loss": wobble(-1.0, 4), "G/loss": wobble(1.0, 4)}),
    }
    record = tmp_path / "engine"
    for name, run in runs.items():
        (record / "ddp" / name).mkdir(parents=True)
        for file in ("config.json", "log.jsonl"):
            (record / "ddp" / name / file).write_text((run / file).read_text())
    summarise([runs["speed_1gpu"], runs["ddp_2gpu"]], runs["ddp_2gpu"], runs["single_b32"],
              out=record / "ddp_scaling.json", device="test")
    return record


def test_read_ddp_record_reads_the_summary_and_every_run(tmp_path):
    record = read_ddp_record(synthetic_record(tmp_path))
    assert sorted(record["runs"]) == ["ddp_2gpu", "single_b32", "speed_1gpu"]
    assert record["summary"]["device"] == "test"
    assert record["runs"]["ddp_2gpu"]["config"]["world_size"] == 2 and len(record["runs"]["ddp_2gpu"]["log"]) == 4


def test_a_missing_record_names_the_script_that_makes_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="scripts/gpu/ddp_scaling.sh"):
        read_ddp_record(tmp_path)


def test_images_seen_and_labels_count_every_process(tmp_path):
    record = read_ddp_record(synthetic_record(tmp_path))
    two, one = record["runs"]["ddp_2gpu"], record["runs"]["single_b32"]
    assert images_seen(two["config"], two["log"]) == [1600, 3200, 4800, 6400] == images_seen(one["config"], one["log"])
    assert (run_label(two), run_label(one)) == ("2 GPUs x 16", "1 GPU x 32")


def test_tables_carry_the_goal_and_flag_the_moved_loss(tmp_path):
    summary = read_ddp_record(synthetic_record(tmp_path))["summary"]
    rows = speed_rows(summary)
    assert [(r["GPUs"], r["speedup"], r["efficiency"], r["goal"]) for r in rows] == [
        (1, 1.0, "100%", ""), (2, 1.9, "95%", ">= 1.8x")]
    checks = {r["loss"]: r for r in loss_check_rows(summary)}
    assert checks["D/loss"]["within 2 spreads"] == "yes" and checks["G/loss"]["within 2 spreads"] == "NO"
    # the last quarter of 200 steps is the last interval alone (wobble ends high)
    assert checks["G/loss"]["ddp_2gpu"] == pytest.approx(3.1) and checks["G/loss"]["single_b32"] == pytest.approx(1.1)


def test_speed_spread_skips_the_warm_up_like_the_summary(tmp_path):
    record = read_ddp_record(synthetic_record(tmp_path))
    spread = speed_spread(record["runs"]["speed_1gpu"])
    assert spread["median"] == 100.0 == record["summary"]["rows"][0]["img_s"]
    assert spread["q1"] <= 100.0 <= spread["q3"] and spread["q1"] >= 90.0


def test_plot_draws_one_line_per_run_and_shades_the_compared_tail(tmp_path):
    record = read_ddp_record(synthetic_record(tmp_path))
    runs = {k: record["runs"][k] for k in ("ddp_2gpu", "single_b32")}
    axes = plot_ddp_losses(runs, keys=("D/loss", "G/loss"), tail=0.25)
    assert len(axes) == 2 and isinstance(axes[0].figure, Figure)
    assert [line.get_label() for line in axes[1].lines] == ["2 GPUs x 16", "1 GPU x 32"]
    assert list(axes[1].lines[0].get_xdata()) == [1.6, 3.2, 4.8, 6.4]  # thousands of images
    (span,) = axes[1].patches
    assert span.get_x() == pytest.approx(6.4 * 0.75) and span.get_width() == pytest.approx(6.4 * 0.25)


def test_the_committed_record_is_consistent():
    """The chapter reads this record on every profile; its runs must match its summary."""
    if not (DDP_RECORD / "ddp_scaling.json").exists():
        pytest.skip("no committed multi-GPU record in this checkout")
    record = read_ddp_record()
    summary, runs = record["summary"], record["runs"]
    check = summary["loss_check"]
    assert {check["multi_run"], check["single_run"]} <= set(runs)
    multi, single = runs[check["multi_run"]], runs[check["single_run"]]
    assert images_seen(multi["config"], multi["log"])[-1] == check["images_multi"] == check["images_single"]
    assert images_seen(single["config"], single["log"])[-1] == check["images_single"]
    for row in summary["rows"]:
        name = row["run"].split("/")[0]
        assert speed_spread(runs[name])["median"] == row["img_s"]
    assert json.loads((DDP_RECORD / "ddp_scaling.json").read_text()) == summary
