#!/usr/bin/env bash
# The generated C on Cortex-M cores, emulated: QEMU's mps2-an386 board (Arm's AN386: a Cortex-M4, code at
# 0x00000000, RAM at 0x20000000) and three more, with the project's own start-up file and linker scripts
# (tests/micro/mcu/).
#   1. installs Debian's gcc-arm-none-eabi, libnewlib-arm-none-eabi and qemu-system-arm if missing;
#   2. builds the cycle-estimating QEMU plugin (tests/micro/mcu/m4_cycles.c) with the host's C compiler and
#      checks its model on loops whose cycle counts follow from the Cortex-M4 manual (cycle_loops.c) and from
#      its stated Cortex-M55 rule for Helium instructions (cycle_loops_m55.c);
#   3. runs the kernels' variants check on the core (tests/micro/variants_check.c): the arm_dsp variant's
#      assembly (and on the M55 the arm_mve variant) against the portable reference on random layers,
#      requantizations and ADDs;
#   4. runs the differential test's random graphs (tests/test_tflm_diff.py --mcu): 20 accepted graphs built for
#      the M4 and run in QEMU, each output equal to TFLM's;
#   5. writes the C of three models into build/mcu/: resnet8-ptq's default plan and its 4-bit --best plan
#      (resnet8-ptq --c-source), and the MLPerf Tiny reference .tflite (resnet8-micro);
#   6. builds each with arm-none-eabi-gcc for -mcpu=cortex-m4 -mthumb three ways: the DSP variant at -Os (the
#      figures the project quotes) and at -O2, and the portable reference at -Os (-DR8_NO_DSP); runs N test
#      images (default 20) under semihosting with the plugin;
#   7. checks every prediction and int8 score against the host's (resnet8-eval on the .tflite) and reports,
#      per build: flash (text + data of the model's objects, weights included), RAM (data + bss of the
#      model's objects, the arena among them, + the stack one inference used, measured by stack painting),
#      instructions per inference (the plugin's count, and QEMU -icount's as a cross-check) and estimated
#      Cortex-M4 cycles per inference;
#   8. the same for three more cores, each on its QEMU board with its own linker script (tests/micro/mcu/*.ld),
#      the variants check first: a Cortex-M7 (mps2-an500) and a Cortex-M33 (mps2-an505, scheduled with
#      -mtune=cortex-m4; estimated cycles by the M4's model, a coarse estimate) with the DSP variant at -Os, and
#      a Cortex-M55 (mps3-an547) with the MVE (Helium) variants at -Os and -O2 (estimated cycles by the M4's
#      model plus a coarse rule for Helium instructions, m4_cycles.c); instructions only for the M7;
#   9. for each M4 DSP -Os build, estimated cycles per kernel call and per function.
# Estimated cycles weight each executed instruction with the Cortex-M4 Technical Reference Manual's timings at
# zero wait states (docs/MICRO.md has the rules and their limits): an estimate for a core with single-cycle
# memory, not a board's measured cycles, which include flash wait states.
# Needs scripts/setup.sh's build. Exit 1 if a build fails, a check differs or any score differs. About 2
# minutes here for 20 images; the summary also goes to build/mcu/summary.txt.
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
mcu=tests/micro/mcu
rm -rf "$out"
mkdir -p "$out"
status=0
plugin=$out/libm4_cycles.so

# use_core CORE: the compiler flags, linker script, QEMU board and cycle model every step after it uses. Each
# board has its linker script (its memory map) in tests/micro/mcu/; the start-up file is the same. The M55 is
# built with -mfloat-abi=softfp (Helium uses the FP registers; calls still pass values in core registers), so
# the compiler defines __ARM_FEATURE_MVE and the kernels take their MVE variant. The M33 is scheduled with
# -mtune=cortex-m4: GCC 12 has no pipeline description for the M33 (-mcpu=cortex-m33 schedules for its generic
# ARM model, as -fsched-verbose shows) and the M4's three-stage pipeline, a load's result a cycle late, is the
# M33's too.
use_core() {
  local cpu ld float=soft tune=()
  cycle_model=m4
  case $1 in
    m4) cpu=cortex-m4 machine=mps2-an386 ld=mps2_an386.ld ;;
    m7) cpu=cortex-m7 machine=mps2-an500 ld=mps2_an500.ld ;;
    m33) cpu=cortex-m33 machine=mps2-an505 ld=mps2_an505.ld tune=(-mtune=cortex-m4) ;;
    m55) cpu=cortex-m55 machine=mps3-an547 ld=mps3_an547.ld float=softfp cycle_model=m55 ;;
  esac
  core=$1
  base_flags=(-mcpu=$cpu "${tune[@]}" -mthumb -std=c99 -Wall -Wextra -Werror -ffunction-sections -fdata-sections
    -mfloat-abi=$float)
  link_flags=(-nostartfiles --specs=rdimon.specs -L$mcu -T $mcu/$ld -Wl,--gc-sections)
}
use_core m4

