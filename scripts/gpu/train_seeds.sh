#!/usr/bin/env bash
# Train generators of the GANmut series on several GPUs at once, one queue of
# jobs per GPU run one after the other, and score each right after it trains
# (`gamut evaluate ganmut`, Tables 1-3 on the gpu profile). Every job trains the
# same schedule: STEPS iterations at batch 16 with the paper's linear LR decay
# to 0 over the last 10%.
#
#   . .whl/prelude.sh && OUT=/path/to/out JOBS="0:stargan:1 0:stargan:2 1:gganmut__paper_init:0" bash scripts/gpu/train_seeds.sh
#
# A job is GPU:CONFIG:SEED. CONFIG names gamutlib/models/configs/<CONFIG>.toml;
# the generator it makes is CONFIG without a variant suffix after "__"
# (gganmut__paper_init -> gganmut). Seed 0 of a plain config exports to weights/
# (the shipped file, its registry entry updated under a lock); every other job
# exports to runs/seeds/<CONFIG>-seed<SEED>/ and is scored from there.
# SLOTS=N runs N of a GPU's jobs side by side, each slot taking the GPU's next
# job when free, under CUDA MPS where the machine allows it (scripts/gpu/lib/job_queue.sh):
# small batch-16 runs leave one H100/H200 mostly idle.
#
# A check of the whole path on a CPU (full-size networks, 4 steps, the smoke scoring protocol):
#   OUT=/tmp/sd WORK=/tmp/sd/work JOBS="0:stargan:1" STEPS=4 PROFILE=smoke bash scripts/gpu/train_seeds.sh
#
# $OUT/seeds-gpu<N>.tgz per GPU holds a folder <CONFIG>-seed<SEED>/ per job:
# the score (results/ganmut/seeds/<generator>-seed<SEED>.json), the run's
# log.jsonl and config.json, its train/eval logs, and for seed 0 the exported
# weights and three sample grids; plus the shipped registry and the GPU's job log.
# Copy back: seed-0 weights of plain configs to weights/ (their sha256 into
# gamutlib/weights_registry.json), scores to book/results/ganmut/seeds/.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
JOBS=${JOBS:?set JOBS to GPU:CONFIG:SEED entries}
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
MAX_MINUTES=${MAX_MINUTES:-3.2}  # a guard: a job that runs slow stops checkpointed and still exports
PROFILE=${PROFILE:-gpu}
WORK=${WORK:-runs/seeds}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs  # only the tarballs go to $OUT (a device call brings back at most 8 files)
JOB_LOG=$LOGS/jobs-gpu%s.log
mkdir -p "$OUT" "$WORK" "$LOGS"
. "$(dirname "$0")/lib/job_queue.sh"

write_config() {  # write_config CONFIG SEED FILE
  "$PY" - "$1" "$2" "$3" "$STEPS" <<'PYEOF'
import json, sys, tomllib
name, seed, path, steps = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
    cfg = tomllib.load(f)
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "seed": seed, "progress": False, "max_minutes": 0,
                     "sample_every": max(500, steps // 6), "checkpoint_every": max(500, steps // 4)})
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

run_job() {  # run_job GPU CONFIG SEED
  local gpu=$1 config=$2 seed=$3
  local name=${config%%__*} tag="$config-seed$seed"
  local dir="$WORK/$tag" weights="$WORK/$tag/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=weights
  mkdir -p "$dir" "$weights"
  write_config "$config" "$seed" "$dir/config.json"
  echo "[$(elapsed)s] gpu $gpu: $tag" >> "$(job_log "$gpu")"
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" --out "$dir/run" \
    --max-minutes "$MAX_MINUTES" --export "$name" --export-dir "$weights" > "$LOGS/$tag.train.log" 2>&1
  local run; run=$(latest_run "$dir")
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli evaluate ganmut "$name" --seed "$seed" --weights-dir "$weights" \
    ${run:+--run "$run"} --profile "$PROFILE" --results-dir "$dir/results" > "$LOGS/$tag.eval.log" 2>&1
  tail -1 "$LOGS/$tag.eval.log" >> "$(job_log "$gpu")"
}

pack_job() {  # pack_job CONFIG SEED PACK: the score, the run's record, logs; seed 0's weights and grids
  local config=$1 seed=$2 tag="$1-seed$2"
  local name=${config%%__*} dir="$WORK/$tag" dest="$3/$tag" run
  mkdir -p "$dest"
  cp -r "$dir/results" "$dest/" 2>/dev/null
  run=$(latest_run "$dir")
  [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/"
  cp "$LOGS/$tag".*.log "$dest/" 2>/dev/null
  if [ "$seed" = 0 ]; then
    if [ "$name" = "$config" ]; then cp "$(tracked_form "weights/$name.safetensors")" "$dest/"; else cp "$dir/weights/$name.safetensors" "$dest/"; fi
    keep_sample_grids "$run" "$dest"
  fi
}

pack_extras() { cp gamutlib/weights_registry.json "$(job_log "$1")" "$2/" 2>/dev/null; }

run_queues
pack_queues "$OUT/seeds-gpu%s.tgz"
echo "total $(elapsed)s"
