#pragma once
// What evaluation runs: any function from a float32 NHWC 0..255 batch [N, 32, 32, 3] to
// probabilities (or scores) [N, 10]. A model file becomes one through TorchScript (any file,
// fp32 or quantized, its forward code runs), or natively in C++ with the weights read as data: the
// fast folded network (FoldedResNet8) or the unfolded resnet8::ResNet8 torch::nn::Module.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace resnet8 {

struct Classifier {
  std::function<at::Tensor(const at::Tensor&)> forward;
  std::string kind;             // "torchscript", "native" (folded) or "module"
  std::string engine;           // quantized engine the file recorded and that was set ("" for fp32)
  std::filesystem::path file;   // where its weights came from
  std::uintmax_t file_bytes = 0;
};

// torch::jit::load of `file`, in eval mode. A quantized file written by resnet8 records its
// quantized engine; that engine is set before loading (packed weights are re-packed for the engine
// current at load time). Throws resnet8::Error when the file is missing or is not a TorchScript module.
Classifier torchscript_classifier(const std::filesystem::path& file);

// The native fp32 path: FoldedResNet8 (batch norm folded into the convolutions, oneDNN called
// directly) built from the weights of the fp32 TorchScript export `file`, read as data only.
Classifier native_classifier(const std::filesystem::path& file);

// The unfolded resnet8::ResNet8 torch::nn::Module (the reference port: separate batch norms, SameConv2d
// padding) with the weights of `file` read as data only. Slower than native_classifier.
Classifier module_classifier(const std::filesystem::path& file);

// c.forward(x), checked: any exception from the model (a TorchScript `raise`, a LibTorch op failing,
// running out of memory) becomes one resnet8::Error line naming c.file; the result must be a floating
// tensor of shape [N, 10] (N = x.size(0)) with finite values, else resnet8::Error says what it was.
at::Tensor classify(const Classifier& c, const at::Tensor& x);

// What runs a model file: the tools' default, --native and --module.
enum class Runner { kTorchScript, kNative, kModule };
Classifier load_classifier(const std::filesystem::path& file, Runner runner);

}  // namespace resnet8
