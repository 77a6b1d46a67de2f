// The operator table (operators.h): one row per operator, its functions in src/program/ops/.
#include <resnet8/micro/r8_conv_x86.h>
#include <resnet8/program/operators.h>
#include <resnet8/support/error.h>

#include "program/kernel_fields.h"
#include "program/ops/ops.h"

#include <array>

namespace resnet8 {
namespace {

template <class P>
const P& params(const KernelCall& call) {
  return std::get<P>(call.params);
}

// Runners by the kernel's arguments.
template <class P, void (*K)(const P*, const int8_t*, int8_t*)>
void run_in_out(const KernelCall& c, int8_t* a) {
  K(&params<P>(c), a + c.input_at, a + c.output_at);
}
template <class P, void (*K)(const P*, const int8_t*, const int8_t*, int8_t*)>
void run_in_in_out(const KernelCall& c, int8_t* a) {
  K(&params<P>(c), a + c.input_at, a + c.input2_at, a + c.output_at);
}

// A convolution: on its x86 variant when the host program packed it for one (host_kernels.h).
void run_conv(const KernelCall& c, int8_t* a) {
  const auto& p = params<r8_conv_params>(c);
  if (c.x86) {
    r8_conv_x86(&p, c.x86, a + c.input_at, a + c.output_at, a + c.x86_scratch_at);
  } else {
    r8_conv(&p, a + c.input_at, a + c.output_at, a + c.scratch_at);
  }
}

template <class P>
std::string emit(const std::string& name, const KernelCall& call, const ConstArrays& arrays) {
  return emit_params(name, params<P>(call), arrays);
}

// clang-format off
const std::array<OperatorInfo, 7> kOperators = {{
    {TfliteOp::kConv2d, "CONV_2D", ops::prepare_conv, "r8_conv", "r8_conv.c",
     KernelArgs::kInOutScratch, ops::pack_conv, run_conv, emit<r8_conv_params>},
    {TfliteOp::kAdd, "ADD", ops::prepare_add, "r8_add", "r8_add.c",
     KernelArgs::kInInOut, ops::pack_add, run_in_in_out<r8_add_params, r8_add>, emit<r8_add_params>},
    {TfliteOp::kAveragePool2d, "AVERAGE_POOL_2D", ops::prepare_average_pool, "r8_avgpool", "r8_average_pool.c",
     KernelArgs::kInOut, ops::pack_average_pool, run_in_out<r8_avgpool_params, r8_avgpool>,
     emit<r8_avgpool_params>},
    {TfliteOp::kMean, "MEAN", ops::prepare_mean, "r8_mean", "r8_mean.c",
     KernelArgs::kInOut, ops::pack_mean, run_in_out<r8_mean_params, r8_mean>, emit<r8_mean_params>},
    {TfliteOp::kReshape, "RESHAPE", ops::prepare_reshape, nullptr, nullptr,
     KernelArgs::kInOut, nullptr, nullptr, nullptr},
    {TfliteOp::kFullyConnected, "FULLY_CONNECTED", ops::prepare_fully_connected, "r8_fully_connected",
     "r8_fully_connected.c", KernelArgs::kInOut, ops::pack_fully_connected,
     run_in_out<r8_fully_connected_params, r8_fully_connected>, emit<r8_fully_connected_params>},
    {TfliteOp::kSoftmax, "SOFTMAX", ops::prepare_softmax, "r8_softmax", "r8_softmax.c",
     KernelArgs::kInOut, ops::pack_softmax, run_in_out<r8_softmax_params, r8_softmax>, emit<r8_softmax_params>},
}};
// clang-format on

}  // namespace

const OperatorInfo& operator_info(TfliteOp op) {
  for (const OperatorInfo& info : kOperators) {
    if (info.op == op) return info;
  }
  throw Error("operator_info: an operator without a row in the operator table");
}

}  // namespace resnet8
