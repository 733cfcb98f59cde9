#!/usr/bin/env bash
# The engine's GPU speed-ups checked for their maths on one GPU:
#  - critic_check.py: a WGAN-GP critic step's gradients with CriticConv2d and the
#    joined forwards (critic_with_gp) against plain layers and separate forwards;
#  - compile_check.py: G compiled against eager (D, differentiated twice, stays eager);
#  - a short GANmut run with the engine's defaults (compile, graphs, the joined critic).
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/engine_checks.sh
#
# $OUT: critic_check.json, compile_check.json, ganmut_defaults.tgz (config, stdout, log.jsonl).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
STEPS=${STEPS:-3000}
mkdir -p "$OUT"
START=$(date +%s)
t() { echo "[$(( $(date +%s) - START ))s] $*"; }

t "critic_check"
timeout 120 "$PY" scripts/gpu/critic_check.py "$OUT/critic_check.json" 2>&1 | grep -v Warning | tail -14
t "compile_check"
timeout 150 "$PY" scripts/gpu/compile_check.py "$OUT/compile_check.json" 2>&1 | grep -v Warning | tail -20
RUN=$(mktemp -d)
t "GANmut $STEPS steps, engine defaults"
"$PY" - "$RUN/defaults.json" "$STEPS" <<'PYEOF'
import json, sys, tomllib
cfg = tomllib.load(open("gamutlib/models/configs/ganmut.toml", "rb"))
steps = int(sys.argv[2])
cfg["train"].update({"steps": steps, "lr_decay_steps": steps // 10, "progress": False, "max_minutes": 0,
                     "sample_every": 100000, "checkpoint_every": 100000})
json.dump(cfg, open(sys.argv[1], "w"))
PYEOF
timeout 200 "$PY" -m gamutlib.cli train ganmut --config "$RUN/defaults.json" --out "$RUN/defaults" > "$RUN/defaults.log" 2>&1
echo "train exit $?" >> "$RUN/defaults.log"
grep -i "warn\|compile\|trained\|exit" "$RUN/defaults.log" | head -10
run=$(ls -d "$RUN/defaults"/*-* | tail -1)
cp "$run/log.jsonl" "$RUN/defaults.log.jsonl"
tail -1 "$run/log.jsonl"
tar czf "$OUT/ganmut_defaults.tgz" -C "$RUN" defaults.json defaults.log defaults.log.jsonl
t "done"
