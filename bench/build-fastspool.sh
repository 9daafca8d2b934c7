#!/usr/bin/env bash
# Builds FastSpool for a benchmark as it is installed, into DIR, and prints the command that runs it.
#   native (the default): dotnet publish, compiled ahead of time to native code (Native AOT), as the README installs it
#   jit:                  dotnet build, run on the JIT with `dotnet fastspool.dll` (FASTSPOOL_BUILD=jit)
# Usage: bench/build-fastspool.sh DIR   (Env: FASTSPOOL_BUILD=native|jit)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DIR=${1:?usage: $0 DIR}
mkdir -p "$DIR"
case "${FASTSPOOL_BUILD:-native}" in
  native)
    dotnet publish "$ROOT/src/FastSpool" -c Release -o "$DIR/bin" --artifacts-path "$DIR/artifacts" -nologo -v q >/dev/null
    echo "$DIR/bin/fastspool" ;;
  jit)
    dotnet build -c Release "$ROOT/src/FastSpool/FastSpool.csproj" -o "$DIR/jit" -nologo -v q >/dev/null
    echo "dotnet $DIR/jit/fastspool.dll" ;;
  *) echo "$0: FASTSPOOL_BUILD is native or jit" >&2; exit 64 ;;
esac
