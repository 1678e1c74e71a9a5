#!/usr/bin/env bash
# Copies the CustomResourceDefinitions from crds/ (their one source) into the chart's crds/ folder, which Helm installs
# before the templates. tests/Amphora.Chart.Tests checks that the two are identical.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f charts/amphora/crds/*.yaml
cp crds/*.yaml charts/amphora/crds/
echo "charts/amphora/crds: $(ls charts/amphora/crds | wc -l) CRDs from crds/"
