#!/usr/bin/env bash
# Does the GANmut series' gap to the paper close with training? Trains seed 0 of
# each generator in METHODS for STEPS iterations (the paper's schedule: batch
# 16, LR linear to 0 over the last 10%), all at once on one GPU (under MPS where
# the machine allows it), keeps a checkpoint every 10k iterations and scores the
# ones in SCORE_AT, and the last one, by the evaluation chapter's gpu protocol
# (`gamut evaluate ganmut`). A run still short of STEPS when MAX_MINUTES pass
# stops checkpointed and is scored where it stopped (its LR not yet decayed).
# FP32 also trains GANmut's shipped 10k schedule in fp32 (precision deviation).
#
# Long: start it detached, then poll (each device command has 10 minutes):
#   . .whl/prelude.sh && RUN_ID=C setsid nohup bash scripts/gpu/train_length.sh > runs/length.log 2>&1 &
#   ... later: test -f runs/length/DONE && cp runs/length/pack.tgz $OUT/
#
# runs/length/pack.tgz: training_length/<name>-it<N>.json (seed-record format,
# iterations set to the checkpoint's step), precision/ganmut-fp32-seed0.json,
# each run's log.jsonl and config.json, the final weights, the job logs.
set -uo pipefail
PY=${PYTHON:-python3}
METHODS=${METHODS-stargan ganmut gganmut}
STEPS=${STEPS:-100000}
SCORE_AT=${SCORE_AT:-10000 30000}
MAX_MINUTES=${MAX_MINUTES:-14}
FP32=${FP32:-1}
FP32_STEPS=${FP32_STEPS:-10000}
PROFILE=${PROFILE:-gpu}          # the scoring protocol (smoke: a CPU check of this script)
CKPT_EVERY=${CKPT_EVERY:-10000}
WORK=${WORK:-runs/length}
RUN_ID=${RUN_ID:-}               # stamped on every record (run_id): tells two long runs of one method apart
export RUN_ID
START=$(date +%s)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-3}
mkdir -p "$WORK/logs" "$WORK/pack/training_length" "$WORK/pack/precision"
log() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$WORK/logs/driver.log"; }

# MPS lets the small batch-16 kernels of several runs share the GPU's SMs.
. "$(dirname "$0")/lib/job_queue.sh"
log "$(start_mps)"

write_config() {  # write_config CONFIG STEPS PRECISION FILE
  "$PY" - "$@" "$MAX_MINUTES" "$CKPT_EVERY" <<'PYEOF'
import json, sys, tomllib
name, steps, precision, path, minutes, every = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], float(sys.argv[5]), int(sys.argv[6])
with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
    cfg = tomllib.load(f)
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "seed": 0, "progress": False,
                     "max_minutes": minutes, "precision": precision, "sample_every": max(500, steps // 5),
                     "checkpoint_every": every, "keep_checkpoints": 50})
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}
method_of() { "$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['method'])" "gamutlib/models/configs/$1.toml"; }

score() {  # score NAME CHECKPOINT DEST: export one checkpoint, score it, record its step
  local name=$1 ckpt=$2 dest=$3 tmp; tmp=$(mktemp -d)
  "$PY" scripts/gpu/export_checkpoint.py "$ckpt" "$name" "$tmp/w" >> "$WORK/logs/score.log" 2>&1 &&
  "$PY" -m gamutlib.cli evaluate ganmut "$name" --seed 0 --weights-dir "$tmp/w" --run "$(dirname "$(dirname "$ckpt")")" \
    --profile "$PROFILE" --results-dir "$tmp/r" >> "$WORK/logs/score.log" 2>&1 &&
  "$PY" - "$tmp/r/ganmut/seeds/$name-seed0.json" "$ckpt" "$dest" <<'PYEOF'
import json, os, re, sys
record = json.load(open(sys.argv[1]))
record["iterations"] = int(re.search(r"ckpt-(\d+)", sys.argv[2]).group(1))  # the checkpoint's, not the run's latest
record["weights"] = f"checkpoint {record['iterations']} of a {record.get('planned_steps')}-step run"
if os.environ.get("RUN_ID"):
    record["run_id"] = os.environ["RUN_ID"]
json.dump(record, open(sys.argv[3], "w"), indent=1)
PYEOF
  log "scored $name $(basename "$ckpt") -> $(basename "$dest") ($(tail -1 "$WORK/logs/score.log"))"
  cp "$tmp/w/$name.safetensors" "$WORK/$name-last.safetensors" 2>/dev/null
  rm -rf "$tmp"
}

