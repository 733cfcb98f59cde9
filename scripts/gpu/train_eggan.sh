#!/usr/bin/env bash
# Train the EGGAN series on one or more GPUs: the benchmark feature network
# first (EGGAN's and HGAN's perceptual loss need it; never a scoring judge),
# then the generator jobs, one queue per GPU, run side by side.
#
#   OUT=/path/to/out bash scripts/gpu/train_eggan.sh
#   OUT=out JOBS="0:eggan:0 1:eggan:1 2:eggan:2 3:hgan:0 0:eggan__no_per:0 1:eggan__no_id:0 2:eggan__no_msssim:0" \
#     bash scripts/gpu/train_eggan.sh
#
# A job is GPU:CONFIG:SEED; CONFIG names gamutlib/models/configs/<CONFIG>.toml
# and the network it makes is CONFIG without a variant suffix after "__"
# (eggan__no_per -> eggan). Seed 0 of a plain config exports to $WEIGHTS (the
# shipped file, its registry entry updated under a lock); every other job
# exports to $WORK/<CONFIG>-seed<SEED>/weights/. The feature network trains
# first on FEATURE_GPU (skipped when $WEIGHTS/feature_net.safetensors exists
# and FEATURE_RETRAIN is not 1) and exports to $WEIGHTS/feature_net.safetensors.
# Scoring (`gamut evaluate eggan`) follows once the evaluation module exists.
#
# JOBS=none trains only the feature network (a first device call of its own).
# Settings: STEPS (each generator; default 10000, the LR decaying linearly over
# the second half as the paper), FEATURE_STEPS (3000), MAX_MINUTES (a guard per
# job: it stops checkpointed and still exports), IMAGE_SIZE (overrides every
# config's), TINY=1 (tiny widths: the CPU test of the whole path).
# SLOTS=N runs N of a GPU's jobs side by side, each slot taking the GPU's next
# job when free, under CUDA MPS where the machine allows it (scripts/gpu/lib/job_queue.sh):
# small batch-16 runs leave one H100/H200 mostly idle.
#
# The CPU check of the whole path (tiny networks, 32 px, 4 steps; GPU 0 falls back to the CPU):
#   OUT=/tmp/eg WORK=/tmp/eg/work WEIGHTS=/tmp/eg/weights TINY=1 IMAGE_SIZE=32 STEPS=4 FEATURE_STEPS=4 \
#     JOBS="0:eggan:0 0:hgan:0 0:eggan__no_per:1" bash scripts/gpu/train_eggan.sh
#
# $OUT/eggan-gpu<N>.tgz per GPU: a folder <CONFIG>-seed<SEED>/ per job with the
# run's log.jsonl and config.json, its train log, and for seed 0 the exported
# weights and the sample grids; $OUT/feature_net.tgz likewise. Copy back:
# seed-0 weights to weights/ (their sha256 into gamutlib/weights_registry.json).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
JOBS=${JOBS:-"0:eggan:0 1:eggan:1 2:eggan:2 3:hgan:0 0:eggan__no_per:0 1:eggan__no_id:0 2:eggan__no_msssim:0"}
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
FEATURE_STEPS=${FEATURE_STEPS:-3000}
FEATURE_GPU=${FEATURE_GPU:-0}
MAX_MINUTES=${MAX_MINUTES:-8}
WORK=${WORK:-runs/eggan}
WEIGHTS=${WEIGHTS:-weights}
IMAGE_SIZE=${IMAGE_SIZE:-}
TINY=${TINY:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs
JOB_LOG=$LOGS/jobs-gpu%s.log
mkdir -p "$OUT" "$WORK" "$LOGS" "$WEIGHTS"
. "$(dirname "$0")/lib/job_queue.sh"
FEATURES="$WEIGHTS/feature_net.safetensors"
# the registry that records $WEIGHTS (gamutlib/weights_registry.json for the shipped weights/)
REGISTRY=$("$PY" -c "import sys; from gamutlib.weights import registry_path; print(registry_path(sys.argv[1]))" "$WEIGHTS")

write_config() {  # write_config CONFIG SEED STEPS FILE
  "$PY" - "$1" "$2" "$3" "$4" "$FEATURES" "$IMAGE_SIZE" "$TINY" <<'PYEOF'
import json, sys, tomllib
name, seed, steps, path, features, size, tiny = sys.argv[1:8]
seed, steps = int(seed), int(steps)
with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
    cfg = tomllib.load(f)
method = cfg["method"]
decay = cfg["train"].get("lr_decay_steps", 0) / max(cfg["train"].get("steps", 1), 1)  # the config's share
cfg["train"].update({"steps": steps, "lr_decay_steps": int(steps * decay), "seed": seed, "progress": False,
                     "max_minutes": 0, "sample_every": max(2, steps // 4), "checkpoint_every": max(2, steps // 4),
                     "log_every": max(1, min(100, steps // 2))})
model = cfg.setdefault("model", {})
if "feature_weights" in model:
    model["feature_weights"] = features  # the feature network this script trained first
if size:
    model["image_size"] = int(size)
if tiny == "1":  # the evaluation's tiny sizes (they reach the judges' 128 px faces)
    from gamutlib.evaluation.eggan import TINY
    model.update({**TINY, "feature_net": dict(width=4, n_identities=8, batch_size=4)}[method])
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

run_job() {  # run_job GPU CONFIG SEED [STEPS]
  local gpu=$1 config=$2 seed=$3 steps=${4:-$STEPS}
  local name=${config%%__*} tag="$config-seed$seed"
  local dir="$WORK/$tag" weights="$WORK/$tag/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$WEIGHTS
  mkdir -p "$dir" "$weights"
  write_config "$config" "$seed" "$steps" "$dir/config.json" || return 1
  echo "[$(elapsed)s] gpu $gpu: $tag" >> "$(job_log "$gpu")"
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" \
    --out "$dir/run" --max-minutes "$MAX_MINUTES" --export "$name" --export-dir "$weights" > "$LOGS/$tag.train.log" 2>&1
  local rc=$?
  echo "[$(elapsed)s] gpu $gpu: $tag exit $rc; $(grep -E '^(trained|stopped|exported|Error)' "$LOGS/$tag.train.log" | tr '\n' ' ')" >> "$(job_log "$gpu")"
  return $rc
}

pack_job() {  # pack_job CONFIG SEED PACK: the run's record, samples and train log; seed 0's weights
  local config=$1 seed=$2 dest=$3/$1-seed$2
  local name=${config%%__*} dir="$WORK/$config-seed$seed"
  mkdir -p "$dest"
  local run; run=$(latest_run "$dir")
  [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/" && cp -r "$run/samples" "$dest/" 2>/dev/null
  cp "$LOGS/$config-seed$seed".*.log "$dest/" 2>/dev/null
  if [ "$seed" = 0 ]; then
    if [ "$name" = "$config" ]; then cp "$(tracked_form "$WEIGHTS/$name.safetensors")" "$dest/" 2>/dev/null
    else cp "$dir/weights/$name.safetensors" "$dest/" 2>/dev/null; fi
  fi
}

[ "$JOBS" = none ] || check_jobs || exit 2

# 1. the feature network, before anything that uses it
if [ ! -f "$FEATURES" ] || [ "${FEATURE_RETRAIN:-0}" = 1 ]; then
  if ! run_job "$FEATURE_GPU" feature_net 0 "$FEATURE_STEPS"; then
    echo "the feature network failed to train; see $LOGS/feature_net-seed0.train.log" >&2
    tail -5 "$LOGS/feature_net-seed0.train.log" >&2
    exit 1
  fi
  PACK=$(mktemp -d); pack_job feature_net 0 "$PACK"; cp "$REGISTRY" "$PACK/" 2>/dev/null
  tar czf "$OUT/feature_net.tgz" -C "$PACK" .
fi

# 2. the generators, one queue per GPU (JOBS=none: the feature network alone)
if [ "$JOBS" = none ]; then echo "feature network only: $FEATURES"; exit 0; fi
pack_extras() { cp "$REGISTRY" "$(job_log "$1")" "$2/" 2>/dev/null; }
run_queues
pack_queues "$OUT/eggan-gpu%s.tgz"
failed=0
for gpu in $(job_gpus); do grep -q "exit [1-9]" "$(job_log "$gpu")" && failed=1; done
echo "total $(elapsed)s"
exit $failed
