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
START=$(date +%s)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs
mkdir -p "$OUT" "$WORK" "$LOGS" "$WEIGHTS"
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
if tiny == "1":
    model.update({
        "eggan": dict(latent_dim=16, e_conv_dim=4, g_conv_dim=4, g_blocks=3, d_conv_dim=4, d_repeat_num=3, n_critic=2,
                      c_conv_dim=4, n_identities=8, batch_size=4),
        "hgan": dict(conv_dim=4, n_res=1, n_identities=8, batch_size=4),
        "feature_net": dict(width=4, n_identities=8, batch_size=4),
    }[method])
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

method_of() { "$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['method'])" "gamutlib/models/configs/$1.toml"; }

run_job() {  # run_job GPU CONFIG SEED STEPS
  local gpu=$1 config=$2 seed=$3 steps=$4
  local name=${config%%__*} tag="$config-seed$seed"
  local dir="$WORK/$tag" weights="$WORK/$tag/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$WEIGHTS
  mkdir -p "$dir" "$weights"
  write_config "$config" "$seed" "$steps" "$dir/config.json" || return 1
  echo "[$(( $(date +%s) - START ))s] gpu $gpu: $tag" >> "$LOGS/jobs-gpu$gpu.log"
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" \
    --out "$dir/run" --max-minutes "$MAX_MINUTES" --export "$name" --export-dir "$weights" > "$LOGS/$tag.train.log" 2>&1
  local rc=$?
  echo "[$(( $(date +%s) - START ))s] gpu $gpu: $tag exit $rc; $(grep -E '^(trained|stopped|exported|Error)' "$LOGS/$tag.train.log" | tr '\n' ' ')" >> "$LOGS/jobs-gpu$gpu.log"
  return $rc
}

pack() {  # pack CONFIG SEED DEST
  local config=$1 seed=$2 dest=$3/$1-seed$2
  local name=${config%%__*} dir="$WORK/$config-seed$seed"
  mkdir -p "$dest"
  local run; run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
  [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/" && cp -r "$run/samples" "$dest/" 2>/dev/null
  cp "$LOGS/$config-seed$seed".*.log "$dest/" 2>/dev/null
  if [ "$seed" = 0 ]; then
    if [ "$name" = "$config" ]; then cp "$WEIGHTS/$name.safetensors" "$dest/" 2>/dev/null
    else cp "$dir/weights/$name.safetensors" "$dest/" 2>/dev/null; fi
  fi
}

# 1. the feature network, before anything that uses it
if [ ! -f "$FEATURES" ] || [ "${FEATURE_RETRAIN:-0}" = 1 ]; then
  if ! run_job "$FEATURE_GPU" feature_net 0 "$FEATURE_STEPS"; then
    echo "the feature network failed to train; see $LOGS/feature_net-seed0.train.log" >&2
    tail -5 "$LOGS/feature_net-seed0.train.log" >&2
    exit 1
  fi
  PACK=$(mktemp -d); pack feature_net 0 "$PACK"; cp "$REGISTRY" "$PACK/" 2>/dev/null
  tar czf "$OUT/feature_net.tgz" -C "$PACK" .
fi

# 2. the generators, one queue per GPU (JOBS=none: the feature network alone)
if [ "$JOBS" = none ]; then echo "feature network only: $FEATURES"; exit 0; fi
run_queue() {
  local gpu=$1
  for job in $JOBS; do
    IFS=: read -r g config seed <<< "$job"
    [ "$g" = "$gpu" ] && run_job "$gpu" "$config" "$seed" "$STEPS"
  done
}
gpus=$(for job in $JOBS; do echo "${job%%:*}"; done | sort -u)
for gpu in $gpus; do run_queue "$gpu" & done
wait
echo "all jobs done at $(( $(date +%s) - START ))s"

failed=0
for gpu in $gpus; do
  PACK=$(mktemp -d)
  for job in $JOBS; do
    IFS=: read -r g config seed <<< "$job"
    [ "$g" = "$gpu" ] || continue
    pack "$config" "$seed" "$PACK"
  done
  cp "$REGISTRY" "$LOGS/jobs-gpu$gpu.log" "$PACK/" 2>/dev/null
  tar czf "$OUT/eggan-gpu$gpu.tgz" -C "$PACK" .
  grep -q "exit [1-9]" "$LOGS/jobs-gpu$gpu.log" && failed=1
done
ls -la "$OUT"/*.tgz
cat "$LOGS"/jobs-gpu*.log
echo "total $(( $(date +%s) - START ))s"
exit $failed
