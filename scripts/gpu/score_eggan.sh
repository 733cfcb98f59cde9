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
# PROFILE (gpu; smoke for the CPU test of the path), PARALLEL (scorings at once, 4), PYTHON.
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
WORK=${WORK:-runs/eggan}
WEIGHTS=${WEIGHTS:-weights}
PROFILE=${PROFILE:-gpu}
PY=${PYTHON:-python3}
RESULTS=${RESULTS:-$OUT/results}
mkdir -p "$RESULTS/eggan/ablations" "$RESULTS/eggan/training"
PARALLEL=${PARALLEL:-4}  # scorings at once (each holds the judges and one generator)
FAILED=$(mktemp)           # one line per job that failed (the jobs run in subshells)

score_job() {  # score_job JOB_DIR: score one trained job and file its record
  local dir=$1 tag config seed name run weights dest
  tag=$(basename "$dir"); config=${tag%-seed*}; seed=${tag##*-seed}; name=${config%%__*}
  run=$(ls -d "$dir"run/*-* 2>/dev/null | tail -1)
  weights="$dir"weights
  [ "$seed" = 0 ] && [ "$name" = "$config" ] && weights=$WEIGHTS
  if [ ! -f "$weights/$name.safetensors" ] && [ ! -f "$weights/$name.safetensors.xz" ]; then echo "$tag: no $weights/$name.safetensors, not scored" >&2; echo "$tag" >> "$FAILED"; return; fi
  dest=$RESULTS
  [ "$name" != "$config" ] && dest=$(mktemp -d)  # an ablation: its record is renamed below
  if ! "$PY" -m gamutlib.cli evaluate eggan "$name" --seed "$seed" --weights-dir "$weights" ${run:+--run "$run"} \
      --profile "$PROFILE" --results-dir "$dest"; then echo "$tag" >> "$FAILED"; return; fi
  if [ "$name" != "$config" ]; then
    mv "$dest/eggan/seeds/$name-seed$seed.json" "$RESULTS/eggan/ablations/$config-seed$seed.json"
    [ -n "$run" ] && cp "$run/log.jsonl" "$RESULTS/eggan/ablations/$config-seed$seed.log.jsonl"
  elif [ "$seed" = 0 ] && [ -n "$run" ]; then
    mkdir -p "$RESULTS/eggan/training/$config"
    cp "$run/config.json" "$run/log.jsonl" "$RESULTS/eggan/training/$config/"
    "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" \
      "$run" "$RESULTS/eggan/training/$config"
  fi
}

running=0
for dir in "$WORK"/*-seed*/; do
  case $(basename "$dir") in feature_net-*) continue ;; esac  # not a generator
  score_job "$dir" &
  running=$((running + 1))
  if [ "$running" -ge "$PARALLEL" ]; then wait -n; running=$((running - 1)); fi
done
wait
failed=0
[ -s "$FAILED" ] && { echo "not scored: $(tr '\n' ' ' < "$FAILED")" >&2; failed=1; }
rm -f "$FAILED"
tar czf "$OUT/eggan-scores.tgz" -C "$RESULTS" eggan
ls -la "$OUT/eggan-scores.tgz"
exit $failed
