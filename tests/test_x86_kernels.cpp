// The x86 variants of the convolution (src/micro/x86/: AVX2, AVX-512 VNNI) against the portable reference, each
// level this CPU runs: random layers (the kernel alone, its scratch bounds included) and, in suite "e2e", the
// whole program of the MLPerf Tiny .tflite on real test images, on one core and split over two (SplitWorker). The
// differential test (test_tflm_diff.py) also runs every level against TFLM itself on its random graphs, and c_source
// compares the generated C with resnet8-eval's default.
#include <resnet8/data/cifar10.h>
#include <resnet8/formats/tflite_model.h>
#include <resnet8/micro/r8_conv_x86.h>
#include <resnet8/micro/r8_variants.h>

extern "C" {
#include "r8_x86.h"
}
#include <resnet8/program/host_kernels.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/split_worker.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <random>
#include <vector>

#include "testing.h"

namespace {

using resnet8::HostKernels;

struct Layer {
  r8_conv_params p{};
  r8_add_params add{};
  std::vector<int8_t> weights, input, residual;
  std::vector<int32_t> bias, multiplier, shift;
};

int32_t between(std::mt19937& rng, int32_t lo, int32_t hi) {
  return std::uniform_int_distribution<int32_t>(lo, hi)(rng);
}

// A random layer over everything the kernels take: 1..3 x 1..3 windows, strides 1..2, any padding, 1..70
// channels in and out (one block of 16 and several, counts that are not multiples of 8), int8 and int4, tight
// and full activation ranges, left and right shifts, and a fused ADD either way round; sums small enough for
// the short requantization and too large for it (r8_x86_short_requant), with ADD left shifts around TFLM's 20.
Layer random_layer(std::mt19937& rng) {
  Layer l;
  r8_conv_params& p = l.p;
  p.kernel_h = between(rng, 1, 3), p.kernel_w = between(rng, 1, 3);
  p.stride_h = between(rng, 1, 2), p.stride_w = between(rng, 1, 2);
  p.input = {between(rng, 1, 9), between(rng, 1, 9), between(rng, 1, 70)};
  p.output = {(p.input.height + p.stride_h - 1) / p.stride_h, (p.input.width + p.stride_w - 1) / p.stride_w,
              between(rng, 1, 70)};
  p.pad_top = between(rng, 0, p.kernel_h - 1), p.pad_left = between(rng, 0, p.kernel_w - 1);
  p.input_offset = between(rng, -127, 128), p.output_offset = between(rng, -128, 127);
  p.act_min = between(rng, -128, 0), p.act_max = between(rng, p.act_min, 127);
  p.weights_int4 = between(rng, 0, 3) == 0;
  const int32_t stride = r8_filter_stride(p.kernel_h * p.kernel_w * p.input.channels), oc = p.output.channels;
  l.weights.resize(static_cast<size_t>(oc * (p.weights_int4 ? stride / 2 : stride)));
  for (auto& w : l.weights) w = static_cast<int8_t>(between(rng, -128, 127));
  for (int32_t c = 0; c < oc; ++c) {
    l.bias.push_back(between(rng, 0, 9) == 0 ? between(rng, INT32_MIN / 2, INT32_MAX / 2)
                                             : between(rng, -(1 << 22), 1 << 22));
    l.multiplier.push_back(between(rng, 0, 7) == 0 ? 0 : between(rng, 1 << 30, INT32_MAX));
    l.shift.push_back(between(rng, -20, 6));
  }
  p.weights = l.weights.data(), p.bias = l.bias.data(), p.multiplier = l.multiplier.data(), p.shift = l.shift.data();
  l.input.resize(static_cast<size_t>(p.input.height * p.input.width * p.input.channels));
  for (auto& x : l.input) x = static_cast<int8_t>(between(rng, -128, 127));
  l.residual.resize(static_cast<size_t>(p.output.height * p.output.width * oc));
  for (auto& x : l.residual) x = static_cast<int8_t>(between(rng, -128, 127));
  if (between(rng, 0, 1)) {
    l.add = {0,
             between(rng, -128, 127),
             between(rng, -128, 127),
             between(rng, -128, 127),
             between(rng, 18, 22),
             between(rng, 1 << 30, INT32_MAX),
             between(rng, -8, 0),
             between(rng, 1 << 30, INT32_MAX),
             between(rng, -8, 0),
             between(rng, 1 << 30, INT32_MAX),
             between(rng, -24, -10),
             -128,
             127};
    p.add = &l.add, p.add_input = between(rng, 1, 2);
  }
  return l;
}

// The level's output for the layer, or a description of what went wrong with its memory.
std::vector<int8_t> run_level(const Layer& l, int level, std::string& error) {
  std::vector<int32_t> packed(static_cast<size_t>(r8_conv_x86_packed_words(&l.p, level)));
  r8_conv_x86_pack(&l.p, level, packed.data());
  constexpr int8_t kGuard = 0x5A;
  const size_t scratch = static_cast<size_t>(r8_conv_x86_scratch_bytes(&l.p, level));
  std::vector<int8_t> memory(scratch + 256, kGuard), out = l.residual;
  r8_conv_x86(&l.p, packed.data(), l.input.data(), out.data(), memory.data());
  for (size_t i = scratch; i < memory.size(); ++i) {
    if (memory[i] != kGuard) error = fmt::format("wrote past its scratch of {} bytes, at byte {}", scratch, i);
  }
  return out;
}

std::vector<HostKernels> levels_here() {
  std::vector<HostKernels> out;
  for (auto k : {HostKernels::kAvx2, HostKernels::kAvx512Vnni}) {
    if (resnet8::host_kernels_supported(k)) out.push_back(k);
  }
  std::string names;
  for (auto k : out) names += std::string(names.empty() ? "" : ", ") + resnet8::host_kernels_name(k);
  MESSAGE("x86 levels this CPU runs: ", names.empty() ? "none" : names);
  return out;
}

std::filesystem::path required_path(const char* variable) {
  const char* value = std::getenv(variable);
  REQUIRE_MESSAGE(value != nullptr, variable, " is not set (ctest sets it)");
  REQUIRE_MESSAGE(std::filesystem::exists(value), value, " does not exist: run scripts/setup.sh");
  return value;
}

int level_of(HostKernels k) { return k == HostKernels::kAvx2 ? R8_X86_AVX2 : R8_X86_AVX512_VNNI; }

}  // namespace

