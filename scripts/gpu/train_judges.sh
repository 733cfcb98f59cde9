#!/usr/bin/env bash
# Train the three judges on the H100 through the engine, export them (fp16) to
# weights/, write the judge report, and copy weights + report to $OUT.
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/train_judges.sh   # from the repo root
#
# Then copy $OUT/weights/* to weights/ and $OUT/gamutlib/weights_registry.json
# over gamutlib/weights_registry.json (it holds the files' sha256), and
# $OUT/book/results/judges/report.json to book/results/judges/.
#
# Budget (whole script < 8 min): a 150-step probe measures images/s, then
# each judge gets as many steps as fit JUDGE_SECONDS (default 105 s, with the
# LR decaying linearly to 0 over the second half), then the report (~30 s).
# Resumable: a judge whose run finished is skipped; a run cut short is resumed
# from its last checkpoint (runs/judges/, kept on a warm machine).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
RUNS=${RUNS:-runs/judges}
JUDGE_SECONDS=${JUDGE_SECONDS:-105}
BATCH=${BATCH:-256}
# For a CPU rehearsal in a scratch copy of the repo: SIZE=32 WIDTH=8 BATCH=16 PROBE_STEPS=20 JUDGE_SECONDS=20 REPORT_PROFILE=smoke
SIZE=${SIZE:-128}
WIDTH=${WIDTH:-32}
PROBE_STEPS=${PROBE_STEPS:-150}
REPORT_PROFILE=${REPORT_PROFILE:-gpu}
START=$(date +%s)
mkdir -p "$OUT" "$RUNS"

elapsed() { echo $(( $(date +%s) - START )); }

# 1. Probe: images/s of the emotion judge's training step (the same trunk for all three).
if [ ! -s "$RUNS/img_s" ]; then
  cat > "$RUNS/probe.json" <<EOF
{"train": {"steps": $PROBE_STEPS, "log_every": $(( PROBE_STEPS / 3 )), "summary_every": $(( PROBE_STEPS / 3 )),
           "sample_every": 100000, "checkpoint_every": 100000, "progress": false},
 "model": {"batch_size": $BATCH, "image_size": $SIZE, "width": $WIDTH}}
EOF
  rm -rf "$RUNS/probe"
  timeout 90 "$PY" -m gamutlib.cli train judge_emotion --config "$RUNS/probe.json" --out "$RUNS/probe" --max-minutes 1 \
    > "$OUT/probe.log" 2>&1
  "$PY" - "$RUNS" <<'PYEOF'
import json, sys
from pathlib import Path
runs = Path(sys.argv[1])
log = next((runs / "probe").glob("*/log.jsonl"))
lines = [json.loads(l) for l in log.read_text().splitlines() if l.strip()]
img_s = lines[-1]["img_s"]  # the last third of the probe: warm, graphs captured
(runs / "img_s").write_text(f"{img_s}\n")
print(f"probe: {img_s:.0f} img/s over steps {lines[-2]['step']}-{lines[-1]['step']}")
PYEOF
fi
IMG_S=$(cat "$RUNS/img_s" 2>/dev/null || echo 4000)
STEPS=$("$PY" -c "print(max(50, int($JUDGE_SECONDS * float('$IMG_S') / $BATCH) // 10 * 10))")
echo "probe ${IMG_S} img/s -> $STEPS steps of batch $BATCH per judge ($(elapsed)s so far)" | tee -a "$OUT/train_judges.log"

# 2. The judges. model settings per judge; train settings shared.
train_judge() {  # train_judge METHOD MODEL_JSON
  local method=$1 model=$2 run
  if [ -f "$RUNS/$method.done" ]; then echo "skip $method (done)"; return; fi
  local left=$(( 440 - $(elapsed) ))
  if [ "$left" -lt 40 ]; then echo "skip $method: out of time, run the script again to resume"; return; fi
  local minutes
  minutes=$("$PY" -c "print(round(min($JUDGE_SECONDS * 1.25, $left - 25) / 60, 2))")
  run=$(ls -d "$RUNS/$method"/*-"$method" 2>/dev/null | tail -1)
  if [ -n "$run" ]; then
    echo "== $method: resume $run (max $minutes min)"
    "$PY" -m gamutlib.cli train "$method" --resume "$run" --max-minutes "$minutes" --export "$method" \
      > >(tee -a "$OUT/$method.log") 2>&1
  else
    cat > "$RUNS/$method.json" <<EOF
{"train": {"steps": $STEPS, "lr_decay_steps": $(( STEPS / 2 )), "seed": 0, "log_every": 50, "summary_every": 500,
           "sample_every": 100000, "checkpoint_every": 500, "progress": false},
 "model": $model}
EOF
    echo "== $method: $STEPS steps (max $minutes min)"
    "$PY" -m gamutlib.cli train "$method" --config "$RUNS/$method.json" --out "$RUNS/$method" \
      --max-minutes "$minutes" --export "$method" > >(tee -a "$OUT/$method.log") 2>&1
  fi
  if grep -q "^trained " "$OUT/$method.log"; then touch "$RUNS/$method.done"; fi
  run=$(ls -d "$RUNS/$method"/*-"$method" 2>/dev/null | tail -1)
  [ -n "$run" ] && cp "$run/log.jsonl" "$OUT/$method.jsonl" 2>/dev/null
  echo "$method finished at $(elapsed)s" | tee -a "$OUT/train_judges.log"
}

ARCH="\"image_size\": $SIZE, \"width\": $WIDTH"
train_judge judge_emotion "{\"batch_size\": $BATCH, $ARCH}"
train_judge judge_au "{\"batch_size\": $BATCH, $ARCH}"
train_judge judge_identity "{\"identities_per_batch\": $(( BATCH / 2 )), \"views\": 2, $ARCH}"

# 3. Report on held-out identities, per style; then hand everything back.
if [ -f "$RUNS/judge_emotion.done" ] && [ -f "$RUNS/judge_au.done" ] && [ -f "$RUNS/judge_identity.done" ]; then
  timeout 120 "$PY" -m gamutlib.cli evaluate judges --profile "$REPORT_PROFILE" --results-dir book/results \
    > >(tee "$OUT/report.log") 2>&1
else
  echo "report skipped: not every judge finished; run the script again" | tee -a "$OUT/train_judges.log"
fi
mkdir -p "$OUT/weights" "$OUT/gamutlib" "$OUT/book/results/judges"
# git tracks the packed judge_*.safetensors.xz (an export into weights/ writes it; this checks it)
"$PY" -m gamutlib.cli weights pack judge_emotion judge_au judge_identity | tee -a "$OUT/train_judges.log"
cp weights/judge_*.safetensors.xz "$OUT/weights/" 2>/dev/null
cp gamutlib/weights_registry.json "$OUT/gamutlib/" 2>/dev/null
cp book/results/judges/report.json "$OUT/book/results/judges/" 2>/dev/null
ls -la "$OUT/weights" | tee -a "$OUT/train_judges.log"
echo "total $(elapsed)s" | tee -a "$OUT/train_judges.log"
