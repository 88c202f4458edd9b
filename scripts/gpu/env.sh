# Sourced by the GPU scripts: finds JAX's CUDA PJRT plugin and sets the
# environment XLA needs (GOMLX_BACKEND, GOMLX_NO_AUTO_INSTALL, XLA_FLAGS,
# LD_LIBRARY_PATH). Expects $py (a Python with JAX's CUDA plugin) and $out.
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

