"""`gamut train` and `gamut bench train` on CPU (tiny sizes, few steps)."""

import json

import pytest
import torch
from click.testing import CliRunner

from gamutlib.cli import main
from gamutlib.contract.registry import register_method
from test_training_tinygan import TinyGAN

register_method("tiny_cli")(type("TinyCli", (TinyGAN,), {"name": "tiny_cli"}))

FAST = {"device": "cpu", "progress": False, "log_every": 2, "checkpoint_every": 4, "sample_every": 4}


def write_toml(path, steps=6):
    lines = ['method = "tiny_cli"', "[train]", f"steps = {steps}", "seed = 1"]
    lines += [f"{k} = {json.dumps(v)}" for k, v in FAST.items()]
    lines += ["[model]", "width = 3"]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_dry_run_prints_the_resolved_config(tmp_path):
    cfg = write_toml(tmp_path / "c.toml")
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--config", str(cfg), "--steps", "9", "--dry-run"])
    assert result.exit_code == 0, result.output
    resolved = json.loads(result.output)
    assert resolved["train"]["steps"] == 9 and resolved["train"]["seed"] == 1
    assert resolved["model"]["width"] == 3 and resolved["model"]["n_critic"] == 2
    assert not (tmp_path / "runs").exists()


def test_train_resume_and_export(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"method": "tiny_cli", "train": {"steps": 4, **FAST}, "model": {"width": 3}}))
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--config", str(cfg), "--out", "runs"])
    assert result.exit_code == 0, result.output
    run = tmp_path / "runs" / "00000-tiny_cli"
    assert (run / "checkpoints" / "ckpt-0000004.pt").exists()
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--resume", str(run), "--steps", "8",
                                       "--export", "tiny_cli_g"])
    assert result.exit_code == 0, result.output
    assert "trained 8 steps" in result.output
    assert json.loads((run / "config.json").read_text())["train"]["steps"] == 8
    steps = [json.loads(line)["step"] for line in (run / "log.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6, 8]
    assert (tmp_path / "weights" / "tiny_cli_g.safetensors").exists()
    assert "tiny_cli_g" in json.loads((tmp_path / "weights" / "registry.json").read_text())


def test_the_same_seed_trains_the_same_weights(tmp_path, monkeypatch):
    """--seed covers the networks' initial weights too: two runs of one seed export equal files."""
    from safetensors.torch import load_file

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.json"
    # HGAN builds its networks in its constructor from the global generator (TinyGAN seeds its own)
    model = {"image_size": 32, "conv_dim": 2, "n_res": 1, "n_identities": 4, "batch_size": 2, "lambda_per": 0.0}
    cfg.write_text(json.dumps({"method": "hgan", "train": {"steps": 1, **FAST}, "model": model}))
    weights = {}
    for run, seed in (("a", 3), ("b", 3), ("c", 4)):
        result = CliRunner().invoke(main, ["train", "hgan", "--config", str(cfg), "--out", run, "--seed", str(seed),
                                           "--export", "tiny", "--export-dir", f"w_{run}"])
        assert result.exit_code == 0, result.output
        weights[run] = load_file(tmp_path / f"w_{run}" / "tiny.safetensors")
    assert weights["a"].keys() == weights["b"].keys() and weights["a"]
    assert all(torch.equal(weights["a"][k], weights["b"][k]) for k in weights["a"])
    assert not all(torch.equal(weights["a"][k], weights["c"][k]) for k in weights["a"])


def test_an_unknown_method_is_a_usage_error_listing_the_registered_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["train", "no_such_method", "--dry-run"])
    assert result.exit_code == 2  # click's usage error: the choices come from the paper registry
    assert "'no_such_method' is not one of" in result.output
    assert "'stargan'" in result.output and "'judge_emotion'" in result.output and "'tiny_cli'" in result.output


@pytest.mark.parametrize("args, message", [
    (["train", "tiny_cli", "--config", "missing.toml"], "no config file at missing.toml"),
])
def test_errors_are_one_clear_line(args, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert message in result.output


def test_config_for_another_method_is_refused(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"method": "stargan", "train": {}}))
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--config", str(cfg), "--dry-run"])
    assert result.exit_code == 1 and "is for method 'stargan', not 'tiny_cli'" in result.output
    cfg.write_text(json.dumps({"train": {"stepz": 1}}))
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--config", str(cfg), "--dry-run"])
    assert result.exit_code == 1 and "unknown train settings ['stepz']" in result.output


