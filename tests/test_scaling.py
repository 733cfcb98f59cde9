"""`gamut bench ddp` and gamutlib.bench.ddp on synthetic run folders (no training, no GPU)."""

import json

import pytest
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.bench.ddp import compare_losses, read_log, run_speed, summarise


def write_run(root, name, world, batch, rates, losses=None, every=50):
    """A run folder laid out as torchrun leaves it: <root>/<name>/00000-ganmut/{config,log}.

    ``rates`` gives one img/s per logged interval; ``losses`` maps a key to one
    value per interval (defaults keep every loss at 1.0)."""
    run = root / name / "00000-ganmut"
    run.mkdir(parents=True)
    config = {"method": "ganmut", "model": {"batch_size": batch}, "train": {"steps": every * len(rates)}, "world_size": world}
    (run / "config.json").write_text(json.dumps(config))
    losses = losses or {"D/loss": [1.0] * len(rates), "G/loss": [1.0] * len(rates)}
    lines = []
    for i, rate in enumerate(rates):
        record = {"step": every * (i + 1), "img_s": rate, "lr/G": 1e-4, "lr": 1e-4}
        record.update({key: values[i] for key, values in losses.items()})
        lines.append(json.dumps(record))
    (run / "log.jsonl").write_text("\n".join(lines) + "\n")
    return run


def wobble(centre, n, amplitude=0.1):
    """``n`` values alternating ``centre -/+ amplitude``: mean ``centre``, std ``amplitude``."""
    return [centre + (amplitude if i % 2 else -amplitude) for i in range(n)]


def test_speed_is_the_median_after_the_warm_up_intervals(tmp_path):
    run = write_run(tmp_path, "one", world=1, batch=16, rates=[5.0, 7.0, 100.0, 104.0, 96.0])
    speed = run_speed(run)
    assert speed["img_s"] == 100.0  # the median of all five would be the slow 96
    assert speed["intervals"] == 3 and speed["steps"] == 250
    assert (speed["gpus"], speed["per_gpu_batch"]) == (1, 16)
    assert speed["run"] == "one/00000-ganmut"


def test_speed_of_a_run_shorter_than_the_warm_up_uses_every_interval(tmp_path):
    run = write_run(tmp_path, "short", world=2, batch=8, rates=[10.0, 30.0])
    speed = run_speed(run, skip=2)
    assert speed["img_s"] == 20.0 and speed["intervals"] == 2
    assert (speed["gpus"], speed["per_gpu_batch"]) == (2, 8)


def test_a_log_without_steps_is_refused(tmp_path):
    run = tmp_path / "empty"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"model": {"batch_size": 16}}))
    (run / "log.jsonl").write_text(json.dumps({"event": "start"}) + "\n\n")
    with pytest.raises(ValueError, match="no logged steps"):
        read_log(run)


def test_speedup_and_efficiency_are_against_the_one_gpu_run_of_the_same_batch(tmp_path):
    warm = [1.0, 1.0]
    runs = [
        write_run(tmp_path, "a", world=1, batch=16, rates=warm + [100.0] * 3),
        write_run(tmp_path, "b", world=2, batch=16, rates=warm + [190.0] * 3),
        write_run(tmp_path, "c", world=1, batch=32, rates=warm + [150.0] * 3),
        write_run(tmp_path, "d", world=2, batch=32, rates=warm + [240.0] * 3),
    ]
    result = summarise(runs, out=None, goal=1.8)
    by_key = {(r["gpus"], r["per_gpu_batch"]): r for r in result["rows"]}
    assert by_key[(1, 16)]["speedup"] == 1.0 and by_key[(1, 16)]["efficiency"] == 1.0
    assert by_key[(2, 16)]["speedup"] == 1.9 and by_key[(2, 16)]["efficiency"] == 0.95
    assert by_key[(2, 32)]["speedup"] == 1.6 and by_key[(2, 32)]["efficiency"] == 0.8  # not 240/100
    assert result["goal"] == {"speedup_2_gpus": 1.8}
    assert result["passes"] == {"speedup_2_gpus": True}  # the first 2-GPU row, batch 16
    assert "loss_check" not in result


def test_a_slow_two_gpu_run_misses_the_goal_and_the_summary_is_written(tmp_path):
    runs = [write_run(tmp_path, "a", world=1, batch=16, rates=[100.0] * 4),
            write_run(tmp_path, "b", world=2, batch=16, rates=[150.0] * 4)]
    out = tmp_path / "results" / "ddp_scaling.json"
    result = summarise(runs, out=out, device="two test cards")
    assert result["passes"] == {"speedup_2_gpus": False}
    written = json.loads(out.read_text())
    assert written == result and written["device"] == "two test cards"


def test_no_one_gpu_run_is_a_clear_error(tmp_path):
    runs = [write_run(tmp_path, "a", world=1, batch=32, rates=[100.0] * 4),
            write_run(tmp_path, "b", world=2, batch=16, rates=[190.0] * 4)]
    with pytest.raises(ValueError, match="no 1-GPU run at per-GPU batch 16 to compare b/00000-ganmut"):
        summarise(runs, out=None)


