#!/usr/bin/env bash
# The largest scaled reproduction that fits one 10-minute call on a GPU
# machine (the device machines of this project: one H100/H200, JAX's CUDA
# PJRT plugin installed, no Go toolchain, no network). Prepare on a
# development machine, from the repository root:
#
#     make gpu-reproduce-bundle   # bin/hgdtune (XLA compiled in) and gpu-data/ (data_batch_1.bin, 30 MB)
#
# then carry bin/ and gpu-data/ (about 50 MB) to the GPU machine and run
#
#     bash scripts/gpu/reproduce.sh [OUTDIR]
#
# It runs `hgdtune reproduce` with the paper's preset scaled to 8 minutes:
# the six algorithms × two arms × 1 seed, T = 40 s each, the first 10,000
# training images (one batch file; 7,000 / 3,000 after the 70/30 split),
# Table 2's full domains, trials of at most 9 epochs. The results folder
# (summary.md, figures, journals) lands in OUTDIR/gpu-quick-cifar10.
set -euo pipefail
out=${1:-${OUT:-gpu-results}}
mkdir -p "$out"
py=${PYTHON:-python3}
source "$(dirname "$0")/env.sh"

export HGDTUNE_DATA=${HGDTUNE_DATA:-$PWD/gpu-data}
bin/hgdtune reproduce -preset paper -train-files 1 -train-images 10000 -seeds 1 -time "${T:-40s}" \
  -max-epochs 9 -out "$out/gpu-quick-cifar10" 2>&1 | tee "$out/reproduce.log"
