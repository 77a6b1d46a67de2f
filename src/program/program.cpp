// prepare -> plan -> pack (program.h).
#include <resnet8/micro/r8_variants.h>
#include <resnet8/program/operators.h>
#include <resnet8/program/prepare.h>
#include <resnet8/program/program.h>
#include <resnet8/support/error.h>

#include <algorithm>

namespace resnet8 {

const std::vector<int8_t>* ConstArrays::find(const int8_t* p) const {
  const auto it = std::find_if(int8_.begin(), int8_.end(), [p](const auto& a) { return a.data() == p; });
  return it == int8_.end() ? nullptr : &*it;
}

const std::vector<int32_t>* ConstArrays::find(const int32_t* p) const {
  const auto it = std::find_if(int32_.begin(), int32_.end(), [p](const auto& a) { return a.data() == p; });
  return it == int32_.end() ? nullptr : &*it;
}

int64_t ConstArrays::int8_bytes() const {
  int64_t n = 0;
  for (const auto& a : int8_) n += static_cast<int64_t>(a.size());
  return n;
}

int64_t ConstArrays::int32_bytes() const {
  int64_t n = 0;
  for (const auto& a : int32_) n += 4 * static_cast<int64_t>(a.size());
  return n;
}

KernelCall pack_call(const PreparedModel& model, const ArenaStep& step, ConstArrays& arrays) {
  KernelCall call;
  call.op = model.ops[static_cast<size_t>(step.op)].op;
  call.input_at = step.input_at;
  call.input2_at = step.input2_at;
  call.output_at = step.output_at;
  call.scratch_at = step.scratch_at;
  operator_info(call.op).pack(model, step, arrays, call);
  return call;
}

namespace {

// The scratch r8_conv needs for a prepared convolution: the most any variant a microcontroller build may
// compile needs (r8_variants.h), from the layer's whole geometry (a variant may size its scratch by any of it).
int64_t conv_scratch(const PreparedOp& o) {
  r8_conv_params p{};
  p.input = o.conv.input;
  p.output = o.conv.output;
  p.kernel_h = o.conv.kernel_h;
  p.kernel_w = o.conv.kernel_w;
  p.stride_h = o.conv.stride_h;
  p.stride_w = o.conv.stride_w;
  p.pad_top = o.conv.pad_top;
  p.pad_left = o.conv.pad_left;
  p.weights_int4 = o.conv.filter.int4;
  return r8_conv_scratch_bytes(&p);
}

// The packed call's own scratch need, which the kernels compute from the parameters they are given, must fit
// what the plan reserved: a variant's scratch formula that reads a field conv_scratch() did not set would
// otherwise overrun the arena on the core that runs it, and nowhere else.
void check_conv_scratch(const PreparedOp& o, const KernelCall& call) {
  if (call.op != TfliteOp::kConv2d) return;
  if (r8_conv_scratch_bytes(&std::get<r8_conv_params>(call.params)) > conv_scratch(o)) {
    throw Error("prepare_program: a convolution's kernels need more scratch than the arena plan reserved");
  }
}

}  // namespace

IntegerProgram prepare_program(TfliteModel model, const std::string& what, const ProgramOptions& options) {
  IntegerProgram p;
  p.prepared = prepare_model(std::move(model), what);
  ArenaOptions arena;
  arena.fuse_adds = options.fuse_adds;
  arena.conv_scratch = conv_scratch;
  p.plan = plan_arena(p.prepared, arena, what);
  for (const ArenaStep& step : p.plan.steps) {
    p.calls.push_back(pack_call(p.prepared, step, p.arrays));
    check_conv_scratch(p.prepared.ops[static_cast<size_t>(step.op)], p.calls.back());
  }
  return p;
}

}  // namespace resnet8
