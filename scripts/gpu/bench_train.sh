#!/usr/bin/env bash
# Training speed of the engine vs a reference-style eager StarGAN loop (one GPU).
#
#   . .whl/prelude.sh && OUT=/path/to/out PARTS="b16a b64" bash scripts/gpu/bench_train.sh
#
# Parts (each its own `gamut bench train` run with the reference and the engine's
# defaults, plus variants that each switch one default off; compile variants cost
# ~35 s of compilation each):
#   b16a  batch 16: no compile, no graphs, critic unbatched ("separate"), no CriticConv2d, fp32-eager
#   b16b  batch 16: critic "pair", no weight-cast cache, channels_last everywhere, no padding, graphs-only
#   b64   batch 64: no compile, graphs-only
# Writes $OUT/<part>.json and .log, and $OUT/train_speed.json merging the parts
# found in $OUT (gamutlib.bench.train.merge_parts). Run the parts over two
# GPU commands if one would pass its time limit, then merge their JSONs with
#   python -c 'import sys,json; from gamutlib.bench.train import merge_parts, write_result; \
#     write_result(merge_parts([json.load(open(p)) for p in sys.argv[1:]]), "train_speed.json")' b16a.json b16b.json b64.json
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PARTS=${PARTS:-b16a b16b b64}
mkdir -p "$OUT"
PY=${PYTHON:-python3}
START=$(date +%s)

part() {  # part NAME SECONDS ARGS...
  local name=$1 limit=$2; shift 2
  case " $PARTS " in *" $name "*) ;; *) return ;; esac
  if [ -s "$OUT/$name.json" ]; then echo "skip $name (done)"; return; fi
  echo "== $name (limit ${limit}s) [$(( $(date +%s) - START ))s]"
  timeout --signal=TERM --kill-after=10 "$limit" "$PY" -m gamutlib.cli bench train --out "$OUT/$name.json" "$@" \
    > "$OUT/$name.log" 2>&1
  echo "$name exit $?"
  grep "img/s\|failed" "$OUT/$name.log"
}

part b16a 290 --batch 16 --variant engine_no_compile --variant engine_no_graphs --variant engine_critic_separate \
  --variant engine_no_critic_conv --variant engine_fp32_eager
part b16b 290 --batch 16 --variant engine_critic_pair --variant engine_no_autocast_cache \
  --variant engine_channels_last_all --variant engine_unaligned --variant engine_graphs_only
part b64 200 --batch 64 --variant engine_no_compile --variant engine_graphs_only

"$PY" - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
from gamutlib.bench.train import merge_parts, write_result
out = Path(sys.argv[1])
parts = [json.loads((out / f"{n}.json").read_text()) for n in ("b16a", "b16b", "b64") if (out / f"{n}.json").exists()]
if not parts:
    sys.exit("no part finished")
merged = merge_parts(parts)
write_result(merged, out / "train_speed.json")
for r in merged["rows"]:
    print({k: r.get(k) for k in ("batch", "reference_img_s", "engine_img_s", "ratio")})
PYEOF
echo "total $(( $(date +%s) - START ))s"
