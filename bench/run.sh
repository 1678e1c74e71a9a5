#!/usr/bin/env bash
# Runs Amphora all-in-one and Debian's Prometheus side by side on this machine and writes docs/benchmarks.md.
# Usage: bench/run.sh [amphora-bench options, e.g. --series=100000,500000,1000000 --disk-series=20000]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v prometheus >/dev/null 2>&1 || { echo "bench/run.sh: needs Debian's prometheus (apt-get install prometheus)" >&2; exit 2; }
dotnet build server -c Release -nologo -v quiet
dotnet build bench/Amphora.BenchRunner -c Release -nologo -v quiet
# The load generator runs on core 0, the system under test on the last core.
last_core=$(( $(nproc) - 1 ))
exec taskset -c 0 dotnet bench/Amphora.BenchRunner/bin/Release/net10.0/amphora-bench.dll \
  --amphora-dll=server/bin/Release/net10.0/amphora.dll --server-cores="$last_core" --output=docs/benchmarks.md "$@"
