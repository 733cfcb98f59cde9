#!/usr/bin/env bash
# Score the EGGAN series after scripts/gpu/train_eggan.sh, on the same machine:
# every trained job under $WORK (a folder <CONFIG>-seed<SEED>/) is scored by the
# series' table protocols (`gamut evaluate eggan NAME --seed K`, the objects the
# evaluation chapter writes its tables with).
#
#   OUT=/path/to/out bash scripts/gpu/score_eggan.sh
#
# Writes, under $RESULTS (default $OUT/results, laid out as book/results/):
#   eggan/seeds/<NAME>-seed<K>.json         a plain config's seeds (eggan, hgan)
#   eggan/ablations/<CONFIG>-seed<K>.json   an ablation's record (eggan__no_per, ...), and its .log.jsonl
#   eggan/training/<CONFIG>/                seed 0's config.json, log.jsonl and sample grids
# and packs them as $OUT/eggan-scores.tgz; unpack it over book/results/.
# Settings: WORK (runs/eggan), WEIGHTS (weights: where seed 0 was exported),
# PROFILE (gpu; smoke for the CPU test of the path), PYTHON.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
WORK=${WORK:-runs/eggan}
WEIGHTS=${WEIGHTS:-weights}
PROFILE=${PROFILE:-gpu}
PY=${PYTHON:-python3}
RESULTS=${RESULTS:-$OUT/results}
mkdir -p "$RESULTS/eggan/ablations" "$RESULTS/eggan/training"
failed=0
for dir in "$WORK"/*-seed*/; do
  tag=$(basename "$dir"); config=${tag%-seed*}; seed=${tag##*-seed}; name=${config%%__*}
  [ "$name" = feature_net ] && continue
  run=$(ls -d "$dir"run/*-* 2>/dev/null | tail -1)
  weights="$dir"weights
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$WEIGHTS
  if [ ! -f "$weights/$name.safetensors" ]; then echo "$tag: no $weights/$name.safetensors, not scored" >&2; failed=1; continue; fi
  dest=$RESULTS
  [ "$name" != "$config" ] && dest=$(mktemp -d)  # an ablation: its record is renamed below
  if ! "$PY" -m gamutlib.cli evaluate eggan "$name" --seed "$seed" --weights-dir "$weights" ${run:+--run "$run"} \
      --profile "$PROFILE" --results-dir "$dest"; then failed=1; continue; fi
  if [ "$name" != "$config" ]; then
    mv "$dest/eggan/seeds/$name-seed$seed.json" "$RESULTS/eggan/ablations/$config-seed$seed.json"
    [ -n "$run" ] && cp "$run/log.jsonl" "$RESULTS/eggan/ablations/$config-seed$seed.log.jsonl"
  elif [ "$seed" = 0 ] && [ -n "$run" ]; then
    mkdir -p "$RESULTS/eggan/training/$config"
    cp "$run/config.json" "$run/log.jsonl" "$RESULTS/eggan/training/$config/"
    cp "$run"/samples/*.png "$RESULTS/eggan/training/$config/" 2>/dev/null
  fi
done
tar czf "$OUT/eggan-scores.tgz" -C "$RESULTS" eggan
ls -la "$OUT/eggan-scores.tgz"
exit $failed
