#!/bin/sh
# Builds the fuzzing targets into DIR: DIR/bin with FastSpool's assemblies instrumented for afl-fuzz, DIR/replay
# without instrumentation (to replay a finding: dotnet DIR/replay/FastSpool.Fuzz.dll TARGET FILE), and DIR/seeds
# with starting inputs for each target. Needs the sharpfuzz tool (dotnet tool install --global SharpFuzz.CommandLine).
set -eu
out=${1:?usage: fuzz/build.sh DIR}
project=$(dirname "$0")/FastSpool.Fuzz
rm -rf "$out/bin" "$out/replay" "$out/seeds"
dotnet publish "$project" -c Release -o "$out/replay"
cp -r "$out/replay" "$out/bin"
for assembly in FastSpool.Core FastSpool.Protocols FastSpool.Queue; do
    sharpfuzz "$out/bin/$assembly.dll"
done
dotnet "$out/replay/FastSpool.Fuzz.dll" seeds "$out/seeds"
