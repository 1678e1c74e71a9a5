#!/usr/bin/env bash
# The cluster against --target=all, side by side in one run (issue 17): the same remote-write load (amphora-loadgen, same
# seed) sent to a distributor in front of three ingesters (replication factor 3) and to a single --target=all process, then
# the dashboard query set (bench/Amphora.BenchRunner's) timed through a querier over those ingesters and against the
# single process on the same data. Every amphora process runs on the last core, the load generator and curl on core 0.
# Write cost is utime+stime of the distributor and the three ingesters (or of the single process) from /proc, per million
# samples accepted. Runs alternate which setup goes first; the table gives the medians over the runs and the ratios.
#
# Usage: bench/cluster.sh [--runs=3] [--series=100000] [--duration=3m] [--query-repetitions=20]
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 series=100000 duration=3m reps=20
for arg in "$@"; do
  case "$arg" in
    --runs=*) runs=${arg#*=} ;;
    --series=*) series=${arg#*=} ;;
    --duration=*) duration=${arg#*=} ;;
    --query-repetitions=*) reps=${arg#*=} ;;
    *) echo "bench/cluster.sh: unknown option $arg (see the usage line at the top of the script)" >&2; exit 2 ;;
  esac
done

source bench/lib.sh

work=$(mktemp -d)
pids=()
stop_all() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done; pids=(); }
cleanup() { stop_all; rm -rf "$work"; }
trap cleanup EXIT

# The default ingestion rate (70,000 samples/s) would shape the run; the benchmark is about the write path, not the limit.
cat > "$work/overrides.yml" <<YAML
defaults:
  ingestion_rate: 1000000000
  ingestion_burst_size: 1000000000
  max_series_per_workspace: 10000000
  max_series_per_metric: 10000000
YAML

# The dashboard query set of bench/Amphora.BenchRunner/Scenarios.cs: name|query|range (1 h at step 15 s) or instant.
queries=(
  "rate(node_network_receive_bytes_total[5m])|instant"
  "sum by (mode) (rate(node_cpu_seconds_total[5m]))|range"
  "histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))|range"
  "topk(5, rate(node_disk_io_time_seconds_total[5m]))|instant"
  "node_filesystem_avail_bytes * on (instance) group_left () (node_load1 > 0)|instant"
  "avg by (job) (node_memory_MemAvailable_bytes)|range"
)

cpu_seconds() { local s=0 p; for p in "$@"; do s=$(awk -v t="$ticks" -v s="$s" '{ print s + ($14 + $15) / t }' "/proc/$p/stat"); done; echo "$s"; }


# The environment the Helm chart gives the querier (charts/amphora/values.yaml, querier.env: its GC settings), so the querier
# runs here as it runs in a cluster; the other components have none there.
querier_env=$(sed -n '/^querier:/,/^[a-z]/p' charts/amphora/values.yaml | sed -n '/^  env:/,/^  [a-z]/p' |
  awk -F': ' '/^    [A-Za-z_]/ { gsub(/[" ]/, "", $1); gsub(/[" ]/, "", $2); print $1 "=" $2 }')

start() { # NAME PORT ARGS...: an amphora process on the last core (with the environment in $component_env); its pid is appended to pids
  local name=$1 port=$2; shift 2
  mkdir -p "$work/$name"
  env ${component_env:-} taskset -c "$last_core" dotnet "$amphora_dll" --auth=none --listen=127.0.0.1:"$port" --data-dir="$work/$name" \
    --limits.overrides-file="$work/overrides.yml" --log.level=warn "$@" > "$work/$name.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$port/ready" "$!"
}


