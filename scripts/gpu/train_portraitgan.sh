#!/usr/bin/env bash
# Train the PortraitGAN series (PortraitGAN, its ablations, CycleGAN and StarGAN with two
# domains) on several GPUs at once: one queue of jobs per GPU, run one after the other,
# each exported when it stops. The scoring (`gamut evaluate portraitgan`) comes with the
# series' evaluation module; until then the weights, logs and sample grids come back.
#
#   OUT=/path/to/out JOBS="0:portraitgan:0 1:portraitgan:1 2:cyclegan:0 3:stargan_modality:0" \
#     bash scripts/gpu/train_portraitgan.sh
#
# A job is GPU:CONFIG:SEED. CONFIG names gamutlib/models/configs/<CONFIG>.toml; the
# generator it makes is CONFIG without a variant suffix after "__"
# (portraitgan__no_texture -> portraitgan). Seed 0 of a plain config exports to
# weights/ (the shipped file, its registry entry updated under a lock); every other
# job exports to $WORK/<CONFIG>-seed<SEED>/weights/.
#
# PortraitGAN's texture loss reads weights/feature_net.safetensors (the benchmark
# feature network, method feature_net). When it is missing and a job needs it, it is
# trained first on GPU 0 (FEATURE_STEPS steps) and exported; without the method the
# script stops before any job starts, saying so.
#
# Settings (environment): STEPS (10000), MAX_MINUTES (guard per job, 3.2), WORK
# (runs/portraitgan), PYTHON, DEVICE (cpu: run on the CPU, for the smoke test below),
# MODEL (a JSON object merged into every job's [model], e.g. a smaller size), WEIGHTS_DIR
# (weights: where seed 0 of a plain config exports; give a scratch folder when testing).
# SLOTS=N runs N of a GPU's jobs side by side, each slot taking the GPU's next
# job when free, under CUDA MPS where the machine allows it (scripts/gpu/lib/job_queue.sh):
# small batch-16 runs leave one H100/H200 mostly idle.
#
# CPU smoke test of the whole path (tiny networks, 4 steps, 64 px, no feature network):
#   OUT=/tmp/pg DEVICE=cpu STEPS=4 WORK=/tmp/pg/work WEIGHTS_DIR=/tmp/pg/weights JOBS="0:portraitgan:0 0:portraitgan__single_level:1 0:cyclegan:0 0:stargan_modality:0" \
#     MODEL='{"image_size": 64, "g_conv_dim": 8, "d_conv_dim": 8, "batch_size": 2, "features": "random"}' bash scripts/gpu/train_portraitgan.sh
#
# $OUT/portraitgan-gpu<N>.tgz per GPU holds a folder <CONFIG>-seed<SEED>/ per job: the
# run's log.jsonl and config.json, its train log, and for seed 0 the exported weights
# and three sample grids; plus the shipped registry and the GPU's job log.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
JOBS=${JOBS:?set JOBS to GPU:CONFIG:SEED entries}
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
FEATURE_STEPS=${FEATURE_STEPS:-5000}
MAX_MINUTES=${MAX_MINUTES:-3.2}  # a guard: a job that runs slow stops checkpointed and still exports
WORK=${WORK:-runs/portraitgan}
DEVICE=${DEVICE:-}
SHIPPED=${WEIGHTS_DIR:-weights}  # where seed 0 of a plain config exports (the tree's weights/; a scratch folder for tests)
MODEL=${MODEL:-"{}"}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs
JOB_LOG=$LOGS/jobs-gpu%s.log
mkdir -p "$OUT" "$WORK" "$LOGS"
. "$(dirname "$0")/lib/job_queue.sh"

