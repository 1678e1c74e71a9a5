# Shared by the side-by-side benchmark scripts (write-latency.sh, cluster.sh, histogram-quantile.sh); sourced from the
# repository root. Defines bench_name, builds Amphora and amphora-loadgen (amphora_dll, loadgen_dll), and the helpers below.
bench_name="bench/$(basename "$0")"

dotnet build server -c Release -nologo -v quiet >&2
dotnet build bench/Amphora.LoadGen -c Release -nologo -v quiet >&2
amphora_dll=server/bin/Release/net10.0/amphora.dll
loadgen_dll=bench/Amphora.LoadGen/bin/Release/net10.0/amphora-loadgen.dll
last_core=$(( $(nproc) - 1 ))
ticks=$(getconf CLK_TCK)

need_prometheus() {
  command -v prometheus >/dev/null 2>&1 || { echo "$bench_name: needs Debian's prometheus (apt-get install prometheus)" >&2; exit 2; }
}

wait_ready() { # URL PID: waits up to 60 s for URL to answer 2xx, failing at once if PID exits
  for _ in $(seq 1 600); do
    kill -0 "$2" 2>/dev/null || { echo "$bench_name: a server exited before it was ready" >&2; return 1; }
    curl -fs -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "$bench_name: $1 not ready after 60 s" >&2; return 1
}

field() { grep -o "\"$1\":[0-9.e+-]*" <<<"$2" | head -n 1 | cut -d: -f2; } # NAME JSON: a number field of amphora-loadgen's output

median_of() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; } # numbers on stdin
range_of() { sort -g | awk -v f="$1" 'NR == 1 { lo = $1 } { hi = $1 } END { printf f "-" f, lo, hi }'; } # FORMAT; numbers on stdin
