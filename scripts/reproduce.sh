#!/usr/bin/env bash
# README command one: install, re-run the study's notebooks on the profile this
# machine affords, check their numbers against book/results, build the book.
# Any failed cell, disagreeing number or build warning fails the command.
# Arguments go to `gamut reproduce` (e.g. --profile smoke, --only intro).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/venv.sh" book

# The book's MathJax and widget scripts (vendored, no network) are checked
# before the notebooks run, so a broken checkout fails now, not after them.
python -m gamutlib.book.offline_assets check
gamut reproduce "$@"
echo "[gamut] building the book from the record (book/)"
jupyter-book build . --path-output book -W -n --keep-going --quiet
echo "[gamut] the book: $ROOT/book/_build/html/index.html"
