// The C99 integer kernels (<resnet8/micro/>) against independent arithmetic: the fixed-point helpers
// against exact long-double rounding and the functions they approximate, the kernels against float
// requantization (TFLM's double rounding may differ from it by one step, never more) and against each
// other (packed int4 and int8 weights holding the same integers). Bit-exactness against TFLM itself is
// tests/test_tflite_cli.py's job, on real images.
#include <resnet8/micro/r8_fixedpoint.h>
#include <resnet8/micro/r8_kernels.h>
#include <resnet8/micro/r8_variants.h>
#include <resnet8/program/prepare.h>

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

constexpr long double kTwo31 = 2147483648.0L;

// Round half away from zero, as gemmlowp rounds; long double holds every int64 product exactly on x86-64.
int64_t round_away(long double x) { return std::llround(x); }

std::vector<int8_t> random_int8(std::mt19937& rng, size_t n, int lo = -128, int hi = 127) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<int8_t> v(n);
  for (auto& x : v) x = static_cast<int8_t>(d(rng));
  return v;
}

}  // namespace

TEST_CASE("r8_srdhm and r8_rdbpot round as gemmlowp: half away from zero, the one overflow saturated") {
  CHECK(r8_srdhm(INT32_MIN, INT32_MIN) == INT32_MAX);
  CHECK(r8_rdbpot(-3, 1) == -2);  // -1.5
  CHECK(r8_rdbpot(3, 1) == 2);    // 1.5
  CHECK(r8_rdbpot(-5, 2) == -1);  // -1.25
  std::mt19937 rng(1);
  std::uniform_int_distribution<int32_t> any(INT32_MIN, INT32_MAX);
  for (int i = 0; i < 100000; ++i) {
    const int32_t a = any(rng), b = any(rng);
    if (a == INT32_MIN && b == INT32_MIN) continue;
    REQUIRE(r8_srdhm(a, b) == round_away(static_cast<long double>(int64_t{a} * b) / kTwo31));
    const int e = static_cast<int>(static_cast<uint32_t>(b) % 31);
    REQUIRE(r8_rdbpot(a, e) == round_away(std::ldexp(static_cast<long double>(a), -e)));
  }
}

TEST_CASE("quantize_multiplier: a Q0.31 significand in [2^30, 2^31) and a shift that give the multiplier back") {
  int32_t m = 0;
  int shift = 0;
  resnet8::quantize_multiplier(0.5, &m, &shift);
  CHECK((m == (1 << 30) && shift == 0));
  resnet8::quantize_multiplier(1.0, &m, &shift);
  CHECK((m == (1 << 30) && shift == 1));
  resnet8::quantize_multiplier(0.0, &m, &shift);
  CHECK((m == 0 && shift == 0));
  resnet8::quantize_multiplier(1e-12, &m, &shift);  // below 2^-32: flushed to zero as TFLM flushes it
  CHECK((m == 0 && shift == 0));
  std::mt19937 rng(2);
  std::uniform_real_distribution<double> exponent(-20, 10);
  for (int i = 0; i < 10000; ++i) {
    const double real = std::pow(2.0, exponent(rng));
    resnet8::quantize_multiplier(real, &m, &shift);
    REQUIRE(m >= (1 << 30));
    REQUIRE(std::fabs(std::ldexp(static_cast<double>(m), shift - 31) - real) <= std::ldexp(real, -30));
  }
}

TEST_CASE("r8_mbqm: x times the real multiplier, within one step of exact rounding (double rounding)") {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int32_t> acc(-(1 << 20), 1 << 20);
  std::uniform_real_distribution<double> exponent(-16, 2);
  int exact = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double real = std::pow(2.0, exponent(rng));
    int32_t m = 0;
    int shift = 0;
    resnet8::quantize_multiplier(real, &m, &shift);
    const int32_t x = acc(rng);
    const long double want = static_cast<long double>(x) * std::ldexp(static_cast<long double>(m), shift - 31);
    const int64_t got = r8_mbqm(x, m, shift);
    REQUIRE(std::llabs(got - round_away(want)) <= 1);
    exact += got == round_away(want);
  }
  CHECK(exact > n * 95 / 100);  // the second rounding changes a result only near halves (3 % here)
}

TEST_CASE("r8_exp_neg_q5 and r8_reciprocal: exp(x) for x <= 0 and 1/x to within 2^-21") {
  CHECK(r8_exp_neg_q5(0) == INT32_MAX);
  for (double x = -31.9; x < 0; x += 0.01) {
    const auto q5 = static_cast<int32_t>(std::lround(x * (1 << 26)));
    const double got = static_cast<double>(r8_exp_neg_q5(q5)) / static_cast<double>(kTwo31);
    REQUIRE(std::fabs(got - std::exp(static_cast<double>(q5) / (1 << 26))) < std::ldexp(1.0, -21));
  }
  for (double v = 1.0; v < 4000; v *= 1.013) {  // a sum of exps in Q12.19, as softmax holds it
    const auto q12 = static_cast<int32_t>(std::lround(v * (1 << 19)));
    int bits_over_unit = 0;
    const int32_t r = r8_reciprocal(q12, 12, &bits_over_unit);
    const double got = std::ldexp(static_cast<double>(r) / static_cast<double>(kTwo31), -bits_over_unit);
    const double want = 1.0 / (static_cast<double>(q12) / (1 << 19));
    REQUIRE(std::fabs(got - want) < std::ldexp(want, -24) + std::ldexp(1.0, -30));
  }
}

