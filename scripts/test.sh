#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then run every test with ctest, the end-to-end ones on the
# real CIFAR-10 test set included.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
printf '\n== tests\n'
ctest --test-dir "$BUILD_DIR" --output-on-failure
