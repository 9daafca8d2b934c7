#!/usr/bin/env bash
# FastSpool side by side with a private Postfix and with Postfix's smtp-sink, on loopback, in one run: the same
# loads against each server in turn, driven by Postfix's own smtp-source (so the client is not ours) and by
# FastSpool's harness. Writes a Markdown table and an SVG chart under bench/results/.
#
# Usage: bench/compare.sh            (as root: it installs and runs Postfix; takes about 10-15 minutes)
# Env:   CONNS ("10 50")  SIZES ("1024 10240 102400")  REUSE ("10:1024 10:102400")  REPEATS (1)
#        HARNESS (1: also run fastspool-bench)  EXTENDED ("10:1024 50:10240": harness only, reused connections
#        with PIPELINING, then with PIPELINING and BDAT)  WARMUP (1: a short unmeasured load on every server
#        first, so that no server is measured cold)  OUT (bench/results)  FASTSPOOL_BUILD (native, as installed; or jit)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=${OUT:-$BENCH/results}
CONNS=${CONNS:-"10 50"}
SIZES=${SIZES:-"1024 10240 102400"}
REUSE=${REUSE-"10:1024 10:102400"}
REPEATS=${REPEATS:-1}
HARNESS=${HARNESS:-1}
EXTENDED=${EXTENDED-"10:1024 50:10240"}
WARMUP=${WARMUP:-1}
WORK=${WORK:-/tmp/fastspool-compare}
export PEER_DIR=$WORK/peers PF_PORT=${PF_PORT:-2525} SINK_PORT=${SINK_PORT:-2526}
FS_PORT=${FS_PORT:-2530}
FROM=bench@example.test
TO=bench1@example.test
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$OUT/compare-$STAMP.jsonl
mkdir -p "$OUT" "$WORK"

log() { echo "compare: $*" >&2; }

cleanup() {
  [ -n "${FS_PID:-}" ] && kill -TERM "$FS_PID" 2>/dev/null && wait "$FS_PID" 2>/dev/null || true
  "$BENCH/peers.sh" sink-stop >/dev/null 2>&1 || true
  "$BENCH/peers.sh" postfix-stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "building (Release, ${FASTSPOOL_BUILD:-native})"
FASTSPOOL=$("$BENCH/build-fastspool.sh" "$WORK/app")
HARNESS_DLL=
if [ "$HARNESS" = 1 ] && [ -f "$BENCH/FastSpool.Bench/FastSpool.Bench.csproj" ]; then
  dotnet build -c Release "$BENCH/FastSpool.Bench/FastSpool.Bench.csproj" -v q -nologo >/dev/null
  HARNESS_DLL=$BENCH/FastSpool.Bench/bin/Release/net10.0/fastspool-bench.dll
fi

"$BENCH/peers.sh" postfix-start >&2
"$BENCH/peers.sh" sink-start >&2
PF_MBOX=$PEER_DIR/spool/bench1
PF_QUEUE=$PEER_DIR/postfix/queue

FS_DATA=$WORK/fastspool
rm -rf "$FS_DATA"
$FASTSPOOL user add bench1 --data "$FS_DATA" >/dev/null
$FASTSPOOL serve --data "$FS_DATA" --Smtp:Listen:0=127.0.0.1:$FS_PORT --Pop3:Listen:0=127.0.0.1:$((FS_PORT + 1)) --LocalDomains:0=example.test \
  --Users:System=false --Smtp:Hostname=fastspool.example.test --StatisticsInterval=00:00:01 >"$WORK/fastspool.log" 2>&1 &
FS_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$FS_PORT") 2>/dev/null && break; sleep 0.1; done
FS_MBOX=$FS_DATA/mail/bench1

count_for() { # server size -> messages per run (about 5-20 s each)
  case "$1:$2" in
    sink:1024) echo 40000 ;; sink:10240) echo 20000 ;; sink:*) echo 5000 ;;
    *:1024) echo 8000 ;; *:10240) echo 6000 ;; *) echo 3000 ;;
  esac
}

port_of() { case "$1" in postfix) echo "$PF_PORT" ;; fastspool) echo "$FS_PORT" ;; sink) echo "$SINK_PORT" ;; esac; }
mbox_of() { case "$1" in postfix) echo "$PF_MBOX" ;; fastspool) echo "$FS_MBOX" ;; *) echo "" ;; esac; }

settle() { # wait until the server has nothing in flight, then start from an empty mailbox
  local server=$1
  if [ "$server" = postfix ]; then
    for _ in $(seq 600); do
      [ "$(find "$PF_QUEUE"/incoming "$PF_QUEUE"/active "$PF_QUEUE"/deferred "$PF_QUEUE"/maildrop -type f 2>/dev/null | wc -l)" = 0 ] && break
      sleep 0.5
    done
  fi
  local mbox; mbox=$(mbox_of "$server")
  [ -n "$mbox" ] && rm -f "$mbox"
  sync
  sleep 1
}

server_cpu() { # pid -> utime+stime in seconds
  awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat" 2>/dev/null || echo 0
}

