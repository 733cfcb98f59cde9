#!/usr/bin/env bash
# Does `torchrun` training run with the engine's defaults (CUDA graphs with the
# gradient all_reduce captured, compile of G, the joined critic, CriticConv2d)
# as fast as one process does? GANmut at 128 px, batch 16 per GPU, STEPS steps
# for each launch in LAUNCHES, one after the other; prints each run's capture
# lines and last log line and packs the logs into $OUT/ddp_defaults.tgz.
#
# LAUNCHES: space-separated; "N" is `torchrun --nproc_per_node N`; "1g" is one
# process that still joins a process group (GAMUT_PROCESS_GROUP=1): the
# multi-process path (NCCL all_reduce inside the captured graphs) on one GPU;
# "plain" is `gamut train` without torchrun.
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/ddp_defaults_check.sh                 # a 2-GPU machine
#   . .whl/prelude.sh && OUT=/path/to/out LAUNCHES="1g plain" bash scripts/gpu/ddp_defaults_check.sh  # one GPU
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
STEPS=${STEPS:-600}
LAUNCHES=${LAUNCHES:-"2 1"}
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
files=(config.json)
for launch in $LAUNCHES; do
  name=gpus$launch
  case $launch in
    plain) "$PY" -m gamutlib.cli train ganmut --config "$RUNS/config.json" --out "$RUNS/$name" > "$RUNS/$name.log" 2>&1 ;;
    1g) GAMUT_PROCESS_GROUP=1 "$PY" -m torch.distributed.run --standalone --nproc_per_node 1 -m gamutlib.cli train ganmut \
          --config "$RUNS/config.json" --out "$RUNS/$name" > "$RUNS/$name.log" 2>&1 ;;
    *) "$PY" -m torch.distributed.run --standalone --nproc_per_node "$launch" -m gamutlib.cli train ganmut \
          --config "$RUNS/config.json" --out "$RUNS/$name" > "$RUNS/$name.log" 2>&1 ;;
  esac
  echo "$launch: rc $? at $(( $(date +%s) - START ))s"
  grep -i -m8 "warn\|error\|CUDA graph" "$RUNS/$name.log"
  run=$(ls -d "$RUNS/$name"/*-* | tail -1)
  cp "$run/log.jsonl" "$RUNS/$name.log.jsonl"
  cp "$run/config.json" "$RUNS/$name.config.json"
  tail -1 "$run/log.jsonl"
  files+=("$name.log" "$name.log.jsonl" "$name.config.json")
done
tar czf "$OUT/ddp_defaults.tgz" -C "$RUNS" "${files[@]}"