# address ELF SYMBOL: the symbol's entry address, the Thumb bit cleared (as QEMU reports blocks).
address() {
  local a
  a=$(arm-none-eabi-nm "$1" | awk -v s="$2" '$3 == s {print $1}')
  [[ -n $a ]] || { echo "mcu.sh: $1 has no symbol $2" >&2; return 1; }
  printf '0x%x' $((0x$a & ~1))
}

# qemu ELF OUTPUT REPORT [KERNEL...]: runs ELF on the board with the cycle plugin counting between the markers
# (each KERNEL's entry starting a new call in the report); OUTPUT gets the program's output.
qemu() {
  local elf=$1 output=$2 report=$3 args k
  shift 3
  args="$plugin,model=$cycle_model,out=$report,begin=$(address "$elf" mcu_cycles_begin),end=$(address "$elf" mcu_cycles_end)"
  for k in "$@"; do
    if arm-none-eabi-nm "$elf" | awk '{print $3}' | grep -qx "$k"; then args+=",kernel=$k@$(address "$elf" "$k")"; fi
  done
  timeout 900 qemu-system-arm -M "$machine" -nographic -semihosting-config enable=on,target=native -icount shift=0 \
    -plugin "$args" -kernel "$elf" >"$output" 2>&1
}

# cycle_loops SOURCE: SOURCE's loops built for the current core and run under the plugin; each function's count
# compared with the EXPECT line the source states.
cycle_loops() {
  local src=$1 elf=$out/$(basename "$1" .c).elf name want got verdict
  arm-none-eabi-gcc "${base_flags[@]}" -Os "${link_flags[@]}" "$src" $mcu/mcu_markers.c $mcu/startup.c -o "$elf"
  qemu "$elf" "${elf%.elf}.txt" "${elf%.elf}.cycles"
  while read -r _ name want _; do
    got=$(awk -v n="$name" '$1 == "function" && $2 == n {print $3}' "${elf%.elf}.cycles")
    verdict=ok
    [[ $got == "$want" ]] || { verdict=DIFFERS; status=1; }
    printf '  %-12s %-6s %5d cycles, model %5s  %s\n' "$name" "$core" "$want" "${got:-none}" "$verdict"
  done < <(grep -o 'EXPECT .*' "$src")
}

step "the cycle model: QEMU plugin $plugin, checked on loops of known length ($mcu/cycle_loops*.c)"
${CC:-cc} -shared -fPIC -O2 -Wall -Wextra -Werror -o "$plugin" $mcu/m4_cycles.c
cycle_loops $mcu/cycle_loops.c
use_core m55
cycle_loops $mcu/cycle_loops_m55.c
use_core m4

