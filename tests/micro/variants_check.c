/* Every faster variant of the C kernels against the portable reference, on the same random inputs: built into
 * the host's unit tests (tests/test_micro_variants.cpp; the arm_dsp variant in C, its instructions emulated) and
 * for Cortex-M cores in QEMU (scripts/mcu.sh; the arm_dsp variant's assembly, and on a core with Helium the arm_mve
 * variant). Both builds compile every variant they can (R8_ALL_VARIANTS). Plain C99, static buffers, no malloc.
 *
 * Checks:
 *   requant   r8_requant_fast against TFLM's r8_mbqm: edge operands (0, +-1, +-(2^30 - 1), +-2^29, powers of
 *             two, multipliers 0, 2^30, 2^31 - 1) at every shift -31..0, then `requant_cases` random ones;
 *   add       r8_add_fast_element against r8_add_element for all 65,536 input pairs of random ADD parameters;
 *   conv      r8_conv_arm_dsp (and r8_conv_arm_mve) against r8_conv_reference on `conv_cases` random layers: 1..3
 *             x 1..3 kernels, strides 1..2, any padding, 1..20 input and 1..16 output channels (odd, even, half
 *             the layers a multiple of 4), int8 and int4, with and without a fused ADD, fast and general
 *             requantization, and int4 rows longer than 4,096 inputs (the DSP variant's long path);
 *   MVE only  the assembly's requantization at the rounding division's ties of both signs for every shift 0..-31,
 *             and random ones; its ADD for all 65,536 input pairs of random parameters and of a shift of 0;
 *             r8_fully_connected_arm_mve against the reference on `conv_cases` random layers: depth 1..80, 1..12
 *             outputs, int8 and int4, per channel and per tensor, one with unaligned weights; r8_mean_arm_mve
 *             against the reference on `conv_cases` random shapes (1..10 x 1..10 x 1..48); r8_avgpool_arm_mve on
 *             as many random pools (filters 1..4, strides 1..3, windows partly outside the image). */
#include "variants_check.h"

#include <string.h>

#include "r8_arm_dsp.h"
#if defined(__ARM_FEATURE_MVE)
#include "r8_arm_mve.h"
#endif
#include "r8_kernels.h"
#include "r8_variants.h"

static uint32_t state;
static uint32_t next(void) { /* xorshift32 */
  state ^= state << 13;
  state ^= state >> 17;
  state ^= state << 5;
  return state;
}
static int32_t between(int32_t lo, int32_t hi) { return lo + (int32_t)(next() % (uint32_t)(hi - lo + 1)); }

static int fail(r8_check_report report, const char* what, int32_t a, int32_t b, int32_t got, int32_t want) {
  char line[160];
  int n = 0;
  const char* s;
  int32_t v[4];
  int i;
  v[0] = a, v[1] = b, v[2] = got, v[3] = want;
  for (s = what; *s && n < 80; ++s) line[n++] = *s;
  for (i = 0; i < 4; ++i) { /* " %d" without printf, for any C library */
    char digits[12];
    int d = 0;
    uint32_t u = v[i] < 0 ? 0u - (uint32_t)v[i] : (uint32_t)v[i];
    line[n++] = ' ';
    if (v[i] < 0) line[n++] = '-';
    do digits[d++] = (char)('0' + u % 10u), u /= 10u;
    while (u);
    while (d) line[n++] = digits[--d];
  }
  line[n] = '\0';
  if (report) report(line);
  return 1;
}

static int requant_one(r8_check_report report, int32_t x, int32_t m, int32_t shift) {
  const r8_requant q = r8_requant_of(m, shift);
  const int32_t got = r8_requant_fast(x, &q), want = r8_mbqm(x, m, shift);
  return got == want ? 0 : fail(report, "requant (x, multiplier, got, want)", x, m, got, want);
}

static int check_requant(r8_check_report report, int32_t cases) {
  static const int32_t xs[] = {0,
                               1,
                               -1,
                               2,
                               -2,
                               3,
                               -3,
                               (1 << 30) - 1,
                               -(1 << 30) + 1,
                               1 << 29,
                               -(1 << 29),
                               (1 << 29) + 1,
                               -(1 << 29) - 1,
                               12345,
                               -12345,
                               65536,
                               -65536,
                               1 << 20,
                               -(1 << 20)};
  static const int32_t ms[] = {0, 1 << 30, 0x7FFFFFFF, (1 << 30) + 1, 1518500250, 1 << 30 | 12345};
  int failures = 0;
  int32_t shift, i, j;
  for (shift = -31; shift <= 0; ++shift) {
    for (i = 0; i < (int32_t)(sizeof xs / sizeof xs[0]); ++i) {
      for (j = 0; j < (int32_t)(sizeof ms / sizeof ms[0]); ++j) failures += requant_one(report, xs[i], ms[j], shift);
    }
  }
  for (i = 0; i < cases && failures < 10; ++i) {
    const int32_t bits = between(1, 30); /* operands of every magnitude below 2^30 */
    const int32_t x = (int32_t)(next() & ((1u << bits) - 1u)) * (next() & 1 ? -1 : 1);
    failures += requant_one(report, x, (int32_t)(0x40000000u | (next() >> 2)), between(-31, 0));
  }
  return failures;
}

