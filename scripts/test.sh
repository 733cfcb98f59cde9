#!/usr/bin/env bash
# README command two: install the test extra and run the whole test suite,
# the notebook smoke runs and the book build included. Arguments go to pytest.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/venv.sh" dev

# The screenshot test needs a browser; install Debian's chromium where we can.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "[gamut] installing chromium for the screenshot test"
  mkdir -p build
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; } > build/apt-chromium.log 2>&1 \
    || echo "[gamut] chromium could not be installed (see build/apt-chromium.log); the screenshot test will skip"
fi

python -m pytest "$@"
