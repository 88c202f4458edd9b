# The crash part of scripts/probe.sh, which sources it (it uses that
# script's $bin, $data, $work, $r, check, has and run): kill -9 of `reproduce`
# and of `train` at moments placed by their progress, a full tmpfs at six
# points of a reproduction and two of a training, and, with the throwaway
# cluster of scripts/pg.sh, a database stopped for 20 s under two workers
# and a worker killed mid-task. Every interrupted command is rerun as it was
# given; the check is that the results then equal those of an uninterrupted
# run, bit for bit apart from start times, resume notes and the journal's
# sequence numbers and sums (which the resume notes shift), and that nothing
# was recorded as a failed trial.

RANDOM=25 # the kill moments are random but the same at every probe
tr=(train -data "$data" -train-files 1 -subset 600 -conv 4,4,4 -fc 8,8 -batch 32 -eval-every 20 -eval-limit 100 -steps 400)

# same_results REF DIR prints what differs between two results folders of
# one reproduction (nothing: the same results).
same_results() {
  local a=$1 b=$2 f run diffs=""
  for f in summary.md config.json; do
    cmp -s <(grep -v started "$a/$f") <(grep -v started "$b/$f" 2>/dev/null) || diffs+=" $f"
  done
  for f in table.tex curves.svg bars.svg curves.png bars.png; do cmp -s "$a/$f" "$b/$f" || diffs+=" $f"; done
  [ "$(ls "$a/runs")" = "$(ls "$b/runs" 2>/dev/null)" ] || diffs+=" runs/"
  for run in $(ls "$a/runs"); do
    for f in results.csv run.json; do cmp -s "$a/runs/$run/$f" "$b/runs/$run/$f" || diffs+=" runs/$run/$f"; done
    cmp -s <(norm_journal "$a/runs/$run/journal.jsonl") <(norm_journal "$b/runs/$run/journal.jsonl") || diffs+=" runs/$run/journal.jsonl"
    if [ -d "$b/runs/$run/checkpoints" ]; then
      cmp -s <(checkpoint_sums "$a/runs/$run") <(checkpoint_sums "$b/runs/$run") || diffs+=" runs/$run/checkpoints"
    fi
  done
  echo "$diffs"
}
norm_journal() { jq -c 'select(.ev != "resume") | del(.seq, .time, .sum)' "$1" 2>/dev/null; }
checkpoint_sums() { (cd "$1" && find checkpoints -name checksums.sha256 | sort | while read -r f; do echo "$f"; cat "$f"; done); }
failed_trials() { cat "$1"/runs/*/journal.jsonl 2>/dev/null | grep -c '"ev":"fail"'; }
journal_lines() { cat "$1"/runs/*/journal.jsonl 2>/dev/null | wc -l; }

# same_training REF_OUT REF_LOG OUT LOG: a training's summary and log equal
# the reference's apart from wall times and the start lines of sessions.
same_training() {
  local diffs=""
  cmp -s <(jq -c 'del(.seconds, .train_seconds)' "$1") <(jq -c 'del(.seconds, .train_seconds)' "$3" 2>/dev/null) || diffs+=" summary"
  cmp -s <(jq -c 'select(.event != "start") | del(.time)' "$2") <(jq -c 'select(.event != "start") | del(.time)' "$4" 2>/dev/null) || diffs+=" log"
  echo "$diffs"
}
max_step() { jq -r 'select(.event == "step") | .step' "$1" 2>/dev/null | tail -n 1; }

# thresholds N MAX sets ths to N sorted random integers in [0, MAX) (two
# alike: the second kill comes as soon as the rerun has started). Not in a
# subshell, which would draw other numbers.
thresholds() {
  local i
  ths=()
  for ((i = 0; i < $1; i++)); do ths+=($((RANDOM % $2))); done
  mapfile -t ths < <(printf '%s\n' "${ths[@]}" | sort -n)
}

