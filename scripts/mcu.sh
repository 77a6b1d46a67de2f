#!/usr/bin/env bash
# The generated C on a Cortex-M4, emulated: QEMU's mps2-an386 board (Arm's AN386: a Cortex-M4, code at
# 0x00000000, RAM at 0x20000000), with the project's own start-up file and linker script (tests/micro/mcu/).
#   1. installs Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm if missing;
#   2. writes the C of three models into build/mcu/: resnet8-ptq's default plan and its 4-bit --best plan
#      (resnet8-ptq --c-source), and the MLPerf Tiny reference .tflite (resnet8-micro);
#   3. builds each for -mcpu=cortex-m4 -mthumb -Os twice, with the DSP path (SMLAD) and without
#      (-DR8_NO_DSP), and runs N test images (default 20) under semihosting with -icount shift=0;
#   4. checks every prediction and int8 score against the host's (resnet8-eval on the .tflite) and reports,
#      per build: flash (text + data of the model's objects, weights included), RAM (data + bss of the
#      model's objects, the arena among them, + the stack one inference used, measured by stack painting),
#      and instructions per inference.
# The instruction count is QEMU's: with -icount shift=0 its virtual clock advances 1 ns per instruction,
# SysTick counts that clock, and a loop of known length calibrates it. An emulator models no pipeline,
# caches or wait states: these are instructions executed, not a board's cycles.
# Needs scripts/setup.sh's build. Exit 1 if a build fails or any score differs. About 3 minutes here, most
# of it the 4-bit plan's AdaRound; the summary also goes to build/mcu/summary.txt.
#   scripts/mcu.sh            # 20 images
#   scripts/mcu.sh 100        # 100 images
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
images=${1:-20}
[[ $images =~ ^[0-9]+$ && $images -ge 1 && $images -le 1000 ]] || { echo "mcu.sh: error: IMAGES must be 1..1000, got '$images'" >&2; exit 2; }

step() { printf '\n== %s\n' "$*"; }
step "packages"
install_packages gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm
for tool in resnet8-ptq resnet8-micro resnet8-eval; do
  [[ -x $BUILD_DIR/$tool ]] || { echo "mcu.sh: error: $BUILD_DIR/$tool not found; run scripts/setup.sh first" >&2; exit 1; }
done

out=$BUILD_DIR/mcu
data=$PWD/data/cifar-10-batches-bin
rm -rf "$out"
mkdir -p "$out"
step "the C of three models ($out)"
"$BUILD_DIR/resnet8-ptq" --threads 2 --no-eval -o "$out/default.pt" --tflite "$out/default.tflite" \
  --c-source "$out/default_c" | grep -E '^wrote'
"$BUILD_DIR/resnet8-ptq" --threads 2 --no-eval --weight-bits 4 --best -o "$out/4-bit.pt" --tflite "$out/4-bit.tflite" \
  --c-source "$out/4-bit_c" | grep -E '^wrote'
cp data/pretrainedResnet_quant.tflite "$out/reference.tflite"
"$BUILD_DIR/resnet8-micro" -m "$out/reference.tflite" --c-source "$out/reference_c" | grep -E '^(memory|wrote)'

flags=(-mcpu=cortex-m4 -mthumb -Os -std=c99 -Wall -Wextra -Werror -ffunction-sections -fdata-sections -mfloat-abi=soft)
harness=tests/micro
status=0
summary=$out/summary.txt
printf '%-10s %-9s %8s %8s %7s %7s %11s %9s %s\n' model build flash_B ram_B arena_B stack_B instructions MACs scores >"$summary"

