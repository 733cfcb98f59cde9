#!/usr/bin/env bash
# Score and record the FineGrained series after scripts/gpu/train_finegrained.sh,
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
# 4. with CHAPTERS=1, seed 0 is staged into weights/ and the series' three chapters
#    run on PROFILE (gamutlib.reproduce.execute), writing their tables under
#    results/ and the executed notebooks under book/.
# $OUT/finegrained-record.tgz holds results/, book/ and the staged seed-0 weights
# (weights/<CONFIG>.safetensors + registry.json); nothing in the tree is replaced.
#
# Training the series' jobs side by side on ONE GPU: train_finegrained.sh runs the
# jobs of one GPU id one after the other, so start it once per job, each with
# its own OUT (the job folders share WORK):
#   for j in finegrained:0 finegrained:1 ganimation_au:0 ...; do
#     OUT=$OUT/train/${j/:/-} JOBS="0:$j" bash scripts/gpu/train_finegrained.sh > /dev/null 2>&1 & done; wait
#
# A quick check of the whole path on a CPU (tiny 128 px generators: the judges read 128 px faces):
#   for j in finegrained:0 ganimation_au:0; do OUT=/tmp/fg/train/${j/:/-} JOBS="cpu:$j" STEPS=4 \
#     MODEL='{"image_size": 128, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 6, "batch_size": 2}' \
#     bash scripts/gpu/train_finegrained.sh & done; wait
#   OUT=/tmp/fg PROFILE=smoke DEVICE=cpu PARALLEL=2 bash scripts/gpu/score_finegrained.sh
# (CHAPTERS=1 there stages into this checkout's weights/ and its registry: on a
# throw-away copy only.)
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
WORK=${WORK:-runs/finegrained}
PROFILE=${PROFILE:-gpu}
DEVICE=${DEVICE:-auto}
PARALLEL=${PARALLEL:-4}        # scorings at once (each holds the judges and one generator)
CHAPTERS=${CHAPTERS:-0}
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
if [ "$CHAPTERS" = 1 ]; then
  # the chapters read weights/<CONFIG>.safetensors: seed 0 staged into this machine's weights/
  # (its registry entries land in gamutlib/weights_registry.json here; what ships is chosen later)
  for f in "$STAGE"/seed0/*.safetensors; do
    "$PY" -m gamutlib.evaluation.finegrained stage "$f" "$(basename "$f" .safetensors)" weights > /dev/null
  done
  # the chapters read the tables' records from book/results/: this run's laid there first
  cp -r "$RESULTS/." book/results/
  "$PY" -m gamutlib.cli reproduce --profile "$PROFILE" --resume --only finegrained 2>&1 | tee "$OUT/pack/logs/chapters.log"
  mkdir -p "$OUT/pack/book" && cp -r book/finegrained "$OUT/pack/book/" 2>/dev/null
fi
tar czf "$OUT/finegrained-record.tgz" -C "$OUT/pack" .
ls -la "$OUT"/finegrained-record.tgz
echo "total $(( $(date +%s) - START ))s"
