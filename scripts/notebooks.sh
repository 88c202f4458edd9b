#!/usr/bin/env bash
# Executes every GoNB notebook of notebooks/ headless, in small mode, and
# checks the result. This is what CI runs (`make notebooks`); it also works on
# a clean Debian machine of this kind, installing what is missing:
#
#   - Jupyter from Debian's packages (jupyter-notebook, nbconvert, nbclient,
#     jupyter-client, ipykernel);
#   - GoNB, goimports and gopls, at the versions pinned by the tools module
#     scripts/nbtools, into $(go env GOPATH)/bin;
#   - the GoNB kernel ("gonb") registered with Jupyter (gonb --install).
#
# Every step is skipped when already done. Then each notebook runs with
# HGDTUNE_NOTEBOOK_SMALL=1 (small data, seconds of training) through
# `jupyter nbconvert --execute --allow-errors` (so that the executed copy
# keeps the failing cell's output, e.g. GoNB's compiler errors); the executed
# copies go to $NOTEBOOK_OUT (default: a fresh temporary folder, never the
# repository), and notebooks/check.py fails on any error output, prints why,
# and verifies that every figure cell produced a PNG and that the committed
# notebooks carry no outputs.
#
# Usage: bash scripts/notebooks.sh [NOTEBOOK.ipynb ...]   (default: all)
# Environment: HGDTUNE_DATA (real CIFAR-10: small mode uses a subset of it,
# else synthetic data), HGDTUNE_STORAGE or HGDTUNE_TEST_PG (a PostgreSQL
# database for notebook 03's status cell), NOTEBOOK_OUT, NOTEBOOK_TIMEOUT (seconds per cell,
# default 900), NOTEBOOK_SKIP_INSTALL=1 (fail instead of installing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

APT_PACKAGES=(jupyter-notebook python3-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-nbconvert)

# The Go toolchain that go.mod names (go1.27.3): an older go command (Go
# 1.26.8 with GOTOOLCHAIN=local) fetches it from the module proxy once. The
# kernel, and so every notebook's go command, inherits it.
GOTOOLCHAIN="${GO_TOOLCHAIN:-$(awk '$1 == "toolchain" {print $2}' go.mod)}"
export GOTOOLCHAIN

t0=$(date +%s)
log() { printf '[notebooks %4ds] %s\n' "$(( $(date +%s) - t0 ))" "$*"; }

gobin=$(go env GOPATH)/bin
export PATH="$gobin:$PATH"
# Debian's Jupyter runs on Debian's Python, whatever python3 is first in PATH.
jupyter=/usr/bin/jupyter

# --- Jupyter ---------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  [[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" == *"install ok installed"* ]] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ -z "${NOTEBOOK_SKIP_INSTALL:-}" ] || { echo "missing Debian packages: ${missing[*]}" >&2; exit 1; }
  log "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- GoNB, goimports, gopls --------------------------------------------------
# Their versions are pinned by the tools module scripts/nbtools (go.mod and
# go.sum); `go install tool` there builds all three from those exact
# versions, which works on an empty module cache (installing
# module@version would ask the proxy for gonb's version list: 403).
toolver() { # toolver BINARY: the module version the binary was built from
  go version -m "$gobin/$1" 2>/dev/null | awk '$1 == "mod" {print $3}'
}
want_ver() { # want_ver MODULE: its version in the tools module's go.mod
  awk -v m="$1" '$1 == m && $2 ~ /^v/ {print $2}' scripts/nbtools/go.mod
}
need=""
for t in "gonb github.com/janpfeifer/gonb" "gopls golang.org/x/tools/gopls" "goimports golang.org/x/tools"; do
  read -r bin mod <<<"$t"
  if [ ! -x "$gobin/$bin" ] || [ "$(toolver "$bin")" != "$(want_ver "$mod")" ]; then need="$need $bin"; fi
done
if [ -n "$need" ]; then
  [ -z "${NOTEBOOK_SKIP_INSTALL:-}" ] || { echo "missing or other versions:$need" >&2; exit 1; }
  log "installing$need (go install tool in scripts/nbtools)"
  (cd scripts/nbtools && GOFLAGS= GOBIN="$gobin" go install tool)
fi
# Register the kernel every time (it is quick): a kernel registered earlier
# may name a gonb binary of another GOPATH, since gone.
log "registering the gonb kernel ($gobin/gonb)"
"$gobin/gonb" --install >/dev/null

# --- Execute -------------------------------------------------------------------
out=${NOTEBOOK_OUT:-$(mktemp -d -t hgdtune-notebooks.XXXXXX)}
mkdir -p "$out"
export HGDTUNE_NOTEBOOK_SMALL=1
# Notebook 03 shows a PostgreSQL database's status when HGDTUNE_STORAGE is
# set; CI's throwaway cluster (HGDTUNE_TEST_PG) serves, so that the cell runs.
if [ -n "${HGDTUNE_TEST_PG:-}" ] && [ -z "${HGDTUNE_STORAGE:-}" ]; then
  export HGDTUNE_STORAGE=$HGDTUNE_TEST_PG
fi
# Results and checkpoints written by the notebooks go here, not into the tree.
export HGDTUNE_NOTEBOOK_WORK="$out/work"
rm -rf "$HGDTUNE_NOTEBOOK_WORK" # a fresh experiment every time, never a resumed one
# Never download data in CI; a scratch cache for MD5 stamps.
export HGDTUNE_CACHE="${HGDTUNE_CACHE:-$out/cache}"
echo "HGDTUNE_DATA=${HGDTUNE_DATA:-<unset: notebooks use synthetic data>}"

if [ $# -gt 0 ]; then nbs=("$@"); else nbs=(notebooks/[0-9]*.ipynb); fi
status=0
passed=0
failed=0
for nb in "${nbs[@]}"; do
  name=$(basename "$nb" .ipynb)
  log "executing $nb"
  s=$(date +%s)
  if "$jupyter" nbconvert --to notebook --execute --allow-errors \
      --ExecutePreprocessor.kernel_name=gonb \
      --ExecutePreprocessor.timeout="${NOTEBOOK_TIMEOUT:-900}" \
      --output-dir "$out" --output "$name" "$nb" >"$out/$name.log" 2>&1; then
    log "executed $nb in $(( $(date +%s) - s ))s"
  else
    tail -n 60 "$out/$name.log" >&2
    log "FAILED $nb"
    status=1
    failed=$((failed + 1))
    continue
  fi
  if /usr/bin/python3 notebooks/check.py --executed "$out/$name.ipynb" --source "$nb" --png-dir "$out/png"; then
    passed=$((passed + 1))
  else
    status=1
    failed=$((failed + 1))
  fi
done
log "executed notebooks and their figures are in $out"
echo "notebooks: $passed passed, $failed failed"
exit $status
