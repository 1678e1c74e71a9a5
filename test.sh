#!/usr/bin/env bash
# Runs Amphora's whole test suite. Installs what the tests need when it is missing:
# Debian's prometheus (prometheus, promtool), prometheus-node-exporter, Node.js/npm for the gRPC and S3 peers.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v prometheus >/dev/null 2>&1 || need_apt+=(prometheus)
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
command -v prometheus-node-exporter >/dev/null 2>&1 || need_apt+=(prometheus-node-exporter)
command -v npm >/dev/null 2>&1 || need_apt+=(nodejs npm)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing ${need_apt[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# npm peers used by tests (a real gRPC implementation, an S3 server): installed from their lock files.
for dir in $(find tests -name package-lock.json -not -path '*/node_modules/*' -exec dirname {} \;); do
  if [ ! -d "$dir/node_modules" ]; then
    echo "test.sh: npm ci in $dir"
    (cd "$dir" && npm ci --silent --no-audit --no-fund)
  fi
done

dotnet build Cluster.sln -c Release -nologo -v quiet
dotnet test Cluster.sln -c Release --no-build -nologo -v quiet --logger "console;verbosity=normal" "$@"
