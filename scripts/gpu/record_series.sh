#!/usr/bin/env bash
# Train, score and record the FineGrained, EGGAN and PortraitGAN series (any of them,
# PAPERS) on ONE GPU, every job side by side under CUDA MPS, so that a series fits
# one session's device time:
#
#   train  the benchmark feature network first, alone (EGGAN's perceptual and
#          PortraitGAN's texture loss read it; never a judge), unless a trained one
#          is in $WORK already; then every job of the PAPERS at once, each with
#          what is left of TRAIN_MINUTES as its guard
#          (scripts/gpu/train_{finegrained,eggan,portraitgan}.sh);
#   score  every job by its series' table protocols, the series at once
#          (scripts/gpu/score_{finegrained,eggan,portraitgan}.sh);
#   lay    the records into book/results/, seed 0 of every config into weights/
#          with its registry entry, packed (weights/<name>.safetensors.xz: what
#          git tracks; gamutlib/weights.py), except a series' RECORD_ONLY
#          generators (`python -m gamutlib.papers record-only PAPER`: ablations and
#          baselines, results rather than shipped files), laid in plain for the record;
#   record `gamut reproduce --profile gpu --only PAPER...`: the chapters
#          (notebooks/<paper>/) executed into book/<paper>/;
#   pack   $OUT/record.tgz (book/<paper>/ and book/results/<paper>/),
#          $OUT/weights-<paper>.tgz (seed 0 of every shipped config, packed, with the
#          registry, which no longer names RECORD_ONLY's files),
#          $OUT/kept-<paper>.tgz (RECORD_ONLY's files, plain, as <paper>/weights/ with
#          their registry.json: kept outside the tree, e.g. under runs/keep/, for KEPT_WEIGHTS),
#          $OUT/logs.tgz (every training and scoring log).
#
# Training and scoring take longer than one device command may run: start the
# whole script detached and poll $WORK/state (a line per finished phase; "FAILED"
# on a failure; "DONE" at the end). A device machine keeps ignored folders (runs/)
# between calls but copies the tracked tree afresh with each call, which would
# overwrite what lay and record write there; so run it in a private copy of the
# tree under runs/, where nothing is copied over it, and fetch $OUT at the end:
#
#   . .whl/prelude.sh && rm -rf runs/wt && mkdir -p runs/wt \
#     && tar --exclude=./runs --exclude=./.git -cf - . | tar -xf - -C runs/wt \
#     && (cd runs/wt && export PYTHONPATH="$PWD:/tmp/site" && OUT=$PWD/runs/series/out \
#         setsid nohup bash scripts/gpu/record_series.sh > runs/series.log 2>&1 < /dev/null &)
#   ... (next calls: poll runs/wt/runs/series/state until DONE) ...
#   cp runs/wt/runs/series/out/*.tgz "$OUT"/
#
# Settings: PAPERS ("finegrained eggan portraitgan"), TRAIN_MINUTES (8: the wall
# time of the train phase, the feature network's included), FG_STEPS / EG_STEPS /
# PG_STEPS (each job's iterations; a job its guard stops first is exported where
# it stopped, and its log says how far it came), FEATURE_STEPS (3000), FG_JOBS /
# EG_JOBS / PG_JOBS (GPU:CONFIG:SEED lists; defaults: each series' full plan; set but
# empty, e.g. FG_JOBS="": the series is trained already, only laid in and recorded), PHASES
# ("train score lay record pack"), WORK (runs/series), KEPT_WEIGHTS (folders of
# exports from an earlier session, each with its registry.json, laid in too: e.g. the
# RECORD_ONLY generators (ablations, PortraitGAN's baselines), which are results rather
# than shipped files, carried in an ignored folder such as runs/keep/<paper>/weights to
# record a series again without training it again).
# Many processes share the GPU, so each renders 128 faces at a time
# (GAMUT_RENDER_AHEAD; 1024 by default, which peaks at ~7 GB a process: eleven
# FineGrained jobs filled an 80 GB H100 with it) and runs one CPU thread.
# CHECK=1: the whole path on a CPU with tiny networks and the smoke profile
# (tests/test_record_series.py runs it in a throw-away copy of the repository:
# it writes weights/ and book/results/).
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
WORK=${WORK:-runs/series}
CHECK=${CHECK:-0}
PAPERS=${PAPERS:-"finegrained eggan portraitgan"}
PHASES=${PHASES:-"train score lay record pack"}
TRAIN_MINUTES=${TRAIN_MINUTES:-8}
FG_STEPS=${FG_STEPS:-8000}
EG_STEPS=${EG_STEPS:-6000}
PG_STEPS=${PG_STEPS:-5000}
FEATURE_STEPS=${FEATURE_STEPS:-3000}
FG_JOBS=${FG_JOBS-"0:finegrained:0 0:finegrained:1 0:finegrained:2 0:ganimation_au:0 0:ganimation_au:1 0:ganimation_au:2
  0:finegrained__kmsf0:0 0:finegrained__kmsf1:0 0:finegrained__kmsf2:0 0:finegrained__absolute:0 0:ganimation_au__relative:0"}
EG_JOBS=${EG_JOBS-"0:eggan:0 0:eggan:1 0:eggan:2 0:hgan:0 0:hgan:1 0:hgan:2 0:eggan__no_per:0 0:eggan__no_id:0 0:eggan__no_msssim:0"}
PG_JOBS=${PG_JOBS-"0:portraitgan:0 0:portraitgan:1 0:portraitgan:2 0:cyclegan:0 0:stargan_modality:0
  0:portraitgan__no_texture:0 0:portraitgan__single_level:0 0:portraitgan__no_backward:0"}

export OMP_NUM_THREADS=1 TORCHINDUCTOR_COMPILE_THREADS=1 PYTHON=$PY
export GAMUT_RENDER_AHEAD=${GAMUT_RENDER_AHEAD:-128} PYTORCH_CUDA_ALLOC_CONF=${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:True}
PROFILE=gpu DEVICE=auto
FG_EXTRA=() EG_EXTRA=() PG_EXTRA=()
if [ "$CHECK" = 1 ]; then  # tiny networks on the CPU; the judges still read 128 px faces
  PROFILE=smoke DEVICE=cpu FG_STEPS=4 EG_STEPS=4 PG_STEPS=4 FEATURE_STEPS=4 TRAIN_MINUTES=20
  FG_JOBS=${CHECK_FG_JOBS:-"cpu:finegrained:0 cpu:ganimation_au:0"}
  EG_JOBS=${CHECK_EG_JOBS:-"0:eggan:0 0:hgan:0 0:eggan__no_per:0"}
  PG_JOBS=${CHECK_PG_JOBS:-"0:portraitgan:0 0:cyclegan:0 0:stargan_modality:0 0:portraitgan__no_texture:0"}
  FG_EXTRA=(MODEL='{"image_size": 128, "g_conv_dim": 4, "d_conv_dim": 8, "d_repeat_num": 6, "batch_size": 2}')
  EG_EXTRA=(TINY=1)  # GPU 0 falls back to the CPU
  PG_EXTRA=(DEVICE=cpu MODEL='{"g_conv_dim": 4, "d_conv_dim": 4, "batch_size": 2}')
fi
FG_JOBS=$(echo $FG_JOBS) EG_JOBS=$(echo $EG_JOBS) PG_JOBS=$(echo $PG_JOBS)  # one line each
count() { echo $#; }
has() { [[ " $PAPERS " == *" $1 "* ]]; }
trains() {  # trains PAPER: the paper is asked for and has jobs (an empty list: trained already, record only)
  case $1 in finegrained) has "$1" && [ -n "$FG_JOBS" ] ;; eggan) has "$1" && [ -n "$EG_JOBS" ] ;;
    portraitgan) has "$1" && [ -n "$PG_JOBS" ] ;; *) return 1 ;; esac
}
wants() { [[ " $PHASES " == *" $1 "* ]]; }

