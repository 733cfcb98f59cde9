# Sourced by the series' training scripts (scripts/gpu/train_*.sh): their queues
# of GPU:CONFIG:SEED jobs, run on every GPU at once, and their tarballs per GPU.
#
# A job is GPU:CONFIG:SEED; CONFIG names gamutlib/models/configs/<CONFIG>.toml.
# Each GPU's jobs run in the order given, SLOTS at a time (default 1): with
# SLOTS=3, three processes share the GPU, each taking the GPU's next job not
# yet taken when it is free. Small batch-16 networks leave one H100/H200 mostly
# idle; several processes fill it, under CUDA MPS (started here when SLOTS > 1
# and the machine allows it) so that their kernels share the SMs instead of
# taking turns (MPS=0: never start it). GPU "cpu" names the CPU (a script's CPU
# check); it never starts MPS.
#
# The script sets before sourcing: OUT, JOBS, WORK, PY (the Python to run), and
# JOB_LOG, a printf pattern of each GPU's job log (e.g. "$LOGS/jobs-gpu%s.log");
# and defines:
#   run_job GPU CONFIG SEED     train (and score) one job; its exit status is the job's
#   pack_job CONFIG SEED DEST   copy one job's record into DEST/<CONFIG>-seed<SEED>/ (pack_queues)
#   pack_extras GPU DEST        optional: what else goes into that GPU's tarball

SLOTS=${SLOTS:-1}
MPS=${MPS:-1}
START=${START:-$(date +%s)}

elapsed() { echo $(( $(date +%s) - START )); }

job_log() { printf "$JOB_LOG" "$1"; }  # job_log GPU: the path of that GPU's job log

# Git tracks a weights file under weights/ in its packed form, FILE.safetensors.xz, and
# ignores the plain FILE.safetensors, which is unpacked on demand (gamutlib/weights.py).
has_weights() { [ -f "$1" ] || [ -f "$1.xz" ]; }  # has_weights FILE.safetensors: plain or packed
tracked_form() { if [ -f "$1.xz" ]; then echo "$1.xz"; else echo "$1"; fi; }  # the packed file where there is one

method_of() { "$PY" -c "import tomllib,sys; print(tomllib.load(open(sys.argv[1],'rb'))['method'])" "gamutlib/models/configs/$1.toml"; }

check_jobs() {  # every job is GPU:CONFIG:SEED with a config that exists and a whole-number seed
  local job g config seed rest
  [[ "$SLOTS" =~ ^[1-9][0-9]*$ ]] || { echo "SLOTS must be a whole number >= 1, got '$SLOTS'" >&2; return 2; }
  for job in $JOBS; do
    IFS=: read -r g config seed rest <<< "$job"
    if [ -z "$g" ] || [ -z "$config" ] || [ -n "$rest" ] || ! [[ "$seed" =~ ^[0-9]+$ ]]; then
      echo "bad job '$job' in JOBS: a job is GPU:CONFIG:SEED, e.g. 0:stargan:1" >&2; return 2
    fi
    [ -f "gamutlib/models/configs/$config.toml" ] || { echo "job '$job': no gamutlib/models/configs/$config.toml" >&2; return 2; }
  done
}

job_gpus() { local job; for job in $JOBS; do echo "${job%%:*}"; done | sort -u; }

jobs_on() {  # jobs_on GPU: "CONFIG SEED" of each of that GPU's jobs, in order
  local job g config seed
  for job in $JOBS; do
    IFS=: read -r g config seed <<< "$job"
    [ "$g" = "$1" ] && echo "$config $seed"
  done
}

start_mps() {  # CUDA MPS for processes that share a GPU; a check that CUDA still works under it; says which
  # the daemon gets /dev/null, not our stdout: a daemon holding a pipe open would hang "$(start_mps)"
  if command -v nvidia-cuda-mps-control >/dev/null && nvidia-cuda-mps-control -d >/dev/null 2>&1; then
    if timeout 90 "$PY" -c "import torch; torch.zeros(1, device='cuda').sum().item()"; then echo "MPS on"
    else echo quit | nvidia-cuda-mps-control; echo "MPS failed a check: off"; fi
  else echo "MPS not available"; fi
}

run_slot() {  # run_slot GPU CLAIMS: the GPU's jobs in order, each one not yet claimed by another slot
  local gpu=$1 claims=$2 i=0 config seed
  while read -r config seed; do
    i=$((i + 1))
    mkdir "$claims/$i" 2>/dev/null || continue  # mkdir is atomic: exactly one slot takes job i
    run_job "$gpu" "$config" "$seed" < /dev/null
  done < <(jobs_on "$gpu")
}

run_queues() {  # every job, SLOTS at a time per GPU, all GPUs at once; returns when all are done
  local gpu slot claims
  check_jobs || exit 2
  if [ "$SLOTS" -gt 1 ] && [ "$MPS" != 0 ] && job_gpus | grep -qv '^cpu$'; then start_mps; fi
  claims=$(mktemp -d)
  for gpu in $(job_gpus); do
    mkdir -p "$claims/$gpu"
    for slot in $(seq "$SLOTS"); do run_slot "$gpu" "$claims/$gpu" & done
  done
  wait
  rm -rf "$claims"
  echo "all jobs done at $(elapsed)s"
}

latest_run() { ls -d "$1"/run/*-* 2>/dev/null | tail -1; }  # latest_run JOB_DIR: the newest run folder in it

keep_sample_grids() {  # keep_sample_grids RUN DEST: three of the run's sample grids
  "$PY" -c "import sys; from gamutlib.evaluation.training_record import keep_sample_grids as k; k(*sys.argv[1:])" "$1" "$2"
}

pack_queues() {  # pack_queues PATTERN: one tarball per GPU, its path printf PATTERN GPU
  local gpu config seed pack
  for gpu in $(job_gpus); do
    pack=$(mktemp -d)
    while read -r config seed; do pack_job "$config" "$seed" "$pack" < /dev/null; done < <(jobs_on "$gpu")
    declare -F pack_extras >/dev/null && pack_extras "$gpu" "$pack"
    tar czf "$(printf "$1" "$gpu")" -C "$pack" .
    rm -rf "$pack"
  done
  ls -la "$OUT"/*.tgz
  cat $(for gpu in $(job_gpus); do job_log "$gpu"; done) 2>/dev/null
  return 0  # the jobs' outcome is in their logs; packing what there is never fails the script
}
