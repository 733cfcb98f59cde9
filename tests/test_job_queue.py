"""scripts/gpu/lib/job_queue.sh, the GPU:CONFIG:SEED queues of the series' training
scripts: each job runs once, SLOTS at a time per GPU, bad jobs are refused, one
tarball per GPU; and train_finegrained.sh's CPU check end to end with two slots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIB = ROOT / "scripts" / "gpu" / "lib" / "job_queue.sh"

# A stand-in run_job that logs when each job starts and ends, and a pack_job that records which job it packed.
FAKE = r"""
set -uo pipefail
. "$LIB"
run_job() { echo "start $1 $2 $3" >> "$WORK/events"; sleep 1; echo "end $1 $2 $3" >> "$WORK/events"; }
pack_job() { mkdir -p "$3/$1-seed$2"; echo "$1 $2" > "$3/$1-seed$2/job.txt"; }
run_queues
pack_queues "$OUT/q-%s.tgz"
"""


def run_fake(tmp_path: Path, jobs: str, slots: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "LIB": str(LIB), "OUT": str(tmp_path / "out"), "WORK": str(tmp_path), "JOBS": jobs,
           "SLOTS": str(slots), "MPS": "0", "PY": sys.executable, "JOB_LOG": str(tmp_path / "jobs-%s.log")}
    (tmp_path / "out").mkdir(exist_ok=True)
    return subprocess.run(["bash", "-c", FAKE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def most_at_once(events: list[str], gpu: str) -> int:
    running = most = 0
    for line in events:
        kind, g = line.split()[:2]
        if g == gpu:
            running += 1 if kind == "start" else -1
            most = max(most, running)
    return most


@pytest.mark.parametrize("slots", [1, 2])
def test_each_job_runs_once_slots_at_a_time_per_gpu(tmp_path, slots):
    jobs = "0:stargan:0 0:stargan:1 0:ganmut:0 0:gganmut:0 1:stargan:2 1:ganmut:1"
    result = run_fake(tmp_path, jobs, slots)
    assert result.returncode == 0, result.stderr
    events = (tmp_path / "events").read_text().splitlines()
    started = sorted(line.split(maxsplit=1)[1] for line in events if line.startswith("start"))
    assert started == sorted(j.replace(":", " ") for j in jobs.split())  # every job once, none twice
    assert most_at_once(events, "0") == slots and most_at_once(events, "1") == slots
    gpu0 = [line.split(maxsplit=1)[1] for line in events if line.startswith("start 0")]
    assert sorted(gpu0[:slots]) == ["0 stargan 0", "0 stargan 1"][:slots]  # a GPU's jobs start in the order given
    for gpu, n in (("0", 4), ("1", 2)):
        with tarfile.open(tmp_path / "out" / f"q-{gpu}.tgz") as tar:
            packed = sorted(n for n in tar.getnames() if n.endswith("job.txt"))
        assert len(packed) == n and all(p.startswith("./") for p in packed)


@pytest.mark.parametrize("jobs, slots, says", [
    ("0:stargan", 1, "bad job '0:stargan'"),
    ("0:stargan:x", 1, "bad job '0:stargan:x'"),
    ("0:stargan:1:2", 1, "bad job '0:stargan:1:2'"),
    ("0:no_such_config:0", 1, "no gamutlib/models/configs/no_such_config.toml"),
    ("0:stargan:0", 0, "SLOTS must be a whole number"),
])
def test_bad_jobs_are_refused_before_anything_runs(tmp_path, jobs, slots, says):
    result = run_fake(tmp_path, jobs, slots)
    assert result.returncode == 2 and says in result.stderr, result.stderr
    assert not (tmp_path / "events").exists()


def test_finegrained_cpu_check_with_two_slots(tmp_path):
    """The script's own CPU check (its header), two jobs side by side on the CPU."""
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1", "SLOTS": "2",
           "OUT": str(tmp_path / "out"), "WORK": str(tmp_path / "work"), "STEPS": "2",
           "JOBS": "cpu:finegrained:0 cpu:ganimation_au__relative:1",
           "MODEL": '{"image_size": 32, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 3, "batch_size": 2}'}
    result = subprocess.run(["bash", "scripts/gpu/train_finegrained.sh"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    log = (tmp_path / "work" / "logs" / "jobs-cpu.log").read_text()
    assert log.count(" exit 0 ") == 2, log
    with tarfile.open(tmp_path / "out" / "finegrained-cpu.tgz") as tar:
        names = set(tar.getnames())
        config = json.load(tar.extractfile("./ganimation_au__relative-seed1/config.json"))
    for tag in ("finegrained-seed0", "ganimation_au__relative-seed1"):
        assert {f"./{tag}/log.jsonl", f"./{tag}/{tag}.safetensors", f"./{tag}/{tag}.train.log"} <= names
    assert "./jobs-cpu.log" in names
    assert config["train"]["steps"] == 2 and config["train"]["seed"] == 1 and config["model"]["image_size"] == 32