EG_WEIGHTS=$WORK/weights-eggan PG_WEIGHTS=$WORK/weights-portraitgan  # seed 0 exports (+ the feature network)
mkdir -p "$OUT" "$WORK" "$EG_WEIGHTS" "$PG_WEIGHTS"
STATE=$WORK/state
START=$(date +%s)
say() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$STATE"; }

lay_in() {  # lay_in FOLDER NAME...: FOLDER/NAME.safetensors into weights/, each with its registry entry
  [ "$#" -gt 1 ] || return 0
  "$PY" -m gamutlib.cli weights lay-in "$@" > /dev/null
}

shipped_names() {  # shipped_names PAPER...: every name of the shipped registry but the PAPERS' RECORD_ONLY
  "$PY" - "$@" <<'PYEOF'
import sys
from gamutlib.papers import record_only
from gamutlib.weights import SHIPPED_REGISTRY, read_registry
kept = {name for paper in sys.argv[1:] for name in record_only(paper)}
print(" ".join(name for name in read_registry(SHIPPED_REGISTRY) if name not in kept))
PYEOF
}

keep_aside() {  # keep_aside FOLDER PAPER...: the PAPERS' RECORD_ONLY files out of weights/ and the shipped
  # registry, into FOLDER/<paper>/weights/ with their registry.json (the record is done: what stays is what git tracks)
  "$PY" - "$@" <<'PYEOF'
import json, shutil, sys
from pathlib import Path
from gamutlib.papers import record_only
from gamutlib.weights import SHIPPED_REGISTRY, SHIPPED_ROOT, packed_path, plain_path, read_registry
folder, shipped = Path(sys.argv[1]), read_registry(SHIPPED_REGISTRY)
for paper in sys.argv[2:]:
    dest = folder / paper / "weights"
    kept = read_registry(dest / "registry.json")  # an earlier pack's, when the phase runs again
    for name in record_only(paper):
        plain = plain_path(SHIPPED_ROOT, name)
        packed_path(plain).unlink(missing_ok=True)
        if name in shipped and plain.exists():
            dest.mkdir(parents=True, exist_ok=True)
            shutil.move(plain, dest / plain.name)
            kept[name] = shipped.pop(name)
    if kept:
        (dest / "registry.json").write_text(json.dumps(dict(sorted(kept.items())), indent=2, sort_keys=True) + "\n")
        print(f"{paper}: kept aside {' '.join(sorted(kept))}")
SHIPPED_REGISTRY.write_text(json.dumps(dict(sorted(shipped.items())), indent=2, sort_keys=True) + "\n")
PYEOF
}

