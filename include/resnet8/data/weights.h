#pragma once
// Weights from a TorchScript file, read as data only.
//
// read_torchscript_tensors() opens the zip archive and unpickles data.pkl with a type resolver
// that knows no TorchScript code: classes become plain attribute bags and no method of the file
// (not even __setstate__) is compiled or run. Objects that carry custom state are refused unless asked for.
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>

namespace torch::nn {
class Module;
}

namespace resnet8 {

class ResNet8;

// Every tensor attribute of the saved module tree, by dotted path ("stack2.bn1.running_var"). With
// `tuple_state`, an object whose custom state is a tuple (an int8 file's, int8_torchscript.h) is read too:
// its tensors are "state0", "state1", ... (still as data: no __setstate__ runs).
using NamedTensors = std::map<std::string, at::Tensor>;
NamedTensors read_torchscript_tensors(const std::filesystem::path& file, bool tuple_state = false);

// Copies `tensors` into the parameters and buffers of `module`. Every one of them is checked by
// name, shape, dtype and (floating point) finiteness, and no tensor may be left over; on any
// mismatch nothing is copied and resnet8::Error lists each problem, prefixed with `source`.
void load_weights(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source);

// A ResNet8 in eval mode with the weights of the fp32 TorchScript export `file`.
ResNet8 load_resnet8(const std::filesystem::path& file);

}  // namespace resnet8
