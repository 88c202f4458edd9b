#!/usr/bin/env bash
# GPU checks of issue 4, for a machine with an NVIDIA GPU, Python with JAX's
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

# Where JAX's CUDA plugin and the NVIDIA libraries live (pip's site-packages).
site=$("$py" - <<'PY'
import importlib.util, os
spec = importlib.util.find_spec("jax_plugins")
if spec is None or not spec.submodule_search_locations:
    raise SystemExit("jax_plugins not found: install JAX with its CUDA plugin")
print(os.path.dirname(list(spec.submodule_search_locations)[0]))
PY
)
plugin=$(ls "$site"/jax_plugins/xla_cuda*/xla_cuda_plugin.so 2>/dev/null | head -n1 || true)
[ -n "$plugin" ] || { echo "no xla_cuda_plugin.so under $site/jax_plugins" >&2; exit 1; }
cuda_dir=$(ls -d "$site"/nvidia/cu1[0-9]* 2>/dev/null | sort | tail -n1 || true)
libs=$(ls -d "$site"/nvidia/*/lib 2>/dev/null | paste -sd: - || true)

export GOMLX_BACKEND="xla:$plugin"
export GOMLX_NO_AUTO_INSTALL=1
[ -n "$cuda_dir" ] && export XLA_FLAGS="--xla_gpu_cuda_data_dir=$cuda_dir"
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
{
  echo "plugin: $plugin"
  echo "XLA_FLAGS=${XLA_FLAGS:-}"
  nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null || true
} | tee "$out/env.txt"

status=0
bin/gpucheck 2>&1 | tee "$out/gpucheck.txt" || status=1
bin/throughput -python "$py" -torch-device cuda -batch 32,128 -seconds "${SECONDS_PER_RUN:-10}" 2>&1 \
  | tee "$out/throughput.md" || status=1
exit $status
