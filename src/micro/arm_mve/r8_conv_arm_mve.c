/* CONV_2D, the Arm MVE (Helium) variant (Cortex-M55, M85: __ARM_FEATURE_MVE): the same integers as the reference
 * variant, two output pixels at a time, sixteen int8 multiply-accumulates an instruction (VMLADAVA).
 *   1. Each pixel's patch, gathered by rows of the window (r8_conv_window.h), in the order the dot products read
 *      it (r8_arm_mve.h: r8_mve_shape).
 *   2. Their dot products with every pair of output channels' rows (r8_conv_arm_mve_dot.c).
 *   3. Requantization, clamp and a fused ADD four channels at a time (r8_conv_arm_mve_output.c).
 * Layers it does not take go one output at a time through plain C (r8_conv_plain.h): output channels not a
 * multiple of 4, weights not 4-byte aligned (VLD2 needs words; the generated C aligns them), a shift outside
 * -31..0 (a multiplier above 1), a fused ADD with a shift outside -31..0. Checked against the reference variant on
 * random layers in QEMU's Cortex-M55 (tests/micro/variants_check.c, scripts/mcu.sh). */
#include "r8_arm_mve.h"
#include "r8_kernels.h"
#include "r8_variants.h"

static r8_mve_shape r8_mve_shape_of(const r8_conv_params* p) {
  r8_mve_shape s;
  s.stride = r8_filter_stride(p->kernel_h * p->kernel_w * p->input.channels);
  s.units = p->weights_int4 ? s.stride / 8 : s.stride / 4;
  s.chunks = s.units / 4, s.tail = s.units % 4;
  s.step_bytes = p->weights_int4 ? 32 : 16;
  s.slot = (s.chunks + (s.tail + 1) / 2) * s.step_bytes;
  s.raw = !p->weights_int4 && s.tail == 0;
  return s;
}

/* Scratch: two pixels' patches, one int8 patch in TFLite's order, the two pixels' dot products and their outputs
 * before a fused ADD. */
int32_t r8_conv_scratch_bytes_arm_mve(const r8_conv_params* p) {
  const r8_mve_shape s = r8_mve_shape_of(p);
  return 2 * s.slot + s.stride + 10 * p->output.channels;
}

#if R8_COMPILE_MVE(R8_CONV_ARM_MVE)
#include "r8_conv_plain.h"

/* Whether this variant takes the layer (see the top of the file). */
static int r8_mve_takes(const r8_conv_params* p) {
  int32_t oc;
  if ((p->output.channels & 3) || ((uintptr_t)p->weights & 3u)) return 0;
  if (p->add && !r8_mve_add_takes(p->add)) return 0;
  for (oc = 0; oc < p->output.channels; ++oc) {
    if (p->shift[oc] < -31 || p->shift[oc] > 0) return 0;
  }
  return 1;
}

/* A layer's last step, made once: the requantization's and the fused ADD's jobs but for the pixels' outputs. */
typedef struct {
  r8_mve_requant_job requant;
  r8_mve_add_job add;
} r8_mve_last;

static void r8_mve_last_of(const r8_conv_params* p, int32_t* sums, int8_t* conv, r8_mve_last* l) {
  l->requant.sums = sums, l->requant.multiplier = p->multiplier, l->requant.shift = p->shift;
  l->requant.groups = p->output.channels / 4, l->requant.offset = p->output_offset;
  l->requant.act_min = p->act_min, l->requant.act_max = p->act_max;
  l->requant.out = conv, l->requant.step = 0;
  l->add.add = p->add, l->add.out = 0, l->add.groups = 0;
  l->add.input1 = l->add.input2 = conv;
}

/* Two pixels' outputs (`two` 0: pixel a only) from their sums (r8_mve_job) into `out` and `out` + channels, `out`
 * holding the fused ADD's other input on entry, if any (the convolution's outputs go to the scratch `conv` then,
 * and the two pixels' ADDs are one run). */
static void r8_mve_outputs(const r8_conv_params* p, r8_mve_last* l, int32_t two, int8_t* out, int8_t* conv) {
  /* pixel b's outputs go after pixel a's (or over them, a second time, when there is no pixel b) */
  l->requant.out = p->add ? conv : out, l->requant.step = two ? p->output.channels : 0;
  r8_mve_requant_rows(&l->requant);
  if (!p->add) return;
  l->add.groups = (1 + two) * l->requant.groups, l->add.out = out;
  l->add.input1 = p->add_input == 1 ? conv : out, l->add.input2 = p->add_input == 1 ? out : conv;
  r8_mve_add_rows(&l->add);
}

/* The layer's dot-product job, but for the two pixels' patches and int4 sums. */
static r8_mve_job r8_mve_job_of(const r8_conv_params* p, const r8_mve_shape* s, int32_t* sums) {
  r8_mve_job job;
  job.weights = p->weights, job.bias = p->bias, job.sums = sums;
  job.pairs = p->output.channels / 2, job.passes = (s->chunks - 1) / 2, job.odd = s->chunks & 1;
  job.a = job.b = 0, job.sum_a = job.sum_b = 0;
  return job;
}

void r8_conv_arm_mve(const r8_conv_params* p, const int8_t* input, int8_t* output, int8_t* scratch) {
  const int32_t channels = p->output.channels, pixels = p->output.height * p->output.width;
  const r8_mve_shape s = r8_mve_shape_of(p);
  int8_t* const a = scratch;
  int8_t* const b = scratch + s.slot;
  int8_t* const raw = b + s.slot;
  int32_t* const sums = (int32_t*)(void*)(raw + s.stride);
  int8_t* const conv = (int8_t*)(sums + 2 * channels); /* two pixels' outputs before a fused ADD */
  r8_mve_job job;
  r8_mve_gather gather;
  r8_mve_last last;
  int32_t pixel, patch_sums[2];
  if (!r8_mve_takes(p)) {
    r8_conv_plain(p, input, output, raw);
    return;
  }
  job = r8_mve_job_of(p, &s, sums);
  r8_mve_gather_of(p, &s, &gather);
  r8_mve_last_of(p, sums, conv, &last);
  for (pixel = 0; pixel < pixels; pixel += 2, output += 2 * channels) {
    const int32_t two = pixel + 1 < pixels;
    r8_mve_next_patches(&gather, input, two, a, b, raw, patch_sums);
    job.sum_a = patch_sums[0], job.sum_b = patch_sums[1];
    job.a = a, job.b = two ? b : a;
    if (s.raw) {
      r8_mve_dots_int8(&job);
    } else {
      r8_mve_dots_any(&job, &s, p->weights_int4);
    }
    r8_mve_outputs(p, &last, two, output, conv);
  }
}

#endif
