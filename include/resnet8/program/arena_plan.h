#pragma once
// The memory plan of a prepared model: where every activation lives in one arena, decided once from the
// tensors' lifetimes, for the host interpreter and the generated microcontroller code alike.
//   1. An ADD whose input is a convolution's only reader is fused into that convolution, which adds its
//      int8 output to the ADD's other input in place (r8_conv_params::add), so the convolution's output
//      needs no buffer. Where the other input's producer comes later in the model (the MLPerf Tiny
//      reference computes each shortcut after its block's second convolution), it moves before the
//      convolution when its inputs allow. Where both of an ADD's inputs are convolutions that qualify,
//      every choice is planned and the one with the smallest arena kept.
//   2. A RESHAPE is a view: its output is its input's bytes, and it takes no kernel call.
//   3. Each buffer, largest first, goes to the lowest 4-byte-aligned offset that no buffer live at the
//      same time holds (TFLM's greedy memory planner's rule); a convolution's scratch lives for its call.
// For ResNet8 the peak is two 32x32x16 tensors and one convolution's scratch.
#include <resnet8/program/prepared.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace resnet8 {

// One kernel call of the plan: a model operator, with the ADD fused into it if any, and its bytes' offsets.
struct ArenaStep {
  int32_t op = -1;         // the model operator (index into PreparedModel::ops)
  int32_t fused_add = -1;  // a CONV_2D's fused ADD (an operator index), or -1
  int32_t add_input = 0;   // with fused_add: which of the ADD's inputs the convolution's output is, 1 or 2
  int32_t input = -1, input2 = -1, output = -1;  // tensors read and written (output: the ADD's when fused)
  int64_t input_at = 0, input2_at = 0, output_at = 0, scratch_at = 0;
};

struct ArenaPlan {
  std::vector<ArenaStep> steps;  // in execution order
  int64_t arena_bytes = 0, input_at = 0, output_at = 0;
};

struct ArenaOptions {
  bool fuse_adds = true;  // false: every ADD its own call with its own output (the model's operators as they are)
  // The scratch bytes a CONV_2D's kernel needs (the kernel family's; 0 for none).
  std::function<int64_t(const PreparedOp&)> conv_scratch;
};

// Fuses (if asked), orders and places. Throws resnet8::Error naming `what` if the arena would exceed 64 MB.
ArenaPlan plan_arena(const PreparedModel& model, const ArenaOptions& options, const std::string& what);

}  // namespace resnet8