#if R8_HAS_MVE
/* r8_mve_requant_rows (the assembly) against r8_mbqm and the clamp, on one group: four channels of two pixels,
 * `xs` their sums interleaved (a0 b0 a1 b1 ...), one multiplier and shift for all. */
static int mve_requant_group(r8_check_report report, const int32_t* xs, int32_t m, int32_t shift) {
  int32_t ms[4], shifts[4], i;
  int8_t out[8];
  r8_mve_requant_job job;
  for (i = 0; i < 4; ++i) ms[i] = m, shifts[i] = shift;
  job.sums = xs, job.multiplier = ms, job.shift = shifts, job.out = out, job.step = 4, job.groups = 1;
  job.offset = 0, job.act_min = -128, job.act_max = 127;
  r8_mve_requant_rows(&job);
  for (i = 0; i < 8; ++i) { /* out[i]: pixel i / 4, channel i % 4 */
    const int32_t x = xs[2 * (i % 4) + i / 4], want = r8_clamp(r8_mbqm(x, m, shift), -128, 127);
    if (out[i] != want) return fail(report, "mve requant (x, shift, got, want)", x, shift, out[i], want);
  }
  return 0;
}

/* The rounding division by 2^e at its ties, of both signs, for every e in 0..31: x = k 2^e + r for r around 0 and
 * +-2^(e-1), through the multiplier 2^31 - 1 (SaturatingRoundingDoublingHighMul(x, 2^31 - 1) = x for |x| < 2^30);
 * then `cases` random groups (any multiplier of the form TFLM makes, results around the int8 range). */
static int check_mve_requant(r8_check_report report, int32_t cases) {
  static const int32_t ks[] = {-100, -3, -2, -1, 0, 1, 2, 3, 100};
  int failures = 0;
  int32_t e, k, r, i, j;
  for (e = 0; e <= 31; ++e) {
    const long long half = e ? 1LL << (e - 1) : 0;
    const long long rs[8] = {-half - 1, -half, -half + 1, -1, 0, 1, half - 1, half};
    for (k = 0; k < (int32_t)(sizeof ks / sizeof ks[0]); ++k) {
      int32_t xs[8];
      for (r = 0; r < 8; ++r) {
        const long long x = ks[k] * (1LL << e) + rs[r];
        xs[r] = x > -(1LL << 30) && x < (1LL << 30) ? (int32_t)x : (int32_t)rs[r];
      }
      failures += mve_requant_group(report, xs, 0x7FFFFFFF, -e);
    }
  }
  for (i = 0; i < cases / 8 && failures < 10; ++i) {
    const int32_t shift = between(-31, 0), m = (int32_t)(0x40000000u | (next() >> 2));
    int32_t xs[8];
    for (j = 0; j < 8; ++j) {
      const long long x = (long long)(int32_t)next() >> (shift + 31 > 22 ? 0 : 22 - (shift + 31));
      xs[j] = (int32_t)x;
    }
    failures += mve_requant_group(report, xs, m, shift);
  }
  return failures;
}
#endif

static r8_add_params random_add(void) {
  r8_add_params a;
  memset(&a, 0, sizeof a);
  a.input1_offset = between(-127, 128), a.input2_offset = between(-127, 128), a.output_offset = between(-128, 127);
  a.left_shift = 20;
  a.input1_multiplier = (int32_t)(0x40000000u | (next() >> 2)), a.input1_shift = between(-12, 0);
  a.input2_multiplier = (int32_t)(0x40000000u | (next() >> 2)), a.input2_shift = between(-12, 0);
  a.output_multiplier = (int32_t)(0x40000000u | (next() >> 2)), a.output_shift = between(-24, -8);
  a.act_min = between(-128, 0), a.act_max = between(0, 127);
  return a;
}

