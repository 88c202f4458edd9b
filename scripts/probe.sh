#!/usr/bin/env bash
# Probes hgdtune as a hostile-but-realistic user would: passwords given in
# every form, damaged results folders (a flipped checkpoint byte, a deleted
# checkpoint, an edited or cut journal), resumes with other settings, a log
# on a full device, absurd widths, names with control characters, flags out
# of range. Each check prints PASS or FAIL with what it saw; the script exits
# 1 if any failed. Not part of CI (it trains small networks for a few
# minutes); its output is committed as docs/results/probe.md.
#
# Usage: bash scripts/probe.sh [DATA_DIR]   (default $HGDTUNE_DATA, else ../shared/data)
#        PROBE_PG=postgres://… adds the database checks (scripts/pg.sh start prints one).
#        PROBE_PARTS="input kill full db" (the default) chooses the parts: bad
#        input and damaged folders here; kill -9, full disks and the database's
#        troubles in probe-crash.sh.
set -uo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-${HGDTUNE_DATA:-$src/../shared/data}}
work=$(mktemp -d -t hgdtune-probe.XXXXXX)
trap 'rm -rf "$work"' EXIT
bin="$work/hgdtune"
(cd "$src" && make -s build BIN="$work" >/dev/null) || { echo "probe: build failed"; exit 1; }
secret=pr0be-s3cret
pass=0 fail=0
check() { # check NAME CONDITION-EXIT-STATUS DETAIL
  if [ "$2" -eq 0 ]; then pass=$((pass + 1)); echo "PASS  $1"; else fail=$((fail + 1)); echo "FAIL  $1: $3"; fi
}
has() { grep -qF -- "$2" "$1"; }
run() { "$bin" "$@" >"$work/out" 2>"$work/err"; echo $?; }

echo "# hgdtune probe, $(date -u +%Y-%m-%dT%H:%MZ), $(cd "$src" && git rev-parse --short HEAD), data $data"

# The small reproduction that the damage, kill, full-disk and database
# checks run.
r=(reproduce -data "$data" -preset cpu-quick -train-images 300 -seeds 1 -algorithms asha,pbt -arms sgd -asha-mode promotion -time 6s)

part() { case " ${PROBE_PARTS:-input kill full db} " in *" $1 "*) return 0 ;; esac; return 1; }

if part input; then
# 1. Passwords: never in a message or a file.
for url in "postgres://me:$secret@127.0.0.1:1/hpo?connect_timeout=3" "postgres://me@127.0.0.1:1/hpo?connect_timeout=3&password=$secret" "me:$secret@127.0.0.1:1/hpo"; do
  out="$work/pw-out"; rm -rf "$out"
  code=$(run reproduce -data "$data" -out "$out" -storage "$url")
  leak=0; cat "$work/out" "$work/err" | grep -qF "$secret" && leak=1
  [ -d "$out" ] && grep -rqF "$secret" "$out" && leak=1
  check "password hidden: -storage ${url//$secret/•••}" $(( code == 0 || leak )) "exit $code, leaked $leak"
done

# 2. Flags out of range are usage errors (exit 2) naming the flag.
usage() { # usage DESCRIPTION ARGS...: reproduce ARGS must exit 2
  local what=$1; shift
  code=$(run reproduce -data "$data" -out "$work/flags" "$@")
  check "usage error: $what" $(( code != 2 )) "exit $code: $(head -c 200 "$work/err")"
}
usage "-preset nope" -preset nope
usage "-workers 5 (2 slots)" -workers 5
usage "-name with a newline" -name $'a\nb' -storage postgres://h/db
usage "-name with a terminal escape" -name $'red\e[31m' -storage postgres://h/db
usage "-cache naming a file" -cache "$work/err"

# 3. Absurd widths are refused before anything is built.
code=$(run train -data "$data" -subset 500 -fc 99999999,99999999 -steps 1)
ok=1; [ "$code" -ne 0 ] && has "$work/err" "fc1 width 99999999" && ! has "$work/err" "out of memory" && ok=0
check "train -fc 99999999,99999999 refused" $ok "exit $code: $(head -c 200 "$work/err")"

# 4. train: a log on a full device stops the command.
if [ -w /dev/full ]; then
  code=$(run train -data "$data" -subset 500 -conv 4,4,4 -fc 8,8 -steps 20 -log /dev/full)
  ok=1; [ "$code" -ne 0 ] && has "$work/err" "log" && ok=0
  check "train -log /dev/full fails" $ok "exit $code: $(head -c 200 "$work/err")"
fi

