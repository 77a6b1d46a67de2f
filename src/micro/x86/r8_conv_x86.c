/* CONV_2D, the x86 variants' shared part (r8_x86.h): the choice of level from CPUID, the packing of a layer's
 * weights and tables, the gathering of patches and the loop over tiles of output pixels. Plain C, built for
 * any x86-64; the AVX2 and AVX-512 VNNI steps are in files of their own, built for those instructions and
 * called only when the CPU has them. On other hosts every level is unavailable. */
#include "r8_conv_output.h"
#include "r8_x86.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#define R8_X86_HOST 1
#else
#define R8_X86_HOST 0
#endif

int r8_x86_supported(int level) {
#if R8_X86_HOST
  __builtin_cpu_init();
  switch (level) {
    case R8_X86_AVX2: return __builtin_cpu_supports("avx2");
    case R8_X86_AVX512_VNNI:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("avx512f") &&
             __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512vnni");
    default: return 0;
  }
#else
  (void)level;
  return 0;
#endif
}

int r8_x86_best_level(void) {
  if (r8_x86_supported(R8_X86_AVX512_VNNI)) return R8_X86_AVX512_VNNI;
  if (r8_x86_supported(R8_X86_AVX2)) return R8_X86_AVX2;
  return R8_X86_NONE;
}

static int32_t r8_x86_kp(const r8_conv_params* p) {
  return r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
}
static int32_t r8_x86_blocks(const r8_conv_params* p) { return (p->output.channels + R8_X86_BLOCK - 1) / R8_X86_BLOCK; }
static int32_t r8_x86_pixels(int level) { return level == R8_X86_AVX512_VNNI ? 8 : 4; }

/* Filter bytes: int8 weights in groups of 4 (VNNI) or int16 in pairs (AVX2), 16 channels a group. */
static int32_t r8_x86_filter_bytes(const r8_conv_params* p, int level) {
  return r8_x86_blocks(p) * R8_X86_BLOCK * r8_x86_kp(p) * (level == R8_X86_AVX2 ? 2 : 1);
}

int32_t r8_conv_x86_packed_words(const r8_conv_params* p, int level) {
  return R8_X86_HEADER + R8_X86_TABLES * R8_X86_BLOCK * r8_x86_blocks(p) + (r8_x86_filter_bytes(p, level) + 3) / 4;
}

int32_t r8_conv_x86_scratch_bytes(const r8_conv_params* p, int level) {
  const int32_t pixels = r8_x86_pixels(level);
  return pixels * r8_x86_kp(p) * 3 + pixels * r8_x86_blocks(p) * R8_X86_BLOCK * 4 + 64;
}

/* Whether the x86 steps compute this layer as TFLM does: multipliers that are not INT32_MIN (the one operand of
 * SaturatingRoundingDoublingHighMul they do not saturate) and shifts within -31..31. */
int r8_conv_x86_accepts(const r8_conv_params* p) {
  int32_t oc;
  for (oc = 0; oc < p->output.channels; ++oc) {
    if (p->multiplier[oc] == INT32_MIN || p->shift[oc] < -31 || p->shift[oc] > 31) return 0;
  }
  if (p->add && (p->add->left_shift < 0 || p->add->left_shift > 31 || p->add->input1_shift > 0 ||
                 p->add->input1_shift < -31 || p->add->input2_shift > 0 || p->add->input2_shift < -31 ||
                 p->add->output_shift > 0 || p->add->output_shift < -31 || p->add->input1_multiplier == INT32_MIN ||
                 p->add->input2_multiplier == INT32_MIN || p->add->output_multiplier == INT32_MIN)) {
    return 0;
  }
  return 1;
}

static void r8_x86_pack_filters(const r8_conv_params* p, int level, int32_t* packed) {
  const int32_t kp = r8_x86_kp(p), size = p->kernel_h * p->kernel_w * p->input.channels;
  const int32_t channels = p->output.channels, blocks = r8_x86_blocks(p), stride = r8_filter_stride(size);
  const int32_t group = level == R8_X86_AVX2 ? 2 : 4; /* weights of a channel side by side */
  int8_t* bytes = (int8_t*)r8_x86_filters(packed);
  int16_t* halves = (int16_t*)bytes;
  int32_t* offset = packed + R8_X86_HEADER + R8_X86_OFFSET * R8_X86_BLOCK * blocks;
  int32_t b, k, j;
  memset(bytes, 0, (size_t)r8_x86_filter_bytes(p, level));
  for (b = 0; b < blocks; ++b) {
    for (j = 0; j < R8_X86_BLOCK; ++j) {
      const int32_t oc = b * R8_X86_BLOCK + j;
      int32_t sum = 0;
      for (k = 0; oc < channels && k < size; ++k) {
        const int32_t w = r8_weight_at(p->weights, p->weights_int4, channels, stride, oc, k);
        const int32_t at = ((b * (kp / group) + k / group) * R8_X86_BLOCK + j) * group + k % group;
        if (level == R8_X86_AVX2)
          halves[at] = (int16_t)w;
        else
          bytes[at] = (int8_t)w;
        sum += w;
      }
      offset[oc] = level == R8_X86_AVX512_VNNI ? 128 * sum : 0;
    }
  }
}

