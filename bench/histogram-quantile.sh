#!/usr/bin/env bash
# histogram_quantile over native histograms side by side (issue 20): Amphora --target=all and Debian's Prometheus 2.42
# (--enable-feature=native-histograms, remote-write receiver) get the same history from amphora-loadgen
# --native-histograms=true (one schema-3 latency histogram per handler and instance, log-normal observations every 15 s),
# one system after the other, alternating which goes first. Then each query below is timed --repetitions times with curl
# (after one warm-up), server on the last core, curl and the load generator on core 0. Prints a Markdown table of the
# median latencies per query, the ratio Amphora/Prometheus, and the result sizes (which must agree).
#
# Usage: bench/histogram-quantile.sh [--runs=3] [--series=40000] [--duration=2h] [--repetitions=20]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 series=40000 duration=2h repetitions=20
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs=${arg#*=} ;;
    --series=*) series=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --repetitions=*) repetitions=${arg#*=} ;;
    *) echo "bench/histogram-quantile.sh: unknown option $arg (see the usage line at the top of the script)" >&2; exit 2 ;;
  esac
done
source bench/lib.sh
need_prometheus

work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
amphora_port=19009 prometheus_port=19090

cat > "$work/overrides.yml" <<YML
defaults:
  ingestion_rate: 1000000000
  ingestion_burst_size: 1000000000
YML
printf 'global:\n  scrape_interval: 1m\n' > "$work/prometheus.yml"

queries=(
  'histogram_quantile(0.99, sum by (job) (rate(http_request_duration_seconds[5m])))'
  'histogram_quantile(0.5, sum by (handler) (rate(http_request_duration_seconds[5m])))'
  'histogram_quantile(0.9, rate(http_request_duration_seconds{handler="/api/v1/query"}[5m]))'
  'histogram_count(sum(rate(http_request_duration_seconds[5m])))'
)

run_one() { # SYSTEM RUN
  local system=$1 data="$work/$1-$2" api ready push header=() end start
  mkdir -p "$data"
  if [ "$system" = amphora ]; then
    taskset -c "$last_core" dotnet "$amphora_dll" --target=all --auth=none --listen=127.0.0.1:$amphora_port --data-dir="$data" \
      --limits.overrides-file="$work/overrides.yml" > "$data.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$amphora_port/ready"; push="http://127.0.0.1:$amphora_port/api/v1/push"
    api="http://127.0.0.1:$amphora_port/prometheus/api/v1"; header=(-H "X-Scope-OrgID: bench")
  else
    taskset -c "$last_core" prometheus --config.file="$work/prometheus.yml" --storage.tsdb.path="$data" \
      --web.listen-address=127.0.0.1:$prometheus_port --web.enable-remote-write-receiver --enable-feature=native-histograms \
      > "$data.log" 2>&1 &
    server_pid=$!
    ready="http://127.0.0.1:$prometheus_port/-/ready"; push="http://127.0.0.1:$prometheus_port/api/v1/write"
    api="http://127.0.0.1:$prometheus_port/api/v1"
  fi
  wait_ready "$ready" "$server_pid"
  end=$(( $(date +%s) * 1000 / 15000 * 15000 )); start=$(( end - $(sed 's/h$/*3600000/; s/m$/*60000/' <<<"$duration" | bc) ))
  taskset -c 0 dotnet "$loadgen_dll" --url="$push" --series="$series" --native-histograms=true --mode=replay \
    --start-ms="$start" --end-ms="$end" > "$data.load" 2>>"$work/loadgen.log" \
    || { echo "bench/histogram-quantile.sh: the load generator failed against $system: $(cat "$data.load")" >&2; exit 1; }
  grep -q '"failedRequests":0' "$data.load" || { echo "bench/histogram-quantile.sh: $system refused samples: $(cat "$data.load")" >&2; exit 1; }
  local at=$(( end / 1000 )) q i
  for q in "${!queries[@]}"; do
    local body size
    body=$(taskset -c 0 curl -fsS "${header[@]}" --data-urlencode "query=${queries[$q]}" --data-urlencode "time=$at" "$api/query")
    size=$(grep -o '"metric"' <<<"$body" | wc -l)
    [ "$size" -gt 0 ] || { echo "bench/histogram-quantile.sh: ${queries[$q]} is empty in $system: $body" >&2; exit 1; }
    for i in $(seq 1 "$repetitions"); do
      echo "$system $2 $q $size $(taskset -c 0 curl -fsS -o /dev/null -w '%{time_total}' "${header[@]}" \
        --data-urlencode "query=${queries[$q]}" --data-urlencode "time=$at" "$api/query")" >> "$work/results"
    done
  done
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  rm -rf "$data"
  echo "$system run $2 done" >&2
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for run in $(seq 1 "$runs"); do
  if [ $(( run % 2 )) -eq 1 ]; then order="prometheus amphora"; else order="amphora prometheus"; fi
  for system in $order; do run_one "$system" "$run"; done
done

median() { awk -v s="$1" -v q="$2" '$1 == s && $3 == q { print $5 * 1000 }' "$work/results" | median_of; } # SYSTEM QUERY
size() { awk -v s="$1" -v q="$2" '$1 == s && $3 == q { print $4; exit }' "$work/results"; }

echo
echo "$runs runs each, alternated; $series series (native histograms: one per handler and instance), $duration of history at 15 s;"
echo "each query $repetitions times per run after a warm-up, instant at the end of the data; server on core $last_core, curl on core 0."
echo
echo "| Query | Result series (P / A) | Prometheus 2.42 p50 (ms) | Amphora p50 (ms) | Amphora / Prometheus |"
echo "|---|---:|---:|---:|---:|"
for q in "${!queries[@]}"; do
  p=$(median prometheus "$q"); a=$(median amphora "$q")
  printf '| `%s` | %s / %s | %.2f | %.2f | %.2f× |\n' "${queries[$q]}" "$(size prometheus "$q")" "$(size amphora "$q")" "$p" "$a" \
    "$(awk -v a="$a" -v p="$p" 'BEGIN { print (p == 0) ? 0 : a / p }')"
done
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
