#!/usr/bin/env bash
# The sendmail command side by side: FastSpool's native client (fastspool-sendmail, compiled ahead of time, as
# installed) and the full fastspool command (ReadyToRun) against Postfix's sendmail (postdrop into its maildrop,
# then pickup), each with its own server running, in the same run. For each: the wall and CPU time of one
# invocation (sequential, from process start to exit), then fastspool-bench sendmail, one at a time and 8 at a
# time, until every message is in the recipient's mbox. Writes bench/results/sendmail-STAMP.md.
#
# Usage: bench/sendmail-compare.sh     (as root: it installs and runs Postfix; takes about 3 minutes)
# Env:   SEQUENTIAL (invocations timed one by one, 50)  MESSAGES (per process of the 8-at-once run, 25)  OUT
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BENCH=$ROOT/bench
OUT=${OUT:-$BENCH/results}
WORK=${WORK:-/tmp/fastspool-sendmail-bench}
SEQUENTIAL=${SEQUENTIAL:-50}
MESSAGES=${MESSAGES:-25}
export PEER_DIR=$WORK/peers PF_PORT=${PF_PORT:-2545}
FS_PORT=${FS_PORT:-2547}
TO=bench1@example.test
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
REPORT=$OUT/sendmail-$STAMP.md
mkdir -p "$OUT" "$WORK"

log() { echo "sendmail-compare: $*" >&2; }

cleanup() {
  [ -n "${FS_PID:-}" ] && kill -TERM "$FS_PID" 2>/dev/null && wait "$FS_PID" 2>/dev/null || true
  "$BENCH/peers.sh" postfix-stop >/dev/null 2>&1 || true
}
trap cleanup EXIT

APP=$WORK/app
rm -rf "$APP" "$WORK/bin" "$WORK/bin-full"
log "publishing fastspool and the native sendmail client (both Native AOT, as installed) into $APP"
dotnet publish "$ROOT/src/FastSpool" -c Release -r linux-x64 -o "$APP" -nologo -v q >/dev/null
dotnet publish "$ROOT/src/FastSpool.Sendmail" -c Release -r linux-x64 -o "$APP" -nologo -v q >/dev/null
mkdir -p "$WORK/bin" "$WORK/bin-full"
ln -s "$APP/fastspool-sendmail" "$WORK/bin/sendmail"
ln -s "$APP/fastspool" "$WORK/bin-full/sendmail"
BENCH_DLL=$ROOT/bench/FastSpool.Bench/bin/Release/net10.0/fastspool-bench.dll
dotnet build -c Release "$ROOT/bench/FastSpool.Bench/FastSpool.Bench.csproj" -nologo -v q >/dev/null

"$BENCH/peers.sh" postfix-start >&2
PF_MBOX=$PEER_DIR/spool/bench1

FS_DATA=$WORK/fastspool
rm -rf "$FS_DATA"
cat >"$WORK/fastspool.json" <<JSON
{ "DataDirectory": "$FS_DATA", "LocalDomains": [ "example.test" ],
  "Smtp": { "Listen": [ "127.0.0.1:$FS_PORT" ], "Hostname": "fastspool.example.test" },
  "Pop3": { "Listen": [] }, "Users": { "System": false } }
JSON
export FASTSPOOL_CONFIG=$WORK/fastspool.json
echo secret | "$APP/fastspool" user add bench1 --password-stdin >/dev/null
"$APP/fastspool" serve >"$WORK/fastspool.log" 2>&1 &
FS_PID=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$FS_PORT") 2>/dev/null && break; sleep 0.1; done
FS_MBOX=$FS_DATA/mail/bench1

# name command environment mbox
PEERS=(
  "postfix|/usr/sbin/sendmail|MAIL_CONFIG=$PEER_DIR/postfix|$PF_MBOX"
  "fastspool-native|$WORK/bin/sendmail|FASTSPOOL_CONFIG=$FASTSPOOL_CONFIG|$FS_MBOX"
  "fastspool-full|$WORK/bin-full/sendmail|FASTSPOOL_CONFIG=$FASTSPOOL_CONFIG|$FS_MBOX"
)

{
  echo "# sendmail: one invocation, FastSpool against Postfix's sendmail (postdrop)"
  echo
  echo "Machine: $(nproc) cores, $(uname -sr), $(dotnet --version | sed 's/^/.NET SDK /'), $(/usr/sbin/postconf -d mail_version 2>/dev/null | sed 's/ = / /');"
  echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
  echo
  echo "## One at a time, $SEQUENTIAL invocations (1 KiB message, \`-i bench1@example.test\`)"
  echo
  echo "| sendmail | wall per invocation, mean | p50 | p90 | CPU (user + sys) per invocation |"
  echo "|---|---:|---:|---:|---:|"
} >"$REPORT"

for peer in "${PEERS[@]}"; do
  IFS='|' read -r name command environment _ <<<"$peer"
  log "$name: $SEQUENTIAL invocations one at a time"
  env "$environment" python3 - "$command" "$SEQUENTIAL" "$name" >>"$REPORT" <<'PY'
import os, resource, subprocess, sys, time
command, count, name = sys.argv[1], int(sys.argv[2]), sys.argv[3]
message = b"Subject: bench\n\n" + (b"x" * 63 + b"\n") * 16
for _ in range(3):  # unmeasured: page cache, the server's first connection
    subprocess.run([command, "-i", "bench1@example.test"], input=message, check=True)
before = resource.getrusage(resource.RUSAGE_CHILDREN)
walls = []
for _ in range(count):
    t = time.perf_counter()
    subprocess.run([command, "-i", "bench1@example.test"], input=message, check=True)
    walls.append(time.perf_counter() - t)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) / count
walls.sort()
ms = lambda s: f"{s * 1000:.1f} ms"
print(f"| {name} | {ms(sum(walls) / count)} | {ms(walls[count // 2])} | {ms(walls[int(count * 0.9)])} | {ms(cpu)} |")
PY
done

{
  echo
  echo "## fastspool-bench sendmail, until every message is in the mbox"
  echo
  echo '```'
} >>"$REPORT"
for run in "1 $SEQUENTIAL" "8 $MESSAGES"; do
  read -r processes messages <<<"$run"
  for peer in "${PEERS[@]}"; do
    IFS='|' read -r name command environment mbox <<<"$peer"
    log "$name: $processes at once x $messages"
    echo "== $name, $processes at once x $messages" >>"$REPORT"
    dotnet "$BENCH_DLL" sendmail --command "$command" --env "$environment" --to "$TO" \
      --processes "$processes" --messages "$messages" --until-delivered "$mbox" >>"$REPORT" 2>&1 || log "$name failed"
  done
done
echo '```' >>"$REPORT"
cat "$REPORT"
log "results: $REPORT"
