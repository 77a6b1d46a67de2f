#!/usr/bin/env bash
# Set everything up (scripts/setup.sh), then the lint gate (scripts/lint.sh: clang-format, ruff,
# clang-tidy; ~7 min), then every test with ctest, the end-to-end ones on the real CIFAR-10 test set
# included, then the generated C on a Cortex-M4 in QEMU (scripts/mcu.sh, 20 images; ~2 min, plus ~1.5 min
# to install the Arm toolchain and QEMU the first time), then a short fuzz run of the file readers
# (scripts/fuzz.sh, RESNET8_FUZZ_SECONDS per target, default 50, plus ~2 minutes to build).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
printf '\n== lint (scripts/lint.sh)\n'
scripts/lint.sh
printf '\n== tests\n'
ctest --test-dir "$BUILD_DIR" --output-on-failure
printf '\n== the generated C on a Cortex-M4 (scripts/mcu.sh)\n'
scripts/mcu.sh 20
printf '\n== fuzzing the file readers (scripts/fuzz.sh)\n'
scripts/fuzz.sh "${RESNET8_FUZZ_SECONDS:-50}"
