#!/usr/bin/env bash
# One prepared device command (fits the device's 10-minute limit):
#   bash bench/gpu.sh [--dry-run] [--pairs 3] [--variants ftlab-fp32,...]
# On a lent GPU (device tool: carry [".gpu"], after `bash bench/gpu_prepare.sh` here):
#   MiniLM on an SST-2 subset, ftlab fp32/bf16 and the HF Trainer fp32/bf16 (SDPA), interleaved;
#   tokens/s, peak GPU memory, share of the measured bf16 peak, host syncs per step; then the
#   CUDA tests (pytest -m gpu). Results in $OUT (the device tool's folder) or bench/results/gpu.
# Without CUDA, or with --dry-run: checks its inputs and says that nothing was measured (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
ASSETS=${GPU_ASSETS:-.gpu}
OUTDIR=${OUT:-bench/results/gpu}
PY=${PYTHON:-python3}
[[ -x .venv/bin/python && -z "${PYTHON:-}" ]] && PY=.venv/bin/python
DRY=0
for a in "$@"; do [[ "$a" == "--dry-run" ]] && DRY=1; done
if [[ $DRY == 0 ]] && ls "$ASSETS"/wheels/*.whl >/dev/null 2>&1 \
    && "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site "$ASSETS"/wheels/*.whl
  export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONPATH=$PWD/src${PYTHONPATH:+:$PYTHONPATH} PYTHONUNBUFFERED=1
mkdir -p "$OUTDIR"
set -o pipefail
timeout 450 "$PY" bench/gpu_check.py --assets "$ASSETS" --out "$OUTDIR" "$@" 2>&1 | tee "$OUTDIR/gpu_check.log"
if [[ $DRY == 1 ]] || ! "$PY" -c 'import torch, sys; sys.exit(not torch.cuda.is_available())'; then
  echo "gpu.sh: CUDA tests (pytest -m gpu) not run: $([[ $DRY == 1 ]] && echo dry run || echo no CUDA here)"
  exit 0
fi
# only the files that hold GPU tests: the device image lacks some of the CPU suite's packages
mapfile -t FILES < <(grep -rl "pytest.mark.gpu" tests)
timeout 120 "$PY" -m pytest -q -m gpu -p no:cacheprovider "${FILES[@]}" 2>&1 | tee "$OUTDIR/pytest_gpu.log"
