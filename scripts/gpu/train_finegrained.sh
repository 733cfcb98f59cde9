#!/usr/bin/env bash
# Train the FineGrained series on several GPUs at once: one queue of jobs per
# GPU, run one after the other (the model after scripts/gpu/train_seeds.sh).
# Every job trains STEPS iterations at batch 16 with the linear LR decay over
# the last 10%, and exports its G next to its run; nothing is written to
# weights/ (what ships is chosen once the chapters have read the runs).
#
#   . .whl/prelude.sh && OUT=/path/to/out JOBS="0:finegrained:0 1:ganimation_au:0 2:finegrained__kmsf0:0" \
#       bash scripts/gpu/train_finegrained.sh
#
# A job is GPU:CONFIG:SEED. CONFIG names gamutlib/models/configs/<CONFIG>.toml
# (finegrained, finegrained__kmsf0/1/2, finegrained__absolute, ganimation_au,
# ganimation_au__relative); the method is the file's `method`, the export is
# named after CONFIG (finegrained__kmsf1-seed0.safetensors). GPU may be "cpu"
# (the job then runs on the CPU: the path check below).
#
# A quick check of the whole path on a CPU (tiny networks, 32 px, 4 steps):
#   OUT=/tmp/fg JOBS="cpu:finegrained:0 cpu:ganimation_au__relative:0" STEPS=4 \
#       MODEL='{"image_size": 32, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 3, "batch_size": 4}' \
#       bash scripts/gpu/train_finegrained.sh
#
# $OUT/finegrained-<GPU>.tgz per GPU holds a folder <CONFIG>-seed<SEED>/ per job:
# the run's log.jsonl (D/loss_cond and G/loss_cond every log_every steps: the
# paper's Fig. 9) and config.json, the train log, the exported G and three
# sample grids; plus the GPU's job log.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
JOBS=${JOBS:?set JOBS to GPU:CONFIG:SEED entries}
PY=${PYTHON:-python3}
STEPS=${STEPS:-10000}
MODEL=${MODEL:-"{}"}           # JSON merged into the config's [model] (the CPU check's tiny sizes)
MAX_MINUTES=${MAX_MINUTES:-9}  # a guard: a job that runs slow stops checkpointed and still exports
WORK=${WORK:-runs/finegrained}
START=$(date +%s)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs
mkdir -p "$OUT" "$WORK" "$LOGS"

write_config() {  # write_config CONFIG SEED FILE
  "$PY" - "$1" "$2" "$3" "$STEPS" "$MODEL" <<'PYEOF'
import json, sys, tomllib
name, seed, path, steps, model = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), json.loads(sys.argv[5])
with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
    cfg = tomllib.load(f)
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "seed": seed, "progress": False, "max_minutes": 0,
                     "sample_every": max(1, min(2000, steps // 3)), "checkpoint_every": max(1, min(1000, steps // 4)),
                     "log_every": max(1, min(100, steps // 4))})
cfg.setdefault("model", {}).update(model)
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

method_of() { "$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['method'])" "gamutlib/models/configs/$1.toml"; }

run_job() {  # run_job GPU CONFIG SEED
  local gpu=$1 config=$2 seed=$3
  local tag="$config-seed$seed" dir="$WORK/$config-seed$seed"
  local device=cuda visible=$gpu
  [ "$gpu" = cpu ] && device=cpu visible=""
  mkdir -p "$dir/weights"
  write_config "$config" "$seed" "$dir/config.json" || { echo "$tag: bad config" >> "$LOGS/jobs-$gpu.log"; return; }
  echo "[$(( $(date +%s) - START ))s] $gpu: $tag" >> "$LOGS/jobs-$gpu.log"
  CUDA_VISIBLE_DEVICES=$visible "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" \
    --out "$dir/run" --device "$device" --max-minutes "$MAX_MINUTES" --export "$tag" --export-dir "$dir/weights" \
    > "$LOGS/$tag.train.log" 2>&1
  echo "[$(( $(date +%s) - START ))s] $gpu: $tag exit $? $(tail -1 "$LOGS/$tag.train.log")" >> "$LOGS/jobs-$gpu.log"
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
    tag="$config-seed$seed"; dir="$WORK/$tag"; dest="$PACK/$tag"
    mkdir -p "$dest"
    run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
    [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/"
    cp "$LOGS/$tag".*.log "$dir/weights/$tag.safetensors" "$dest/" 2>/dev/null
    [ -n "$run" ] && "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" \
      "$run" "$dest"
  done
  cp "$LOGS/jobs-$gpu.log" "$PACK/" 2>/dev/null
  tar czf "$OUT/finegrained-$gpu.tgz" -C "$PACK" .
  rm -rf "$PACK"
done
ls -la "$OUT"/*.tgz
cat "$LOGS"/jobs-*.log
echo "total $(( $(date +%s) - START ))s"