void r8_conv_x86_pack(const r8_conv_params* p, int level, int32_t* packed) {
  const int32_t blocks = r8_x86_blocks(p), n = R8_X86_BLOCK * blocks;
  int32_t* t = packed + R8_X86_HEADER;
  int32_t oc;
  memset(packed, 0, (size_t)r8_conv_x86_packed_words(p, level) * 4);
  packed[R8_X86_LEVEL] = level;
  packed[R8_X86_KP] = r8_x86_kp(p);
  packed[R8_X86_BLOCKS] = blocks;
  packed[R8_X86_PIXELS] = r8_x86_pixels(level);
  for (oc = 0; oc < p->output.channels; ++oc) {
    t[R8_X86_BIAS * n + oc] = p->bias[oc];
    t[R8_X86_MULTIPLIER * n + oc] = p->multiplier[oc];
    t[R8_X86_LEFT * n + oc] = p->shift[oc] > 0 ? p->shift[oc] : 0;
    t[R8_X86_RIGHT * n + oc] = p->shift[oc] > 0 ? 0 : -p->shift[oc];
  }
  r8_x86_pack_filters(p, level, packed);
}

/* Output pixel `pixel`'s patch, `kp` int8 bytes: by rows of the window, taps outside the image at the input
 * zero point, zeros past the filter. */
static void r8_x86_patch(const r8_conv_params* p, const int8_t* input, int32_t pixel, int32_t kp, int8_t* to) {
  const int32_t ch = p->input.channels, kw = p->kernel_w, row = kw * ch;
  const int32_t y0 = pixel / p->output.width * p->stride_h - p->pad_top;
  const int32_t x0 = pixel % p->output.width * p->stride_w - p->pad_left;
  const int32_t lo = x0 < 0 ? -x0 : 0, hi = x0 + kw > p->input.width ? p->input.width - x0 : kw;
  const int8_t zero = (int8_t)(-p->input_offset);
  int32_t ky;
  for (ky = 0; ky < p->kernel_h; ++ky, to += row) {
    const int32_t y = y0 + ky;
    if (y < 0 || y >= p->input.height || lo >= hi) {
      memset(to, zero, (size_t)row);
      continue;
    }
    memset(to, zero, (size_t)(lo * ch));
    memcpy(to + lo * ch, input + (y * p->input.width + x0 + lo) * ch, (size_t)((hi - lo) * ch));
    memset(to + hi * ch, zero, (size_t)((kw - hi) * ch));
  }
  memset(to, 0, (size_t)(kp - p->kernel_h * row));
}

/* Step 3 for one output pixel: eight channels at a time, then the rest one by one. */
static void r8_x86_outputs(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int8_t* out) {
  const int32_t* offset = r8_x86_table(packed, R8_X86_OFFSET);
  int32_t oc = p->output.channels & ~7;
  r8_x86_outputs_avx2(p, packed, acc, out);
  for (; oc < p->output.channels; ++oc) out[oc] = r8_conv_result(p, oc, acc[oc] - offset[oc], p->add ? out[oc] : 0);
}

void r8_conv_x86(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t kp = packed[R8_X86_KP], tile = packed[R8_X86_PIXELS], width = R8_X86_BLOCK * packed[R8_X86_BLOCKS];
  const int32_t pixels = p->output.height * p->output.width, channels = p->output.channels;
  int8_t* const patches = (int8_t*)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  int8_t* const work = patches + tile * kp;
  int32_t* const acc = (int32_t*)(work + 2 * tile * kp);
  int32_t first, px;
  for (first = 0; first < pixels; first += tile) {
    const int32_t n = pixels - first < tile ? pixels - first : tile;
    for (px = 0; px < tile; ++px) r8_x86_patch(p, input, first + (px < n ? px : n - 1), kp, patches + px * kp);
    if (packed[R8_X86_LEVEL] == R8_X86_AVX512_VNNI)
      r8_x86_dots_avx512_vnni(packed, patches, work, acc);
    else
      r8_x86_dots_avx2(packed, patches, work, acc);
    for (px = 0; px < n; ++px) r8_x86_outputs(p, packed, acc + px * width, output + (first + px) * channels);
  }
}
