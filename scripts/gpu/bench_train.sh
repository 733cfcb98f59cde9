#!/usr/bin/env bash
# Training speed of the engine vs a reference-style eager StarGAN loop (H100).
#
#   OUT=/path/to/out bash scripts/gpu/bench_train.sh      # from the repo root
#
# Writes $OUT/train_speed.json (copy it to book/results/engine/train_speed.json)
# plus one JSON and one log per part. Resumable: a part whose JSON exists is
# skipped. Every part has its own time limit; the whole script ends inside 8 minutes.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
mkdir -p "$OUT"
PY=${PYTHON:-python}
START=$(date +%s)

part() {  # part NAME SECONDS ARGS...
  local name=$1 limit=$2; shift 2
  if [ -s "$OUT/$name.json" ]; then echo "skip $name (done)"; return; fi
  local left=$(( 460 - ($(date +%s) - START) ))
  if [ "$left" -lt 30 ]; then echo "skip $name (out of time)"; return; fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit}s)"
  timeout --signal=TERM --kill-after=10 "$limit" "$PY" -m gamutlib.cli bench train --out "$OUT/$name.json" "$@" \
    > >(tee "$OUT/$name.log") 2>&1
  echo "$name exit $?"
}

# Batch 16 (the target: engine >= 3x reference) with the variants that explain it.
part b16 150 --batch 16 --variant engine_fp32_eager --variant engine_bf16_eager \
  --variant engine_graphs_nchw --variant engine_graphs_fp32
part b64 120 --batch 64 --variant engine_bf16_eager --variant engine_graphs_nchw
# torch.compile on top of the graphs (inductor compile time dominates; last on purpose).
part b16_compile 160 --batch 16 --variant engine_compile

"$PY" - "$OUT" <<'PYEOF'
import json, sys
from pathlib import Path
out = Path(sys.argv[1])
parts = {p.stem: json.loads(p.read_text()) for p in sorted(out.glob("b*.json"))}
rows = {}
for name in ("b16", "b64", "b16_compile"):
    for row in parts.get(name, {}).get("rows", []):
        key = row["batch"]
        if key in rows:  # a later part adds its variants to the row of that batch
            rows[key].update({k: v for k, v in row.items() if k.startswith("engine_compile") or k.endswith("_compile")})
            rows[key].setdefault("rerun_reference_img_s", row["reference_img_s"])
        else:
            rows[key] = row
if not parts:
    sys.exit("no part finished")
first = next(iter(parts.values()))
merged = {**first, "rows": [rows[k] for k in sorted(rows)], "complete": all("engine_img_s" in r for r in rows.values())}
(out / "train_speed.json").write_text(json.dumps(merged, indent=2) + "\n")
for r in merged["rows"]:
    print({k: r.get(k) for k in ("batch", "reference_img_s", "engine_img_s", "ratio", "engine_graphs", "engine_compile_img_s")})
PYEOF
echo "total $(( $(date +%s) - START ))s"
