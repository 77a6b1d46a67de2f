/* resnet8 integer kernels: the int8 operators of a ResNet8 .tflite, computed exactly as TensorFlow Lite
 * Micro's reference kernels compute them (tensorflow/lite/kernels/internal/reference/integer_ops and
 * reference/{softmax,reduce}.h, with the parameters TFLM's Prepare derives; r8_fixedpoint.h has the
 * arithmetic).
 *
 * One operator per file, as in TFLM's micro/kernels/: r8_conv.c, r8_add.c, r8_average_pool.c, r8_mean.c,
 * r8_fully_connected.c, r8_softmax.c. Each calls the variant the compiler targets (r8_variants.h): the
 * portable reference, which is the oracle, or a faster one for a core's instructions, each in a file of
 * its own (r8_conv_reference.c, r8_conv_arm_dsp.c, ...), all computing the same integers.
 *
 * Plain C99: no operating system, no malloc, no floating point. Tensors are NHWC int8 for one image;
 * biases int32. Weights OHWI, in the kernels' layout (r8_weight_at below): each output channel's row padded
 * to a multiple of 8, pairs of rows interleaved, int8 or int4 two per byte. Every scale is a precomputed fixed-point
 * multiplier and shift (TFLM's QuantizeMultiplier, done once on the host, in double, by whoever fills
 * these structs: resnet8's prepare_program()).
 *
 * Each parameter struct's fields are listed once, in an R8_*_FIELDS(X) list: the struct is declared from
 * it, and resnet8's C generator writes every field from the same list, so none can be left out. X(KIND,
 * name) where KIND is INT (int32_t), SHAPE (r8_shape), INT8S / INT32S (a const array) or ADD (a const
 * r8_add_params*, or NULL).
 */
#ifndef RESNET8_MICRO_KERNELS_H
#define RESNET8_MICRO_KERNELS_H

#include <stdint.h>

#include "r8_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
  int32_t height, width, channels;
} r8_shape;

/* The generated C's int8 arrays (weights) are 4-byte aligned, so that a variant may read them by words (the MVE
 * variant's VLD2 must; with a compiler that ignores the attribute it takes a slow path for unaligned weights). */
#if defined(__GNUC__) || defined(__clang__)
#define R8_ALIGNED __attribute__((aligned(4)))
#else
#define R8_ALIGNED
#endif

#define R8_FIELD_INT(name) int32_t name;
#define R8_FIELD_SHAPE(name) r8_shape name;
#define R8_FIELD_INT8S(name) const int8_t* name;
#define R8_FIELD_INT32S(name) const int32_t* name;
#define R8_FIELD_ADD(name) const struct r8_add_params_s* name;
#define R8_FIELD(kind, name) R8_FIELD_##kind(name)

/* ADD of two int8 tensors of the same shape: TFLM's general rescaling path (left shift 20). The input offsets
 * are minus their zero points, the output offset the output's zero point. */
/* clang-format off */
#define R8_ADD_FIELDS(X) \
  X(INT, size) \
  X(INT, input1_offset) \
  X(INT, input2_offset) \
  X(INT, output_offset) \
  X(INT, left_shift) \
  X(INT, input1_multiplier) \
  X(INT, input1_shift) \
  X(INT, input2_multiplier) \
  X(INT, input2_shift) \
  X(INT, output_multiplier) \
  X(INT, output_shift) \
  X(INT, act_min) \
  X(INT, act_max)
/* clang-format on */
typedef struct r8_add_params_s {
  R8_ADD_FIELDS(R8_FIELD)
} r8_add_params;

/* CONV_2D, per-channel int8 weights [out][kh][kw][in], TensorFlow 'same' or 'valid' padding given as the
 * rows/columns before the input (pad_top, pad_left; the rest of the window is clipped as TFLM does).
 * `bias` is the layer's bias plus input_offset x the sum of the channel's weights (TFLM's sum of
 * weight x (input + offset), its offset part formed once when the parameters are made), so the kernels'
 * inner loop is a plain dot product. With `add` set, the ADD that follows the convolution in the model is
 * fused into it: `output` holds the ADD's other input on entry, and each element is replaced by the ADD's
 * result, computed from the convolution's int8 output exactly as the separate ADD would (so the residual
 * needs no buffer of its own); `add_input` says which of the ADD's inputs the convolution is, 1 or 2.
 * `fast_requant` is 1 when every channel's shift is <= 0 and its accumulator (bias + weights x inputs) stays
 * below 2^30 in magnitude, so that a variant may requantize with r8_arm_dsp.h's short form; 0 otherwise. */