TEST_CASE("every x86 level of the convolution gives the reference's integers on 1,500 random layers") {
  std::mt19937 rng(20261205u);
  const auto levels = levels_here();
  int64_t outputs = 0, short_form = 0;
  for (int n = 0; n < 1500; ++n) {
    const Layer l = random_layer(rng);
    REQUIRE(r8_conv_x86_accepts(&l.p));
    short_form += r8_x86_short_requant(&l.p);
    std::vector<int8_t> want = l.residual, scratch(static_cast<size_t>(r8_conv_scratch_bytes_reference(&l.p)));
    r8_conv_reference(&l.p, l.input.data(), want.data(), scratch.data());
    outputs += static_cast<int64_t>(want.size());
    for (HostKernels k : levels) {
      std::string error;
      const std::vector<int8_t> got = run_level(l, level_of(k), error);
      INFO("layer ", n, " on ", std::string(resnet8::host_kernels_name(k)), ": ", l.p.input.channels, " -> ",
           l.p.output.channels, " channels, ", l.p.kernel_h, "x", l.p.kernel_w, ", int4 ", l.p.weights_int4, ", add ",
           l.p.add != nullptr);
      REQUIRE(error.empty());
      REQUIRE(got == want);
    }
  }
  CHECK(outputs > 100000);
  MESSAGE(short_form, " of 1,500 layers in the short requantization");
  CHECK(short_form > 300);
  CHECK(short_form < 1200);
}

