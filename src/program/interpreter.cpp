// The integer program on the host (interpreter.h).
#include <resnet8/program/interpreter.h>
#include <resnet8/program/operators.h>

#include <cstring>

namespace resnet8 {

void run_program(const IntegerProgram& p, const int8_t* input, int8_t* output, std::vector<int8_t>& arena) {
  if (static_cast<int64_t>(arena.size()) < p.plan.arena_bytes) arena.resize(static_cast<size_t>(p.plan.arena_bytes));
  int8_t* a = arena.data();
  std::memcpy(a + p.plan.input_at, input, static_cast<size_t>(p.input_bytes()));
  for (const KernelCall& call : p.calls) operator_info(call.op).run(call, a);
  std::memcpy(output, a + p.plan.output_at, static_cast<size_t>(p.output_bytes()));
}

}  // namespace resnet8