if wants train; then
  if [ "$CHECK" != 1 ] && command -v nvidia-cuda-mps-control > /dev/null && nvidia-cuda-mps-control -d > /dev/null 2>&1; then
    say "MPS started"
  fi
  if { trains eggan || trains portraitgan; } && [ ! -f "$EG_WEIGHTS/feature_net.safetensors" ]; then
    # alone: beside eleven FineGrained jobs its 3000 steps took 401 s on an H100
    if env OUT="$WORK/train-eg" JOBS=none WEIGHTS="$EG_WEIGHTS" FEATURE_STEPS="$FEATURE_STEPS" MAX_MINUTES="$TRAIN_MINUTES" \
        "${EG_EXTRA[@]}" bash scripts/gpu/train_eggan.sh > "$WORK/train-feature.log" 2>&1; then
      say "feature network trained"
    else
      say "feature network FAILED: $(tail -2 "$WORK/train-feature.log" | tr '\n' ' ')"; exit 1
    fi
  fi
  # PortraitGAN's texture loss reads weights/feature_net.safetensors; EGGAN's reads $EG_WEIGHTS
  if trains portraitgan; then lay_in "$EG_WEIGHTS" feature_net || { say "feature network not laid in: FAILED"; exit 1; }; fi
  left=$(( TRAIN_MINUTES * 60 - ($(date +%s) - START) ))
  guard=$(awk -v s="$left" 'BEGIN { m = s / 60; if (m < 2) m = 2; printf "%.1f", m }')
  say "jobs start: ${PAPERS// /, }; guard $guard min"
  if trains finegrained; then
    env OUT="$WORK/train-fg" JOBS="$FG_JOBS" SLOTS="$(count $FG_JOBS)" STEPS="$FG_STEPS" MAX_MINUTES="$guard" \
      "${FG_EXTRA[@]}" bash scripts/gpu/train_finegrained.sh > "$WORK/train-fg.log" 2>&1 &
  fi
  if trains eggan; then
    env OUT="$WORK/train-eg" JOBS="$EG_JOBS" WEIGHTS="$EG_WEIGHTS" SLOTS="$(count $EG_JOBS)" STEPS="$EG_STEPS" \
      MAX_MINUTES="$guard" "${EG_EXTRA[@]}" bash scripts/gpu/train_eggan.sh > "$WORK/train-eg.log" 2>&1 &
  fi
  if trains portraitgan; then
    env OUT="$WORK/train-pg" JOBS="$PG_JOBS" WEIGHTS_DIR="$PG_WEIGHTS" SLOTS="$(count $PG_JOBS)" STEPS="$PG_STEPS" \
      MAX_MINUTES="$guard" "${PG_EXTRA[@]}" bash scripts/gpu/train_portraitgan.sh > "$WORK/train-pg.log" 2>&1 &
  fi
  wait
  failures=$(cat runs/{finegrained,eggan,portraitgan}/logs/jobs-*.log 2>/dev/null | grep -c "exit [1-9]\|FAILED")
  say "trained: $failures job(s) failed$([ "$failures" -gt 0 ] && echo ': FAILED')"
fi

