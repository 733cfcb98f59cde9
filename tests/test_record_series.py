"""scripts/gpu/record_series.sh end to end on the CPU (CHECK=1: tiny networks, the
smoke profile), one job per series: the feature network first, then the three
series trained side by side, scored, and laid into weights/ and book/results/ of
a throw-away copy of the repository."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP = shutil.ignore_patterns(".git", ".venv", "runs", "build", "_build", "__pycache__", ".whl", "*.egg-info")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    copy = tmp_path_factory.mktemp("repo") / "gamut"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    env = {**os.environ, "CHECK": "1", "OUT": str(copy / "runs/out"), "PYTHON": sys.executable, "PYTHONPATH": str(copy),
           "PHASES": "train score lay", "CHECK_FG_JOBS": "cpu:finegrained:0", "CHECK_EG_JOBS": "0:eggan:0",
           "CHECK_PG_JOBS": "0:portraitgan:0", "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(["bash", "scripts/gpu/record_series.sh"], cwd=copy, env=env, capture_output=True, text=True,
                          timeout=1200)
    return copy, done


def test_every_phase_runs_and_says_so(checked):
    copy, done = checked
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    state = (copy / "runs/series/state").read_text()
    assert "FAILED" not in state, state
    for line in ("feature network trained", "trained: 0 job(s) failed", "scored: 3 seed records", "laid in", "DONE"):
        assert line in state, state


def test_seed_zero_of_each_series_is_laid_into_the_tree_with_its_registry_entry(checked):
    copy, _ = checked
    import hashlib

    from gamutlib.weights import sha256_file, unpack_bytes

    registry = json.loads((copy / "gamutlib/weights_registry.json").read_text())
    for name, method in (("finegrained", "finegrained"), ("eggan", "eggan"), ("portraitgan", "portraitgan")):
        file = copy / "weights" / f"{name}.safetensors"
        assert file.exists(), name
        assert registry[name]["sha256"] == sha256_file(file) and registry[name]["method"] == method
        # git tracks the packed form: laid in, it is packed too
        packed = file.with_name(file.name + ".xz")
        assert hashlib.sha256(unpack_bytes(packed.read_bytes())).hexdigest() == registry[name]["sha256"], name
    # the feature network trains the losses; it lies plain for the record and is not packed (eggan_tables.RECORD_ONLY:
    # the pack phase keeps it aside with the record instead of shipping it)
    plain = copy / "weights/feature_net.safetensors"
    assert registry["feature_net"]["sha256"] == sha256_file(plain) and not plain.with_name(plain.name + ".xz").exists()


def test_the_scored_records_are_where_the_chapters_read_them(checked):
    copy, _ = checked
    for paper, name in (("finegrained", "finegrained"), ("eggan", "eggan"), ("portraitgan", "portraitgan")):
        record = json.loads((copy / f"book/results/{paper}/seeds/{name}-seed0.json").read_text())
        assert record["profile"] == "smoke" and record["seed"] == 0, record


def test_a_series_with_an_empty_job_list_is_not_trained(tmp_path):
    """FG_JOBS="" (trained in an earlier session): no training, no feature network, nothing scored."""
    env = {**os.environ, "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work"), "PYTHON": sys.executable,
           "PYTHONPATH": str(ROOT), "PAPERS": "finegrained", "FG_JOBS": "", "PHASES": "train score"}
    done = subprocess.run(["bash", "scripts/gpu/record_series.sh"], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    state = (tmp_path / "work/state").read_text()
    assert "feature network" not in state and "trained: 0 job(s) failed" in state and "scored:" in state, state
    assert not (tmp_path / "work/train-fg.log").exists() and not (tmp_path / "work/score-fg.log").exists()


def test_record_only_weights_are_laid_in_for_the_record_and_kept_out_of_the_tree(tmp_path):
    """PortraitGAN's baselines (RECORD_ONLY) lie plain in weights/ for the record; the pack
    phase takes them out of weights/ and the registry into kept-portraitgan.tgz, a KEPT_WEIGHTS folder."""
    import tarfile

    from gamutlib.papers import get_method
    from gamutlib.weights import export_weights

    copy = tmp_path / "gamut"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    exports = copy / "runs/series/weights-portraitgan"
    for name, model in (("portraitgan", {"g_max_dim": 16, "d_n_layers": 2, "features": "random"}), ("cyclegan", {})):
        method = get_method(name, {"image_size": 32, "g_conv_dim": 8, "g_repeat_num": 1, "d_conv_dim": 8, **model})
        export_weights(name, method.export(), method.config, root=exports)
    env = {**os.environ, "OUT": str(tmp_path / "out"), "PYTHON": sys.executable, "PYTHONPATH": str(copy),
           "PAPERS": "portraitgan", "PG_JOBS": ""}
    run = lambda phases: subprocess.run(["bash", "scripts/gpu/record_series.sh"], cwd=copy, capture_output=True,  # noqa: E731
                                        text=True, timeout=300, env={**env, "PHASES": phases})
    done = run("lay")
    assert done.returncode == 0 and "FAILED" not in done.stdout, done.stdout + done.stderr
    registry = lambda: json.loads((copy / "gamutlib/weights_registry.json").read_text())  # noqa: E731
    assert {"portraitgan", "cyclegan"} <= set(registry())  # the record loads both
    assert (copy / "weights/portraitgan.safetensors.xz").exists() and not (copy / "weights/cyclegan.safetensors.xz").exists()
    done = run("pack")
    assert done.returncode == 0 and "FAILED" not in done.stdout, done.stdout + done.stderr
    assert "cyclegan" not in registry() and not (copy / "weights/cyclegan.safetensors").exists()
    with tarfile.open(tmp_path / "out/weights-portraitgan.tgz") as shipped:
        assert "weights/portraitgan.safetensors.xz" in shipped.getnames()
        assert not any("cyclegan" in n for n in shipped.getnames())
    with tarfile.open(tmp_path / "out/kept-portraitgan.tgz") as kept:
        assert {"portraitgan/weights/cyclegan.safetensors", "portraitgan/weights/registry.json"} <= set(kept.getnames())
        assert set(json.load(kept.extractfile("portraitgan/weights/registry.json"))) == {"cyclegan"}