# variants_on_core: the kernels' variants check (tests/micro/variants_check.c) built for the current core and
# run on its board.
variants_on_core() {
  local sources=(src/micro/*.c src/micro/reference/*.c src/micro/arm_dsp/*.c src/micro/arm_mve/*.c
    tests/micro/variants_check.c)
  arm-none-eabi-gcc "${base_flags[@]}" -Os -DR8_ALL_VARIANTS -Iinclude/resnet8/micro -Isrc/micro/arm_dsp \
    -Isrc/micro/arm_mve -Itests/micro \
    "${link_flags[@]}" "${sources[@]}" $mcu/variants_main.c $mcu/mcu_markers.c $mcu/startup.c -o "$out/variants_$core.elf"
  timeout 600 qemu-system-arm -M "$machine" -nographic -semihosting-config enable=on,target=native \
    -kernel "$out/variants_$core.elf" >"$out/variants_$core.txt" 2>&1 || true
  sed "s/^/  $core: /" "$out/variants_$core.txt"
  grep -qx 'variants: 0 mismatches' "$out/variants_$core.txt" ||
    { echo "mcu.sh: a variant differs from the reference on the $core" >&2; status=1; }
}

step "the kernels' variants on the core: arm_dsp (assembly) against the reference (tests/micro/variants_check.c)"
variants_on_core

step "the differential test's graphs on the core: 40 random graphs and the regression cases, 20 of them as Cortex-M4 code"
# tests/test_tflm_diff.py --mcu: TFLM's output on every input, the C built for the M4 (DSP variant, -Os) and run
# in QEMU, as the ctest tflm_diff does for the host's C.
[[ -x $BUILD_DIR/tests/resnet8-tflite-diff ]] ||
  { echo "mcu.sh: error: $BUILD_DIR/tests/resnet8-tflite-diff not found; build with the tests" >&2; exit 1; }
"$PYTHON" tests/test_tflm_diff.py --diff "$BUILD_DIR/tests/resnet8-tflite-diff" --graphs 40 --first-seed 1000 --mcu 20 |
  sed 's/^/  /' | tee "$out/graphs.txt" || status=1
grep -q 'as Cortex-M4 code in QEMU (DSP variant, -Os) and identical: 20 of 20' "$out/graphs.txt" || status=1

step "the C of three models ($out)"
"$BUILD_DIR/resnet8-ptq" --threads 2 --no-eval -o "$out/default.pt" --tflite "$out/default.tflite" \
  --c-source "$out/default_c" | grep -E '^wrote'
"$BUILD_DIR/resnet8-ptq" --threads 2 --no-eval --weight-bits 4 --best -o "$out/4-bit.pt" --tflite "$out/4-bit.tflite" \
  --c-source "$out/4-bit_c" | grep -E '^wrote'
cp data/pretrainedResnet_quant.tflite "$out/reference.tflite"
"$BUILD_DIR/resnet8-micro" -m "$out/reference.tflite" --c-source "$out/reference_c" | grep -E '^(memory|wrote)'

summary=$out/summary.txt
header=$(printf '%-10s %-12s %8s %8s %7s %7s %12s %12s %9s %s' model build flash_B ram_B arena_B stack_B \
  instructions est_cycles MACs scores)
echo "$header" >"$summary"
kernels=(r8_conv r8_add r8_avgpool r8_mean r8_fully_connected r8_softmax)

# build_and_run MODEL BUILD [CFLAGS...]: objects, sizes, the ELF, the QEMU run, the comparison.
build_and_run() {
  local model=$1 build=$2 src=$out/$1_c dir=$out/$1_$2
  shift 2
  mkdir -p "$dir"
  local objs=() f
  for f in "$src"/*.c; do
    arm-none-eabi-gcc "${base_flags[@]}" "$@" -fstack-usage -I"$src" -c "$f" -o "$dir/$(basename "$f" .c).o"
    objs+=("$dir/$(basename "$f" .c).o")
  done
  # Only the model's own symbols, memset/memcpy (which GCC may call for loops) and nothing else: no malloc,
  # no floating point, no OS.
  local undefined
  undefined=$(arm-none-eabi-nm -u "${objs[@]}" | awk 'NF == 2 {print $2}' | sort -u | grep -v -E '^(r8_[a-z0-9_]+|memset|memcpy)$' || true)
  if [[ -n $undefined ]]; then echo "mcu.sh: $model: the model's objects call $undefined" >&2; status=1; fi
  local flash ram
  read -r flash ram < <(arm-none-eabi-size "${objs[@]}" | awk 'NR > 1 {f += $1 + $2; r += $2 + $3} END {print f, r}')
  arm-none-eabi-gcc "${base_flags[@]}" -Os -I"$src" -I$mcu -DR8_MCU -DR8_MCU_IMAGES="\"$data/test_batch.bin\"" \
    -DR8_MCU_COUNT="$images" -c tests/micro/classify.c -o "$dir/classify.o"
  arm-none-eabi-gcc "${base_flags[@]}" -Os -I"$src" -c $mcu/mcu_support.c -o "$dir/mcu_support.o"
  arm-none-eabi-gcc "${base_flags[@]}" -Os -c $mcu/mcu_markers.c -o "$dir/mcu_markers.o"
  arm-none-eabi-gcc "${base_flags[@]}" -Os -c $mcu/startup.c -o "$dir/startup.o"
  arm-none-eabi-gcc "${base_flags[@]}" "${link_flags[@]}" "${objs[@]}" "$dir/classify.o" "$dir/mcu_support.o" \
    "$dir/mcu_markers.o" "$dir/startup.o" -o "$dir/classify.elf"
  qemu "$dir/classify.elf" "$dir/run.txt" "$dir/cycles.txt" "${kernels[@]}" ||
    { echo "mcu.sh: $model $build: QEMU failed:" >&2; cat "$dir/run.txt" >&2; status=1; return; }
  grep -E '^[0-9]' "$dir/run.txt" | cut -d' ' -f3- >"$dir/scores.txt"
  local same stack icount instructions cycles arena macs
  same=$(paste -d'|' "$dir/scores.txt" "$out/$model.host.txt" | awk -F'|' '$1 == $2' | wc -l)
  [[ $same -eq $images ]] || status=1
  stack=$(grep -o 'stack_bytes [0-9]*' "$dir/run.txt" | cut -d' ' -f2)
  icount=$(grep -o 'instructions_mean [0-9]*' "$dir/run.txt" | cut -d' ' -f2)
  instructions=$(awk '$1 == "instructions" {print $2}' "$dir/cycles.txt")
  cycles=$(awk '$1 == "cycles" {print $2}' "$dir/cycles.txt")
  # The Cortex-M4 model is a coarse estimate for the M33 (a three-stage pipeline, DSP timings close to the
  # M4's); the M55's adds a coarse rule for Helium (m4_cycles.c); none for the M7 (dual issue): instructions only.
  [[ $core != m7 ]] || cycles=-
  # The plugin counts from the marker's return to the other's entry, -icount around the call: a few apart.
  if ((instructions > icount || icount - instructions > 100)); then
    echo "mcu.sh: $model $build: the plugin counted $instructions instructions, -icount $icount" >&2
    status=1
  fi
  arena=$(grep -o 'RESNET8_ARENA_BYTES [0-9]*' "$src/resnet8_model.h" | cut -d' ' -f2)
  macs=$(grep -o '[0-9]* multiply-accumulates \*/' "$src/resnet8_model.c" | awk '{n += $1} END {print n + 0}')
  printf '%-10s %-12s %8d %8d %7d %7d %12d %12s %9d %d/%d identical to the host\n' "$model" "$build" "$flash" \
    $((ram + stack)) "$arena" "$stack" "$instructions" "$cycles" "$macs" "$same" "$images" | tee -a "$summary"
}

# profile MODEL BUILD: estimated cycles per kernel call (with its multiply-accumulates, from the generated
# calls' comments) and the functions that take more than 0.5 % of them.
profile() {
  local dir=$out/$1_$2
  echo "$1, $2: per kernel call"
  grep -E '^  r8_[a-z_]+\(' "$out/$1_c/resnet8_model.c" | awk '{n = 0; if (match($0, /[0-9]+ multiply-accumulates/)) n = substr($0, RSTART, RLENGTH) + 0; print n}' >"$dir/macs.txt"
  awk 'NR == FNR {macs[FNR - 1] = $1; next}
       $1 == "cycles" {total = $2}
       $1 == "call" {m = macs[$2]; printf "  %4d %-20s %11d est. cycles %11d instructions %9d MACs %s\n", $2, $3, $4, $5, m,
                     m ? sprintf("%5.2f cycles/MAC", $4 / m) : ""}' "$dir/macs.txt" "$dir/cycles.txt"
  echo "$1, $2: per function (over 0.5 % of the cycles)"
  awk '$1 == "cycles" {total = $2} $1 == "function" && $3 > total / 200 {
         printf "  %-28s %11d est. cycles %5.1f %%  %11d instructions\n", $2, $3, 100 * $3 / total, $4}' "$dir/cycles.txt"
}

