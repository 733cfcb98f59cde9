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
# SLOTS=N runs N of a GPU's jobs side by side, each slot taking the GPU's next
# job when free, under CUDA MPS where the machine allows it (scripts/gpu/lib/job_queue.sh):
# small batch-16 runs leave one H100/H200 mostly idle.
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
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
LOGS=$WORK/logs
JOB_LOG=$LOGS/jobs-%s.log
mkdir -p "$OUT" "$WORK" "$LOGS"
. "$(dirname "$0")/lib/job_queue.sh"

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

run_job() {  # run_job GPU CONFIG SEED
  local gpu=$1 config=$2 seed=$3
  local tag="$config-seed$seed" dir="$WORK/$config-seed$seed"
  local device=cuda visible=$gpu
  [ "$gpu" = cpu ] && device=cpu visible=""
  mkdir -p "$dir/weights"
  write_config "$config" "$seed" "$dir/config.json" || { echo "$tag: bad config" >> "$(job_log "$gpu")"; return; }
  echo "[$(elapsed)s] $gpu: $tag" >> "$(job_log "$gpu")"
  CUDA_VISIBLE_DEVICES=$visible "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" \
    --out "$dir/run" --device "$device" --max-minutes "$MAX_MINUTES" --export "$tag" --export-dir "$dir/weights" \
    > "$LOGS/$tag.train.log" 2>&1
  local rc=$?  # before any other command: the log line's $(...) would reset $?
  echo "[$(elapsed)s] $gpu: $tag exit $rc $(tail -1 "$LOGS/$tag.train.log")" >> "$(job_log "$gpu")"
  return $rc
}

pack_job() {  # pack_job CONFIG SEED PACK: the run's record, its train log, the exported G, three sample grids
  local tag="$1-seed$2"
  local dir="$WORK/$tag" dest="$3/$tag" run
  mkdir -p "$dest"
  run=$(latest_run "$dir")
  [ -n "$run" ] && cp "$run/log.jsonl" "$run/config.json" "$dest/"
  cp "$LOGS/$tag".*.log "$dir/weights/$tag.safetensors" "$dest/" 2>/dev/null
  [ -n "$run" ] && keep_sample_grids "$run" "$dest"
}

pack_extras() { cp "$(job_log "$1")" "$2/" 2>/dev/null; }

run_queues
pack_queues "$OUT/finegrained-%s.tgz"
echo "total $(elapsed)s"
