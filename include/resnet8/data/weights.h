#pragma once
// Weights from a TorchScript file, read as data only.
//
// The tensors come from data/archive.h, which runs no code from the file; here they are checked against the
// module they are copied into.
#include <resnet8/data/archive.h>

#include <filesystem>
#include <string>

namespace torch::nn {
class Module;
}

namespace resnet8 {

class ResNet8;

// TorchScriptArchive(file).tensors(tuple_state) (archive.h), `file` checked to be a regular file first.
NamedTensors read_torchscript_tensors(const std::filesystem::path& file, bool tuple_state = false);

// Copies `tensors` into the parameters and buffers of `module`. Every one of them is checked by
// name, shape, dtype and (floating point) finiteness, and no tensor may be left over; on any
// mismatch nothing is copied and resnet8::Error lists each problem, prefixed with `source`.
void load_weights(torch::nn::Module& module, const NamedTensors& tensors, const std::string& source);

// A ResNet8 in eval mode with the weights of the fp32 TorchScript export `file`.
ResNet8 load_resnet8(const std::filesystem::path& file);

}  // namespace resnet8
