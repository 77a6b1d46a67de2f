#pragma once
// A TFLite model prepared for the integer kernels (<resnet8/micro/r8_kernels.h>): per operator the kernel
// and its parameters, derived from the model's float32 scales exactly as TensorFlow Lite Micro's Prepare
// derives them (QuantizeMultiplier in double, the ADD rescaling with a left shift of 20, the MEAN
// multiplier readjusted by the element count, the softmax input scaling and diff_min, the fused
// activations' ranges), and its memory planned once (run/arena_plan.h: residual ADDs fused into the
// convolutions before them, every activation at an offset in one arena). The host evaluator runs it
// (run_program) and the C generator (formats/c_source.h) emits it; both then compute what TFLM's reference
// kernels compute, bit for bit, in the same arena. Everything TFLM would refuse, and everything
// the kernels do not implement, is refused here with one line naming the operator and what it found.
#include <resnet8/formats/tflite_model.h>
#include <resnet8/micro/r8_kernels.h>

#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace resnet8 {

// TFLM's QuantizeMultiplier (quantization_util.cc): the significand in Q0.31 and the power of two.
void quantize_multiplier(double multiplier, int32_t* significand, int* shift);

struct ProgramOp {
  TfliteOp op = TfliteOp::kConv2d;
  int32_t input = -1, input2 = -1, output = -1;                        // activation tensors (model indices)
  int64_t input_at = 0, input2_at = 0, output_at = 0, scratch_at = 0;  // their bytes' offsets in the arena
  r8_conv_params conv{};
  r8_add_params add{};
  r8_avgpool_params avgpool{};
  r8_mean_params mean{};
  r8_fully_connected_params fully_connected{};
  r8_softmax_params softmax{};
};

// Owns the constant arrays the kernels' parameters point to; not copyable (the pointers would dangle).
struct IntegerProgram {
  IntegerProgram() = default;
  IntegerProgram(const IntegerProgram&) = delete;
  IntegerProgram& operator=(const IntegerProgram&) = delete;
  IntegerProgram(IntegerProgram&&) = default;
  IntegerProgram& operator=(IntegerProgram&&) = default;

  TfliteModel model;
  // The kernel calls in order. After planning, an ADD fused into a convolution is part of that call
  // (conv.add points into fused_adds) and a RESHAPE is no call (its output shares its input's bytes).
  std::vector<ProgramOp> ops;
  std::vector<ProgramOp> model_ops;  // the model's operators as prepared, before planning (unfused, unplaced)
  std::vector<int64_t> bytes;        // per model tensor: its int8 activation bytes (0 for constants)
  int32_t input = 0, output = 0;
  int64_t arena_bytes = 0, input_at = 0, output_at = 0;  // the arena, and where the input and output are in it
  float input_scale = 1, output_scale = 1;
  int32_t input_zero_point = 0, output_zero_point = 0;
  std::deque<std::vector<int8_t>> weights;  // deques: adding an array never moves the others
  std::deque<std::vector<int32_t>> ints;
  std::deque<r8_add_params> fused_adds;

  int64_t multiply_accumulates() const;  // per image, convolutions and fully connected
};

struct PrepareOptions {
  bool fuse_adds = true;  // false: every ADD its own call with its own output (the model's operators as they are)
};

// Prepares `model` (checked: shapes, types, quantization, the parameters TFLM requires) for one image of
// 32 x 32 x 3 int8 in and 10 int8 scores out, and plans its arena. Throws resnet8::Error naming `what`
// and the operator.
IntegerProgram prepare_program(TfliteModel model, const std::string& what, const PrepareOptions& options = {});

// Runs the program on one image's int8 input, writing its int8 output (program.bytes[program.output] bytes).
// `arena` holds the program's arena (resized to arena_bytes as needed); reuse it across images.
void run_program(const IntegerProgram& program, const int8_t* input, int8_t* output, std::vector<int8_t>& arena);

}  // namespace resnet8
