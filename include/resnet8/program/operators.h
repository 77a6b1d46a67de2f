#pragma once
// Every operator the integer program implements, described once. A row says how the operator is prepared
// from a TFLite file (TFLM's Prepare), packed for the C kernels, which kernel runs it and in which file, and
// how its call is run on the host and written as C. A new operator is a row here (src/program/operators.cpp)
// with its functions in src/program/ops/, its kernel in src/micro/ (r8_kernels.h), and a case in the
// differential test's graph generator (tests/tflite_graphs.py).
#include <resnet8/program/program.h>

#include <string>

namespace resnet8 {

class PrepareContext;  // src/program/prepare_context.h

// The kernel's arguments after its parameters: (input, output), (input1, input2, output) or
// (input, output, scratch).
enum class KernelArgs { kInOut, kInInOut, kInOutScratch };

struct OperatorInfo {
  TfliteOp op;
  const char* name;  // TFLite's: "CONV_2D"
  // TFLM's Prepare of the model's operator `index` (its inputs, outputs and options checked) into `out`.
  void (*prepare)(const PrepareContext& context, size_t index, PreparedOp& out);
  // The C kernel, or nullptr for an operator that takes no call (RESHAPE: a view of its input's bytes).
  const char* kernel;  // "r8_conv"
  const char* source;  // its operator file, "r8_conv.c" (which calls its variants')
  KernelArgs args;
  // The call's parameters for a step of the arena plan (weights in the kernels' layout, biases folded).
  void (*pack)(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays, KernelCall& call);
  // Runs the call on `arena`.
  void (*run)(const KernelCall& call, int8_t* arena);
  // The call's parameters as C: the const arrays and the struct, named `name`.
  std::string (*emit)(const std::string& name, const KernelCall& call, const ConstArrays& arrays);
};

const OperatorInfo& operator_info(TfliteOp op);

}  // namespace resnet8
