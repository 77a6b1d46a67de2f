#pragma once
// Each operator's functions for its row of the operator table (program/operators.h): prepare_<op>, TFLM's
// Prepare; pack_<op>, its call of the C kernels. One file per operator in this folder.
#include <resnet8/program/operators.h>
#include <resnet8/program/prepare.h>

#include "program/prepare_context.h"

namespace resnet8::ops {

void prepare_conv(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_conv(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
void prepare_add(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_add(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
void prepare_average_pool(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_average_pool(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
void prepare_mean(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_mean(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
void prepare_reshape(const PrepareContext& context, size_t index, PreparedOp& out);
void prepare_fully_connected(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_fully_connected(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
void prepare_softmax(const PrepareContext& context, size_t index, PreparedOp& out);
void pack_softmax(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);

// The C kernels' weight layout (r8_kernels.h): rows padded to a multiple of 8 weights, the rows of channel
// pairs interleaved by 4-byte units; int4 a group of 8 in 4 bytes as nibbles w + 8 (r8_int4_byte).
std::vector<int8_t> kernel_layout(const PreparedWeights& w);
// bias + input_offset x each row's weight sum: TFLM's sum of w x (x + offset), its offset part formed once.
std::vector<int32_t> folded_bias(const std::vector<int32_t>& bias, const PreparedWeights& w, int32_t input_offset);
// r8_conv_params::fast_requant: every shift in -31..0 and every channel's accumulator below 2^30 in magnitude.
bool fast_requant(const std::vector<int32_t>& bias, const PreparedWeights& w, int32_t input_offset,
                  const std::vector<int32_t>& shift);

}  // namespace resnet8::ops