# build_and_run MODEL VARIANT [CFLAGS...]: objects, sizes, the ELF, the QEMU run, the comparison.
build_and_run() {
  local model=$1 variant=$2 src=$out/$1_c dir=$out/$1_$2
  shift 2
  mkdir -p "$dir"
  local objs=()
  for f in "$src"/*.c; do
    arm-none-eabi-gcc "${flags[@]}" "$@" -fstack-usage -I"$src" -c "$f" -o "$dir/$(basename "$f" .c).o"
    objs+=("$dir/$(basename "$f" .c).o")
  done
  # Only the model's own symbols, memset/memcpy (which GCC may call for loops) and nothing else: no malloc,
  # no floating point, no OS.
  local undefined
  undefined=$(arm-none-eabi-nm -u "${objs[@]}" | awk 'NF == 2 {print $2}' | sort -u | grep -v -E '^(r8_[a-z0-9_]+|memset|memcpy)$' || true)
  if [[ -n $undefined ]]; then echo "mcu.sh: $model: the model's objects call $undefined" >&2; status=1; fi
  read -r flash ram < <(arm-none-eabi-size "${objs[@]}" | awk 'NR > 1 {f += $1 + $2; r += $2 + $3} END {print f, r}')
  arm-none-eabi-gcc "${flags[@]}" -I"$src" -I$harness/mcu -DR8_MCU -DR8_MCU_IMAGES="\"$data/test_batch.bin\"" \
    -DR8_MCU_COUNT="$images" -c $harness/classify.c -o "$dir/classify.o"
  arm-none-eabi-gcc "${flags[@]}" -I"$src" -c $harness/mcu/mcu_support.c -o "$dir/mcu_support.o"
  arm-none-eabi-gcc "${flags[@]}" -c $harness/mcu/startup.c -o "$dir/startup.o"
  arm-none-eabi-gcc "${flags[@]}" -nostartfiles --specs=rdimon.specs -T $harness/mcu/mps2_an386.ld -Wl,--gc-sections \
    "${objs[@]}" "$dir/classify.o" "$dir/mcu_support.o" "$dir/startup.o" -o "$dir/classify.elf"
  timeout 600 qemu-system-arm -M mps2-an386 -nographic -semihosting-config enable=on,target=native -icount shift=0 \
    -kernel "$dir/classify.elf" >"$dir/run.txt" 2>&1 || { echo "mcu.sh: $model $variant: QEMU failed:" >&2; cat "$dir/run.txt" >&2; status=1; return; }
  grep -E '^[0-9]' "$dir/run.txt" | cut -d' ' -f3- >"$dir/scores.txt"
  local same
  same=$(paste -d'|' "$dir/scores.txt" "$out/$model.host.txt" | awk -F'|' '$1 == $2' | wc -l)
  [[ $same -eq $images ]] || status=1
  local stack instructions arena
  stack=$(grep -o 'stack_bytes [0-9]*' "$dir/run.txt" | cut -d' ' -f2)
  instructions=$(grep -o 'instructions_mean [0-9]*' "$dir/run.txt" | cut -d' ' -f2)
  arena=$(grep -o 'RESNET8_ARENA_BYTES [0-9]*' "$src/resnet8_model.h" | cut -d' ' -f2)
  macs=$(grep -o '[0-9]* multiply-accumulates' "$src/resnet8_model.h" | cut -d' ' -f1)
  printf '%-10s %-9s %8d %8d %7d %7d %11d %9d %d/%d identical to the host\n' "$model" "$variant" "$flash" \
    $((ram + stack)) "$arena" "$stack" "$instructions" "$macs" "$same" "$images" | tee -a "$summary"
}

step "host scores (resnet8-eval on each .tflite, the first $images test images)"
for model in default 4-bit reference; do
  "$BUILD_DIR/resnet8-eval" -m "$out/$model.tflite" --limit "$images" --threads 2 --scores "$out/$model.host.txt" >/dev/null
done
step "Cortex-M4 builds in QEMU mps2-an386, $images images each"
printf '%-10s %-9s %8s %8s %7s %7s %11s %9s %s\n' model build flash_B ram_B arena_B stack_B instructions MACs scores
for model in default 4-bit reference; do
  build_and_run "$model" dsp
  build_and_run "$model" portable -DR8_NO_DSP
done
echo "(flash: text + data of the model's objects; ram: their data + bss, the arena included, + the measured stack;"
echo " instructions: per inference, mean over the images, counted by QEMU -icount: not board cycles)"
if ((status)); then echo "mcu.sh: FAILED" >&2; else echo "mcu: all builds identical to the host"; fi
exit $status