/* clang-format off */
#define R8_CONV_FIELDS(X) \
  X(SHAPE, input) \
  X(SHAPE, output) \
  X(INT, kernel_h) \
  X(INT, kernel_w) \
  X(INT, stride_h) \
  X(INT, stride_w) \
  X(INT, pad_top) \
  X(INT, pad_left) \
  X(INT, input_offset) \
  X(INT, output_offset) \
  X(INT, act_min) \
  X(INT, act_max) \
  X(INT8S, weights) \
  X(INT, weights_int4) \
  X(INT32S, bias) \
  X(INT32S, multiplier) \
  X(INT32S, shift) \
  X(ADD, add) \
  X(INT, add_input) \
  X(INT, fast_requant)
/* clang-format on */
typedef struct {
  R8_CONV_FIELDS(R8_FIELD)
} r8_conv_params;

/* AVERAGE_POOL_2D (input and output share scale and zero point, as TFLite requires). */
/* clang-format off */
#define R8_AVGPOOL_FIELDS(X) \
  X(SHAPE, input) \
  X(SHAPE, output) \
  X(INT, filter_h) \
  X(INT, filter_w) \
  X(INT, stride_h) \
  X(INT, stride_w) \
  X(INT, pad_top) \
  X(INT, pad_left) \
  X(INT, act_min) \
  X(INT, act_max)
/* clang-format on */
typedef struct {
  R8_AVGPOOL_FIELDS(R8_FIELD)
} r8_avgpool_params;

/* MEAN over height and width with an output scale of its own. `multiplier` and `shift` are TFLM's after
 * its readjustment by the element count (reduce.h, QuantizedMeanOrSum). */
/* clang-format off */
#define R8_MEAN_FIELDS(X) \
  X(SHAPE, input) \
  X(INT, input_zero_point) \
  X(INT, output_zero_point) \
  X(INT, multiplier) \
  X(INT, shift)
/* clang-format on */
typedef struct {
  R8_MEAN_FIELDS(R8_FIELD)
} r8_mean_params;

/* FULLY_CONNECTED, weights [out][in] int8 (or packed int4, per-tensor only as in TFLM), in the kernels'
 * layout (r8_weight_at). `multiplier` and `shift` have output_depth entries when per_channel is 1, else one. */
/* clang-format off */
#define R8_FULLY_CONNECTED_FIELDS(X) \
  X(INT, input_depth) \
  X(INT, output_depth) \
  X(INT, input_offset) \
  X(INT, output_offset) \
  X(INT, act_min) \
  X(INT, act_max) \
  X(INT8S, weights) \
  X(INT, weights_int4) \
  X(INT32S, bias) \
  X(INT32S, multiplier) \
  X(INT32S, shift) \
  X(INT, per_channel)
/* clang-format on */
typedef struct {
  R8_FULLY_CONNECTED_FIELDS(R8_FIELD)
} r8_fully_connected_params;

/* SOFTMAX int8 -> int8 over the last dimension (`depth` values), for each of `rows` (the other dimensions'
 * product); output scale 1/256, zero point -128, as TFLM requires. */
/* clang-format off */
#define R8_SOFTMAX_FIELDS(X) \
  X(INT, rows) \
  X(INT, depth) \
  X(INT, input_multiplier) \
  X(INT, input_left_shift) \
  X(INT, diff_min)
/* clang-format on */
typedef struct {
  R8_SOFTMAX_FIELDS(R8_FIELD)
} r8_softmax_params;

/* Each kernel reads its inputs and writes its output; inputs and output must not overlap, except that a
 * fused convolution reads and writes `output` in place. `scratch` holds r8_conv_scratch_bytes(p) bytes,
 * 4-byte aligned. */