static int check_add(r8_check_report report, int32_t param_sets) {
  int failures = 0;
  int32_t n, x, y;
  for (n = 0; n < param_sets; ++n) {
    const r8_add_params a = random_add();
    r8_add_fast f;
    if (!r8_add_fast_of(&a, &f))
      return fail(report, "add: the short form refused TFLM's usual parameters (set)", n, 0, 0, 0);
    for (x = -128; x < 128; ++x) {
      for (y = -128; y < 128; ++y) {
        const int32_t got = r8_add_fast_element(&f, x, y), want = r8_add_element(&a, x, y);
        if (got != want && failures < 10) failures += fail(report, "add (input1, input2, got, want)", x, y, got, want);
      }
    }
  }
  return failures;
}

#if R8_HAS_MVE
/* r8_mve_add_rows (the assembly) against r8_add_element for all 65,536 input pairs of random ADD parameters, and of
 * parameters with a shift of 0. */
static int check_mve_add(r8_check_report report, int32_t param_sets) {
  static int8_t first[256], second[256], out[256];
  int failures = 0;
  int32_t n, x, y;
  for (n = 0; n < param_sets + 1; ++n) {
    r8_add_params a = random_add();
    r8_mve_add_job job;
    if (n == param_sets) a.input1_shift = 0, a.input1_multiplier = 0x7FFFFFFF; /* the edge r8_mve_add_takes allows */
    if (!r8_mve_add_takes(&a)) return fail(report, "mve add: refused TFLM's usual parameters (set)", n, 0, 0, 0);
    job.input1 = first, job.input2 = second, job.out = out, job.groups = 64, job.add = &a;
    for (x = -128; x < 128; ++x) {
      for (y = 0; y < 256; ++y) first[y] = (int8_t)x, second[y] = (int8_t)(y - 128);
      r8_mve_add_rows(&job);
      for (y = 0; y < 256 && failures < 10; ++y) {
        const int32_t want = r8_add_element(&a, x, y - 128);
        if (out[y] != want) failures += fail(report, "mve add (input1, input2, got, want)", x, y - 128, out[y], want);
      }
    }
  }
  return failures;
}
#endif

/* Room for the largest layer drawn below (the long int4 one). */
enum {
  kMaxInput = 4800,
  kMaxOutput = 12 * 12 * 16,
  kMaxWeights = 2 * 4800 + 64,
  kMaxChannels = 16,
  kMaxScratch = 40000
};
static int8_t input[kMaxInput], residual[kMaxOutput], want[kMaxOutput], got[kMaxOutput];
static int8_t weights[kMaxWeights] __attribute__((aligned(4))); /* as the generated C aligns them (R8_ALIGNED) */
static int8_t scratch[kMaxScratch] __attribute__((aligned(8)));
static int32_t bias[kMaxChannels], multiplier[kMaxChannels], shift[kMaxChannels];

/* A random layer in `p`; `long_int4`: an int4 layer of 3 x 3 x 464 inputs a row (a stride of 4,176). */
static void random_conv(r8_conv_params* p, r8_add_params* add, int long_int4) {
  const int32_t c = long_int4 ? 464 : between(1, 20), k = long_int4 ? 3 : between(1, 3),
                kw = long_int4 ? 3 : between(1, 3);
  const int32_t stride_h = between(1, 2), stride_w = between(1, 2), same = between(0, 1);
  const int32_t h = long_int4 ? 3 : between(k, 12), w = long_int4 ? 3 : between(kw, 12);
  const int32_t oh = same ? (h + stride_h - 1) / stride_h : (h - k) / stride_h + 1;
  const int32_t ow = same ? (w + stride_w - 1) / stride_w : (w - kw) / stride_w + 1;
  int32_t i;
  memset(p, 0, sizeof *p);
  p->input.height = h, p->input.width = w, p->input.channels = c;
  p->output.height = oh, p->output.width = ow;
  /* half the layers with a multiple of 4 channels, as the arm_mve variant takes */
  p->output.channels = long_int4 ? 2 : between(0, 1) ? 4 * between(1, kMaxChannels / 4) : between(1, kMaxChannels);
  p->kernel_h = k, p->kernel_w = kw, p->stride_h = stride_h, p->stride_w = stride_w;
  p->pad_top = same ? ((oh - 1) * stride_h + k - h) / 2 : 0;
  p->pad_left = same ? ((ow - 1) * stride_w + kw - w) / 2 : 0;
  p->input_offset = between(-127, 128), p->output_offset = between(-128, 127);
  p->act_min = between(-128, 0), p->act_max = between(0, 127);
  p->weights_int4 = long_int4 ? 1 : between(0, 1);
  p->fast_requant = between(0, 3) != 0;
  for (i = 0; i < h * w * c; ++i) input[i] = (int8_t)next();
  for (i = 0; i < kMaxWeights; ++i) weights[i] = (int8_t)next(); /* any bytes are a valid layout */
  for (i = 0; i < p->output.channels; ++i) {
    bias[i] = between(-20000, 20000);
    multiplier[i] = (int32_t)(0x40000000u | (next() >> 2));
    shift[i] = p->fast_requant ? between(-14, -6) : between(-14, 1);
  }
  for (i = 0; i < oh * ow * p->output.channels; ++i) residual[i] = (int8_t)next();
  p->weights = weights, p->bias = bias, p->multiplier = multiplier, p->shift = shift;
  if (between(0, 2) == 0) *add = random_add(), p->add = add, p->add_input = between(1, 2);
}

