#!/usr/bin/env bash
# torch.compile in the engine, checked on one GPU: gradients against eager
# (compile_check.py), the training benchmark with compile variants at batch 16
# and 64, and a short GANmut training run with compile on and off (does a real
# method train the same compiled, and how fast).
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/engine_checks.sh
#
# $OUT: compile_check.json, bench_b16.json, bench_b64.json, ganmut_compile.tgz (configs, stdout and
# log.jsonl of the same short GANmut run with and without compile).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
mkdir -p "$OUT"
START=$(date +%s)
t() { echo "[$(( $(date +%s) - START ))s] $*"; }

t "compile_check"
timeout 150 "$PY" scripts/gpu/compile_check.py "$OUT/compile_check.json" 2>&1 | grep -v Warning | tail -40
t "bench batch 16"
timeout 170 "$PY" -m gamutlib.cli bench train --batch 16 --variant engine_compile --variant engine_compile_cl_d \
  --variant engine_graphs_cl_d --out "$OUT/bench_b16.json" 2>&1 | grep "img/s\|failed"
t "bench batch 64"
timeout 100 "$PY" -m gamutlib.cli bench train --batch 64 --variant engine_compile --out "$OUT/bench_b64.json" 2>&1 | grep "img/s\|failed"
# The same short GANmut run with and without compile: same seed, same schedule.
RUN=$(mktemp -d)
for mode in compile eager; do
  t "GANmut 3000 steps, $mode"
  "$PY" - "$RUN/$mode.json" "$mode" <<'PYEOF'
import json, sys, tomllib
cfg = tomllib.load(open("gamutlib/models/configs/ganmut.toml", "rb"))
cfg["train"].update({"steps": 3000, "lr_decay_steps": 300, "compile": sys.argv[2] == "compile", "progress": False,
                     "max_minutes": 0, "sample_every": 100000, "checkpoint_every": 100000})
json.dump(cfg, open(sys.argv[1], "w"))
PYEOF
  timeout 140 "$PY" -m gamutlib.cli train ganmut --config "$RUN/$mode.json" --out "$RUN/$mode" > "$RUN/$mode.log" 2>&1
  echo "train exit $?" >> "$RUN/$mode.log"
  grep -i "warn\|compile\|trained\|exit" "$RUN/$mode.log" | head -10
  run=$(ls -d "$RUN/$mode"/*-* | tail -1)
  cp "$run/log.jsonl" "$RUN/$mode.log.jsonl"
  tail -1 "$run/log.jsonl"
done
tar czf "$OUT/ganmut_compile.tgz" -C "$RUN" compile.json eager.json compile.log eager.log compile.log.jsonl eager.log.jsonl
t "done"