write_config() {  # write_config CONFIG SEED FILE: the toml with this run's steps, seed and model overrides
  "$PY" - "$1" "$2" "$3" "$STEPS" "$MODEL" <<'PYEOF'
import json, sys, tomllib
name, seed, path, steps, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
    cfg = tomllib.load(f)
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "seed": seed, "progress": False, "max_minutes": 0,
                     "sample_every": max(1, min(500, steps // 3), steps // 6), "checkpoint_every": max(1, min(500, steps // 2), steps // 4),
                     "log_every": max(1, min(100, steps // 2))})
if cfg["method"] != "stargan_modality":
    model = {k: v for k, v in model.items() if k != "d_repeat_num"}
if cfg["method"] == "cyclegan":  # CycleGAN has no modalities, levels or feature network
    model = {k: v for k, v in model.items() if k in ("image_size", "g_conv_dim", "g_repeat_num", "d_conv_dim", "batch_size")}
if cfg["method"] == "stargan_modality":
    model = {k: v for k, v in model.items() if k in ("image_size", "g_conv_dim", "g_repeat_num", "d_conv_dim", "d_repeat_num", "batch_size")}
    if model.get("image_size", 128) < 128 and "d_repeat_num" not in model:
        model["d_repeat_num"] = 3  # StarGAN's critic halves the image 6 times; a small image takes fewer
cfg["model"] = {**cfg.get("model", {}), **model}
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

device_args() { [ -n "$DEVICE" ] && echo "--device $DEVICE"; }

needs_features() {  # a job config whose texture loss reads the feature network file
  "$PY" -c "
import json, sys
cfg = json.load(open(sys.argv[1]))
m = cfg.get('model', {})
sys.exit(0 if cfg['method'] == 'portraitgan' and m.get('features', 'feature_net') != 'random' and float(m.get('lambda_texture', 10.0)) > 0 else 1)
" "$1"
}

check_jobs || exit 2

# The feature network first, when a job needs it and it is missing.
for job in $JOBS; do
  IFS=: read -r g config seed <<< "$job"
  tmp=$(mktemp); write_config "$config" "$seed" "$tmp"
  if needs_features "$tmp" && ! has_weights weights/feature_net.safetensors; then
    if ! "$PY" -c "from gamutlib.papers import get_method; get_method('feature_net')" 2>/dev/null; then
      echo "weights/feature_net.safetensors is missing and no method feature_net is registered: PortraitGAN's texture loss needs the benchmark feature network (gamutlib/nn/feature_net.py); merge it first, or run only lambda_texture = 0 jobs" >&2
      exit 2
    fi
    echo "[$(elapsed)s] training feature_net ($FEATURE_STEPS steps)" | tee -a "$LOGS/jobs.log"
    CUDA_VISIBLE_DEVICES=0 "$PY" -m gamutlib.cli train feature_net --steps "$FEATURE_STEPS" --out "$WORK/feature_net" \
      --export feature_net $(device_args) > "$LOGS/feature_net.train.log" 2>&1 || { echo "feature_net training failed: see $LOGS/feature_net.train.log" >&2; exit 2; }
  fi
  rm -f "$tmp"
done

run_job() {  # run_job GPU CONFIG SEED
  local gpu=$1 config=$2 seed=$3
  local name=${config%%__*} tag="$config-seed$seed"
  local dir="$WORK/$tag" weights="$WORK/$tag/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$SHIPPED
  mkdir -p "$dir" "$weights"
  write_config "$config" "$seed" "$dir/config.json"
  echo "[$(elapsed)s] gpu $gpu: $tag" >> "$(job_log "$gpu")"
  if CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" --out "$dir/run" \
      --max-minutes "$MAX_MINUTES" --export "$name" --export-dir "$weights" $(device_args) > "$LOGS/$tag.train.log" 2>&1; then
    echo "[$(elapsed)s] gpu $gpu: $tag trained and exported to $weights/$name.safetensors" >> "$(job_log "$gpu")"
  else
    echo "[$(elapsed)s] gpu $gpu: $tag FAILED (see $tag.train.log): $(tail -1 "$LOGS/$tag.train.log")" >> "$(job_log "$gpu")"
  fi
}

pack_job() {  # pack_job CONFIG SEED PACK: the run's record and train log; seed 0's weights and sample grids
  local config=$1 seed=$2 tag="$1-seed$2"
  local name=${config%%__*} dir="$WORK/$tag" dest="$3/$tag" run
  mkdir -p "$dest"
  run=$(latest_run "$dir")
  [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/" 2>/dev/null
  cp "$LOGS/$tag".*.log "$dest/" 2>/dev/null
  if [ "$seed" = 0 ]; then
    if [ "$name" = "$config" ]; then cp "$(tracked_form "$SHIPPED/$name.safetensors")" "$dest/" 2>/dev/null; else cp "$dir/weights/$name.safetensors" "$dest/" 2>/dev/null; fi
    [ -n "$run" ] && keep_sample_grids "$run" "$dest"
  fi
}

pack_extras() {  # the shipped registry, the GPU's job log, and the feature network when this script trained it
  cp gamutlib/weights_registry.json "$(job_log "$1")" "$2/" 2>/dev/null
  has_weights weights/feature_net.safetensors && [ -f "$LOGS/feature_net.train.log" ] \
    && cp "$(tracked_form weights/feature_net.safetensors)" "$LOGS/feature_net.train.log" "$2/"
}

run_queues
pack_queues "$OUT/portraitgan-gpu%s.tgz"
echo "total $(elapsed)s"
