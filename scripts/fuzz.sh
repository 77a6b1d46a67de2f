#!/usr/bin/env bash
# Fuzzes the three readers that take files from users: the CIFAR-10 batch reader, the data-only
# TorchScript reader + weight loader, and the .tflite reader with the integer kernels (tests/fuzz).
# Builds them with clang (C and C++), libFuzzer, AddressSanitizer and UBSan in build-fuzz/, seeds them from
# the real files (scripts/fuzz_corpus.py), and runs each for
# SECONDS (default 60). A finding is written to build-fuzz/findings/<target>/ and fails the script.
# The build compiles only the reader sources (about 2 minutes); scripts/test.sh runs it for 50 s each.
#   scripts/fuzz.sh          # 60 s per target
#   scripts/fuzz.sh 600      # 10 minutes per target
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
SECONDS_EACH=${1:-60}
FUZZ_DIR=${RESNET8_FUZZ_BUILD_DIR:-build-fuzz}

scripts/setup.sh >/dev/null
if ! command -v clang++ >/dev/null || ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "clang and its libFuzzer runtime:"
  install_packages clang libclang-rt-14-dev
fi
cmake -S . -B "$FUZZ_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DRESNET8_BUILD_FUZZERS=ON -DRESNET8_SANITIZE=address,undefined -DRESNET8_BUILD_TESTS=OFF -DRESNET8_BUILD_APPS=OFF \
  -DPython3_EXECUTABLE="$PYTHON" >/dev/null
cmake --build "$FUZZ_DIR" -j2 --target fuzz_cifar10 fuzz_weights fuzz_tflite
"$PYTHON" scripts/fuzz_corpus.py "$FUZZ_DIR/seeds"

# LibTorch is not instrumented and keeps global registries alive at exit: no leak reports.
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
for target in fuzz_cifar10 fuzz_weights fuzz_tflite; do
  corpus="$FUZZ_DIR/corpus/$target" findings="$FUZZ_DIR/findings/$target"
  mkdir -p "$corpus" "$findings"
  printf '\n== %s, %s s\n' "$target" "$SECONDS_EACH"
  "$FUZZ_DIR/tests/fuzz/$target" "$corpus" "$FUZZ_DIR/seeds/$target" -max_total_time="$SECONDS_EACH" \
    -timeout=20 -rss_limit_mb=4096 -max_len=400000 -print_final_stats=1 -artifact_prefix="$findings/" 2>&1 |
    grep -E '^(#[0-9]+ +DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY|artifact_prefix|Test unit written)' || true
  if ls "$findings"/* >/dev/null 2>&1; then
    echo "$target: findings in $findings"
    status=1
  fi
done
exit $status