# 5. train: a checkpoint resumes only with its settings, and only with run.json.
ck="$work/ck"
t=(train -data "$data" -subset 600 -conv 4,4,4 -fc 8,8 -batch 32 -checkpoint "$ck" -log "$work/train.jsonl")
code=$(run "${t[@]}" -steps 10)
check "train: first session" "$code" "exit $code: $(tail -c 200 "$work/err")"
for f in "-seed 7" "-batch 64" "-lr 0.05"; do
  code=$(run "${t[@]}" -steps 20 $f)
  ok=1; [ "$code" -ne 0 ] && has "$work/err" "${f%% *} " && ok=0
  check "train: resume with $f refused" $ok "exit $code: $(head -c 200 "$work/err")"
done
rm "$ck/run.json"
code=$(run "${t[@]}" -steps 20)
ok=1; [ "$code" -ne 0 ] && has "$work/err" "run.json" && ok=0
check "train: a checkpoint without run.json refused" $ok "exit $code: $(head -c 200 "$work/err")"

# 6. reproduce: damaged results folders stop with an error naming the damage.
out="$work/repro"
code=$(run "${r[@]}" -out "$out")
check "reproduce: a small run" "$code" "exit $code: $(tail -c 300 "$work/err")"
j="$out/runs/asha-sgd-s0/journal.jsonl"
cp "$j" "$work/journal.bak"
# An edited result.
line=$(grep -n '"ev":"result"' "$j" | tail -1 | cut -d: -f1)
sed -i "${line}s/\"accuracy\":[0-9.e-]*/\"accuracy\":0.95/" "$j"
code=$(run reproduce -out "$out" -summary-only)
ok=1; [ "$code" -ne 0 ] && has "$work/err" "line $line" && ok=0
check "reproduce -summary-only refuses an edited journal line ($line)" $ok "exit $code: $(head -c 300 "$work/err")"
# A line removed from the middle.
cp "$work/journal.bak" "$j"; sed -i "3d" "$j"
code=$(run reproduce -out "$out" -summary-only)
ok=1; [ "$code" -ne 0 ] && has "$work/err" "line 3" && ok=0
check "reproduce -summary-only refuses a journal with a line removed" $ok "exit $code: $(head -c 300 "$work/err")"
cp "$work/journal.bak" "$j"
code=$(run reproduce -out "$out" -summary-only)
check "the restored journal reads again" "$code" "exit $code: $(head -c 300 "$work/err")"
# Checkpoints gone, then cut journals: the rerun must not turn them into trial failures.
for damage in delete-checkpoints flip-byte; do
  d="$work/dmg-$damage"; rm -rf "$d"; cp -r "$out" "$d"
  pj="$d/runs/pbt-sgd-s0/journal.jsonl"
  head -n $(( $(wc -l <"$pj") * 2 / 3 )) "$pj" >"$pj.cut" && mv "$pj.cut" "$pj"   # as if killed two thirds in
  case $damage in
    delete-checkpoints) rm -rf "$d/runs/pbt-sgd-s0/checkpoints" ;;
    flip-byte) find "$d/runs/pbt-sgd-s0/checkpoints" -name variables.bin | while read -r f; do
                 printf '\xff' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null; done ;;
  esac
  code=$(run "${r[@]}" -out "$d")
  ok=1; [ "$code" -ne 0 ] && grep -qE "cannot be read back|storage error" "$work/err" && ok=0
  check "reproduce on a cut PBT journal with $damage stops with a storage error" $ok "exit $code: $(tail -c 300 "$work/err")"
done

# 7. The database (optional).
if [ -n "${PROBE_PG:-}" ]; then
  case $PROBE_PG in *\?*) pw="$PROBE_PG&password=$secret" ;; *) pw="$PROBE_PG?password=$secret" ;; esac
  code=$(run status -storage "$pw")
  leak=0; cat "$work/out" "$work/err" | grep -qF "$secret" && leak=1
  check "status hides a password parameter" $(( code != 0 || leak )) "exit $code, leaked $leak"
  code=$(run reproduce "${r[@]:1}" -out "$work/sh1" -storage "$PROBE_PG" -name probe -seeds 1)
  code2=$(run reproduce "${r[@]:1}" -out "$work/sh2" -storage "$PROBE_PG" -name probe -seeds 1 -time 5s)
  ok=1; [ "$code2" -ne 0 ] && has "$work/err" 'preset.budget: "6s" → "5s"' && [ ! -e "$work/sh2/config.json" ] && ok=0
  check "a shared name with another -time is refused naming the field, writing nothing" $ok "exit $code2: $(head -c 300 "$work/err")"
  code3=$(run reproduce "${r[@]:1}" -out "$work/sh2" -storage "$PROBE_PG" -name probe -seeds 1 -workers 1)
  check "the same shared reproduction with another -workers opens" "$code3" "exit $code3: $(head -c 300 "$work/err")"
fi

fi
if part kill || part full || part db; then . "$src/scripts/probe-crash.sh"; fi

echo
echo "probe: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