TEST_CASE("r8_softmax: int8 probabilities within one step of the float softmax; TFLM's output grid") {
  const float input_scale = 0.0625f;  // the reference model's logits are on a grid of this order
  r8_softmax_params p{};
  p.rows = 1;
  p.depth = 10;
  int shift = 0;
  resnet8::quantize_multiplier(static_cast<double>(input_scale) * (1 << 26), &p.input_multiplier, &shift);
  p.input_left_shift = shift;
  p.diff_min = -static_cast<int32_t>(std::floor(31.0 * (1 << 26) / std::ldexp(1.0, shift)));
  std::mt19937 rng(4);
  for (int i = 0; i < 2000; ++i) {
    const auto logits = random_int8(rng, 10);
    std::vector<int8_t> out(10);
    r8_softmax(&p, logits.data(), out.data());
    const int max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (const int8_t l : logits) sum += std::exp(input_scale * (l - max));
    for (int c = 0; c < 10; ++c) {
      const double want = std::exp(input_scale * (logits[c] - max)) / sum * 256 - 128;
      REQUIRE(std::fabs(out[c] - std::min(want, 127.0)) <= 1.0);
    }
  }
}

namespace {

// The kernels' weight layout (r8_kernels.h), written from its description: each channel's row padded to a
// multiple of 8 weights, the rows of channel pairs interleaved by 4-byte units (a lone last row after them);
// int4: a unit of 8 weights as nibbles w + 8, (byte, high nibble) of weight k = kPlace[k].
std::vector<int8_t> kernel_layout(const std::vector<int8_t>& w, int channels, bool int4) {
  static const int kPlace[8][2] = {{0, 0}, {0, 1}, {2, 0}, {2, 1}, {1, 0}, {1, 1}, {3, 0}, {3, 1}};
  const int n = static_cast<int>(w.size()) / channels, stride = (n + 7) / 8 * 8, row_bytes = int4 ? stride / 2 : stride;
  std::vector<int8_t> out(static_cast<size_t>(channels * row_bytes), int4 ? int8_t{-120} : int8_t{0});  // 0x88
  const auto at = [&](int c, int b) -> int8_t& {
    const int pair = c / 2 * 2 * row_bytes;
    const bool alone = c == channels - 1 && channels % 2 == 1;
    return out[static_cast<size_t>(alone ? pair + b : pair + b / 4 * 8 + c % 2 * 4 + b % 4)];
  };
  for (int c = 0; c < channels; ++c) {
    for (int i = 0; i < n; ++i) {
      const int8_t v = w[static_cast<size_t>(c * n + i)];
      if (!int4) {
        at(c, i) = v;
        continue;
      }
      int8_t& byte = at(c, i / 8 * 4 + kPlace[i % 8][0]);
      const int high = kPlace[i % 8][1], nibble = v + 8;
      byte = static_cast<int8_t>(high ? (byte & 0x0F) | nibble << 4 : (byte & 0xF0) | nibble);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("r8_weight_at reads the kernels' int8 and int4 layouts back, odd and even channel counts") {
  std::mt19937 rng(7);
  for (const int channels : {3, 4}) {
    const auto w = random_int8(rng, channels * 27, -8, 7);  // 27 a channel, as the stem: rows padded to 32
    const auto w8 = kernel_layout(w, channels, false), w4 = kernel_layout(w, channels, true);
    CHECK(w8.size() == static_cast<size_t>(channels * 32));
    CHECK(w4.size() == static_cast<size_t>(channels * 16));
    for (int c = 0; c < channels; ++c) {
      for (int i = 0; i < 27; ++i) {
        REQUIRE(r8_weight_at(w8.data(), 0, channels, 32, c, i) == w[static_cast<size_t>(c * 27 + i)]);
        REQUIRE(r8_weight_at(w4.data(), 1, channels, 32, c, i) == w[static_cast<size_t>(c * 27 + i)]);
      }
      for (int i = 27; i < 32; ++i) REQUIRE(r8_weight_at(w4.data(), 1, channels, 32, c, i) == 0);
    }
  }
}

TEST_CASE("r8_conv: float requantization to one step; int4 weights as int8; a fused ADD as the ADD after it") {
  std::mt19937 rng(5);
  r8_conv_params p{};
  p.input = {9, 9, 5};
  p.output = {5, 5, 6};  // 3x3, stride 2, 'same': one row and column of padding after, none before
  p.kernel_h = p.kernel_w = 3;
  p.stride_h = p.stride_w = 2;
  p.input_offset = 17;  // input zero point -17
  p.output_offset = -5;
  p.act_min = -128;
  p.act_max = 127;
  const size_t filter = 3 * 3 * 5;
  const auto input = random_int8(rng, 9 * 9 * 5);
  const auto weights = random_int8(rng, 6 * filter, -8, 7);
  std::vector<int32_t> bias(6), offset_bias(6), multiplier(6), shift(6);
  std::vector<double> real(6);
  for (int c = 0; c < 6; ++c) {
    bias[c] = static_cast<int32_t>(rng() % 2001) - 1000;
    int32_t sum = 0;
    for (size_t i = 0; i < filter; ++i) sum += weights[c * filter + i];
    offset_bias[c] = bias[c] + 17 * sum;  // the kernel's bias: the offset's part of TFLM's sum folded in
    real[c] = 0.002 * (c + 1);
    resnet8::quantize_multiplier(real[c], &multiplier[c], &shift[c]);
  }
  const auto w8 = kernel_layout(weights, 6, false), w4 = kernel_layout(weights, 6, true);
  p.weights = w8.data();
  p.bias = offset_bias.data();
  p.multiplier = multiplier.data();
  p.shift = shift.data();
  r8_conv_params int4 = p;
  int4.weights_int4 = 1;
  std::vector<int8_t> scratch(static_cast<size_t>(r8_conv_scratch_bytes(&int4)));  // int4 needs the most
  std::vector<int8_t> out(5 * 5 * 6), out4(5 * 5 * 6);
  r8_conv(&p, input.data(), out.data(), scratch.data());
  for (int oy = 0; oy < 5; ++oy) {
    for (int ox = 0; ox < 5; ++ox) {
      for (int oc = 0; oc < 6; ++oc) {
        int64_t acc = bias[oc];
        for (int ky = 0; ky < 3; ++ky) {
          for (int kx = 0; kx < 3; ++kx) {
            const int y = oy * 2 + ky, x = ox * 2 + kx;
            if (y >= 9 || x >= 9) continue;  // padding: the input's zero point, which adds nothing
            for (int ic = 0; ic < 5; ++ic) {
              acc += int64_t{weights[((oc * 3 + ky) * 3 + kx) * 5 + ic]} * (input[(y * 9 + x) * 5 + ic] + 17);
            }
          }
        }
        const double want = std::clamp(std::round(static_cast<double>(acc) * real[oc]) - 5, -128.0, 127.0);
        REQUIRE(std::fabs(out[(oy * 5 + ox) * 6 + oc] - want) <= 1.0);
      }
    }
  }
  p.weights = w4.data();
  p.weights_int4 = 1;
  r8_conv(&p, input.data(), out4.data(), scratch.data());
  CHECK(out4 == out);

  r8_add_params add{};  // conv output + residual, as input 2 of the ADD
  add.size = 5 * 5 * 6;
  add.input1_offset = 3;
  add.input2_offset = 5;
  add.output_offset = -128;
  add.left_shift = 20;
  add.input1_multiplier = add.input2_multiplier = 1 << 30;
  add.input1_shift = -1;
  add.input2_shift = -2;
  add.output_multiplier = 1 << 30;
  add.output_shift = -17;
  add.act_min = -128;
  add.act_max = 127;
  const auto residual = random_int8(rng, 5 * 5 * 6);
  std::vector<int8_t> separate(5 * 5 * 6), fused = residual;
  r8_add(&add, residual.data(), out.data(), separate.data());
  p.add = &add;
  p.add_input = 2;
  r8_conv(&p, input.data(), fused.data(), scratch.data());  // in place over the residual
  CHECK(fused == separate);
  CHECK(fused != residual);
}

TEST_CASE("r8_add: the rescaled sum of two int8 tensors within one step of float, fused ReLU clamped") {
  std::mt19937 rng(6);
  const double s1 = 0.05, s2 = 0.11, so = 0.13;
  const int z1 = -3, z2 = 10, zo = -128;
  r8_add_params p{};
  p.size = 4096;
  p.input1_offset = -z1;
  p.input2_offset = -z2;
  p.output_offset = zo;
  p.left_shift = 20;
  const double twice_max = 2 * std::max(s1, s2);
  int32_t m = 0;
  int sh = 0;
  resnet8::quantize_multiplier(s1 / twice_max, &m, &sh);
  p.input1_multiplier = m;
  p.input1_shift = sh;
  resnet8::quantize_multiplier(s2 / twice_max, &m, &sh);
  p.input2_multiplier = m;
  p.input2_shift = sh;
  resnet8::quantize_multiplier(twice_max / ((1 << 20) * so), &m, &sh);
  p.output_multiplier = m;
  p.output_shift = sh;
  p.act_min = zo;  // ReLU: nothing below the real zero
  p.act_max = 127;
  const auto a = random_int8(rng, 4096), b = random_int8(rng, 4096);
  std::vector<int8_t> out(4096);
  r8_add(&p, a.data(), b.data(), out.data());
  for (int i = 0; i < 4096; ++i) {
    const double real = s1 * (a[i] - z1) + s2 * (b[i] - z2);
    const double want = std::clamp(std::round(real / so) + zo, -128.0, 127.0);
    REQUIRE(std::fabs(out[i] - want) <= 1.0);
    REQUIRE(out[i] >= zo);
  }
}
