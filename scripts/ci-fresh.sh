#!/usr/bin/env bash
# Runs CI (.ci/run) as a new machine would: on a fresh clone of HEAD, with
# GOPATH, GOMODCACHE and GOCACHE pointed at empty folders, so that every Go
# module is downloaded and GoNB, goimports and gopls are installed anew, and
# with the checkout's ../shared beside the clone as CI has it. Run it before
# any submission that touches .ci/, scripts/, the Makefile, go.mod/go.sum or
# scripts/nbtools. It prints the wall time and leaves its log (and, with
# KEEP=1, the whole scratch folder) behind.
#
# What it cannot make fresh: Debian's packages (Jupyter) already installed on
# this machine stay installed; remove them first to check that install step.
#
# Usage: bash scripts/ci-fresh.sh [REVISION]   (default HEAD)
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
rev=${1:-HEAD}
scratch=$(mktemp -d -t hgdtune-ci-fresh.XXXXXX)
log="$scratch/ci.log"
git clone -q "$src" "$scratch/repo"
git -C "$scratch/repo" checkout -q "$(git -C "$src" rev-parse "$rev")"
if [ -d "$src/../shared" ]; then ln -s "$(cd "$src/../shared" && pwd)" "$scratch/shared"; fi
mkdir -p "$scratch/go/path" "$scratch/go/mod" "$scratch/go/cache"
echo "fresh CI of $(git -C "$scratch/repo" rev-parse --short HEAD) in $scratch (log: $log)"
start=$(date +%s)
set +e
(cd "$scratch/repo" && env -u HGDTUNE_DATA -u HGDTUNE_CACHE \
  GOPATH="$scratch/go/path" GOMODCACHE="$scratch/go/mod" GOCACHE="$scratch/go/cache" \
  CI=true bash .ci/run </dev/null >"$log" 2>&1)
rc=$?
set -e
secs=$(( $(date +%s) - start ))
tail -n 5 "$log"
printf 'fresh CI: exit %d after %dm%02ds\n' "$rc" $((secs / 60)) $((secs % 60))
if [ -z "${KEEP:-}" ]; then
  # The module cache is read-only; keep only the log.
  chmod -R u+w "$scratch/go" 2>/dev/null || true
  cp "$log" "${TMPDIR:-/tmp}/hgdtune-ci-fresh-last.log"
  rm -rf "$scratch"
  echo "log kept as ${TMPDIR:-/tmp}/hgdtune-ci-fresh-last.log"
fi
exit $rc