def test_nan_stops_with_one_line(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"train": {"steps": 6, **FAST}, "model": {"nan_at": 3}}))
    result = CliRunner().invoke(main, ["train", "tiny_cli", "--config", str(cfg), "--out", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert "step 3: D/loss is nan" in result.output


def test_bench_train_code_path_on_cpu(tmp_path):
    """The benchmark's real code path at 32 px, 2 steps of each loop (numbers are meaningless on CPU)."""
    out = tmp_path / "train_speed.json"
    result = CliRunner().invoke(main, ["bench", "train", "--batch", "2", "--image-size", "32", "--conv-dim", "4",
                                       "--warmup", "0", "--iters", "5", "--device", "cpu", "--out", str(out),
                                       "--variant", "engine_fp32_eager"])
    assert result.exit_code == 0, result.output
    table = json.loads(out.read_text())
    (row,) = table["rows"]
    assert row["batch"] == 2
    for key in ("reference_img_s", "engine_img_s", "ratio", "engine_fp32_eager_img_s"):
        assert row[key] > 0, key
    assert row["engine_graphs"] == [] and row["engine_precision"] == "float32"
    assert abs(row["ratio"] - row["engine_img_s"] / row["reference_img_s"]) < 0.01
    assert abs(row["engine_fp32_eager_ratio"] - row["engine_fp32_eager_img_s"] / row["reference_img_s"]) < 0.01
    # the engine's critic (three batches in one forward) and the reference loop reach the same D loss
    assert row["engine_d_loss"] == pytest.approx(row["engine_fp32_eager_d_loss"], abs=1e-3)
    result = CliRunner().invoke(main, ["bench", "train", "--iters", "3", "--device", "cpu", "--out", str(out)])
    assert result.exit_code == 1 and "multiples of n_critic" in result.output


def test_bench_parts_merge_into_one_table():
    from gamutlib.bench.train import merge_parts

    def part(batch, ref, eng, **variants):
        row = {"batch": batch, "reference_img_s": ref, "engine_img_s": eng, "ratio": round(eng / ref, 2)}
        row.update({f"{k}_img_s": v for k, v in variants.items()})
        return {"rows": [row], "device": "gpu", "protocol": "p"}

    merged = merge_parts([part(16, 600.0, 2000.0, engine_no_compile=1500.0), part(16, 650.0, 2100.0, engine_fp32=900.0),
                          part(64, 1100.0, 3000.0)])
    b16, b64 = merged["rows"]
    assert (b16["reference_img_s"], b16["engine_img_s"]) == (600.0, 2000.0)  # the first part's
    assert b16["engine_no_compile_img_s"] == 1500.0 and b16["engine_fp32_img_s"] == 900.0
    assert [p["reference_img_s"] for p in b16["parts"]] == [600.0, 650.0]
    assert b16["parts"][1]["variants"] == ["engine_fp32"]
    assert b64["batch"] == 64 and merged["complete"] and merged["devices"] == ["gpu"]
    with pytest.raises(ValueError, match="no benchmark parts"):
        merge_parts([])


def test_a_mid_run_checkpoint_exports_like_the_run_does(tmp_path, monkeypatch):
    """scripts/gpu/export_checkpoint.py (the training-length study's scorer) turns a checkpoint into
    the same weights file that --export writes at the end of the run."""
    import subprocess
    import sys
    from pathlib import Path

    from safetensors.torch import load_file

    monkeypatch.chdir(tmp_path)
    cfg = tmp_path / "c.json"
    model = {"image_size": 32, "conv_dim": 2, "n_res": 1, "n_identities": 4, "batch_size": 2, "lambda_per": 0.0}
    cfg.write_text(json.dumps({"method": "hgan", "train": {"steps": 4, **FAST}, "model": model}))
    result = CliRunner().invoke(main, ["train", "hgan", "--config", str(cfg), "--out", "r", "--seed", "1",
                                       "--export", "end", "--export-dir", "w"])
    assert result.exit_code == 0, result.output
    (checkpoint,) = sorted((tmp_path / "r").glob("*/checkpoints/ckpt-0000004.pt"))
    script = Path(__file__).resolve().parents[1] / "scripts" / "gpu" / "export_checkpoint.py"
    done = subprocess.run([sys.executable, str(script), str(checkpoint), "mid", str(tmp_path / "m")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "step 4" in done.stdout
    end, mid = load_file(tmp_path / "w" / "end.safetensors"), load_file(tmp_path / "m" / "mid.safetensors")
    assert end.keys() == mid.keys() and all(torch.equal(end[k], mid[k]) for k in end)
