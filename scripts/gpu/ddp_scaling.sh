#!/usr/bin/env bash
# Multi-GPU scaling of the engine (GANmut, 128 px) on a 2-GPU machine, and the
# loss check; writes book/results/engine/ddp_scaling.json and packs the run
# logs into $OUT/ddp_scaling.tgz.
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/ddp_scaling.sh   # from the repo root
#
# Runs (same settings; CUDA graphs off everywhere because the DDP path is eager):
#   speed_1gpu   1 process,  batch 16               (SPEED_STEPS)
#   ddp_2gpu     2 processes, batch 16 per GPU       (LOSS_STEPS; speed and loss check)
#   single_b32   1 process,  batch 32, n_c 18        (LOSS_STEPS; the loss check's reference:
#                the same 32 images per step, n_c/batch as 2 x (9/16))
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
RUNS=${RUNS:-runs/ddp}
SPEED_STEPS=${SPEED_STEPS:-2000}
LOSS_STEPS=${LOSS_STEPS:-4000}
IMAGE_SIZE=${IMAGE_SIZE:-128}
DEVICE_ARGS=${DEVICE_ARGS:-}
START=$(date +%s)
mkdir -p "$OUT" "$RUNS"
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}

write_config() {  # write_config NAME STEPS BATCH N_C
  "$PY" - "$@" "$IMAGE_SIZE" "$RUNS" <<'PYEOF'
import json, sys, tomllib
name, steps, batch, n_c, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
with open("gamutlib/models/configs/ganmut.toml", "rb") as f:
    cfg = tomllib.load(f)
cfg["train"].update({"steps": steps, "lr_decay_steps": 0, "log_every": 50, "summary_every": 1000,
                     "sample_every": 10**7, "checkpoint_every": 10**7, "progress": False, "max_minutes": 0,
                     "cuda_graphs": False})
cfg["model"].update({"batch_size": batch, "n_c": n_c, "image_size": size})
json.dump(cfg, open(f"{sys.argv[6]}/{name}.json", "w"), indent=1)
PYEOF
}

train() {  # train NAME NPROC
  rm -rf "$RUNS/$1"
  "$PY" -m torch.distributed.run --standalone --nproc_per_node "$2" -m gamutlib.cli train ganmut \
    --config "$RUNS/$1.json" --out "$RUNS/$1" $DEVICE_ARGS > "$OUT/$1.log" 2>&1
  local rc=$?
  echo "$1 ($2 processes): rc $rc at $(( $(date +%s) - START ))s"
  [ $rc = 0 ] || { grep -m3 -E "Error|error:" "$OUT/$1.log"; exit 1; }
}

write_config speed_1gpu "$SPEED_STEPS" 16 9
write_config ddp_2gpu "$LOSS_STEPS" 16 9
write_config single_b32 "$LOSS_STEPS" 32 18
train speed_1gpu 1
train ddp_2gpu 2
train single_b32 1

run_of() { ls -d "$RUNS/$1"/*-* | tail -1; }
"$PY" -m gamutlib.cli bench ddp "$(run_of speed_1gpu)" "$(run_of ddp_2gpu)" \
  --multi "$(run_of ddp_2gpu)" --single "$(run_of single_b32)" \
  --device "$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | sort | uniq -c | xargs)" \
  --out book/results/engine/ddp_scaling.json

PACK=$(mktemp -d)
mkdir -p "$PACK/book/results/engine/ddp"
cp book/results/engine/ddp_scaling.json "$PACK/book/results/engine/"
for name in speed_1gpu ddp_2gpu single_b32; do
  mkdir -p "$PACK/book/results/engine/ddp/$name"
  cp "$(run_of $name)/log.jsonl" "$(run_of $name)/config.json" "$PACK/book/results/engine/ddp/$name/"
done
cp "$OUT"/*.log "$PACK/" 2>/dev/null
tar czf "$OUT/ddp_scaling.tgz" -C "$PACK" .
echo "total $(( $(date +%s) - START ))s"
