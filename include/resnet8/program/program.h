#pragma once
// The integer program of a TFLite model, in stages, each a plain value the next one reads:
//   prepare   TfliteModel -> PreparedModel: TFLM's Prepare, the same for every kernel family (prepare.h)
//   plan      PreparedModel -> ArenaPlan: fused ADDs, RESHAPE views, every activation's offset (arena_plan.h)
//   pack      the plan's steps as calls of the C kernels (<resnet8/micro/r8_kernels.h>): their parameter
//             structs, the weights in the kernels' layout and the biases folded as they expect
//   run       the calls on the host, in the planned arena (interpreter.h)
//   emit      the calls as C99 for a microcontroller (emit_c.h)
// Each operator is described once, in program/operators.h. prepare_program() runs the first three.
#include <resnet8/micro/r8_kernels.h>
#include <resnet8/program/arena_plan.h>
#include <resnet8/program/prepared.h>

#include <cstdint>
#include <deque>
#include <string>
#include <variant>
#include <vector>

namespace resnet8 {

// The constant arrays the kernels' parameters point to, owned by the program.
class ConstArrays {
 public:
  const int8_t* add(std::vector<int8_t> values) { return int8_.emplace_back(std::move(values)).data(); }
  const int32_t* add(std::vector<int32_t> values) { return int32_.emplace_back(std::move(values)).data(); }
  const r8_add_params* add(const r8_add_params& params) { return &adds_.emplace_back(params); }
  // The array that starts at `p` (one this object owns), or nullptr.
  const std::vector<int8_t>* find(const int8_t* p) const;
  const std::vector<int32_t>* find(const int32_t* p) const;
  int64_t int8_bytes() const;   // the int8 arrays' bytes (the weights)
  int64_t int32_bytes() const;  // the int32 arrays' bytes (biases, multipliers, shifts)

 private:
  std::deque<std::vector<int8_t>> int8_;  // deques: adding an array never moves the others
  std::deque<std::vector<int32_t>> int32_;
  std::deque<r8_add_params> adds_;
};

using KernelParams = std::variant<std::monostate, r8_conv_params, r8_add_params, r8_avgpool_params, r8_mean_params,
                                  r8_fully_connected_params, r8_softmax_params>;

// A step of the plan as a call of a C kernel.
struct KernelCall {
  TfliteOp op = TfliteOp::kConv2d;
  int64_t input_at = 0, input2_at = 0, output_at = 0, scratch_at = 0;
  KernelParams params;
  // On the host, a convolution packed for an x86 variant (host_kernels.h): its packed words, owned by the
  // program, and its scratch, past the planned arena. nullptr: the C kernel r8_conv runs it.
  const int32_t* x86 = nullptr;
  int64_t x86_scratch_at = 0;
};

// Owns the constant arrays the calls point to; not copyable (the pointers would dangle).
struct IntegerProgram {
  IntegerProgram() = default;
  IntegerProgram(const IntegerProgram&) = delete;
  IntegerProgram& operator=(const IntegerProgram&) = delete;
  IntegerProgram(IntegerProgram&&) = default;
  IntegerProgram& operator=(IntegerProgram&&) = default;

  PreparedModel prepared;
  ArenaPlan plan;
  std::vector<KernelCall> calls;  // one per plan step
  ConstArrays arrays;
  // The host's x86 kernels, when use_host_kernels() chose them: their packed weights, and the scratch bytes
  // run_program() adds past the planned arena (none of it is emitted into the C).
  std::deque<std::vector<int32_t>> x86_packed;
  int64_t host_scratch_bytes = 0;
  int x86_level = 0;  // R8_X86_NONE: the C kernels

  const TfliteModel& model() const { return prepared.model; }
  int64_t input_bytes() const { return prepared.bytes[static_cast<size_t>(prepared.input)]; }
  int64_t output_bytes() const { return prepared.bytes[static_cast<size_t>(prepared.output)]; }
};

struct ProgramOptions {
  bool fuse_adds = true;  // false: every ADD its own call (ArenaOptions::fuse_adds)
};

// prepare_model(), plan_arena() with the C kernels' scratch sizes, and the calls packed for them. Throws
// resnet8::Error naming `what` and the operator.
IntegerProgram prepare_program(TfliteModel model, const std::string& what, const ProgramOptions& options = {});

// The C kernels' call for `step` of `plan`: parameters, weights in their layout, biases folded.
KernelCall pack_call(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays);

}  // namespace resnet8
