/* resnet8 integer kernels: the int8 operators of a ResNet8 .tflite, computed exactly as TensorFlow Lite
 * Micro's reference kernels compute them (tensorflow/lite/kernels/internal/reference/integer_ops and
 * reference/{softmax,reduce}.h, with the parameters TFLM's Prepare derives; r8_fixedpoint.h has the
 * arithmetic). One operator per file, as in TFLM's micro/kernels/: r8_conv.c, r8_add.c, r8_pool.c
 * (AVERAGE_POOL_2D and MEAN), r8_fully_connected.c, r8_softmax.c.
 *
 * Plain C99: no operating system, no malloc, no floating point. Tensors are NHWC int8 for one image;
 * weights OHWI int8, or int4 two per byte (the element of even index in the low nibble, as TFLite's INT4
 * tensors); biases int32. Every scale is a precomputed fixed-point multiplier and shift (TFLM's
 * QuantizeMultiplier, done once on the host, in double, by whoever fills these structs).
 */
#ifndef RESNET8_MICRO_KERNELS_H
#define RESNET8_MICRO_KERNELS_H

#include <stdint.h>

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

/* The largest filter (kernel_h x kernel_w x input channels) and output channel count r8_conv's stack
 * buffers hold; whoever fills the parameters checks them (ResNet8's largest: 3 x 3 x 64 and 64). */
#ifndef R8_MAX_FILTER
#define R8_MAX_FILTER 1152
#endif
#ifndef R8_MAX_CHANNELS
#define R8_MAX_CHANNELS 256
#endif

typedef struct {
  int32_t height, width, channels;
} r8_shape;

/* CONV_2D, per-channel int8 weights [out][kh][kw][in], TensorFlow 'same' or 'valid' padding given as the
 * rows/columns before the input (pad_top, pad_left; the rest of the window is clipped as TFLM does). */
typedef struct {
  r8_shape input, output;
  int32_t kernel_h, kernel_w, stride_h, stride_w, pad_top, pad_left;
  int32_t input_offset;  /* -input zero point */
  int32_t output_offset; /* output zero point */
  int32_t act_min, act_max;
  const int8_t* weights;     /* int8, or with weights_int4 packed int4 */
  int32_t weights_int4;      /* 1: two weights per byte, low nibble first */
  const int32_t* bias;       /* [out] */
  const int32_t* multiplier; /* [out]: per channel (a per-tensor scale repeated) */
  const int32_t* shift;      /* [out] */
} r8_conv_params;

/* ADD of two int8 tensors of the same shape: TFLM's general rescaling path (left shift 20). */
typedef struct {
  int32_t size;
  int32_t input1_offset, input2_offset, output_offset;
  int32_t left_shift;
  int32_t input1_multiplier, input1_shift, input2_multiplier, input2_shift;
  int32_t output_multiplier, output_shift;
  int32_t act_min, act_max;
} r8_add_params;

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

/* FULLY_CONNECTED, weights [out][in] int8 (or packed int4, per-tensor only as in TFLM). */
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

void r8_conv(const r8_conv_params* p, const int8_t* input, int8_t* output);
void r8_add(const r8_add_params* p, const int8_t* input1, const int8_t* input2, int8_t* output);
void r8_avgpool(const r8_avgpool_params* p, const int8_t* input, int8_t* output);
void r8_mean(const r8_mean_params* p, const int8_t* input, int8_t* output);
void r8_fully_connected(const r8_fully_connected_params* p, const int8_t* input, int8_t* output);
void r8_softmax(const r8_softmax_params* p, const int8_t* input, int8_t* output);

/* Weight `index` of an int8 or packed int4 weight array. */
static inline int32_t r8_weight(const int8_t* weights, int32_t int4, int32_t index) {
  if (!int4) return weights[index];
  {
    const uint8_t byte = (uint8_t)weights[index >> 1];
    const int32_t nibble = (index & 1) ? (byte >> 4) : (byte & 0x0F);
    return nibble >= 8 ? nibble - 16 : nibble;
  }
}

#ifdef __cplusplus
}
#endif

#endif /* RESNET8_MICRO_KERNELS_H */
