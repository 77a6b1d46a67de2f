#!/usr/bin/env bash
# Builds everything with AddressSanitizer and UBSan (gcc) in build-asan/ and runs the unit tests, the
# command-line tests with bad input (unit, unit_avx2_kernels, eval_cli, ptq_cli, bench_cli, hostile_cli,
# tflite_cli) and the differential test against TFLM (tflm_diff: its 300 random graphs through the sanitized
# library and through the generated C, compiled with the same sanitizers). Any sanitizer report fails the test
# it happens in.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
ASAN_DIR=${RESNET8_ASAN_BUILD_DIR:-build-asan}

scripts/setup.sh >/dev/null
cmake -S . -B "$ASAN_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRESNET8_SANITIZE=address,undefined \
  -DPython3_EXECUTABLE="$PYTHON" >/dev/null
cmake --build "$ASAN_DIR" -j2
# LibTorch is not instrumented and keeps global registries alive at exit: no leak reports.
export ASAN_OPTIONS=detect_leaks=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$ASAN_DIR" --output-on-failure -R '^(unit|unit_avx2_kernels|eval_cli|ptq_cli|bench_cli|hostile_cli|tflite_cli|tflm_diff)$'
