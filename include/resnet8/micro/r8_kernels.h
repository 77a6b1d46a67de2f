/* resnet8 integer kernels: the int8 operators of a ResNet8 .tflite, computed exactly as TensorFlow Lite
 * Micro's reference kernels compute them (tensorflow/lite/kernels/internal/reference/integer_ops and
 * reference/{softmax,reduce}.h, with the parameters TFLM's Prepare derives; r8_fixedpoint.h has the
 * arithmetic). One operator per file, as in TFLM's micro/kernels/: r8_conv.c, r8_add.c, r8_average_pool.c,
 * r8_mean.c, r8_fully_connected.c, r8_softmax.c.
 *
 * Plain C99: no operating system, no malloc, no floating point. Tensors are NHWC int8 for one image;
 * biases int32. Weights OHWI, in the kernels' layout (r8_weight below): each output channel's weights
 * start at a multiple of 8, int8 or int4 two per byte. Every scale is a precomputed fixed-point
 * multiplier and shift (TFLM's QuantizeMultiplier, done once on the host, in double, by whoever fills
 * these structs: resnet8's prepare_program()).
 *
 * On an Arm core with the DSP extension (Cortex-M4, M7, M33, ...: __ARM_FEATURE_DSP) the convolution's
 * inner loop multiplies two 16-bit pairs per instruction (SMLAD); define R8_NO_DSP for the portable loop.
 * Both compute the same integers.
 */
#ifndef RESNET8_MICRO_KERNELS_H
#define RESNET8_MICRO_KERNELS_H

#include <stdint.h>

#include "r8_fixedpoint.h"

#ifdef __cplusplus
extern "C" {
#endif

/* On x86-64 hosts with GCC, the hot kernels are also compiled for AVX2 and picked at load time (the
 * evaluator runs 10,000 images); elsewhere, microcontrollers included, this is empty. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(R8_NO_TARGET_CLONES)
#define R8_HOT __attribute__((target_clones("avx2", "default")))
#else
#define R8_HOT
#endif

typedef struct {
  int32_t height, width, channels;
} r8_shape;

/* ADD of two int8 tensors of the same shape: TFLM's general rescaling path (left shift 20). */
typedef struct {
  int32_t size;
  int32_t input1_offset, input2_offset, output_offset;
  int32_t left_shift;
  int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} r8_add_params;

/* CONV_2D, per-channel int8 weights [out][kh][kw][in], TensorFlow 'same' or 'valid' padding given as the
 * rows/columns before the input (pad_top, pad_left; the rest of the window is clipped as TFLM does).
 * With `add` set, the ADD that follows the convolution in the model is fused into it: `output` holds the
 * ADD's other input on entry, and each element is replaced by the ADD's result, computed from the
 * convolution's int8 output exactly as the separate ADD would (so the residual needs no buffer of its
 * own). */
typedef struct {
  r8_shape input, output;
  int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
  int32_t input_offset;  /* -input zero point */
  int32_t output_offset; /* output zero point */
  int32_t act_min, act_max;
  const int8_t* weights;     /* int8, or with weights_int4 packed int4 */
  int32_t weights_int4;      /* 1: two weights per byte, low nibble first */
  const int32_t* bias;       /* [out]: the layer's bias plus input_offset x the sum of the channel's weights */
  const int32_t* multiplier; /* [out]: per channel (a per-tensor scale repeated) */
  const int32_t* shift;      /* [out] */
  const r8_add_params* add;  /* the fused ADD, or NULL */
  int32_t add_input;         /* with `add`: which of the ADD's inputs the convolution is, 1 or 2 */
} r8_conv_params;

/* AVERAGE_POOL_2D (input and output share scale and zero point, as TFLite requires). */
typedef struct {
  r8_shape input, output;
  int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
  int32_t act_min, act_max;
} r8_avgpool_params;

/* MEAN over height and width with an output scale of its own. `multiplier` and `shift` are TFLM's after
 * its readjustment by the element count (reduce.h, QuantizedMeanOrSum). */
typedef struct {
  r8_shape input;
  int32_t input_zero_point, output_zero_point;
  int32_t multiplier, shift;
} r8_mean_params;

/* FULLY_CONNECTED, weights [out][in] int8 (or packed int4, per-tensor only as in TFLM), in the kernels'
 * layout (r8_weight). */
typedef struct {
  int32_t input_depth, output_depth;
  int32_t input_offset, output_offset;
  int32_t act_min, act_max;
  const int8_t* weights;
  int32_t weights_int4;
  const int32_t* bias;
  const int32_t* multiplier; /* [out] per channel, or [1] when per_channel is 0 */
  const int32_t* shift;
  int32_t per_channel;
} r8_fully_connected_params;

/* SOFTMAX int8 -> int8 (output scale 1/256, zero point -128, as TFLM requires). */
typedef struct {
  int32_t depth;
  int32_t input_multiplier, input_left_shift, diff_min;
} r8_softmax_params;

/* Each kernel reads its inputs and writes its output; inputs and output must not overlap, except that a
 * fused convolution reads and writes `output` in place. */
void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch);
void r8_add(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
void r8_avgpool(const r8_avgpool_params* p, const int8_t* input, int8_t* output);
void r8_mean(const r8_mean_params* p, const int8_t* input, int8_t* output);
void r8_fully_connected(const r8_fully_connected_params* p, const int8_t* input, int8_t* output);
void r8_softmax(const r8_softmax_params* p, const int8_t* input, int8_t* output);

/* The kernels' weight layout, for CONV_2D filters and FULLY_CONNECTED rows alike: channel c's weights
 * (TFLite's order within the channel) start at index c x r8_filter_stride(weights per channel), the rest of
 * its last group of 8 zero. int8: one byte a weight. int4: 4 bytes a group of 8 weights, byte k holding
 * weight k in its low nibble and weight k + 4 in its high nibble, so that one 32-bit load and two masks
 * give the group as two words of four int8 weights (times 16). Returns weight `index` of that array. */
static inline int32_t r8_weight(const int8_t* weights, int32_t int4, int32_t index) {
  if (!int4) return weights[index];
  {
    const uint8_t byte = (uint8_t)weights[(index >> 3) * 4 + (index & 3)];
    const int32_t nibble = (index & 4) ? (byte >> 4) : (byte & 0x0F);
    return nibble >= 8 ? nibble - 16 : nibble;
  }
}
static inline int32_t r8_filter_stride(int32_t weights_per_channel) { return (weights_per_channel + 7) & ~7; }

/* The bytes of scratch r8_conv needs, 4-byte aligned: two patches of 16-bit inputs (the DSP path), or four
 * int8 patches and, for int4 weights, four filters unpacked (the portable path). */
static inline int32_t r8_conv_scratch_bytes(const r8_conv_params* p) {
  return (p->weights_int4 ? 8 : 4) * r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
}

R8_INLINE int32_t r8_clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }

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
