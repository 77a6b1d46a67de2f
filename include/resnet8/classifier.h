#pragma once
// What evaluation runs: any function from a float32 NHWC 0..255 batch [N, 32, 32, 3] to
// probabilities (or scores) [N, 10]. A model file becomes one through TorchScript (any file,
// fp32 or quantized, its forward code runs) or through the native C++ module (weights only).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace resnet8 {

struct Classifier {
  std::function<at::Tensor(const at::Tensor&)> forward;
  std::string kind;             // "torchscript" or "native"
  std::string engine;           // quantized engine the file recorded and that was set ("" for fp32)
  std::filesystem::path file;   // where its weights came from
  std::uintmax_t file_bytes = 0;
};

// torch::jit::load of `file`, in eval mode. A quantized file written by resnet8 records its
// quantized engine; that engine is set before loading (packed weights are re-packed for the engine
// current at load time). Throws resnet8::Error when the file is missing or is not a TorchScript module.
Classifier torchscript_classifier(const std::filesystem::path& file);

// The C++ ResNet8 module with weights loaded (data only) from the fp32 TorchScript export `file`.
Classifier native_classifier(const std::filesystem::path& file);

// native_classifier(file) when `native`, else torchscript_classifier(file): what the tools' --native picks.
Classifier load_classifier(const std::filesystem::path& file, bool native);

}  // namespace resnet8
