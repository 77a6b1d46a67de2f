#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then the lint gate (scripts/lint.sh: clang-format, ruff,
# clang-tidy; ~7 min), then every test with ctest, the end-to-end ones on the real CIFAR-10 test set
# included, then the generated C on a Cortex-M4 in QEMU (scripts/mcu.sh, 20 images; ~2 min, plus ~1.5 min
# to install the Arm toolchain and QEMU the first time), then the playground in headless Chromium
# (scripts/playground_check.sh, ~1 min, plus ~1.5 min to install Chromium the first time), then a short fuzz
# run of the file readers (scripts/fuzz.sh, RESNET8_FUZZ_SECONDS per target, default 50, plus ~2 minutes
# to build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
# Each stage's start, so that a CI log shows where the time goes.
stage() { printf '\n== %s (%s, %d s in)\n' "$1" "$(date +%T)" "$SECONDS"; }
stage "set-up (scripts/setup.sh)"
scripts/setup.sh
stage "lint (scripts/lint.sh)"
scripts/lint.sh
stage "tests"
ctest --test-dir "$BUILD_DIR" --output-on-failure
stage "the generated C on a Cortex-M4 (scripts/mcu.sh)"
scripts/mcu.sh 20
stage "the playground in a headless browser (scripts/playground_check.sh)"
scripts/playground_check.sh
stage "fuzzing the file readers (scripts/fuzz.sh)"
scripts/fuzz.sh "${RESNET8_FUZZ_SECONDS:-50}"
stage "done"
