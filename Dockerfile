# syntax=docker/dockerfile:1
#
# hgdtune's GPU image: the reproduction (hgdtune built with XLA/PJRT) and the
# GoNB notebooks, on a CUDA runtime base. Build it on a machine with Docker
# (there is none on hgdtune's development/CI machines; docker/dockerfile_test.go
# checks this file's key instructions instead):
#
#   docker build -t hgdtune-gpu .
#
# Jupyter on the notebooks (the default command), with the data and a results
# folder mounted:
#
#   docker run --gpus all -p 8888:8888 -v /path/to/data:/data:ro -v $PWD/results:/results hgdtune-gpu
#
# The paper's experiment (T = 3000 s per run, 5 seeds, 6 algorithms × 2 arms):
#
#   docker run --gpus all -v /path/to/data:/data:ro -v $PWD/results:/results hgdtune-gpu \
#     hgdtune reproduce -preset paper -out /results/paper-cifar10
#
# Where the CUDA PJRT plugin comes from: JAX's CUDA 13 plugin, pip-installed
# ("jax[cuda13]": the packages jax-cuda13-pjrt, which holds
# jax_plugins/xla_cuda13/xla_cuda_plugin.so, and jax-cuda13-plugin with the
# NVIDIA CUDA/cuDNN/NCCL wheels it needs) into /opt/venv. hgdtune never
# downloads a plugin: HGDTUNE_PJRT_PLUGIN and GOMLX_BACKEND name this file,
# GOMLX_NO_AUTO_INSTALL=1 forbids GoMLX's own download, XLA_FLAGS points XLA at
# the CUDA data directory of the wheels (ptxas, libdevice) and
# LD_LIBRARY_PATH (and ld.so.conf) at their libraries. The host needs only an
# NVIDIA driver recent enough for CUDA 13 and the NVIDIA Container Toolkit.

# The Go of go.mod's toolchain line (docker/dockerfile_test.go checks it), so
# that the go command inside the image never fetches another toolchain.
ARG GO_VERSION=1.27.3
ARG CUDA_IMAGE=nvidia/cuda:13.0.1-runtime-ubuntu24.04

# ---- build: hgdtune with XLA (cgo), GoNB and its tools ------------------------
FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# GoNB, goimports and gopls at the versions pinned by the tools module
# scripts/nbtools (go install module@version would need the proxy's version
# list of gonb, which it refuses).
RUN CGO_ENABLED=1 GOEXPERIMENT=simd go build -tags xla -trimpath -o /out/hgdtune ./cmd/hgdtune \
 && cd scripts/nbtools && GOBIN=/out/gobin go install tool

# ---- runtime: CUDA runtime + Go (GoNB compiles every cell) + Jupyter + JAX's plugin
FROM ${CUDA_IMAGE}
ARG JAX_VERSION=0.12.0.1
LABEL org.opencontainers.image.title="hgdtune-gpu" \
      org.opencontainers.image.description="hgdtune (hypergradient descent in six HPO algorithms) with XLA on CUDA, and its GoNB notebooks" \
      org.opencontainers.image.source="https://github.com/hgdtune/hgdtune" \
      org.opencontainers.image.licenses="Apache-2.0"

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates gcc libc6-dev git python3 python3-venv curl \
 && rm -rf /var/lib/apt/lists/*

COPY --from=build /usr/local/go /usr/local/go
COPY --from=build /out/hgdtune /usr/local/bin/hgdtune
COPY --from=build /out/gobin/ /usr/local/bin/
# The module cache, so that notebooks compile without fetching hgdtune's
# dependencies again.
COPY --from=build /go/pkg/mod /root/go/pkg/mod
# The source: the notebooks use it as a local module (go mod edit -replace).
COPY --from=build /src /workspace/hgdtune

# Jupyter and JAX's CUDA 13 PJRT plugin (with the NVIDIA libraries) in a venv;
# /opt/site links to its site-packages so the paths below do not depend on
# the Python version.
RUN python3 -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir "jax[cuda13]==${JAX_VERSION}" notebook nbconvert \
 && ln -s "$(/opt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" /opt/site \
 && test -f /opt/site/jax_plugins/xla_cuda13/xla_cuda_plugin.so \
 && ls -d /opt/site/nvidia/*/lib > /etc/ld.so.conf.d/jax-nvidia.conf \
 && ldconfig

ENV PATH=/opt/venv/bin:/usr/local/go/bin:/root/go/bin:/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin \
    HGDTUNE_PJRT_PLUGIN=/opt/site/jax_plugins/xla_cuda13/xla_cuda_plugin.so \
    GOMLX_BACKEND=xla:/opt/site/jax_plugins/xla_cuda13/xla_cuda_plugin.so \
    GOMLX_NO_AUTO_INSTALL=1 \
    XLA_FLAGS=--xla_gpu_cuda_data_dir=/opt/site/nvidia/cu13 \
    LD_LIBRARY_PATH=/opt/site/nvidia/cu13/lib:/opt/site/nvidia/cudnn/lib:/opt/site/nvidia/nccl/lib:/opt/site/nvidia/nvshmem/lib \
    CGO_ENABLED=1 \
    GOFLAGS=-tags=xla \
    GOEXPERIMENT=simd \
    HGDTUNE_DATA=/data \
    HGDTUNE_CACHE=/root/.cache/hgdtune \
    HGDTUNE_NOTEBOOK_WORK=/results/notebooks

# Register the GoNB kernel with this Jupyter; warm the Go build cache.
RUN gonb --install \
 && cd /workspace/hgdtune && go build ./... && hgdtune env

WORKDIR /workspace/hgdtune
VOLUME ["/data", "/results"]
EXPOSE 8888
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD curl -fsS http://localhost:8888/api || exit 1
CMD ["jupyter", "notebook", "--ip=0.0.0.0", "--port=8888", "--no-browser", "--allow-root", "--notebook-dir=/workspace/hgdtune/notebooks"]