train_and_score() {  # train_and_score CONFIG: train, scoring each SCORE_AT checkpoint as it appears
  local config=$1 dir="$WORK/$1"; mkdir -p "$dir"
  write_config "$config" "$STEPS" auto "$dir/config.json"
  "$PY" -m gamutlib.cli train "$(method_of "$config")" --config "$dir/config.json" --out "$dir/run" > "$WORK/logs/$config.train.log" 2>&1 &
  local pid=$! done_at=""
  while :; do
    local run; run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
    for at in $SCORE_AT; do
      local ck; ck=$(printf "%s/checkpoints/ckpt-%07d.pt" "$run" "$at")
      case " $done_at " in *" $at "*) continue ;; esac
      if [ -n "$run" ] && [ -f "$ck" ]; then score "$config" "$ck" "$WORK/pack/training_length/$config-it$at.json"; done_at="$done_at $at"; fi
    done
    kill -0 $pid 2>/dev/null || break
    sleep 10
  done
  wait $pid; log "$config training exited $? ($(tail -1 "$WORK/logs/$config.train.log"))"
  run=$(ls -d "$dir"/run/*-* | tail -1)
  local last; last=$(ls "$run"/checkpoints/ckpt-*.pt | tail -1); local step; step=$((10#$(basename "$last" .pt | sed 's/ckpt-//')))
  case " $done_at " in *" $step "*) ;; *) score "$config" "$last" "$WORK/pack/training_length/$config-it$step.json" ;; esac
  mkdir -p "$WORK/pack/runs/$config"; cp "$run/log.jsonl" "$run/config.json" "$WORK/pack/runs/$config/"
  cp "$WORK/$config-last.safetensors" "$WORK/pack/runs/$config/$config.safetensors" 2>/dev/null
}

fp32_run() {  # GANmut's shipped schedule (10k, train_seeds.sh) in fp32, same seed
  local dir="$WORK/ganmut-fp32"; mkdir -p "$dir"
  "$PY" - "$dir/config.json" "$FP32_STEPS" <<'PYEOF'
import json, sys, tomllib
cfg = tomllib.load(open("gamutlib/models/configs/ganmut.toml", "rb"))
steps = int(sys.argv[2])
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "seed": 0, "progress": False, "max_minutes": 0,
                     "sample_every": max(500, steps // 6), "checkpoint_every": max(500, steps // 4), "precision": "fp32"})
json.dump(cfg, open(sys.argv[1], "w"), indent=1)
PYEOF
  "$PY" -m gamutlib.cli train ganmut --config "$dir/config.json" --out "$dir/run" --export ganmut --export-dir "$dir/w" \
    > "$WORK/logs/ganmut-fp32.train.log" 2>&1
  log "fp32 training exited $? ($(tail -1 "$WORK/logs/ganmut-fp32.train.log"))"
  local run; run=$(ls -d "$dir"/run/*-* | tail -1)
  "$PY" -m gamutlib.cli evaluate ganmut ganmut --seed 0 --weights-dir "$dir/w" --run "$run" --profile "$PROFILE" \
    --results-dir "$dir/r" >> "$WORK/logs/score.log" 2>&1
  cp "$dir/r/ganmut/seeds/ganmut-seed0.json" "$WORK/pack/precision/ganmut-fp32-seed0.json"
  mkdir -p "$WORK/pack/runs/ganmut-fp32"; cp "$run/log.jsonl" "$run/config.json" "$WORK/pack/runs/ganmut-fp32/"
  log "fp32 scored: $(tail -1 "$WORK/logs/score.log")"
}

for m in $METHODS; do train_and_score "$m" & done
[ "$FP32" = 1 ] && fp32_run &
wait
cp "$WORK"/logs/*.log "$WORK/pack/" 2>/dev/null
tar czf "$WORK/pack.tgz" -C "$WORK/pack" .
log "all done"; touch "$WORK/DONE"
