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
START=$(date +%s)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs  # only the tarballs go to $OUT (a device call brings back at most 8 files)
mkdir -p "$OUT" "$WORK" "$LOGS"

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

method_of() { "$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['method'])" "gamutlib/models/configs/$1.toml"; }

run_job() {  # run_job GPU CONFIG SEED
  local gpu=$1 config=$2 seed=$3
  local name=${config%%__*} tag="$config-seed$seed"
  local dir="$WORK/$tag" weights="$WORK/$tag/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=weights
  mkdir -p "$dir" "$weights"
  write_config "$config" "$seed" "$dir/config.json"
  echo "[$(( $(date +%s) - START ))s] gpu $gpu: $tag" >> "$LOGS/jobs-gpu$gpu.log"
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" --out "$dir/run" \
    --max-minutes "$MAX_MINUTES" --export "$name" --export-dir "$weights" > "$LOGS/$tag.train.log" 2>&1
  local run; run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
  CUDA_VISIBLE_DEVICES=$gpu "$PY" -m gamutlib.cli evaluate ganmut "$name" --seed "$seed" --weights-dir "$weights" \
    ${run:+--run "$run"} --profile "$PROFILE" --results-dir "$dir/results" > "$LOGS/$tag.eval.log" 2>&1
  tail -1 "$LOGS/$tag.eval.log" >> "$LOGS/jobs-gpu$gpu.log"
}

run_queue() {  # run_queue GPU: that GPU's jobs in order
  local gpu=$1
  for job in $JOBS; do
    IFS=: read -r g config seed <<< "$job"
    [ "$g" = "$gpu" ] && run_job "$gpu" "$config" "$seed"
  done
}

gpus=$(for job in $JOBS; do echo "${job%%:*}"; done | sort -u)
for gpu in $gpus; do run_queue "$gpu" & done
wait
echo "all jobs done at $(( $(date +%s) - START ))s"

for gpu in $gpus; do
  PACK=$(mktemp -d)
  for job in $JOBS; do
    IFS=: read -r g config seed <<< "$job"
    [ "$g" = "$gpu" ] || continue
    tag="$config-seed$seed"; name=${config%%__*}; dir="$WORK/$tag"
    dest="$PACK/$tag"; mkdir -p "$dest"
    cp -r "$dir/results" "$dest/" 2>/dev/null
    run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
    [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/"
    cp "$LOGS/$tag".*.log "$dest/" 2>/dev/null
    if [ "$seed" = 0 ]; then
      if [ "$name" = "$config" ]; then cp "weights/$name.safetensors" "$dest/"; else cp "$dir/weights/$name.safetensors" "$dest/"; fi
      "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" \
        "$run" "$dest"
    fi
  done
  cp gamutlib/weights_registry.json "$LOGS/jobs-gpu$gpu.log" "$PACK/" 2>/dev/null
  tar czf "$OUT/seeds-gpu$gpu.tgz" -C "$PACK" .
done
ls -la "$OUT"/*.tgz
cat "$LOGS"/jobs-gpu*.log
echo "total $(( $(date +%s) - START ))s"