# kill_at PID PROBE THRESHOLD waits until PROBE prints at least THRESHOLD,
# then sends SIGKILL; it sets killed to 1, or to 0 if the command ended first.
kill_at() {
  killed=0
  while kill -0 "$1" 2>/dev/null; do
    if [ "$($2)" -ge "$3" ] 2>/dev/null; then
      kill -9 "$1" 2>/dev/null && killed=1
      break
    fi
    sleep 0.02
  done
  wait "$1" 2>/dev/null
}

ref="$work/ref"
code=$(run "${r[@]}" -out "$ref")
check "reproduce: the uninterrupted reference" "$code" "exit $code: $(tail -c 300 "$work/err")"
tref="$work/tref"
code=$(run "${tr[@]}" -checkpoint "$tref" -log "$tref.log")
cp "$work/out" "$tref.out"
check "train: the uninterrupted reference" "$code" "exit $code: $(tail -c 300 "$work/err")"

# 8. kill -9 of reproduce, 13 times, then a rerun to the end.
if part kill; then
total=$(journal_lines "$ref")
k="$work/killed"
probe_k() { journal_lines "$k"; }
kills=0 at=""
thresholds 13 "$total"
for th in "${ths[@]}"; do
  "$bin" "${r[@]}" -out "$k" >/dev/null 2>>"$work/kill.err" &
  kill_at $! probe_k "$th"
  [ "$killed" = 1 ] && kills=$((kills + 1)) at+=" $th"
