#!/usr/bin/env bash
# Remote-write latency side by side (issue 18): Amphora --target=all with --wal.fsync=always (every acknowledged request is
# on disk) and Debian's Prometheus 2.42 with its remote-write receiver, one after the other, alternating which goes first,
# under the same load: amphora-loadgen with N concurrent connections, each sending requests of --batch samples (one scrape
# of its shard of the series) as fast as they are answered. The server runs on the last core, the load generator on core 0.
# Prints a Markdown table of the medians over the runs (samples/s, request latency p50/p99, server CPU) and the ratios.
#
# Usage: bench/write-latency.sh [--runs=3] [--series=128000] [--connections=64] [--batch=2000] [--duration=5m]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 series=128000 connections=64 batch=2000 duration=5m
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs=${arg#*=} ;;
    --series=*) series=${arg#*=} ;;
    --connections=*) connections=${arg#*=} ;;
    --batch=*) batch=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    *) echo "bench/write-latency.sh: unknown option $arg (see the usage line at the top of the script)" >&2; exit 2 ;;
  esac
done
source bench/lib.sh
need_prometheus

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
amphora_port=19009 prometheus_port=19090

# The default ingestion rate (70,000 samples/s) would shape the run; the test is about the write path, not the limit.
cat > "$work/overrides.yml" <<EOF
defaults:
  ingestion_rate: 1000000000
  ingestion_burst_size: 1000000000
  max_series_per_workspace: 10000000
  max_series_per_metric: 10000000
EOF
printf 'global:\n  scrape_interval: 1m\n' > "$work/prometheus.yml"

cpu_seconds() { awk -v t="$ticks" '{ print ($14 + $15) / t }' "/proc/$1/stat"; }

run_one() { # SYSTEM RUN
  local system=$1 data="$work/$1-$2" url ready out cpu0 cpu1 fsyncs0=0 fsyncs1=0
  mkdir -p "$data"
  if [ "$system" = amphora ]; then
    taskset -c "$last_core" dotnet "$amphora_dll" --target=all --auth=none --wal.fsync=always \
      --listen=127.0.0.1:$amphora_port --data-dir="$data" --limits.overrides-file="$work/overrides.yml" \
      > "$data.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$amphora_port/ready"; url="http://127.0.0.1:$amphora_port/api/v1/push"
  else
    taskset -c "$last_core" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$data" \
      --web.listen-address=127.0.0.1:$prometheus_port --web.enable-remote-write-receiver > "$data.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$prometheus_port/-/ready"; url="http://127.0.0.1:$prometheus_port/api/v1/write"
  fi
  wait_ready "$ready" "$server_pid"
  [ "$system" = amphora ] && fsyncs0=$(curl -fs "http://127.0.0.1:$amphora_port/metrics" | awk '/^amphora_tsdb_wal_fsyncs/ { s += $2 } END { print s + 0 }')
  cpu0=$(cpu_seconds "$server_pid")
  out=$(taskset -c 0 dotnet "$loadgen_dll" --url="$url" --series="$series" --connections="$connections" \
    --batch="$batch" --duration="$duration" --mode=replay 2>>"$work/loadgen.log") || true
  cpu1=$(cpu_seconds "$server_pid")
  [ "$system" = amphora ] && fsyncs1=$(curl -fs "http://127.0.0.1:$amphora_port/metrics" | awk '/^amphora_tsdb_wal_fsyncs/ { s += $2 } END { print s + 0 }')
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -rf "$data"
  local requests failed
  requests=$(field requests "$out"); failed=$(field failedRequests "$out")
  [ "${failed:-1}" = 0 ] || { echo "bench/write-latency.sh: $system run $2 had ${failed:-?} failed requests: $out" >&2; exit 1; }
  # system run samples/s p50 p99 cpu-s requests fsyncs samples
  echo "$system $2 $(field samplesPerSecond "$out") $(field latencyP50Ms "$out") $(field latencyP99Ms "$out") \
$(awk -v a="$cpu0" -v b="$cpu1" 'BEGIN { print b - a }') $requests $(( fsyncs1 - fsyncs0 )) $(field samplesAccepted "$out")" >> "$work/results"
  echo "$system run $2: $(tail -n 1 "$work/results")" >&2
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq 1 "$runs"); do
  if [ $(( run % 2 )) -eq 1 ]; then order="prometheus amphora"; else order="amphora prometheus"; fi
  for system in $order; do run_one "$system" "$run"; done
done

median() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$work/results" | median_of; } # SYSTEM COLUMN
range() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$work/results" | range_of "$3"; } # SYSTEM COLUMN FORMAT
row() { # LABEL COLUMN FORMAT
  local a p
  a=$(median amphora "$2"); p=$(median prometheus "$2")
  printf "| %s | %s (%s) | %s (%s) | %.2f× |\n" "$1" "$(printf "$3" "$p")" "$(range prometheus "$2" "$3")" "$(printf "$3" "$a")" "$(range amphora "$2" "$3")" \
    "$(awk -v a="$a" -v p="$p" 'BEGIN { print (p == 0) ? 0 : a / p }')"
}

echo
echo "$runs runs each, alternated; $series series, $connections connections, requests of $batch samples, $duration of history at 15 s;"
echo "server on core $last_core, amphora-loadgen on core 0, $(nproc) cores; the load average before and after is on stderr."
echo
echo "| Median (range) | Prometheus 2.42 | Amphora \`--wal.fsync=always\` | Amphora / Prometheus |"
echo "|---|---:|---:|---:|"
row "samples/s" 3 "%.0f"
row "request latency p50 (ms)" 4 "%.1f"
row "request latency p99 (ms)" 5 "%.1f"
row "server CPU, utime+stime (s)" 6 "%.1f"
awk '$1 == "amphora" && $8 > 0 { print $7 / $8 }' "$work/results" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "\nAmphora requests per fsync (median of the runs): %.2f\n", v[int((NR + 1) / 2)] }'
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