/* The first byte at or after `bytes` that a kernel changed in the scratch (filled with 0x5A before it ran), or
 * -1: each variant must stay within the scratch it asks for, which the arena plan reserves. */
static int32_t past_scratch(int32_t bytes) {
  int32_t i;
  for (i = bytes; i < kMaxScratch; ++i) {
    if (scratch[i] != 0x5A) return i;
  }
  return -1;
}

typedef void (*conv_fn)(const r8_conv_params*, const int8_t*, int8_t*, int8_t*);

/* Runs one variant on case `n` into `got` (the residual first) and compares it with `want`; `bytes` is the
 * scratch it may use. */
static int run_conv(r8_check_report report, const char* name, conv_fn fn, int32_t bytes, const r8_conv_params* p,
                    int32_t n, int8_t* out) {
  const int32_t size = p->output.height * p->output.width * p->output.channels;
  int32_t i;
  memcpy(out, residual, (size_t)size); /* a fused ADD reads the residual from the output */
  memset(scratch, 0x5A, sizeof scratch);
  fn(p, input, out, scratch);
  if ((i = past_scratch(bytes)) >= 0) return fail(report, name, n, i, -1, bytes);
  if (out == want) return 0;
  for (i = 0; i < size; ++i) {
    if (got[i] != want[i]) return fail(report, "conv (case, element, got, want)", n, i, got[i], want[i]);
  }
  return 0;
}

static int check_conv(r8_check_report report, int32_t cases) {
  int failures = 0;
  int32_t n;
  for (n = 0; n < cases && failures < 10; ++n) {
    r8_conv_params p;
    r8_add_params add;
    random_conv(&p, &add, n == 0);
    if (r8_conv_scratch_bytes(&p) > kMaxScratch)
      return fail(report, "conv: the test's scratch is too small (case, bytes)", n, r8_conv_scratch_bytes(&p), 0, 0);
    if (run_conv(report, "conv: the reference wrote past its scratch (case, byte, -1, bytes)", r8_conv_reference,
                 r8_conv_scratch_bytes_reference(&p), &p, n, want))
      return failures + 1;
    failures += run_conv(report, "conv: arm_dsp wrote past its scratch (case, byte, -1, bytes)", r8_conv_arm_dsp,
                         r8_conv_scratch_bytes_arm_dsp(&p), &p, n, got);
#if R8_HAS_MVE /* layers it does not take go to arm_dsp, within the scratch the arena reserves */
    failures += run_conv(report, "conv: arm_mve wrote past its scratch (case, byte, -1, bytes)", r8_conv_arm_mve,
                         r8_conv_scratch_bytes(&p), &p, n, got);
#endif
  }
  return failures;
}

#if R8_HAS_MVE
/* Case n: the first of `size` elements where `got` differs from `want`, reported (1), or 0. */
static int first_difference(r8_check_report report, const char* what, int32_t n, int32_t size) {
  int32_t i;
  for (i = 0; i < size; ++i) {
    if (got[i] != want[i]) return fail(report, what, n, i, got[i], want[i]);
  }
  return 0;
}

/* A random FULLY_CONNECTED layer: depth 1..80 (filter strides that are and are not a multiple of 16), 1..12 outputs
 * (odd and even), int8 and int4, per channel and per tensor, any weight bytes (the rows' padding included);
 * `unaligned`: weights off a 4-byte boundary (the variant's plain path). */
