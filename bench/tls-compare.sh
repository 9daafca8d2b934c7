#!/usr/bin/env bash
# Accepted messages/s at 10 KiB with and without TLS, FastSpool beside a private Postfix with
# smtpd_tls_security_level=may and the same certificate, driven by fastspool-bench (a connection per message, and
# reused connections; 10 and 50 connections). FastSpool's submission listener with AUTH PLAIN runs too (Postfix
# gets no SASL here). Needs root (peers.sh); loopback only.
#   bench/tls-compare.sh [OUT_FILE]      env: DIR (scratch, default /tmp/fastspool-tls-compare), PF_PORT, FS_PORT
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
DIR=${DIR:-/tmp/fastspool-tls-compare}
PF_PORT=${PF_PORT:-2625}
FS_PORT=${FS_PORT:-2630}
SUB_PORT=$((FS_PORT + 1))
out=${1:-/dev/stdout}
rm -rf "$DIR" && mkdir -p "$DIR"
fs=$("$root/bench/build-fastspool.sh" "$DIR/app") # native, as installed (FASTSPOOL_BUILD=jit for the JIT build)
dotnet build -c Release "$root/bench/FastSpool.Bench" -v q -nologo >/dev/null
bench="$root/bench/FastSpool.Bench/bin/Release/net10.0/fastspool-bench.dll"
$fs tls self-signed --host localhost --certificate "$DIR/cert.pem" --key "$DIR/key.pem" >/dev/null
PEER_DIR="$DIR/peers" PF_PORT=$PF_PORT PF_TLS_CERT="$DIR/cert.pem" PF_TLS_KEY="$DIR/key.pem" "$root/bench/peers.sh" postfix-start >/dev/null
printf 'bench-pw\n' | $fs user add bench1 --password-stdin --data "$DIR/var" >/dev/null
$fs serve --data "$DIR/var" --Smtp:Listen:0=127.0.0.1:$FS_PORT --Smtp:Submission:0=127.0.0.1:$SUB_PORT \
  --Tls:Certificate="$DIR/cert.pem" --Tls:Key="$DIR/key.pem" --Users:System=false --LocalDomains:0=localhost \
  --LogLevel=Warning >"$DIR/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; PEER_DIR="$DIR/peers" PF_PORT=$PF_PORT "$root/bench/peers.sh" postfix-stop' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$FS_PORT") 2>/dev/null && break; sleep 0.1; done

run() {
  local label=$1 server=$2 to=$3; shift 3
  local result; result=$(dotnet "$bench" smtp --server "$server" --to "$to" --size 10KiB --trust "$DIR/cert.pem" "$@" 2>&1 | grep -E '^accepted|^errors' | tr '\n' ' ')
  echo "$label | $* | $result" >>"$out"
}
for conns in 10 50; do
  for mode in "" "--reuse"; do
    n=1500; [ -n "$mode" ] && n=6000
    for tls in "" "--starttls"; do
      run postfix 127.0.0.1:$PF_PORT bench1@example.test --connections $conns --messages $n $mode $tls
      run fastspool 127.0.0.1:$FS_PORT bench1@localhost --connections $conns --messages $n $mode $tls
    done
    run fastspool-submission 127.0.0.1:$SUB_PORT bench1@localhost --connections $conns --messages $n $mode --starttls --auth bench1:bench-pw
  done
done