run_source() { # server conns size reuse
  local server=$1 c=$2 size=$3 reuse=$4 n port mbox t0 t1 e2e=null waiter= ready flags="" cpu0=0 cpu1=0
  n=$(count_for "$server" "$size"); port=$(port_of "$server"); mbox=$(mbox_of "$server")
  [ "$reuse" = 1 ] && flags="-d"
  settle "$server"
  if [ -n "$mbox" ]; then
    ready=$WORK/ready.$$; rm -f "$ready"
    python3 "$BENCH/mbox_wait.py" "$mbox" "$n" 300 "$ready" >"$WORK/e2e.$$" &
    waiter=$!
    for _ in $(seq 200); do [ -f "$ready" ] && break; sleep 0.05; done
  fi
  [ "$server" = fastspool ] && cpu0=$(server_cpu "$FS_PID")
  t0=$(date +%s.%N)
  if ! /usr/sbin/smtp-source $flags -s "$c" -m "$n" -l "$size" -f "$FROM" -t "$TO" "127.0.0.1:$port" 2>"$WORK/source.err"; then
    log "smtp-source against $server failed: $(head -c 300 "$WORK/source.err")"
  fi
  t1=$(date +%s.%N)
  if [ -n "$waiter" ]; then
    wait "$waiter" || true
    read -r done_at _ <"$WORK/e2e.$$" || done_at=TIMEOUT
    [ "$done_at" != TIMEOUT ] && e2e=$(python3 -c "print(round($n / ($done_at - $t0), 1))")
  fi
  [ "$server" = fastspool ] && cpu1=$(server_cpu "$FS_PID")
  local accept; accept=$(python3 -c "print(round($n / ($t1 - $t0), 1))")
  printf '{"client":"smtp-source","server":"%s","connections":%s,"size":%s,"reuse":%s,"messages":%s,"accept_msgs_per_s":%s,"e2e_msgs_per_s":%s,"server_cpu_s":%s}\n' \
    "$server" "$c" "$size" "$reuse" "$n" "$accept" "$e2e" "$(python3 -c "print(round($cpu1 - $cpu0, 2))")" >>"$RESULTS"
  log "smtp-source $server c=$c size=$size reuse=$reuse: $accept msgs/s accepted, e2e $e2e msgs/s"
}

run_harness() { # server conns size reuse [mode: helo (as smtp-source) | pipelining | bdat (with pipelining)]
  [ -n "$HARNESS_DLL" ] || return 0
  local server=$1 c=$2 size=$3 reuse=$4 mode=${5:-helo} n port mbox json args=()
  n=$(count_for "$server" "$size"); port=$(port_of "$server"); mbox=$(mbox_of "$server")
  [ "$mode" != helo ] && n=$((n * 2))
  settle "$server"
  json=$WORK/harness.json; rm -f "$json"
  args=(smtp --server "127.0.0.1:$port" --connections "$c" --messages "$n" --size "$size" --from "$FROM" --to "$TO" --json "$json")
  case "$mode" in helo) args+=(--helo) ;; pipelining) args+=(--pipelining) ;; bdat) args+=(--pipelining --bdat) ;; esac
  [ "$reuse" = 1 ] && args+=(--reuse)
  [ -n "$mbox" ] && args+=(--until-delivered "$mbox")
  [ "$server" = fastspool ] && args+=(--server-pid "$FS_PID" --server-log "$WORK/fastspool.log")
  dotnet "$HARNESS_DLL" "${args[@]}" >"$WORK/harness.out" 2>"$WORK/harness.err" || log "harness against $server: $(tail -c 300 "$WORK/harness.err")"
  [ -f "$json" ] && python3 - "$json" "$server" "$c" "$size" "$reuse" "$mode" >>"$RESULTS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
r.update({"client": "fastspool-bench", "server": sys.argv[2], "connections": int(sys.argv[3]),
          "size": int(sys.argv[4]), "reuse": int(sys.argv[5]), "dialogue": sys.argv[6]})
print(json.dumps(r))
PY
  log "harness $server c=$c size=$size reuse=$reuse mode=$mode done"
}

warm_up() { # an unmeasured load on every server: JIT and caches for FastSpool, process pools for Postfix
  local server port
  for server in postfix fastspool sink; do
    port=$(port_of "$server")
    settle "$server"
    /usr/sbin/smtp-source -s 10 -m 6000 -l 1024 -f "$FROM" -t "$TO" "127.0.0.1:$port" 2>/dev/null || true
    /usr/sbin/smtp-source -d -s 10 -m 3000 -l 10240 -f "$FROM" -t "$TO" "127.0.0.1:$port" 2>/dev/null || true
    /usr/sbin/smtp-source -s 10 -m 500 -l 102400 -f "$FROM" -t "$TO" "127.0.0.1:$port" 2>/dev/null || true
    log "warmed up $server"
  done
}

[ "$WARMUP" = 1 ] && warm_up

for _ in $(seq "$REPEATS"); do
  for size in $SIZES; do
    for c in $CONNS; do
      for server in postfix fastspool sink; do
        run_source "$server" "$c" "$size" 0
        [ "$server" != sink ] && run_harness "$server" "$c" "$size" 0
      done
    done
  done
  for point in $REUSE; do
    c=${point%%:*}; size=${point##*:}
    for server in postfix fastspool sink; do
      run_source "$server" "$c" "$size" 1
      [ "$server" != sink ] && run_harness "$server" "$c" "$size" 1
    done
  done
  for point in $EXTENDED; do
    c=${point%%:*}; size=${point##*:}
    for mode in pipelining bdat; do
      for server in postfix fastspool; do
        run_harness "$server" "$c" "$size" 1 "$mode"
      done
    done
  done
done

MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(dotnet --version | sed 's/^/.NET SDK /'), $(/usr/sbin/postconf -d mail_version 2>/dev/null | sed 's/ = / /')"
python3 "$BENCH/report.py" "$RESULTS" "$OUT/compare-$STAMP.md" "$OUT/compare-$STAMP.svg" "$MACHINE"
cp "$OUT/compare-$STAMP.md" "$OUT/latest.md"
cp "$OUT/compare-$STAMP.svg" "$OUT/latest.svg"
log "results: $OUT/compare-$STAMP.md, $OUT/compare-$STAMP.svg"