TEST_CASE("the x86 requantization is TFLM's MultiplyByQuantizedMultiplier on edge operands, ties included") {
  if (!resnet8::host_kernels_supported(HostKernels::kAvx2)) {
    MESSAGE("this CPU has no AVX2: no x86 level runs here, the reference kernels do");
    return;
  }
  // Ties of the doubling high multiply (x * 2^30 for odd x), of the rounding shift (remainders at half, either
  // sign), the extremes and wrapping left shifts; every shift from -31 to 8.
  const std::vector<int32_t> xs = {0,
                                   1,
                                   -1,
                                   2,
                                   -2,
                                   3,
                                   -3,
                                   5,
                                   -5,
                                   127,
                                   -128,
                                   (1 << 30) - 1,
                                   -(1 << 30) + 1,
                                   1 << 29,
                                   -(1 << 29),
                                   (1 << 29) + 1,
                                   12345,
                                   -12345,
                                   65536,
                                   -65536,
                                   INT32_MAX,
                                   INT32_MIN,
                                   INT32_MIN + 1,
                                   1 << 24,
                                   -(1 << 24) - 7};
  const std::vector<int32_t> ms = {0, 1 << 30, INT32_MAX, (1 << 30) + 1, 1518500250, 1 << 30 | 12345, 1};
  std::vector<int32_t> x, m, s;
  for (int32_t shift = -31; shift <= 8; ++shift) {
    for (int32_t a : xs) {
      for (int32_t b : ms) x.push_back(a), m.push_back(b), s.push_back(shift);
    }
  }
  // The short form takes only |x << left| below 2^30 (r8_x86_short_requant): those cases, apart.
  std::vector<int32_t> sx, sm, ss;
  for (size_t i = 0; i < x.size(); ++i) {
    const int64_t shifted = static_cast<int64_t>(x[i]) * (int64_t{1} << std::max(s[i], 0));
    if (shifted > -(int64_t{1} << 30) && shifted < (int64_t{1} << 30))
      sx.push_back(x[i]), sm.push_back(m[i]), ss.push_back(s[i]);
  }
  for (auto* v : {&x, &m, &s, &sx, &sm, &ss}) v->resize((v->size() + 15) / 16 * 16, 0);
  using Requant = void (*)(const int32_t*, const int32_t*, const int32_t*, int32_t*);
  struct Form {
    const char* name;
    Requant f;
    size_t lanes;
    bool avx512;
    const std::vector<int32_t>&x, &m, &s;
  };
  const Form forms[] = {{"8 lanes", r8_x86_mbqm8, 8, false, x, m, s},
                        {"8 lanes, short form", r8_x86_mbqm8_short, 8, false, sx, sm, ss},
                        {"16 lanes, short form", r8_x86_mbqm16_short, 16, true, sx, sm, ss}};
  const bool avx512 = resnet8::host_kernels_supported(HostKernels::kAvx512Vnni);
  CHECK(sx.size() > 1000);
  for (const Form& form : forms) {
    if (form.avx512 && !avx512) continue;
    int failures = 0;
    for (size_t i = 0; i < form.x.size(); i += form.lanes) {
      int32_t got[16];
      form.f(&form.x[i], &form.m[i], &form.s[i], got);
      for (size_t k = 0; k < form.lanes; ++k) {
        const int32_t want = r8_mbqm(form.x[i + k], form.m[i + k], form.s[i + k]);
        if (got[k] != want && ++failures <= 10) {
          MESSAGE(std::string(form.name), ": x ", form.x[i + k], " multiplier ", form.m[i + k], " shift ",
                  form.s[i + k], ": got ", got[k], ", want ", want);
        }
      }
    }
    CHECK_MESSAGE(failures == 0, std::string(form.name));
  }
}

TEST_CASE("a layer whose multiplier is INT32_MIN is left to the reference kernels") {
  std::mt19937 rng(7u);
  Layer l = random_layer(rng);
  l.multiplier[0] = INT32_MIN;
  CHECK_FALSE(r8_conv_x86_accepts(&l.p));
}

TEST_SUITE("e2e") {
  TEST_CASE("the MLPerf Tiny .tflite on every x86 level, one core or two, gives the reference kernels' scores") {
    const auto tflite = required_path("RESNET8_TFLITE_REFERENCE");
    resnet8::IntegerProgram program = resnet8::prepare_program(resnet8::read_tflite(tflite), tflite.string());
    const auto test =
        resnet8::cifar10::read_split(required_path("RESNET8_DATA_DIR"), resnet8::cifar10::Split::kTest, 1000);
    const auto pixels = test.images.contiguous();  // NHWC uint8
    std::vector<int8_t> images(static_cast<size_t>(pixels.numel())), want(1000 * 10), got(1000 * 10), arena;
    for (size_t i = 0; i < images.size(); ++i) images[i] = static_cast<int8_t>(pixels.data_ptr<uint8_t>()[i] - 128);
    auto run_all = [&](std::vector<int8_t>& out, resnet8::SplitWorker* worker = nullptr) {
      for (size_t i = 0; i < 1000; ++i) run_program(program, &images[i * 3072], &out[i * 10], arena, worker);
    };
    run_all(want);
    for (HostKernels k : levels_here()) {
      CHECK(resnet8::use_host_kernels(program, k) == k);
      CHECK(program.x86_packed.size() == 9);  // every convolution packed
      run_all(got);
      INFO(std::string(resnet8::host_kernels_name(k)));
      CHECK(got == want);
      // One image on two cores: each convolution's rows split with a worker thread.
      resnet8::SplitWorker worker(program.host_scratch_bytes);
      std::fill(got.begin(), got.end(), 0);
      run_all(got, &worker);
      CHECK(got == want);
    }
  }
}