step "host scores (resnet8-eval on each .tflite, the first $images test images)"
for model in default 4-bit reference; do
  "$BUILD_DIR/resnet8-eval" -m "$out/$model.tflite" --limit "$images" --threads 2 --scores "$out/$model.host.txt" >/dev/null
done
step "Cortex-M4 builds in QEMU mps2-an386, $images images each (arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion))"
echo "$header"
for model in default 4-bit reference; do
  build_and_run "$model" dsp-Os -Os
  build_and_run "$model" dsp-O2 -O2
  build_and_run "$model" portable-Os -Os -DR8_NO_DSP
done
echo "(flash: text + data of the model's objects; ram: their data + bss, the arena included, + the measured stack;"
echo " instructions: per inference, mean over the images; est_cycles: Cortex-M4 cycles estimated from the"
echo " Technical Reference Manual's timings at zero wait states, docs/MICRO.md: not a board's measured cycles)"
step "other cores, $images images each: M7 (mps2-an500) and M33 (mps2-an505) with the DSP variant, M55 (mps3-an547) with the MVE variant and, for comparison, without (-DR8_NO_MVE)"
for c in m7 m33 m55; do
  use_core $c
  variants_on_core
done
echo "$header"
for c in m7 m33 m55; do
  use_core $c
  for model in default 4-bit reference; do
    if [[ $c == m55 ]]; then
      build_and_run "$model" m55-mve-Os -Os
      build_and_run "$model" m55-mve-O2 -O2
      build_and_run "$model" m55-dsp-Os -Os -DR8_NO_MVE
    else
      build_and_run "$model" "$c-dsp-Os" -Os
    fi
  done
done
echo "(est_cycles: the Cortex-M4 model for the M4 and the M33, plus its Helium rule for the M55, coarse estimates;"
echo " '-': instructions only, docs/MICRO.md)"
use_core m4
step "where the cycles go (DSP builds at -Os; $out/*/cycles.txt has every build)"
for model in default 4-bit reference; do profile "$model" dsp-Os; done | tee "$out/profile.txt"
step "where the Cortex-M55's estimated cycles go (MVE builds at -Os)"
for model in default 4-bit reference; do profile "$model" m55-mve-Os; done | tee "$out/profile_m55.txt"
if ((status)); then echo "mcu.sh: FAILED" >&2; else echo "mcu: all builds identical to the host"; fi
exit $status