if wants score; then
  if trains finegrained; then
    env OUT="$WORK/score-fg" PROFILE="$PROFILE" DEVICE="$DEVICE" PARALLEL=4 \
      bash scripts/gpu/score_finegrained.sh > "$WORK/score-fg.log" 2>&1 &
  fi
  if trains eggan; then
    env OUT="$WORK/score-eg" RESULTS="$WORK/score-eg/results" WEIGHTS="$EG_WEIGHTS" PROFILE="$PROFILE" PARALLEL=4 \
      bash scripts/gpu/score_eggan.sh > "$WORK/score-eg.log" 2>&1 &
  fi
  if trains portraitgan; then
    env OUT="$WORK/score-pg" JOBS="$PG_JOBS" WEIGHTS_DIR="$PG_WEIGHTS" PROFILE="$PROFILE" PARALLEL=4 BENCH=0 \
      bash scripts/gpu/score_portraitgan.sh > "$WORK/score-pg.log" 2>&1 &
  fi
  wait
  say "scored: $(ls "$WORK"/score-fg/pack/results/finegrained/seeds/*.json "$WORK"/score-eg/results/eggan/seeds/*.json \
    runs/portraitgan/results/portraitgan/seeds/*.json 2>/dev/null | wc -l) seed records"
fi

if wants lay; then  # the records where the chapters read them; seed 0 of every config into weights/
  mkdir -p book/results
  for results in "$WORK/score-fg/pack/results" "$WORK/score-eg/results" runs/portraitgan/results; do
    [ -d "$results" ] && cp -r "$results/." book/results/
  done
  if has finegrained; then
    for f in runs/finegrained/staged/seed0/*.safetensors; do
      [ -f "$f" ] && "$PY" -m gamutlib.evaluation.finegrained stage "$f" "$(basename "$f" .safetensors)" weights > /dev/null
    done
  fi
  for kept in ${KEPT_WEIGHTS:-}; do  # folders of earlier runs' exports, carried to this machine
    for paper in $PAPERS; do lay_in "$kept" $("$PY" -m gamutlib.papers weights "$paper"); done
  done
  has eggan && lay_in "$EG_WEIGHTS" $("$PY" -m gamutlib.papers weights eggan) feature_net
  has portraitgan && lay_in "$PG_WEIGHTS" $("$PY" -m gamutlib.papers weights portraitgan)
  # git tracks the packed form: pack what was copied in (every other name is checked), but not
  # RECORD_ONLY's files: the record reads them plain, and the pack phase keeps them aside
  shipped=$(shipped_names $PAPERS) && [ -n "$shipped" ] && "$PY" -m gamutlib.cli weights pack $shipped \
    > "$WORK/pack-weights.log" 2>&1 || { say "weights not packed: FAILED ($(tail -1 "$WORK/pack-weights.log"))"; exit 1; }
  say "laid in: $(ls weights/*.safetensors.xz | wc -l) weights files, packed; plain for the record only:" \
    "$(for f in weights/*.safetensors; do [ -f "$f.xz" ] || echo -n "$(basename "$f" .safetensors) "; done)"
fi

if wants record; then
  only=()
  for paper in $PAPERS; do only+=(--only "$paper"); done
  "$PY" -m gamutlib.cli reproduce --profile "$PROFILE" --resume --jobs 3 "${only[@]}" > "$WORK/record.log" 2>&1
  status=$?
  say "recorded: exit $status$([ "$status" != 0 ] && echo ': FAILED') ($(grep -m1 '^FAILED' "$WORK/record.log" | cut -c1-200))"
fi

if wants pack; then
  folders=()
  for paper in $PAPERS; do
    for folder in "book/$paper" "book/results/$paper"; do [ -d "$folder" ] && folders+=("$folder"); done
  done
  [ "${#folders[@]}" -gt 0 ] && tar czf "$OUT/record.tgz" "${folders[@]}"
  keep_aside "$WORK/kept" $PAPERS || { say "record-only weights not kept aside: FAILED"; exit 1; }
  for paper in $PAPERS; do
    [ -d "$WORK/kept/$paper" ] && tar czf "$OUT/kept-$paper.tgz" -C "$WORK/kept" "$paper"
    files=()
    for name in $("$PY" -m gamutlib.papers weights "$paper") feature_net; do
      [ -f "weights/$name.safetensors.xz" ] && files+=("weights/$name.safetensors.xz")
    done
    [ "${#files[@]}" -gt 0 ] && tar czf "$OUT/weights-$paper.tgz" "${files[@]}" gamutlib/weights_registry.json
  done
  tar czf "$OUT/logs.tgz" "$WORK"/*.log "$STATE" runs/*/logs 2>/dev/null
  ls -la "$OUT"
  say "packed"
fi
say DONE
