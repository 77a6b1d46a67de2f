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

static int32_t r8_x86_c4(const r8_conv_params* p) { return (p->input.channels + 3) & ~3; }
static int32_t r8_x86_kp(const r8_conv_params* p) { return p->kernel_h * p->kernel_w * r8_x86_c4(p); }
static int32_t r8_x86_value_bytes(int level) { return level == R8_X86_AVX2 ? 2 : 1; }
static int32_t r8_x86_blocks(const r8_conv_params* p) { return (p->output.channels + R8_X86_BLOCK - 1) / R8_X86_BLOCK; }
static int32_t r8_x86_pixels(int level) {
  return level == R8_X86_AVX512_VNNI ? R8_X86_TILE_AVX512_VNNI : R8_X86_TILE_AVX2;
}

/* Filter bytes: int8 weights in groups of 4 (VNNI) or int16 in pairs (AVX2), 16 channels a group. */
static int32_t r8_x86_filter_bytes(const r8_conv_params* p, int level) {
  return r8_x86_blocks(p) * R8_X86_BLOCK * r8_x86_kp(p) * r8_x86_value_bytes(level);
}

/* Step 1's padded image: every window inside it, the input at (pad_top, pad_left). */
static r8_x86_padded r8_x86_padded_of(const r8_conv_params* p, int level) {
  r8_x86_padded pad;
  const int32_t h = (p->output.height - 1) * p->stride_h + p->kernel_h;
  const int32_t w = (p->output.width - 1) * p->stride_w + p->kernel_w;
  pad.height = h > p->pad_top + p->input.height ? h : p->pad_top + p->input.height;
  pad.width = w > p->pad_left + p->input.width ? w : p->pad_left + p->input.width;
  pad.bytes = r8_x86_value_bytes(level);
  return pad;
}

int32_t r8_conv_x86_packed_words(const r8_conv_params* p, int level) {
  return R8_X86_HEADER + R8_X86_TABLES * R8_X86_BLOCK * r8_x86_blocks(p) + (r8_x86_filter_bytes(p, level) + 3) / 4;
}

/* The padded image's bytes, rounded up to 64. */
static int32_t r8_x86_image_bytes(r8_x86_padded pad, int32_t c4) {
  return (pad.height * pad.width * c4 * pad.bytes + 63) & ~63;
}

