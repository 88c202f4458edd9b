#!/usr/bin/env bash
# GPU checks (XLA parity, learning, throughput), for a machine with an NVIDIA GPU, Python with JAX's
# CUDA PJRT plugin (jax_plugins/xla_cuda13) and, for the peer, PyTorch with
# CUDA. No Go toolchain or network is needed there: build the binaries on a
# development machine first, from the repository root,
#
#     make gpu-bundle          # bin/gpucheck, bin/throughput (XLA compiled in)
#
# copy the working tree (with bin/) to the GPU machine, and run from the
# repository root:
#
#     bash scripts/gpu/check.sh [OUTDIR]
#
# It writes OUTDIR/gpucheck.txt (XLA vs pure-Go parity, learning through
# XLA) and OUTDIR/throughput.md (case-1 CNN images/s on XLA vs PyTorch-CUDA,
# batch 32 and 128), and prints both.
set -euo pipefail
out=${1:-${OUT:-gpu-results}}
mkdir -p "$out"
py=${PYTHON:-python3}

source "$(dirname "$0")/env.sh"

status=0
bin/gpucheck 2>&1 | tee "$out/gpucheck.txt" || status=1
bin/throughput -python "$py" -torch-device cuda -batch 32,128 -seconds "${SECONDS_PER_RUN:-10}" 2>&1 \
  | tee "$out/throughput.md" || status=1
exit $status