void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch);
void r8_add(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
void r8_avgpool(const r8_avgpool_params* p, const int8_t* input, int8_t* output);
void r8_mean(const r8_mean_params* p, const int8_t* input, int8_t* output);
void r8_fully_connected(const r8_fully_connected_params* p, const int8_t* input, int8_t* output);
void r8_softmax(const r8_softmax_params* p, const int8_t* input, int8_t* output);

/* The kernels' weight layout, for CONV_2D filters and FULLY_CONNECTED rows alike. Each channel's row (its
 * weights in TFLite's order) is padded with zeros to r8_filter_stride(weights per channel), a multiple of 8.
 * The rows of channels 2c and 2c + 1 are interleaved by units of 4 bytes, so that a loop over a pair of
 * channels reads one stream: unit u of row 2c, then unit u of row 2c + 1, then unit u + 1 of each. With an odd
 * number of channels the last row follows alone.
 *   int8: a unit holds 4 weights, in order.
 *   int4: a unit holds 8 weights w0..w7 as nibbles n = w + 8 (0..15): byte 0 holds w0 (low nibble) and w1
 *         (high), byte 1 w4 and w5, byte 2 w2 and w3, byte 3 w6 and w7. Read as a 32-bit word, each mask of
 *         one nibble per 16-bit half (0x000F000F, 0x00F000F0, 0x0F000F00, 0xF000F000) gives a pair of weights
 *         (w0, w2), (w1, w3), (w4, w6), (w5, w7) as two non-negative 16-bit values, ready for SMLAD
 *         (arm_dsp/r8_conv_arm_dsp_dot.c); the +8 comes off as 8 x the sum of the inputs. */

/* The byte of `weights` that holds byte `b` of row `row`, for `rows` rows of `row_bytes` bytes each. */
static inline int32_t r8_weight_byte(int32_t rows, int32_t row_bytes, int32_t row, int32_t b) {
  const int32_t pair_base = (row >> 1) * 2 * row_bytes;
  if ((row | 1) >= rows) return pair_base + b; /* the last row of an odd count, alone */
  return pair_base + (b >> 2) * 8 + (row & 1) * 4 + (b & 3);
}
static inline int32_t r8_filter_stride(int32_t weights_per_channel) { return (weights_per_channel + 7) & ~7; }

/* int4: the byte of a row (0, 1, ...) holding weight i of the row, and whether in the high nibble. */
static inline int32_t r8_int4_byte(int32_t i) { return (i >> 3) * 4 + ((i >> 2) & 1) + ((i >> 1) & 1) * 2; }
static inline int32_t r8_int4_high(int32_t i) { return i & 1; }

/* Weight `i` of row `row` of `rows` rows of `stride` weights (r8_filter_stride) in the layout above. */
static inline int32_t r8_weight_at(const int8_t* weights, int32_t int4, int32_t rows, int32_t stride, int32_t row,
                                   int32_t i) {
  if (!int4) return weights[r8_weight_byte(rows, stride, row, i)];
  {
    const uint32_t byte = (uint8_t)weights[r8_weight_byte(rows, stride / 2, row, r8_int4_byte(i))];
    return (int32_t)(r8_int4_high(i) ? byte >> 4 : byte & 0x0Fu) - 8;
  }
}

R8_INLINE int32_t r8_clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }

/* Where AVERAGE_POOL_2D's output pixel (oy, ox) reads: the window at input row y0, column x0, clipped to the
 * image (filter rows fy0 .. fy1 - 1, columns fx0 .. fx1 - 1), and how many inputs that is (0: none). */
typedef struct {
  int32_t y0, x0, fy0, fy1, fx0, fx1, count;
} r8_pool_window;

R8_INLINE r8_pool_window r8_pool_window_of(const r8_avgpool_params* p, int32_t oy, int32_t ox) {
  r8_pool_window w;
  w.y0 = oy * p->stride_h - p->pad_top, w.x0 = ox * p->stride_w - p->pad_left;
  w.fy0 = w.y0 < 0 ? -w.y0 : 0, w.fx0 = w.x0 < 0 ? -w.x0 : 0;
  w.fy1 = p->filter_h < p->input.height - w.y0 ? p->filter_h : p->input.height - w.y0;
  w.fx1 = p->filter_w < p->input.width - w.x0 ? p->filter_w : p->input.width - w.x0;
  w.count = w.fy1 > w.fy0 && w.fx1 > w.fx0 ? (w.fy1 - w.fy0) * (w.fx1 - w.fx0) : 0;
  return w;
}

/* One AVERAGE_POOL_2D output from its window's sum over `count` inputs: TFLM's division rounding half away from
 * zero, clamped to the activation. */
R8_INLINE int8_t r8_avgpool_element(const r8_avgpool_params* p, int32_t sum, int32_t count) {
  if (count == 0) count = 1; /* TFLM fails the op; a window always overlaps the input here */
  sum = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
  return (int8_t)r8_clamp(sum, p->act_min, p->act_max);
}

/* One MEAN output from its channel's sum over n inputs: tflite::reference_ops::QuantizedMeanOrSum's integer step
 * (the zero point taken out, the multiplier readjusted by n at export), clamped to int8. */
R8_INLINE int8_t r8_mean_element(const r8_mean_params* p, int32_t sum, int32_t n) {
  return (int8_t)r8_clamp(r8_mbqm(sum - p->input_zero_point * n, p->multiplier, p->shift) + p->output_zero_point, -128,
                          127);
}

/* One element of ADD: tflite::reference_integer_ops::AddFunc. */
R8_INLINE int32_t r8_add_element(const r8_add_params* p, int32_t input1, int32_t input2) {
  const int32_t shifted1 = r8_shl(input1 + p->input1_offset, p->left_shift);
  const int32_t shifted2 = r8_shl(input2 + p->input2_offset, p->left_shift);
  const int32_t scaled1 = r8_mbqm_lt1(shifted1, p->input1_multiplier, p->input1_shift);
  const int32_t scaled2 = r8_mbqm_lt1(shifted2, p->input2_multiplier, p->input2_shift);
  const int32_t out = r8_mbqm_lt1(scaled1 + scaled2, p->output_multiplier, p->output_shift) + p->output_offset;
  return r8_clamp(out, p->act_min, p->act_max);
}

#ifdef __cplusplus
}
#endif

#endif /* RESNET8_MICRO_KERNELS_H */
