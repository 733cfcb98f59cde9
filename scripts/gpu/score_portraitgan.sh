#!/usr/bin/env bash
# Score the PortraitGAN series right after scripts/gpu/train_portraitgan.sh trained it, on
# the same machine (its run folders under $WORK are read): every job is scored by the
# series' table protocols (`gamut evaluate portraitgan CONFIG --seed K`, gpu profile), its
# log, resolved config and (seed 0) sample grids are laid out as book/results expects,
# and the shipped PortraitGAN's edit latency is timed on 2 CPU threads.
#
#   OUT=/path/to/out WEIGHTS_DIR=runs/portraitgan/shipped \
#     JOBS="0:portraitgan:0 0:portraitgan:1 0:portraitgan:2 0:portraitgan__no_texture:0 0:portraitgan__single_level:0 0:portraitgan__no_backward:0 0:cyclegan:0 0:stargan_modality:0" \
#     bash scripts/gpu/score_portraitgan.sh
#
# JOBS, WORK (runs/portraitgan) and WEIGHTS_DIR (where seed 0 of a plain config was
# exported; weights) are those the training ran with. PROFILE (gpu) sets the tables'
# sizes; PARALLEL (4) how many jobs are scored at once; BENCH=0 skips the latency timing;
# PYTHON the interpreter.
#
# $OUT/portraitgan-results.tgz unpacks into book/results/ (portraitgan/seeds/*.json,
# portraitgan/training/<CONFIG>-seed<SEED>/, portraitgan/edit_latency.json).
# $OUT/portraitgan-weights.tgz holds shipped/ (seed 0 of PortraitGAN, CycleGAN and StarGAN
# with their registry: only PortraitGAN's goes to weights/ and its sha256 into
# gamutlib/weights_registry.json; CycleGAN and StarGAN are results, not shipped files
# (portraitgan_tables.RECORD_ONLY), kept outside the tree for a gpu record, as
# scripts/gpu/record_series.sh does) and ablations/<CONFIG>/ (for the dlib landmark column,
# measured on a CPU: python -m gamutlib.evaluation.portraitgan_dlib --extra CONFIG=FOLDER).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
JOBS=${JOBS:?set JOBS to the GPU:CONFIG:SEED entries the training ran}
PY=${PYTHON:-python3}
WORK=${WORK:-runs/portraitgan}
SHIPPED=${WEIGHTS_DIR:-weights}
PROFILE=${PROFILE:-gpu}
RESULTS=$WORK/results  # laid out as book/results
PACK=$WORK/weights_pack
START=$(date +%s)
mkdir -p "$OUT" "$RESULTS/portraitgan/training" "$PACK/shipped" "$PACK/ablations"
LOGS=$WORK/logs
LOG=$LOGS/score.log  # every job's scoring log, appended as each ends
mkdir -p "$LOGS"
BENCH=${BENCH:-1}  # 0: no edit-latency timing here (a record machine with 2 CPU threads times it instead)

PARALLEL=${PARALLEL:-4}  # scorings at once (each holds the judges and one generator)
score_job() {  # score_job GPU:CONFIG:SEED: score one trained job, keep its record and (seed 0) its grids
  local job=$1 config seed tag name dir weights run dest log
  IFS=: read -r _ config seed <<< "$job"
  tag="$config-seed$seed"; name=${config%%__*}; dir="$WORK/$tag"; log="$LOGS/score-$tag.log"
  weights="$dir/weights"
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$SHIPPED
  run=$(ls -d "$dir"/run/*-* 2>/dev/null | tail -1)
  dest="$RESULTS/portraitgan/training/$tag"
  mkdir -p "$dest"
  if [ -n "$run" ]; then
    cp "$run/log.jsonl" "$run/config.json" "$dest/"
    [ "$seed" = 0 ] && "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" "$run" "$dest"
  fi
  if "$PY" -m gamutlib.cli evaluate portraitgan "$config" --seed "$seed" --weights-dir "$weights" ${run:+--run "$run"} \
      --profile "$PROFILE" --results-dir "$RESULTS" > "$log" 2>&1; then
    echo "[$(( $(date +%s) - START ))s] scored $tag: $(tail -1 "$log" | cut -c1-300)"
  else
    echo "[$(( $(date +%s) - START ))s] $tag NOT scored: $(tail -1 "$log")"
  fi
  cat "$log" >> "$LOG"
  if [ "$seed" = 0 ] && [ "$name" != "$config" ] && [ -f "$weights/$name.safetensors" ]; then
    mkdir -p "$PACK/ablations/$config" && cp "$weights/$name.safetensors" "$weights/registry.json" "$PACK/ablations/$config/" 2>/dev/null
  fi
}
running=0
for job in $JOBS; do
  score_job "$job" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait

if [ "$BENCH" = 1 ] && { [ -f "$SHIPPED/portraitgan.safetensors" ] || [ -f "$SHIPPED/portraitgan.safetensors.xz" ]; }; then
  "$PY" -m gamutlib.cli bench edit --method portraitgan --weights "$SHIPPED/portraitgan.safetensors" \
    --out "$RESULTS/portraitgan/edit_latency.json" >> "$LOG" 2>&1 && echo "edit latency: $(tail -2 "$LOG" | head -1)"
fi
for name in portraitgan cyclegan stargan_modality; do  # the packed form where there is one: what git tracks
  if [ -f "$SHIPPED/$name.safetensors.xz" ]; then cp "$SHIPPED/$name.safetensors.xz" "$PACK/shipped/"
  elif [ -f "$SHIPPED/$name.safetensors" ]; then cp "$SHIPPED/$name.safetensors" "$PACK/shipped/"; fi
done
[ -f "$SHIPPED/registry.json" ] && cp "$SHIPPED/registry.json" "$PACK/shipped/"
[ "$(cd "$SHIPPED" && pwd)" = "$(cd weights && pwd)" ] && cp gamutlib/weights_registry.json "$PACK/shipped/"
tar czf "$OUT/portraitgan-results.tgz" -C "$RESULTS" portraitgan
tar czf "$OUT/portraitgan-weights.tgz" -C "$PACK" shipped ablations
cp "$LOG" "$OUT/score.log"
ls -la "$OUT"
echo "total $(( $(date +%s) - START ))s"
