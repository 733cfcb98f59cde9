# Sourced by scripts/reproduce.sh and scripts/test.sh: create or reuse the
# virtual environment and install gamut with one extra (book or dev).
#   GAMUT_VENV   where the environment lives (default: .venv in the repository)
#   PYTHON       the interpreter that creates it (default: python3, >= 3.10)
#   GAMUT_TORCH  the torch requirement installed first (default: torch==2.13.0,
#                a CPU build where a local wheel index provides one, on machines
#                without an NVIDIA GPU; on GPU machines pip picks torch itself)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${GAMUT_VENV:-$ROOT/.venv}"
EXTRA="$1"

if [ ! -x "$VENV/bin/python" ]; then
  echo "[gamut] creating $VENV"
  "${PYTHON:-python3}" -m venv "$VENV"
fi
# shellcheck disable=SC1091
. "$VENV/bin/activate"
python -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { echo "[gamut] Python >= 3.10 is needed" >&2; exit 1; }

if ! python -c 'import torch' 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    torch_spec="${GAMUT_TORCH:-torch}"
  else
    torch_spec="${GAMUT_TORCH:-torch==2.13.0}"
  fi
  echo "[gamut] installing $torch_spec"
  python -m pip install --quiet "$torch_spec"
fi
echo "[gamut] installing gamut[$EXTRA]"
python -m pip install --quiet -e ".[$EXTRA]"
