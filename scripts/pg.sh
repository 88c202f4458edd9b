#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests of hpo/pgstore: a data folder
# in a temporary directory, listening on 127.0.0.1 only, on a free port, with
# its socket in that directory; no system service is involved, and `stop`
# deletes everything.
#
#   bash scripts/pg.sh start   # initdb + start; prints the connection URL
#   bash scripts/pg.sh url     # the URL of the running cluster
#   bash scripts/pg.sh stop    # stop it and delete its folder
#   bash scripts/pg.sh down    # stop the server, keeping its data (an outage)
#   bash scripts/pg.sh up      # start it again after down, on the same port
#
#   export HGDTUNE_TEST_PG="$(bash scripts/pg.sh start)"
#
# Authentication is trust (anyone on the loopback interface), except for the
# role hgdtune_auth_test, which must give a password: the tests create it to
# check the error of a wrong password. When PostgreSQL's binaries are missing
# they are installed with apt-get (Debian's `postgresql`). initdb refuses to
# run as root: as root the cluster runs as the `postgres` user.
#
# Environment: HGDTUNE_PG_DIR, the cluster's folder (default: a folder in
# ${TMPDIR:-/tmp} named after this checkout, so that two checkouts do not
# share a cluster); HGDTUNE_PG_PORT, the first port tried (default 54329).
set -euo pipefail
cd "$(dirname "$0")/.."

checkout_id=$(pwd | cksum | cut -d' ' -f1)
state="${HGDTUNE_PG_DIR:-${TMPDIR:-/tmp}/hgdtune-pg-$(id -u)-$checkout_id}"
data="$state/data"

log() { echo "pg.sh: $*" >&2; }

# bindir finds initdb and pg_ctl: on PATH, else the newest
# /usr/lib/postgresql/<version>/bin.
bindir() {
  if command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return
  fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then
    echo "$d"
  fi
}

install_pg() {
  if [ "$(id -u)" != 0 ]; then
    log "PostgreSQL is not installed and installing it needs root (apt-get install postgresql)"
    exit 1
  fi
  log "installing Debian's postgresql (apt-get)"
  apt-get -o DPkg::Lock::Timeout=600 update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq postgresql >&2
}

# as_owner runs a command as the cluster's owner: postgres when we are root.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

url() {
  local port
  port=$(cat "$state/port" 2>/dev/null) || { log "no cluster is running (bash scripts/pg.sh start)"; exit 1; }
  echo "postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
}

running() { [ -f "$data/postmaster.pid" ] && [ -f "$state/port" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# serve starts the server of $data on port $1.
serve() {
  if ! as_owner "$bin/pg_ctl" -D "$data" -l "$state/server.log" -w -t 60 \
    -o "-p $1 -k $state -c listen_addresses=127.0.0.1 -c fsync=off" start >&2; then
    cat "$state/server.log" >&2 || true
    log "the server did not start"
    exit 1
  fi
}

start() {
  if running; then
    log "already running in $state"
    url
    return
  fi
  rm -rf "$state"
  mkdir -p "$state"
  chmod 700 "$state"
  if [ "$(id -u)" = 0 ]; then
    chown postgres: "$state"
  fi
  as_owner "$bin/initdb" -D "$data" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$state/initdb.log" 2>&1 ||
    { cat "$state/initdb.log" >&2; log "initdb failed"; exit 1; }
  # A password for the one role the tests use to check a wrong password;
  # the first matching line wins.
  as_owner sh -c "printf '%s\n' 'host all hgdtune_auth_test 127.0.0.1/32 scram-sha-256' | cat - '$data/pg_hba.conf' >'$data/pg_hba.new' && mv '$data/pg_hba.new' '$data/pg_hba.conf'"
  local port=${HGDTUNE_PG_PORT:-54329}
  for _ in $(seq 100); do
    if ! port_in_use "$port"; then
      break
    fi
    port=$((port + 1))
  done
  serve "$port"
  echo "$port" >"$state/port"
  log "running in $state on 127.0.0.1:$port"
  url
}

stop() {
  if [ ! -d "$state" ]; then
    log "nothing to stop"
    return
  fi
  if [ -f "$data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
  fi
  rm -rf "$state"
  log "stopped; $state deleted"
}

down() {
  running || { log "no cluster is running"; exit 1; }
  as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2
  log "down; its data kept in $state (bash scripts/pg.sh up)"
}

up() {
  local port
  port=$(cat "$state/port" 2>/dev/null) || { log "no cluster to start again (bash scripts/pg.sh start)"; exit 1; }
  if running; then
    log "already running"
    return
  fi
  serve "$port"
  log "up again on 127.0.0.1:$port"
}

cmd=${1:-}
case "$cmd" in
  start | stop | url | down | up) ;;
  *)
    echo "usage: bash scripts/pg.sh start|stop|url|down|up" >&2
    exit 2
    ;;
esac
bin=$(bindir)
if [ -z "$bin" ]; then
  if [ "$cmd" = start ]; then
    install_pg
    bin=$(bindir)
  fi
  if [ -z "$bin" ]; then
    log "PostgreSQL's initdb and pg_ctl are not installed"
    exit 1
  fi
fi
"$cmd"
