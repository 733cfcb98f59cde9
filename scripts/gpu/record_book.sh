#!/usr/bin/env bash
# Record paper series on the gpu profile and hand the record back under $OUT.
# Runs from the repository root on the GPU machine, after `. .whl/prelude.sh`:
#   bash scripts/gpu/record_book.sh intro [PAPER ...]
# Resumable: notebooks already recorded from the same source are kept, so a
# run cut short continues where it stopped once its outputs are copied back.
# Copy $OUT/book/ over the repository's book/ and commit it.
set -uo pipefail
: "${OUT:?OUT must name the folder whose files come back}"
[ "$#" -ge 1 ] || { echo "usage: $0 PAPER [PAPER ...]" >&2; exit 2; }
only=()
for paper in "$@"; do only+=(--only "$paper"); done
python3 -m gamutlib.cli reproduce --profile gpu --resume "${only[@]}"
status=$?
for paper in "$@"; do
  for folder in "book/$paper" "book/results/$paper"; do
    if [ -d "$folder" ]; then
      mkdir -p "$OUT/$folder"
      cp -r "$folder/." "$OUT/$folder/"
    fi
  done
done
exit "$status"
