#!/usr/bin/env bash
# Score the FineGrained series after scripts/gpu/train_finegrained.sh,
# on the same machine (its job folders under $WORK):
#
#   . .whl/prelude.sh && OUT=/path/to/out bash scripts/gpu/score_finegrained.sh
#
# 1. every job's export <CONFIG>-seed<K>.safetensors is staged as
#    $WORK/staged/seed<K>/<CONFIG>.safetensors (gamutlib.evaluation.finegrained.stage_export);
# 2. each is scored by the series' tables (`gamut evaluate finegrained CONFIG --seed K`,
#    PROFILE, default gpu), several at once: results/finegrained/seeds/<CONFIG>-seed<K>.json;
# 3. seed 0's training log and config go to results/finegrained/training/<CONFIG>/
#    (the training chapter's Fig. 9), and seed 0's staged files to the pack's weights/;
# $OUT/finegrained-record.tgz holds results/ and the staged seed-0 weights
# (weights/<CONFIG>.safetensors + registry.json); nothing in the tree is replaced.
# The chapters are recorded by scripts/gpu/record_series.sh, which runs this script
# and then lays the records and weights into the tree.
#
# A quick check of the whole path on a CPU (tiny 128 px generators: the judges read 128 px faces):
#   for j in finegrained:0 ganimation_au:0; do OUT=/tmp/fg/train/${j/:/-} JOBS="cpu:$j" STEPS=4 \
#     MODEL='{"image_size": 128, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 6, "batch_size": 2}' \
#     bash scripts/gpu/train_finegrained.sh & done; wait
#   OUT=/tmp/fg PROFILE=smoke DEVICE=cpu PARALLEL=2 bash scripts/gpu/score_finegrained.sh
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
WORK=${WORK:-runs/finegrained}
PROFILE=${PROFILE:-gpu}
DEVICE=${DEVICE:-auto}
PARALLEL=${PARALLEL:-4}        # scorings at once (each holds the judges and one generator)
START=$(date +%s)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-4}
STAGE=$WORK/staged
RESULTS=$OUT/pack/results
mkdir -p "$OUT" "$STAGE" "$RESULTS/finegrained/training" "$OUT/pack/weights" "$OUT/pack/logs"

jobs_found=()
for dir in "$WORK"/*-seed*/; do
  tag=$(basename "$dir"); config=${tag%-seed*}; seed=${tag##*-seed}
  export_file="$dir/weights/$tag.safetensors"
  [ -f "$export_file" ] || { echo "$tag: no export, skipped"; continue; }
  "$PY" -m gamutlib.evaluation.finegrained stage "$export_file" "$config" "$STAGE/seed$seed" > /dev/null \
    || { echo "$tag: staging failed"; continue; }
  jobs_found+=("$config:$seed")
  run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
  if [ "$seed" = 0 ] && [ -n "$run" ]; then
    mkdir -p "$RESULTS/finegrained/training/$config"
    cp "$run/log.jsonl" "$run/config.json" "$RESULTS/finegrained/training/$config/"
  fi
done
echo "staged ${#jobs_found[@]} exports at $(( $(date +%s) - START ))s"

score() {  # score CONFIG SEED
  local config=$1 seed=$2 dir="$WORK/$1-seed$2" run
  run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
  "$PY" -m gamutlib.cli evaluate finegrained "$config" --seed "$seed" --weights-dir "$STAGE/seed$seed" \
    ${run:+--run "$run"} --profile "$PROFILE" --results-dir "$RESULTS" --device "$DEVICE" \
    > "$OUT/pack/logs/$config-seed$seed.eval.log" 2>&1
  echo "[$(( $(date +%s) - START ))s] $config seed $seed exit $? $(tail -1 "$OUT/pack/logs/$config-seed$seed.eval.log")"
}
running=0
for job in "${jobs_found[@]}"; do
  score "${job%%:*}" "${job##*:}" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait

if [ -d "$STAGE/seed0" ]; then
  cp "$STAGE"/seed0/*.safetensors "$STAGE/seed0/registry.json" "$OUT/pack/weights/"
fi
tar czf "$OUT/finegrained-record.tgz" -C "$OUT/pack" .
ls -la "$OUT"/finegrained-record.tgz
echo "total $(( $(date +%s) - START ))s"
