#!/usr/bin/env bash
# Runs Amphora's whole test suite. Installs what the tests need when it is missing, one Debian package at a time (so one
# that cannot be installed, e.g. npm where Node.js came another way, does not stop the others): prometheus (with
# promtool), prometheus-node-exporter, prometheus-alertmanager, etcd-server (the Kubernetes tests' etcd), golang-go
# (builds chart-render), xz-utils, and Node.js/npm for the gRPC, S3 and OpenTelemetry (OTLP exporter) peers.
#
# Tests that need assets only ../shared has (PromQL scripts, Kubernetes API server, chart-render) find them through
# AMPHORA_PROMQL_TESTDATA, KUBEBUILDER_ASSETS and AMPHORA_CHART_RENDER, falling back to ../shared/...; without either they
# are reported as skipped with the reason. AMPHORA_REQUIRE_SHARED_ASSETS=1 (set by .ci/run) turns such a skip into a failure.
set -euo pipefail
cd "$(dirname "$0")"

SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
apt_updated=""
install_pkg() {  # install_pkg COMMAND PACKAGE: installs PACKAGE when COMMAND is missing; a failure is reported, not fatal
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "test.sh: installing $2 (for $1)"
  if [ -z "$apt_updated" ]; then $SUDO apt-get update -qq || true; apt_updated=1; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$2" >/dev/null \
    || echo "test.sh: could not install $2; the tests that need $1 will say so" >&2
}
install_pkg prometheus prometheus
install_pkg promtool prometheus
install_pkg prometheus-node-exporter prometheus-node-exporter
install_pkg prometheus-alertmanager prometheus-alertmanager
install_pkg etcd etcd-server
install_pkg go golang-go
install_pkg xz xz-utils
install_pkg node nodejs
install_pkg npm npm

# The Kubernetes API server assets, in the envtest layout, when ../shared/kubernetes is there and none were given.
if [ -z "${KUBEBUILDER_ASSETS:-}" ] && [ -f ../shared/kubernetes/assets.sh ]; then
  KUBEBUILDER_ASSETS=$(bash ../shared/kubernetes/assets.sh | tail -n 1) && export KUBEBUILDER_ASSETS \
    || { echo "test.sh: ../shared/kubernetes/assets.sh failed" >&2; unset KUBEBUILDER_ASSETS; }
fi

# npm peers used by tests (a real gRPC implementation, an S3 server, the OpenTelemetry JS OTLP exporters): installed from
# their lock files.
for dir in $(find tests -name package-lock.json -not -path '*/node_modules/*' -exec dirname {} \;); do
  if [ ! -d "$dir/node_modules" ]; then
    echo "test.sh: npm ci in $dir"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
  fi
done

dotnet build Cluster.sln -c Release -nologo -v quiet
# One test project at a time (-m:1): the end-to-end and operator suites start real processes (Prometheus, kube-apiserver,
# etcd, amphora clusters) whose timing checks starve when they share the two cores of a CI machine.
# The output is also kept in a temporary file so that, when a test fails, the names and messages of the failures are
# printed again at the very end, where a CI log cut to its last lines still shows them.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
rc=0
dotnet test Cluster.sln -c Release --no-build -nologo -v quiet -m:1 --logger "console;verbosity=normal" "$@" 2>&1 \
  | tee "$log" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo
  echo "test.sh: the test run failed (exit $rc). The failures, again:"
  # A failed test's block: its "Failed <name>" line, then the error message and the first lines of its stack trace.
  awk '/^ *Failed [A-Za-z]/ {n=14} n>0 {print; n--}' "$log" | cut -c1-400
  grep -E "^(Test Run Aborted|The active test run was aborted)|error [A-Z]+[0-9]+:|Failed: [1-9]" "$log" | head -20 || true
fi
exit "$rc"