/* The padded image, then the tile's sums, each 64-byte aligned. */
int32_t r8_conv_x86_scratch_bytes(const r8_conv_params* p, int level) {
  const r8_x86_padded pad = r8_x86_padded_of(p, level);
  return 64 + r8_x86_image_bytes(pad, r8_x86_c4(p)) + r8_x86_pixels(level) * r8_x86_blocks(p) * R8_X86_BLOCK * 4;
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
  const int32_t kp = r8_x86_kp(p), size = p->kernel_h * p->kernel_w * p->input.channels, c = p->input.channels;
  const int32_t channels = p->output.channels, blocks = r8_x86_blocks(p), stride = r8_filter_stride(size);
  const int32_t c4 = r8_x86_c4(p);
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
        const int32_t kk = k / c * c4 + k % c; /* its place in the packed row: taps of c4 */
        const int32_t at = ((b * (kp / group) + kk / group) * R8_X86_BLOCK + j) * group + kk % group;
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

int r8_x86_short_requant(const r8_conv_params* p) {
  const int32_t size = p->kernel_h * p->kernel_w * p->input.channels, stride = r8_filter_stride(size);
  int32_t oc, k;
  if (p->add && p->add->left_shift > 20) return 0;
  for (oc = 0; oc < p->output.channels; ++oc) {
    int64_t bound = p->bias[oc] < 0 ? -(int64_t)p->bias[oc] : p->bias[oc];
    const int32_t left = p->shift[oc] > 0 ? p->shift[oc] : 0;
    for (k = 0; k < size; ++k) {
      const int32_t w = r8_weight_at(p->weights, p->weights_int4, p->output.channels, stride, oc, k);
      bound += 128 * (w < 0 ? -w : w);
    }
    if (left > 30 || (bound << left) >= ((int64_t)1 << 30)) return 0;
  }
  return 1;
}

void r8_x86_requant_tables(const int32_t* multiplier, const int32_t* shift, int32_t count, int32_t stride, int32_t* t) {
  int32_t oc;
  for (oc = 0; oc < count; ++oc) {
    const int32_t right = shift[oc] > 0 ? 0 : -shift[oc];
    t[R8_X86_MULTIPLIER * stride + oc] = multiplier[oc];
    t[R8_X86_LEFT * stride + oc] = shift[oc] > 0 ? shift[oc] : 0;
    t[R8_X86_RIGHT * stride + oc] = right;
    t[R8_X86_ROUND * stride + oc] = right > 0 ? (int32_t)1 << (right - 1) : 0;
    t[R8_X86_SIGN * stride + oc] = right > 0 ? -1 : 0;
    t[R8_X86_MULTIPLIER_ODD * stride + oc] = oc % 2 == 0 && oc + 1 < count ? multiplier[oc + 1] : 0;
  }
}

void r8_conv_x86_pack(const r8_conv_params* p, int level, int32_t* packed) {
  const int32_t blocks = r8_x86_blocks(p), n = R8_X86_BLOCK * blocks;
  int32_t* t = packed + R8_X86_HEADER;
  int32_t oc;
  memset(packed, 0, (size_t)r8_conv_x86_packed_words(p, level) * 4);
  packed[R8_X86_LEVEL] = level;
  packed[R8_X86_C4] = r8_x86_c4(p);
  packed[R8_X86_KP] = r8_x86_kp(p);
  packed[R8_X86_BLOCKS] = blocks;
  packed[R8_X86_PIXELS] = r8_x86_pixels(level);
  r8_x86_requant_tables(p->multiplier, p->shift, p->output.channels, n, t);
  r8_x86_pack_filters(p, level, packed); /* and the OFFSET table */
  for (oc = 0; oc < p->output.channels; ++oc) {
    t[R8_X86_BIAS * n + oc] = p->bias[oc];
    t[R8_X86_NET * n + oc] = p->bias[oc] - t[R8_X86_OFFSET * n + oc];
  }
  packed[R8_X86_SHORT] = r8_x86_short_requant(p);
}

/* Step 1: the input into the padded image `image`, converted by `copy` (the level's), every value outside the
 * input, and every extra channel, at the input zero point. */
static void r8_x86_pad_input(const r8_conv_params* p, const int8_t* input, r8_x86_padded pad, int32_t c4,
                             void (*copy)(const int8_t*, int32_t, int8_t, void*), int8_t* image) {
  const int32_t c = p->input.channels, w = p->input.width, row = pad.width * c4 * pad.bytes;
  const int8_t zero = (int8_t)(-p->input_offset);
  int32_t y, x;
  for (y = 0; y < pad.height; ++y, image += row) {
    const int32_t iy = y - p->pad_top;
    int8_t* to = image + p->pad_left * c4 * pad.bytes;
    if (iy < 0 || iy >= p->input.height) {
      copy(0, pad.width * c4, zero, image);
      continue;
    }
    copy(0, p->pad_left * c4, zero, image);
    if (c == c4) {
      copy(input + iy * w * c, w * c, zero, to);
    } else {
      for (x = 0; x < w; ++x) {
        copy(input + (iy * w + x) * c, c, zero, to + x * c4 * pad.bytes);
        copy(0, c4 - c, zero, to + (x * c4 + c) * pad.bytes);
      }
    }
    copy(0, (pad.width - p->pad_left - w) * c4, zero, to + w * c4 * pad.bytes);
  }
}

/* Step 3 for `n` output pixels: 16 channels at a time (AVX-512), then eight (AVX2), then one by one. */
static void r8_x86_outputs(const r8_conv_params* p, const int32_t* packed, const int32_t* acc, int32_t n, int8_t* out) {
  const int32_t* offset = r8_x86_table(packed, R8_X86_OFFSET);
  const int32_t channels = p->output.channels, width = R8_X86_BLOCK * packed[R8_X86_BLOCKS];
  const int32_t done = packed[R8_X86_LEVEL] == R8_X86_AVX512_VNNI ? r8_x86_outputs_avx512(p, packed, acc, n, out)
                       : packed[R8_X86_SHORT]                     ? r8_x86_outputs_avx2_short(p, packed, acc, n, out)
                                                                  : 0;
  int32_t px, oc;
  for (px = 0; px < n; ++px, acc += width, out += channels) {
    oc = r8_x86_outputs_avx2(p, packed, acc, done, out);
    for (; oc < channels; ++oc) out[oc] = r8_conv_result(p, oc, acc[oc] - offset[oc], p->add ? out[oc] : 0);
  }
}

void r8_conv_x86(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output, int8_t* scratch) {
  r8_conv_x86_rows(p, packed, input, output, scratch, 0, p->output.height);
}

void r8_conv_x86_rows(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output,
                      int8_t* scratch, int32_t row_begin, int32_t row_end) {
  const int level = packed[R8_X86_LEVEL];
  const r8_x86_padded pad = r8_x86_padded_of(p, level);
  const int32_t tile = packed[R8_X86_PIXELS], c4 = packed[R8_X86_C4];
  const int32_t channels = p->output.channels, ow = p->output.width;
  int8_t* const image = (int8_t*)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
  int32_t* const acc = (int32_t*)(image + r8_x86_image_bytes(pad, c4));
  int32_t oy, ox;
  r8_x86_pad_input(p, input, pad, c4, level == R8_X86_AVX2 ? r8_x86_copy_avx2 : r8_x86_copy_avx512_vnni, image);
  for (oy = row_begin; oy < row_end; ++oy) {
    for (ox = 0; ox < ow; ox += tile) {
      const int32_t first = oy * ow + ox, n = ow - ox < tile ? ow - ox : tile;
      if (level == R8_X86_AVX512_VNNI)
        r8_x86_dots_avx512_vnni(p, packed, image, pad, first, n, acc);
      else
        r8_x86_dots_avx2(p, packed, image, pad, first, n, acc);
      r8_x86_outputs(p, packed, acc, n, output + first * channels);
    }
  }
}
