#!/usr/bin/env bash
# Two builds of FastSpool side by side under the same load: did a change make reception slower, or make it allocate
# more? Builds revisions A and B (git archive, Release) into their own directories, then for each round runs
# fastspool-bench smtp against a fresh server of each, A and B in alternating order, after an unmeasured warm-up.
# Reports, per round and as the median, accepted and end-to-end messages/s and the bytes the server allocated per
# accepted message (from its statistics lines), and the ratio B / A. Writes bench/results/ab-STAMP.md.
#
# Usage: bench/ab.sh REV_A REV_B [ROUNDS] -- FASTSPOOL-BENCH-SMTP-ARGS...
#   e.g. bench/ab.sh 223eef8 HEAD 5 -- --connections 50 --messages 10000 --size 10KiB --helo
# The load goes to bench1@example.test; --server, --to, --until-delivered, --server-log and --server-pid are added.
# Env: WARMUP (3000 messages) and WARMUP_SHAPE: short (the default: 1 KiB on 10 reused connections) or load (the
#      measured load itself with WARMUP messages, so that the paths it runs are compiled at their final tier before
#      the measurement: with a connection per message that takes some 20,000 connections); NICE (0) runs the servers
#      and the load generator at that nice value, so that other work on the machine disturbs the run less; BUILD: jit
#      (the default: dotnet build, run on the JIT) or native (each revision published with Native AOT, as installed).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${OUT:-$ROOT/bench/results}
WORK=${WORK:-/tmp/fastspool-ab}
PORT=${PORT:-2555}
WARMUP=${WARMUP:-3000}
[ $# -ge 3 ] || { echo "usage: $0 REV_A REV_B [ROUNDS] -- FASTSPOOL-BENCH-SMTP-ARGS..." >&2; exit 64; }
REV_A=$1 REV_B=$2; shift 2
ROUNDS=3
if [ "$1" != "--" ]; then ROUNDS=$1; shift; fi
[ "${1:-}" = "--" ] || { echo "$0: expected -- before the fastspool-bench arguments" >&2; exit 64; }
shift
LOAD=("$@")
WARMUP_SHAPE=${WARMUP_SHAPE:-short}
BUILD=${BUILD:-jit}
WARM_LOAD=() # LOAD without its --messages
for ((i = 0; i < ${#LOAD[@]}; i++)); do
  if [ "${LOAD[i]}" = --messages ]; then i=$((i + 1)); else WARM_LOAD+=("${LOAD[i]}"); fi
done
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
RESULTS=$WORK/ab-$STAMP.jsonl
mkdir -p "$OUT" "$WORK"
: >"$RESULTS"

log() { echo "ab: $*" >&2; }

build() { # rev -> the command that runs that build
  local rev=$1 commit dir
  commit=$(git -C "$ROOT" rev-parse --short "$rev")
  dir=$WORK/build-$commit
  if [ ! -d "$dir/src" ]; then
    rm -rf "$dir" && mkdir -p "$dir/src"
    git -C "$ROOT" archive "$commit" | tar -x -C "$dir/src"
  fi
  if [ "$BUILD" = native ]; then
    if [ ! -x "$dir/native/fastspool" ]; then
      log "building $rev ($commit), native"
      dotnet publish -c Release -r linux-x64 -p:PublishAot=true "$dir/src/src/FastSpool/FastSpool.csproj" -o "$dir/native" \
        --artifacts-path "$dir/native-artifacts" -nologo -v q >/dev/null
    fi
    echo "$dir/native/fastspool"
  else
    if [ ! -f "$dir/out/fastspool.dll" ]; then
      log "building $rev ($commit), JIT"
      dotnet build -c Release "$dir/src/src/FastSpool/FastSpool.csproj" -o "$dir/out" -nologo -v q >/dev/null
    fi
    echo "dotnet $dir/out/fastspool.dll"
  fi
}

A_OUT=$(build "$REV_A")
B_OUT=$(build "$REV_B")
dotnet build -c Release "$ROOT/bench/FastSpool.Bench/FastSpool.Bench.csproj" -nologo -v q >/dev/null
BENCH="nice -n ${NICE:-0} dotnet $ROOT/bench/FastSpool.Bench/bin/Release/net10.0/fastspool-bench.dll"

SERVER_PID=
stop_server() { [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=; }
trap stop_server EXIT

run() { # label out round
  local label=$1 out=$2 round=$3 data=$WORK/data json
  stop_server
  rm -rf "$data" "$data".* && mkdir -p "$data"
  $out user add bench1 --data "$data" </dev/null >/dev/null
  nice -n "${NICE:-0}" $out serve --data "$data" --Smtp:Listen:0=127.0.0.1:$PORT --Pop3:Listen:0=127.0.0.1:$((PORT + 1)) \
    --LocalDomains:0=example.test --Users:System=false --StatisticsInterval=00:00:01 >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
  local mbox=$data/mail/bench1
  if [ "$WARMUP_SHAPE" = load ]; then # the measured load's own shape, with WARMUP messages: the paths it runs are tiered up
    $BENCH smtp --server 127.0.0.1:$PORT --to bench1@example.test --until-delivered "$mbox" "${WARM_LOAD[@]}" --messages "$WARMUP" \
      >/dev/null 2>&1 || log "$label warm-up failed"
  else
    $BENCH smtp --server 127.0.0.1:$PORT --to bench1@example.test --connections 10 --messages "$WARMUP" --size 1KiB \
      --until-delivered "$mbox" >/dev/null 2>&1 || log "$label warm-up failed"
  fi
  json=$WORK/run.json
  rm -f "$json"
  $BENCH smtp --server 127.0.0.1:$PORT --to bench1@example.test --until-delivered "$mbox" --server-pid "$SERVER_PID" \
    --server-log "$WORK/server.log" --json "$json" "${LOAD[@]}" >"$WORK/run.txt" 2>&1 || log "$label round $round: the run reported errors"
  python3 - "$json" "$label" "$round" >>"$RESULTS" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(json.dumps({"build": sys.argv[2], "round": int(sys.argv[3]), "accepted": r.get("accept_msgs_per_s"),
                  "e2e": r.get("e2e_msgs_per_s"), "allocated": round(r["server_alloc_bytes_per_msg"]) if r.get("server_alloc_bytes_per_msg") else None}))
PY
  stop_server
  log "$label round $round: $(tail -1 "$RESULTS")"
}

for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then run A "$A_OUT" "$round"; run B "$B_OUT" "$round"; else run B "$B_OUT" "$round"; run A "$A_OUT" "$round"; fi
done

python3 - "$RESULTS" "$OUT/ab-$STAMP.md" "$REV_A" "$REV_B" "$(cut -d' ' -f1-3 /proc/loadavg)" "${LOAD[*]}" "$WARMUP messages ($WARMUP_SHAPE), nice ${NICE:-0}, $BUILD builds" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
a = {r["round"]: r for r in rows if r["build"] == "A"}
b = {r["round"]: r for r in rows if r["build"] == "B"}
def ratio(x, y): return f"{y / x:.2f}" if x and y else "n/a"
out = [f"# A/B: {sys.argv[3]} (A) against {sys.argv[4]} (B)", "",
       f"Load: `fastspool-bench smtp {sys.argv[6]}`; warm-up: {sys.argv[7]}; load average at the end: {sys.argv[5]}", "",
       "| round | A accepted/s | B accepted/s | B/A | A e2e/s | B e2e/s | B/A | A bytes/msg | B bytes/msg |",
       "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
acc, e2e = [], []
for k in sorted(a):
    if k not in b: continue
    x, y = a[k], b[k]
    out.append(f"| {k} | {x['accepted']} | {y['accepted']} | {ratio(x['accepted'], y['accepted'])} | {x['e2e']} | {y['e2e']} | "
               f"{ratio(x['e2e'], y['e2e'])} | {x['allocated']} | {y['allocated']} |")
    if x["accepted"] and y["accepted"]: acc.append(y["accepted"] / x["accepted"])
    if x["e2e"] and y["e2e"]: e2e.append(y["e2e"] / x["e2e"])
if acc:
    out += ["", f"Median B/A: accepted {statistics.median(acc):.2f}, end to end {statistics.median(e2e):.2f}" if e2e
            else f"Median B/A: accepted {statistics.median(acc):.2f}"]
open(sys.argv[2], "w").write("\n".join(out) + "\n")
print("\n".join(out))
PY
log "results: $OUT/ab-$STAMP.md"
