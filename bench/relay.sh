#!/usr/bin/env bash
# The relay path side by side: FastSpool relaying to Postfix's smtp-sink (Relay:Smarthost) against a private Postfix
# relaying to the same smtp-sink (relayhost), the same load from Postfix's smtp-source in the same run. For each size
# and client concurrency: messages/s accepted (until smtp-source ends), and end to end (until the server's queue is
# empty, every message handed to the sink), with FastSpool's allocation per message (reception and relay) from its
# statistics line. Writes bench/results/relay-STAMP.md (and .jsonl).
#
# Usage: bench/relay.sh        (as root: it installs and runs Postfix; takes about 5 minutes)
# Env:   CONNS ("10 50")  SIZES ("1024 102400")  MESSAGES (per run; 6000 at 1 KiB, 2000 above)  OUT (bench/results)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=${OUT:-$BENCH/results}
CONNS=${CONNS:-"10 50"}
SIZES=${SIZES:-"1024 102400"}
WORK=${WORK:-/tmp/fastspool-relay}
export PEER_DIR=$WORK/peers PF_PORT=${PF_PORT:-2535} SINK_PORT=${SINK_PORT:-2536}
export PF_RELAYHOST="[127.0.0.1]:$SINK_PORT"
FS_PORT=${FS_PORT:-2537}
FROM=bench@example.test
TO=friend@remote.example
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$OUT/relay-$STAMP.jsonl
mkdir -p "$OUT" "$WORK"

log() { echo "relay: $*" >&2; }

cleanup() {
  [ -n "${FS_PID:-}" ] && kill -TERM "$FS_PID" 2>/dev/null && wait "$FS_PID" 2>/dev/null || true
  "$BENCH/peers.sh" sink-stop >/dev/null 2>&1 || true
  "$BENCH/peers.sh" postfix-stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

log "building (Release)"
FASTSPOOL=$("$ROOT/bench/build-fastspool.sh" "$WORK/app") # native, as installed (FASTSPOOL_BUILD=jit for the JIT build)

"$BENCH/peers.sh" postfix-start >&2
"$BENCH/peers.sh" sink-start >&2
PF_QUEUE=$PEER_DIR/postfix/queue
PF_LOG=$PEER_DIR/postfix/maillog

FS_DATA=$WORK/fastspool
rm -rf "$FS_DATA"
$FASTSPOOL serve --data "$FS_DATA" --Smtp:Listen:0=127.0.0.1:$FS_PORT --LocalDomains:0=example.test \
  --Users:System=false --Smtp:Hostname=fastspool.example.test --StatisticsInterval=00:00:01 \
  --Relay:Smarthost="[127.0.0.1]:$SINK_PORT" --Relay:Tls=none >"$WORK/fastspool.log" 2>&1 &
FS_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$FS_PORT") 2>/dev/null && break; sleep 0.1; done

count_for() { [ -n "${MESSAGES:-}" ] && { echo "$MESSAGES"; return; }; case "$1" in 1024) echo 6000 ;; *) echo 2000 ;; esac; }
port_of() { case "$1" in postfix) echo "$PF_PORT" ;; fastspool) echo "$FS_PORT" ;; esac; }

queued() { # messages in the server's queue now
  if [ "$1" = postfix ]; then
    find "$PF_QUEUE"/incoming "$PF_QUEUE"/active "$PF_QUEUE"/deferred "$PF_QUEUE"/maildrop -type f 2>/dev/null | wc -l
  else
    curl -s --unix-socket "$FS_DATA/control.sock" http://localhost/queue/counters \
      | python3 -c 'import json, sys; print(json.load(sys.stdin)["messages"])' 2>/dev/null || echo 1
  fi
}

sent_count() { # relayed deliveries the server has logged so far
  if [ "$1" = postfix ]; then grep -c "relay=127.0.0.1\[127.0.0.1\]:$SINK_PORT.*status=sent" "$PF_LOG" 2>/dev/null || true
  else grep -c "relay=127.0.0.1\[127.0.0.1\]:$SINK_PORT, .*status=sent" "$WORK/fastspool.log" 2>/dev/null || true
  fi
}

allocated() { # FastSpool's allocated bytes, from its last statistics line
  grep -o 'allocated=[0-9]*' "$WORK/fastspool.log" | tail -1 | cut -d= -f2
}

wait_empty() { # server -> seconds.nanos when its queue is empty (polled every 20 ms, 600 s at most)
  for _ in $(seq 30000); do
    [ "$(queued "$1")" = 0 ] && { date +%s.%N; return; }
    sleep 0.02
  done
  echo TIMEOUT
}

