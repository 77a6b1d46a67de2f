// The integer program on the host (interpreter.h).
#include <resnet8/program/interpreter.h>
#include <resnet8/program/operators.h>

#include <resnet8/micro/r8_conv_x86.h>
#include <resnet8/micro/r8_variants.h>
#include <resnet8/support/error.h>

#include <algorithm>
#include <cstring>

namespace resnet8 {

namespace {

// A convolution on an x86 variant, its output rows split between this thread and `worker`.
void run_split(const KernelCall& call, int8_t* a, SplitWorker& worker) {
  const auto& p = std::get<r8_conv_params>(call.params);
  const int32_t half = p.output.height / 2;
  worker.start(&p, call.x86, a + call.input_at, a + call.output_at, half, p.output.height);
  r8_conv_x86_rows(&p, call.x86, a + call.input_at, a + call.output_at, a + call.x86_scratch_at, 0, half);
  worker.finish();
}

}  // namespace

void run_program(const IntegerProgram& p, const int8_t* input, int8_t* output, std::vector<int8_t>& arena,
                 SplitWorker* worker) {
  if (worker && worker->scratch_bytes() < p.host_scratch_bytes)
    throw Error("run_program: the worker's scratch is too small");
  const int64_t bytes = p.plan.arena_bytes + p.host_scratch_bytes;
  if (static_cast<int64_t>(arena.size()) < bytes) arena.resize(static_cast<size_t>(bytes));
  int8_t* a = arena.data();
  std::memcpy(a + p.plan.input_at, input, static_cast<size_t>(p.input_bytes()));
  for (const KernelCall& call : p.calls) {
    if (worker && call.x86) {
      run_split(call, a, *worker);
    } else {
      operator_info(call.op).run(call, a);
    }
  }
  std::memcpy(output, a + p.plan.output_at, static_cast<size_t>(p.output_bytes()));
}

namespace {

// Operator `i` of the model alone: its inputs, its output and its scratch one after the other in `memory`.
void run_alone(const PreparedModel& m, size_t i, std::vector<std::vector<int8_t>>& tensors) {
  const PreparedOp& o = m.ops[i];
  const auto& in = tensors[static_cast<size_t>(o.input)];
  auto& out = tensors[static_cast<size_t>(o.output)];
  if (o.op == TfliteOp::kReshape) {
    out = in;
    return;
  }
  ArenaStep step;
  step.op = static_cast<int32_t>(i);
  ConstArrays arrays;
  KernelCall call = pack_call(m, step, arrays);
  const std::vector<int8_t> none;
  const auto& in2 = o.input2 >= 0 ? tensors[static_cast<size_t>(o.input2)] : none;
  const auto out_bytes = m.bytes[static_cast<size_t>(o.output)];
  const int64_t scratch = o.op == TfliteOp::kConv2d ? r8_conv_scratch_bytes(&std::get<r8_conv_params>(call.params)) : 0;
  call.input_at = 0;
  call.input2_at = static_cast<int64_t>(in.size());
  call.output_at = call.input2_at + static_cast<int64_t>(in2.size());
  call.scratch_at = (call.output_at + out_bytes + 3) / 4 * 4;
  std::vector<int8_t> memory(static_cast<size_t>(call.scratch_at + scratch));
  std::copy(in.begin(), in.end(), memory.begin());
  std::copy(in2.begin(), in2.end(), memory.begin() + call.input2_at);
  operator_info(o.op).run(call, memory.data());
  out.assign(memory.begin() + call.output_at, memory.begin() + call.output_at + out_bytes);
}

}  // namespace

void run_reference(const IntegerProgram& p, const int8_t* input, int8_t* output) {
  const PreparedModel& m = p.prepared;
  std::vector<std::vector<int8_t>> tensors(m.model.tensors.size());
  tensors[static_cast<size_t>(m.input)].assign(input, input + p.input_bytes());
  for (size_t i = 0; i < m.ops.size(); ++i) run_alone(m, i, tensors);
  const auto& out = tensors[static_cast<size_t>(m.output)];
  std::copy(out.begin(), out.end(), output);
}

}  // namespace resnet8