time_queries() { # PORT END_MS OUTFILE: every query of the set, reps times each, milliseconds per query into OUTFILE
  local port=$1 end=$2 out=$3 entry query kind r at
  for entry in "${queries[@]}"; do
    query=${entry%|*} kind=${entry##*|}
    for r in $(seq 0 $(( reps - 1 ))); do
      # Each repetition 1.001 s earlier than the last: no query repeats one the query frontend has cached.
      at=$(awk -v e="$end" -v r="$r" 'BEGIN { printf "%.3f", (e - 30000 - r * 1001) / 1000 }')
      if [ "$kind" = range ]; then
        set -- --data-urlencode "start=$(awk -v a="$at" 'BEGIN { printf "%.3f", a - 3600 }')" --data-urlencode "end=$at" --data-urlencode step=15
        path=query_range
      else
        set -- --data-urlencode "time=$at"
        path=query
      fi
      taskset -c 0 curl -fsS -o /dev/null -w '%{time_total}\n' -H 'X-Scope-OrgID: bench' --data-urlencode "query=$query" "$@" \
        "http://127.0.0.1:$port/prometheus/api/v1/$path" | awk '{ print $1 * 1000 }' >> "$out"
    done
  done
}

percentile() { sort -g "$1" | awk -v q="$2" '{ v[NR] = $1 } END { i = int(q * NR + 0.999999); if (i < 1) i = 1; print v[i] }'; }

run_one() { # SETUP RUN
  local setup=$1 run=$2 url qport writers out cpu0 cpu1 end
  if [ "$setup" = all ]; then
    start "all-$run" 19100 --target=all
    writers=("${pids[@]}") url="http://127.0.0.1:19100/api/v1/push" qport=19100
  else
    local members="ingester-0=127.0.0.1:19191,ingester-1=127.0.0.1:19192,ingester-2=127.0.0.1:19193" i
    for i in 0 1 2; do start "ingester-$i-$run" $(( 19101 + i )) --target=ingester --ingester.name=ingester-$i --grpc.listen=127.0.0.1:$(( 19191 + i )); done
    start "distributor-$run" 19109 --target=distributor --ring.members=$members --ring.poll-interval=500ms
    writers=("${pids[@]}")
    component_env=$querier_env start "querier-$run" 19110 --target=querier --ring.members=$members --ring.poll-interval=500ms
    url="http://127.0.0.1:19109/api/v1/push" qport=19110
  fi
  cpu0=$(cpu_seconds "${writers[@]}")
  end=$(date +%s%3N)
  out=$(taskset -c 0 dotnet "$loadgen_dll" --url="$url" --series="$series" --duration="$duration" --mode=replay 2>>"$work/loadgen.log") || true
  cpu1=$(cpu_seconds "${writers[@]}")
  local failed samples
  failed=$(field failedRequests "$out"); samples=$(field samplesAccepted "$out")
  [ "${failed:-1}" = 0 ] || { echo "bench/cluster.sh: $setup run $run had ${failed:-?} failed requests: $out" >&2; exit 1; }
  sleep 2 # the last background replica pushes land before the queries
  : > "$work/q.$setup.$run"
  time_queries "$qport" "$end" "$work/q.$setup.$run"
  stop_all
  rm -rf "$work"/*-"$run"
  # setup run samples/s cpu-s-per-million query-p50 query-p99
  echo "$setup $run $(field samplesPerSecond "$out") $(awk -v a="$cpu0" -v b="$cpu1" -v n="$samples" 'BEGIN { print (b - a) / (n / 1e6) }') \
$(percentile "$work/q.$setup.$run" 0.5) $(percentile "$work/q.$setup.$run" 0.99)" >> "$work/results"
  echo "$setup run $run: $(tail -n 1 "$work/results") ($samples samples)" >&2
}

echo "load average before the runs: $(cut -d' ' -f1-3 /proc/loadavg); querier environment: ${querier_env:-none}" >&2
for run in $(seq 1 "$runs"); do
  if [ $(( run % 2 )) -eq 1 ]; then order="all cluster"; else order="cluster all"; fi
  for setup in $order; do run_one "$setup" "$run"; done
done

median() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$work/results" | median_of; } # SETUP COLUMN
spread() { awk -v s="$1" -v c="$2" '$1 == s { print $c }' "$work/results" | range_of "$3"; } # SETUP COLUMN FORMAT
row() { # LABEL COLUMN FORMAT TARGET
  local a c
  a=$(median all "$2"); c=$(median cluster "$2")
  printf "| %s | %s (%s) | %s (%s) | %.2f× | %s |\n" "$1" "$(printf "$3" "$a")" "$(spread all "$2" "$3")" "$(printf "$3" "$c")" \
    "$(spread cluster "$2" "$3")" "$(awk -v a="$a" -v c="$c" 'BEGIN { print (a == 0) ? 0 : c / a }')" "$4"
}

echo
echo "$runs runs each, alternated; $series series, $duration of history at 15 s; the dashboard set ${reps} times per query"
echo "(instant, or 1 h at step 15 s) over the data just written; amphora on core $last_core, amphora-loadgen and curl on core 0."
echo
echo "| Median (range) | \`--target=all\` | RF=3: distributor + 3 ingesters (+ querier) | cluster / all | target |"
echo "|---|---:|---:|---:|---|"
row "samples/s" 3 "%.0f" ""
row "CPU-seconds per million samples" 4 "%.1f" "≤ 3.3×"
row "dashboard query p50 (ms)" 5 "%.1f" "≤ 1.5×"
row "dashboard query p99 (ms)" 6 "%.1f" "≤ 1.5×"
echo "load average now: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