static void random_fc(r8_fully_connected_params* p, int unaligned) {
  int32_t i;
  memset(p, 0, sizeof *p);
  p->input_depth = between(1, 80), p->output_depth = between(1, 12);
  p->input_offset = between(-127, 128), p->output_offset = between(-128, 127);
  p->act_min = between(-128, 0), p->act_max = between(0, 127);
  p->weights_int4 = between(0, 3) == 0, p->per_channel = between(0, 1);
  for (i = 0; i < p->input_depth; ++i) input[i] = (int8_t)next();
  for (i = 0; i < kMaxWeights; ++i) weights[i] = (int8_t)next();
  for (i = 0; i < p->output_depth; ++i) {
    bias[i] = between(-20000, 20000);
    multiplier[i] = (int32_t)(0x40000000u | (next() >> 2));
    shift[i] = between(-16, -8);
  }
  p->weights = weights + unaligned, p->bias = bias, p->multiplier = multiplier, p->shift = shift;
}

/* r8_mean_arm_mve against r8_mean_reference on `cases` random shapes: 1..10 x 1..10 inputs of 1..48 channels (a
 * multiple of 4 or not; within kMaxInput), random zero points and requantizations. */
static int check_mve_mean(r8_check_report report, int32_t cases) {
  int failures = 0;
  int32_t n, i;
  for (n = 0; n < cases && failures < 10; ++n) {
    r8_mean_params p;
    p.input.height = between(1, 10), p.input.width = between(1, 10), p.input.channels = between(1, 48);
    p.input_zero_point = between(-128, 127), p.output_zero_point = between(-128, 127);
    p.multiplier = (int32_t)(0x40000000u | (next() >> 2)), p.shift = between(-12, 0);
    for (i = 0; i < p.input.height * p.input.width * p.input.channels; ++i) input[i] = (int8_t)next();
    r8_mean_reference(&p, input, want);
    r8_mean_arm_mve(&p, input, got);
    failures += first_difference(report, "mve mean (case, channel, got, want)", n, p.input.channels);
  }
  return failures;
}

/* r8_avgpool_arm_mve against r8_avgpool_reference on `cases` random pools: 1..10 x 1..10 inputs of 1..23
 * channels (the outputs within kMaxOutput), 1..4 x 1..4 filters, strides 1..3, any padding (windows partly outside the
 * image), random activation ranges. */
static int check_mve_avgpool(r8_check_report report, int32_t cases) {
  int failures = 0;
  int32_t n, i;
  for (n = 0; n < cases && failures < 10; ++n) {
    r8_avgpool_params p;
    p.input.height = between(1, 10), p.input.width = between(1, 10), p.input.channels = between(1, 23);
    p.filter_h = between(1, 4), p.filter_w = between(1, 4), p.stride_h = between(1, 3), p.stride_w = between(1, 3);
    p.pad_top = between(0, p.filter_h - 1), p.pad_left = between(0, p.filter_w - 1);
    p.output.height = (p.input.height + 2 * p.pad_top - p.filter_h) / p.stride_h + 1;
    p.output.width = (p.input.width + 2 * p.pad_left - p.filter_w) / p.stride_w + 1;
    p.output.channels = p.input.channels;
    p.act_min = between(-128, 0), p.act_max = between(0, 127);
    if (p.output.height < 1 || p.output.width < 1) continue;
    for (i = 0; i < p.input.height * p.input.width * p.input.channels; ++i) input[i] = (int8_t)next();
    r8_avgpool_reference(&p, input, want);
    r8_avgpool_arm_mve(&p, input, got);
    failures += first_difference(report, "mve average pool (case, element, got, want)", n,
                                 p.output.height * p.output.width * p.output.channels);
  }
  return failures;
}

/* r8_fully_connected_arm_mve against r8_fully_connected_reference on `cases` random layers, the second unaligned. */
static int check_mve_fc(r8_check_report report, int32_t cases) {
  int failures = 0;
  int32_t n;
  for (n = 0; n < cases && failures < 10; ++n) {
    r8_fully_connected_params p;
    random_fc(&p, n == 1);
    r8_fully_connected_reference(&p, input, want);
    r8_fully_connected_arm_mve(&p, input, got);
    failures += first_difference(report, "mve fully connected (case, output, got, want)", n, p.output_depth);
  }
  return failures;
}
#endif

int r8_variants_check(uint32_t seed, int32_t requant_cases, int32_t add_sets, int32_t conv_cases,
                      r8_check_report report) {
  state = seed ? seed : 1u;
  int failures = check_requant(report, requant_cases) + check_add(report, add_sets);
#if R8_HAS_MVE
  failures += check_mve_requant(report, requant_cases) + check_mve_add(report, add_sets);
  failures += check_mve_fc(report, conv_cases) + check_mve_mean(report, conv_cases);
  failures += check_mve_avgpool(report, conv_cases);
#endif
  return failures + check_conv(report, conv_cases);
}
