#!/usr/bin/env bash
# Train the GANmut series' generators (METHODS, default all five) on one GPU,
# each through `gamut train` with its config in gamutlib/models/configs/, and
# hand back their weights and training record as one tarball. Several methods
# run side by side; one at a time is far faster per method (measured: ~105 img/s
# each for five at once, ~1200 img/s alone), so train one per command.
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/train_ganmut.sh   # from the repo root
#
# One GPU command may run 10 minutes and the critics (44 M parameters with
# their Adam state) are too large to carry a checkpoint between commands, so
# each method trains in one go: a short probe with all runs together measures
# each method's steps/s under that load, then every method gets the steps that
# fit TRAIN_SECONDS, with the paper's linear LR decay to 0 over the last 10%.
# The AU judge (judge_au) may train beside them (JUDGE_AU=1).
#
# $OUT/ganmut_training.tgz holds weights/<method>.safetensors.xz (the packed form git tracks),
# gamutlib/weights_registry.json, book/results/ganmut/training/<method>/
# {log.jsonl, config.json, samples-*.png} (three sample grids per method).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
RUNS=${RUNS:-runs/ganmut}
TRAIN_SECONDS=${TRAIN_SECONDS:-400}
PROBE_MINUTES=${PROBE_MINUTES:-0.75}
# The series' shipped generators and the method each holds come from the paper registry.
METHODS=${METHODS:-$("$PY" -m gamutlib.papers weights ganmut)}
JUDGE_AU=${JUDGE_AU:-0}
START=$(date +%s)
# Several runs share the machine's cores: without a cap every one starts a
# thread per core and they fight over the CPU that feeds the GPU.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-3}
mkdir -p "$OUT" "$RUNS"
elapsed() { echo $(( $(date +%s) - START )); }
method_of() { "$PY" -m gamutlib.papers method-of "$1"; }

# Resolved configs as JSON (TOML in, overrides in), one per run name.
write_config() {  # write_config NAME STEPS DECAY FILE
  "$PY" - "$@" <<'PYEOF'
import json, sys, tomllib
name, steps, decay, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
if name == "judge_au":
    cfg = {"method": "judge_au", "train": {"seed": 0, "log_every": 50, "summary_every": 500, "sample_every": 100000,
           "checkpoint_every": 1000}, "model": {"batch_size": 256, "image_size": 128, "width": 32}}
else:
    with open(f"gamutlib/models/configs/{name}.toml", "rb") as f:
        cfg = tomllib.load(f)
    cfg["train"]["sample_every"] = max(500, steps // 6)
    cfg["train"]["checkpoint_every"] = max(500, steps // 4)
cfg["train"].update({"steps": steps, "lr_decay_steps": decay, "progress": False, "max_minutes": 0})
json.dump(cfg, open(path, "w"), indent=1)
PYEOF
}

NAMES="$METHODS"; [ "$JUDGE_AU" = 1 ] && NAMES="$NAMES judge_au"

# 1. Probe: everything at once for PROBE_MINUTES; the last logged img_s of each.
for name in $NAMES; do
  write_config "$name" 1000000 0 "$RUNS/$name.probe.json"
  rm -rf "$RUNS/probe-$name"
  "$PY" -m gamutlib.cli train "$(method_of "$name")" --config "$RUNS/$name.probe.json" --out "$RUNS/probe-$name" \
    --max-minutes "$PROBE_MINUTES" > "$OUT/probe-$name.log" 2>&1 &
done
wait
echo "probe done at $(elapsed)s"

# 2. The real runs, all at once.
for name in $NAMES; do
  steps=$("$PY" - "$RUNS/probe-$name" "$TRAIN_SECONDS" "$name" <<'PYEOF'
import json, sys
from pathlib import Path
log = next(Path(sys.argv[1]).glob("*/log.jsonl"))
lines = [json.loads(l) for l in log.read_text().splitlines() if l.strip() and '"img_s"' in l]
img_s = lines[-1]["img_s"]
batch = 256 if sys.argv[3] == "judge_au" else 16
print(max(100, int(0.95 * img_s / batch * float(sys.argv[2])) // 100 * 100))
PYEOF
)
  decay=$(( steps / 10 ))
  echo "$name: $steps steps (LR to 0 over the last $decay)" | tee -a "$OUT/train_ganmut.log"
  write_config "$name" "$steps" "$decay" "$RUNS/$name.json"
  rm -rf "$RUNS/$name"
  "$PY" -m gamutlib.cli train "$(method_of "$name")" --config "$RUNS/$name.json" --out "$RUNS/$name" \
    --max-minutes "$(awk "BEGIN{print $TRAIN_SECONDS * 1.12 / 60}")" --export "$name" > "$OUT/$name.log" 2>&1 &
done
wait
echo "training done at $(elapsed)s" | tee -a "$OUT/train_ganmut.log"

# 3. The record.
PACK=$(mktemp -d)
mkdir -p "$PACK/weights" "$PACK/gamutlib"
# git tracks weights/<name>.safetensors.xz (an export into weights/ writes it; this checks it)
"$PY" -m gamutlib.cli weights pack $NAMES | tee -a "$OUT/train_ganmut.log"
for name in $NAMES; do
  run=$(ls -d "$RUNS/$name"/*-* 2>/dev/null | tail -1)
  [ -z "$run" ] && { echo "no run for $name"; continue; }
  tail -2 "$OUT/$name.log"
  cp "weights/$name.safetensors.xz" "$PACK/weights/" 2>/dev/null
  dest="$PACK/book/results/ganmut/training/$name"
  [ "$name" = judge_au ] && dest="$PACK/book/results/judges/training/$name"
  mkdir -p "$dest"
  cp "$run/log.jsonl" "$run/config.json" "$dest/"
  "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" \
    "$run" "$dest"
done
cp gamutlib/weights_registry.json "$PACK/gamutlib/"
cp "$OUT"/*.log "$PACK/" 2>/dev/null
tar czf "$OUT/ganmut_training.tgz" -C "$PACK" .
ls -la "$OUT/ganmut_training.tgz"
echo "total $(elapsed)s"
