#pragma once
// LibTorch's quantized engines (the kernels behind quantized::conv2d & co.).
//
// A quantized model's packed weights are re-packed for the engine that is current when the model
// is loaded, so the engine must be set before torch::jit::load. Default when none is asked for, the
// fastest measured (docs/RESULTS.md): x86 where the int8 kernels have VNNI (it runs the convolutions on
// onednn there); onednn where they do not (x86 falls back to fbgemm's slower AVX2 kernels there); else the
// first of fbgemm, qnnpack.
#include <string>
#include <vector>

namespace resnet8 {

std::vector<std::string> available_engines();  // this build's, by name
std::string default_engine();
std::string current_engine();
void set_engine(const std::string& name);  // throws resnet8::Error naming the available engines

}  // namespace resnet8
