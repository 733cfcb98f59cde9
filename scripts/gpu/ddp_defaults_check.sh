#!/usr/bin/env bash
# Does `torchrun` training run with the engine's defaults (compile of G, the
# joined critic, CriticConv2d) as it does on one GPU? GANmut at 128 px, batch 16
# per GPU, STEPS steps on 2 GPUs, then the same on 1 GPU; prints each run's last
# log line and packs both logs into $OUT/ddp_defaults.tgz.
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/ddp_defaults_check.sh   # a 2-GPU machine
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
STEPS=${STEPS:-600}
RUNS=$(mktemp -d)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
START=$(date +%s)
"$PY" - "$RUNS/config.json" "$STEPS" <<'PYEOF'
import json, sys, tomllib
cfg = tomllib.load(open("gamutlib/models/configs/ganmut.toml", "rb"))
cfg["train"].update({"steps": int(sys.argv[2]), "lr_decay_steps": 0, "log_every": 50, "progress": False,
                     "max_minutes": 0, "sample_every": 10**7, "checkpoint_every": 10**7})
json.dump(cfg, open(sys.argv[1], "w"), indent=1)
PYEOF
for nproc in 2 1; do
  "$PY" -m torch.distributed.run --standalone --nproc_per_node "$nproc" -m gamutlib.cli train ganmut \
    --config "$RUNS/config.json" --out "$RUNS/gpus$nproc" > "$RUNS/gpus$nproc.log" 2>&1
  echo "$nproc GPU(s): rc $? at $(( $(date +%s) - START ))s"
  grep -i -m5 "warn\|error\|compile" "$RUNS/gpus$nproc.log"
  run=$(ls -d "$RUNS/gpus$nproc"/*-* | tail -1)
  cp "$run/log.jsonl" "$RUNS/gpus$nproc.log.jsonl"
  cp "$run/config.json" "$RUNS/gpus$nproc.config.json"
  tail -1 "$run/log.jsonl"
done
tar czf "$OUT/ddp_defaults.tgz" -C "$RUNS" config.json gpus2.log gpus1.log gpus2.log.jsonl gpus1.log.jsonl \
  gpus2.config.json gpus1.config.json
