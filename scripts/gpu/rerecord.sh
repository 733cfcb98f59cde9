#!/usr/bin/env bash
# Re-record chapters on the gpu profile without training anything: lay the
# record-only generators of earlier sessions (KEPT: folders of exports, each
# with its registry.json, e.g. runs/keep/<paper>/weights) into weights/, run
# `gamut reproduce --profile gpu` for PAPERS (FRESH: chapters to re-execute
# even where their source is unchanged, e.g. "portraitgan/03_evaluation"), then
# AFTER (chapters that read the others' records, e.g. the synthesis), and pack
# book/<paper>/ and book/results/<paper>/ into $OUT/record.tgz. Writes weights/
# and book/: run it in a private copy of the tree (see record_series.sh), detached,
# and poll $WORK/state for DONE:
#
#   . .whl/prelude.sh && rm -rf runs/wt && mkdir -p runs/wt \
#     && tar --exclude=./runs --exclude=./.git --exclude=./.whl -cf - . | tar -xf - -C runs/wt \
#     && (cd runs/wt && export PYTHONPATH="$PWD:/tmp/site" && OUT=$PWD/runs/out KEPT="../keep/ganmut/weights" \
#         PAPERS="ganmut" setsid nohup bash scripts/gpu/rerecord.sh > ../rerecord.log 2>&1 < /dev/null &)
set -uo pipefail
OUT=${OUT:?set OUT to the output folder}
PY=${PYTHON:-python3}
WORK=${WORK:-runs/rerecord}
PAPERS=${PAPERS:?set PAPERS}
AFTER=${AFTER:-}
KEPT=${KEPT:-}
FRESH=${FRESH:-}
mkdir -p "$OUT" "$WORK"
STATE=$WORK/state START=$(date +%s)
say() { echo "[$(( $(date +%s) - START ))s] $*" | tee -a "$STATE"; }
for kept in $KEPT; do
  "$PY" -m gamutlib.cli weights lay-in "$kept" || { say "lay-in of $kept FAILED"; exit 1; }
done
for nb in $FRESH; do rm -f "book/$nb.ipynb"; done
record() {
  local only=(); for p in "$@"; do only+=(--only "$p"); done
  "$PY" -m gamutlib.cli reproduce --profile gpu --resume --jobs 3 "${only[@]}" >> "$WORK/record.log" 2>&1
  local status=$?; say "recorded $*: exit $status$([ "$status" != 0 ] && echo ': FAILED')"
}
record $PAPERS
[ -n "$AFTER" ] && record $AFTER
folders=()
for paper in $PAPERS $AFTER; do for f in "book/$paper" "book/results/$paper"; do [ -d "$f" ] && folders+=("$f"); done; done
tar czf "$OUT/record.tgz" "${folders[@]}" && cp "$WORK/record.log" "$OUT/"
say DONE