def test_compare_losses_flags_a_moved_loss_and_passes_equal_ones(tmp_path):
    n = 8  # tail 0.25 of 400 steps: the last two intervals (steps 350, 400)
    multi = write_run(tmp_path, "ddp_2gpu", world=2, batch=16, rates=[1.0] * n,
                      losses={"D/loss": [50.0] * 6 + wobble(-1.0, 2), "G/loss": wobble(3.0, n)})
    single = write_run(tmp_path, "single_b32", world=1, batch=32, rates=[1.0] * n,
                       losses={"D/loss": wobble(-1.0, n), "G/loss": wobble(1.0, n)})
    check = compare_losses(multi, single)
    rows = {r["loss"]: r for r in check["rows"]}
    assert sorted(rows) == ["D/loss", "G/loss"]  # learning rates are not losses
    assert rows["D/loss"]["difference"] == 0.0 and rows["D/loss"]["within_spread"]  # early steps are outside the tail
    assert rows["G/loss"]["difference"] == pytest.approx(2.0) and rows["G/loss"]["spread"] == pytest.approx(0.1)
    assert not rows["G/loss"]["within_spread"]
    assert check["all_within_two_spreads"] is False
    assert (check["multi_run"], check["single_run"]) == ("ddp_2gpu", "single_b32")


def test_compare_losses_passes_when_every_loss_agrees(tmp_path):
    losses = {"D/loss": wobble(-1.0, 4), "G/loss": wobble(2.0, 4, 0.3)}
    multi = write_run(tmp_path, "m", world=2, batch=16, rates=[1.0] * 4, losses=losses)
    single = write_run(tmp_path, "s", world=1, batch=32, rates=[1.0] * 4,
                       losses={"D/loss": wobble(-1.05, 4), "G/loss": wobble(2.2, 4, 0.3)})
    check = compare_losses(multi, single, tail=0.5)
    assert check["tail"] == 0.5
    assert all(r["within_spread"] for r in check["rows"]) and check["all_within_two_spreads"] is True


def test_images_are_world_times_batch_times_steps(tmp_path):
    multi = write_run(tmp_path, "m", world=2, batch=16, rates=[1.0] * 8)
    single = write_run(tmp_path, "s", world=1, batch=32, rates=[1.0] * 8)
    check = compare_losses(multi, single)
    assert check["images_multi"] == 2 * 16 * 400 == check["images_single"]
    longer = write_run(tmp_path, "l", world=1, batch=32, rates=[1.0] * 10)
    assert compare_losses(multi, longer)["images_single"] == 32 * 500


def speed_and_loss_runs(tmp_path):
    one = write_run(tmp_path, "speed_1gpu", world=1, batch=16, rates=[1.0, 1.0, 100.0, 100.0])
    two = write_run(tmp_path, "ddp_2gpu", world=2, batch=16, rates=[1.0, 1.0, 190.0, 190.0],
                    losses={"D/loss": wobble(-1.0, 4), "G/loss": wobble(3.0, 4)})
    ref = write_run(tmp_path, "single_b32", world=1, batch=32, rates=[1.0] * 4,
                    losses={"D/loss": wobble(-1.0, 4), "G/loss": wobble(1.0, 4)})
    return one, two, ref


def test_cli_writes_the_summary_and_reports_the_loss_check(tmp_path):
    one, two, ref = speed_and_loss_runs(tmp_path)
    out = tmp_path / "ddp_scaling.json"
    result = CliRunner().invoke(main, ["bench", "ddp", str(one), str(two), "--multi", str(two), "--single", str(ref),
                                       "--device", "2 test cards", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 GPU(s), batch 16/GPU: 100.0 img/s, x1.0, efficiency 100%" in result.output
    assert "2 GPU(s), batch 16/GPU: 190.0 img/s, x1.9, efficiency 95%" in result.output
    assert "losses of ddp_2gpu vs single_b32 within 2 spreads: False" in result.output
    written = json.loads(out.read_text())
    assert written["device"] == "2 test cards" and written["passes"] == {"speedup_2_gpus": True}
    assert written["loss_check"]["images_multi"] == written["loss_check"]["images_single"] == 6400


def test_cli_refuses_multi_without_single(tmp_path):
    one, two, _ = speed_and_loss_runs(tmp_path)
    out = tmp_path / "ddp_scaling.json"
    result = CliRunner().invoke(main, ["bench", "ddp", str(one), str(two), "--multi", str(two), "--out", str(out)])
    assert result.exit_code != 0
    assert "--multi and --single go together" in result.output
    assert not out.exists()


def test_cli_reports_a_missing_one_gpu_run(tmp_path):
    _, two, _ = speed_and_loss_runs(tmp_path)
    out = tmp_path / "ddp_scaling.json"
    result = CliRunner().invoke(main, ["bench", "ddp", str(two), "--out", str(out)])
    assert result.exit_code != 0
    assert "ValueError: no 1-GPU run at per-GPU batch 16" in result.output
    assert not out.exists()