done
code=$(run "${r[@]}" -out "$k")
d=$(same_results "$ref" "$k")
check "reproduce: $kills kill -9 (at journal lines$at of $total), then a rerun: the same results" \
  $(( code != 0 || kills != 13 || ${#d} > 0 || $(failed_trials "$k") > 0 )) "exit $code, $kills kills, differs:$d; $(tail -c 300 "$work/err")"
! grep -q "panic\|goroutine " "$work/kill.err"
check "reproduce: no panic after the kills" $? "$(grep -m3 "panic\|goroutine " "$work/kill.err")"


# 9. kill -9 of train, 15 times, then a rerun to the end.
tk="$work/tkilled"
probe_t() { max_step "$tk.log"; }
kills=0 at=""
thresholds 15 400
for th in "${ths[@]}"; do
  "$bin" "${tr[@]}" -checkpoint "$tk" -log "$tk.log" -checkpoint-every 30ms >/dev/null 2>>"$work/tkill.err" &
  kill_at $! probe_t "$th"
  [ "$killed" = 1 ] && kills=$((kills + 1)) at+=" $th"
done
code=$(run "${tr[@]}" -checkpoint "$tk" -log "$tk.log")
d=$(same_training "$tref.out" "$tref.log" "$work/out" "$tk.log")
check "train: $kills kill -9 (at logged steps$at), then a rerun: the same summary and log" \
  $(( code != 0 || kills != 15 || ${#d} > 0 )) "exit $code, $kills kills, differs:$d; $(tail -c 300 "$work/err")"
fi

# 10. A full tmpfs: the command stops naming what it could not write, records
# no failed trial, and a rerun once there is space gives the same results.
# Six points of a reproduction: its first file, an ASHA checkpoint, a line
# of ASHA's journal (its run folder alone is small), a PBT checkpoint, a
# line of PBT's journal, and the summary and figures of finished runs (the
# run folders are complete and the top folder is full); then a training's
# log and its checkpoint.
mounts=()
mnt() { mkdir -p "$1" && mount -t tmpfs -o "size=$2" tmpfs "$1" && mounts=("$1" "${mounts[@]}"); }
fill() { dd if=/dev/zero of="$1/.filler" bs=4k 2>/dev/null; }
grow() { local m; for m in "${mounts[@]}"; do mount -o remount,size=256m "$m"; rm -f "$m/.filler"; done; }
unmount() { local m; for m in "${mounts[@]}"; do umount "$m"; done; mounts=(); }
# stopped FS: the last command stopped saying no space was left, without a
# panic; sets what to the file it named (relative to FS).
stopped() {
  what=$(grep -o "$1/[^ :\"]*" "$work/err" | tail -n 1 | sed "s|$1/||")
  [ "$code" -ne 0 ] && has "$work/err" "no space left on device" && ! grep -q "panic\|goroutine " "$work/err"
}
if ! part full; then
  :
elif [ "$(id -u)" = 0 ] && mnt "$work/fs-try" 64k 2>/dev/null; then
  unmount
  for point in 8k 1m asha-journal 20m pbt-journal summary; do
    fs="$work/fs-$point" o="$work/fs-$point/out"
    case $point in
      *m | *k) mnt "$fs" "$point" ;;
      asha-journal | pbt-journal)
        mnt "$fs" 256m && mnt "$o/runs/${point%-journal}-sgd-s0" 64k && mnt "$o/runs/${point%-journal}-sgd-s0/checkpoints" 256m ;;
      summary)
        mnt "$fs" 256m && mnt "$o/runs/asha-sgd-s0" 256m && mnt "$o/runs/pbt-sgd-s0" 256m
        cp -a "$ref/." "$o/" && rm "$o"/summary.md "$o"/table.tex "$o"/*.png "$o"/*.svg && fill "$fs" ;;
    esac
    code=$(run "${r[@]}" -out "$o")
    stopped "$fs"; nospace=$? first=$code f=$(failed_trials "$o")
    grow
    code=$(run "${r[@]}" -out "$o")
    d=$(same_results "$ref" "$o")
    check "reproduce, tmpfs full at $point: stops (writing ${what:-?}), then the rerun gives the same results" \
      $(( nospace || f > 0 || code != 0 || ${#d} > 0 )) "first exit $first, no-space message $((1 - nospace)), failed trials $f, rerun exit $code, differs:$d; $(tail -c 300 "$work/err")"
    unmount
  done
  for point in log checkpoint; do
    fs="$work/fs-$point"
    mnt "$fs" 8k
    case $point in
      log) args=(-checkpoint "$work/tfull-ck" -log "$fs/run.log") ;;
      checkpoint) args=(-checkpoint "$fs/ck" -log "$work/tfull.log") ;;
    esac
    code=$(run "${tr[@]}" "${args[@]}" -checkpoint-every 30ms)
    stopped "$fs"; nospace=$? first=$code
    grow
    code=$(run "${tr[@]}" "${args[@]}")
    d=$(same_training "$tref.out" "$tref.log" "$work/out" "${args[3]}")
    check "train, tmpfs full at its $point: stops (writing ${what:-?}), then the rerun gives the same training" \
      $(( nospace || code != 0 || ${#d} > 0 )) "first exit $first, no-space message $((1 - nospace)), rerun exit $code, differs:$d; $(tail -c 300 "$work/err")"
    unmount
  done
else
  echo "SKIP  full tmpfs (needs root to mount a tmpfs)"
fi

# 11. The database (PROBE_PG): a worker killed mid-task, and, when PROBE_PG
# is the cluster of scripts/pg.sh, the database stopped for 20 s under two
# workers. Runner and workers are the processes a user starts; after the
# trouble the user reruns what stopped, and the results must equal the
# folder reference's.
if part db && [ -n "${PROBE_PG:-}" ]; then
  done_tasks() { cat "$work"/w-*.err 2>/dev/null | grep -c "done at"; }
  # shared NAME starts a remote reproduction NAME and two workers (lease 3 s).
  shared() {
    rm -f "$work"/w-*.err
    "$bin" "${r[@]}" -out "$work/$1" -storage "$PROBE_PG" -name "$1" -remote >/dev/null 2>"$work/$1.err" &
    runner=$!
    "$bin" worker -storage "$PROBE_PG" -data "$data" -lease 3s >/dev/null 2>"$work/w-1.err" &
    w1=$!
    "$bin" worker -storage "$PROBE_PG" -data "$data" -lease 3s >/dev/null 2>"$work/w-2.err" &
    w2=$!
  }
  # wait_for SECONDS CONDITION...: polls CONDITION; false after SECONDS (a
  # bound for a broken run, not a wait for anything).
  wait_for() { local end=$((SECONDS + $1)); shift; until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
  at_least() { [ "$($1)" -ge "$2" ]; }
  gone() { ! kill -0 "$1" 2>/dev/null; }
  # finish NAME: waits for the runner; when it stopped with an error, reruns
  # it once; then stops the workers with Ctrl-C. Sets code (the last
  # runner's exit) and first (the first runner's, 0 or its error line).
  finish() {
    wait_for 300 gone "$runner" || kill -9 "$runner"
    wait "$runner"; code=$? first=0
    if [ "$code" -ne 0 ]; then
      first=$(tail -n 1 "$work/$1.err")
      "$bin" "${r[@]}" -out "$work/$1" -storage "$PROBE_PG" -name "$1" -remote >/dev/null 2>>"$work/$1.err" &
      runner=$!
      wait_for 300 gone "$runner" || kill -9 "$runner"
      wait "$runner"; code=$?
    fi
    kill -INT "$w1" "$w2" 2>/dev/null
    { wait "$w1" "$w2"; } 2>/dev/null
  }
  panics() { cat "$work/$1.err" "$work"/w-*.err | grep -c "panic\|goroutine "; }

  name="probe-kill-$$"
  shared "$name"
  wait_for 300 at_least done_tasks 10
  # Kill the worker that is training now (its last line says so).
  victim=""
  wait_for 300 eval 'for i in 1 2; do tail -n 1 "$work/w-$i.err" | grep -q "training to" && { victim=$i; break; }; done; [ -n "$victim" ]'
  task=$(tail -n 1 "$work/w-$victim.err" | grep -o "task [0-9]*")
  if [ "$victim" = 1 ]; then v=$w1; else v=$w2; fi
  { kill -9 "$v"; wait "$v"; } 2>/dev/null
  other=$((3 - victim))
  finish "$name"
  d=$(same_results "$ref" "$work/$name")
  retaken=1; grep -q "($task, take 2)" "$work/w-$other.err" && retaken=0
  check "worker killed while training ($task): the other worker retakes it, and the results are the same" \
    $(( code != 0 || retaken || ${#d} > 0 || $(panics "$name") > 0 )) "runner exit $code (first: $first), retaken $((1 - retaken)), differs:$d"

  if [ "$PROBE_PG" = "$(bash "$src/scripts/pg.sh" url 2>/dev/null)" ]; then
    name="probe-outage-$$"
    shared "$name"
    wait_for 300 at_least done_tasks 10
    bash "$src/scripts/pg.sh" down 2>/dev/null
    sleep 20 # the outage itself
    bash "$src/scripts/pg.sh" up 2>/dev/null
    alive=0; kill -0 "$w1" 2>/dev/null && alive=$((alive + 1)); kill -0 "$w2" 2>/dev/null && alive=$((alive + 1))
    finish "$name"
    d=$(same_results "$ref" "$work/$name")
    shown=$(cat "$work"/w-*.err | grep -c "storage error.*PostgreSQL at")
    back=$(cat "$work"/w-*.err | grep -o "answers again after [0-9]*s ([0-9]* failed attempts)" | head -n 1)
    case $first in
      0) runner="the runner went on" ;;
      *"storage error"*"PostgreSQL at"*) runner="the runner stopped with a storage error naming PostgreSQL and its rerun finished" ;;
      *) runner="the runner stopped: $first" ;;
    esac
    check "database down 20 s under two workers: $runner; $alive workers lived on, logging $shown errors, then \"${back:-?}\"; the same results" \
      $(( code != 0 || ${#d} > 0 || $(panics "$name") > 0 )) "runner exit $code (first: $first), differs:$d"
  else
    echo "SKIP  database outage (PROBE_PG is not the cluster of scripts/pg.sh)"
  fi
fi
