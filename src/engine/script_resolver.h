#pragma once
// A resolver for torch::jit::Module::define() that understands the names the TorchScript printer
// emits for quantized models: `ops.<namespace>.<op>` (e.g. ops.quantized.conv2d_relu) and dtype
// constants such as torch.quint8, and `raise Exception(...)`. The default resolver only maps `torch.*`
// to aten operators.
#include <torch/csrc/jit/frontend/resolver.h>

namespace resnet8::detail {

std::shared_ptr<torch::jit::Resolver> quantized_ops_resolver();

}  // namespace resnet8::detail
