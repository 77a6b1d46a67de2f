#pragma once
// LibTorch's quantized engines (the kernels behind quantized::conv2d & co.).
//
// A quantized model's packed weights are re-packed for the engine that is current when the model
// is loaded, so the engine must be set before torch::jit::load. Preference when none is asked for:
// x86 (fbgemm, with onednn where it is faster), fbgemm, onednn, qnnpack.
#include <string>
#include <vector>

namespace resnet8 {

std::vector<std::string> available_engines();  // this build's, by name
std::string default_engine();
std::string current_engine();
void set_engine(const std::string& name);  // throws resnet8::Error naming the available engines

// Whether activations should use 7 bits on `engine` here: fbgemm/x86 int8 kernels multiply u8 x s8
// pairs into 16-bit sums that can saturate on CPUs without VNNI; with VNNI (and on onednn/qnnpack)
// the full 8 bits are safe.
bool default_reduce_range(const std::string& engine);
bool cpu_has_vnni();

}  // namespace resnet8