run() { # server conns size
  local server=$1 c=$2 size=$3 n port t0 t1 t2 sent0 sent1 a0=0 a1=0 accept e2e alloc=null
  n=$(count_for "$size"); port=$(port_of "$server")
  wait_empty "$server" >/dev/null
  sync; sleep 1
  sent0=$(sent_count "$server")
  [ "$server" = fastspool ] && a0=$(allocated)
  t0=$(date +%s.%N)
  /usr/sbin/smtp-source -s "$c" -m "$n" -l "$size" -f "$FROM" -t "$TO" "127.0.0.1:$port" 2>"$WORK/source.err" \
    || log "smtp-source against $server failed: $(head -c 300 "$WORK/source.err")"
  t1=$(date +%s.%N)
  t2=$(wait_empty "$server")
  if [ "$server" = fastspool ]; then sleep 1.2; a1=$(allocated); fi   # one more statistics line
  sleep 0.5
  sent1=$(sent_count "$server")
  accept=$(python3 -c "print(round($n / ($t1 - $t0), 1))")
  e2e=$( [ "$t2" = TIMEOUT ] && echo null || python3 -c "print(round($n / ($t2 - $t0), 1))")
  [ "$server" = fastspool ] && alloc=$(python3 -c "print(round(($a1 - $a0) / $n))")
  printf '{"server":"%s","connections":%s,"size":%s,"messages":%s,"relayed":%s,"accept_msgs_per_s":%s,"e2e_msgs_per_s":%s,"allocated_per_msg":%s}\n' \
    "$server" "$c" "$size" "$n" "$((sent1 - sent0))" "$accept" "$e2e" "$alloc" >>"$RESULTS"
  log "$server c=$c size=$size: $accept msgs/s accepted, $e2e msgs/s relayed end to end, $((sent1 - sent0)) of $n logged as sent"
}

# Unmeasured warm-up of both: JIT for FastSpool, process pools and the connection cache for Postfix.
for server in postfix fastspool; do
  /usr/sbin/smtp-source -s 10 -m 2000 -l 1024 -f "$FROM" -t "$TO" "127.0.0.1:$(port_of "$server")" 2>/dev/null || true
  wait_empty "$server" >/dev/null
done

for size in $SIZES; do
  for c in $CONNS; do
    for server in postfix fastspool; do run "$server" "$c" "$size"; done
  done
done

MACHINE="$(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -sr), $(dotnet --version | sed 's/^/.NET SDK /'), $(/usr/sbin/postconf -d mail_version 2>/dev/null | sed 's/ = / /')"
python3 - "$RESULTS" "$OUT/relay-$STAMP.md" "$MACHINE" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {(r["server"], r["connections"], r["size"]): r for r in rows}
out = ["# Relay, end to end: smtp-source -> server -> smtp-sink", "", f"Machine: {sys.argv[3]}", "",
       "| size | connections | Postfix accepted/s | FastSpool accepted/s | Postfix relayed/s | FastSpool relayed/s | ratio (relayed) | FastSpool allocated per message |",
       "|---:|---:|---:|---:|---:|---:|---:|---:|"]
for size in sorted({k[2] for k in by}):
    for c in sorted({k[1] for k in by}):
        p, f = by.get(("postfix", c, size)), by.get(("fastspool", c, size))
        if not p or not f:
            continue
        ratio = f"{f['e2e_msgs_per_s'] / p['e2e_msgs_per_s']:.1f}x" if p["e2e_msgs_per_s"] and f["e2e_msgs_per_s"] else "n/a"
        kib = f"{size // 1024} KiB"
        alloc = f"{f['allocated_per_msg'] / 1024:.1f} KiB" if f.get("allocated_per_msg") is not None else "n/a"
        out.append(f"| {kib} | {c} | {p['accept_msgs_per_s']} | {f['accept_msgs_per_s']} | {p['e2e_msgs_per_s']} | {f['e2e_msgs_per_s']} | {ratio} | {alloc} |")
out += ["", "Relayed/s: messages divided by the time from the first connection until the server's queue was empty (every",
        "message handed to smtp-sink). Each server relays through its own connection cache (Postfix: relayhost with",
        "smtp_connection_cache_on_demand; FastSpool: Relay:MaxConnections 20, Relay:MessagesPerConnection 100)."]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "results: $OUT/relay-$STAMP.md"
