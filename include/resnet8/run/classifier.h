#pragma once
// What evaluation runs: any function from a float32 NHWC 0..255 batch [N, 32, 32, 3] to
// probabilities (or scores) [N, 10]. A model file becomes one through TorchScript (any file,
// fp32 or quantized, its forward code runs), or natively in C++ with the weights read as data: the
// fast folded network (FoldedResNet8) or the unfolded resnet8::ResNet8 torch::nn::Module for an fp32
// export, the native int8 runner (Int8ResNet8) for an int8 file of resnet8-ptq.
//
// A quantized file's packed weights are built when it is loaded, for the engine current then. The loader
// picks it for the CPU it runs on, not the one that wrote the file: engine_for() of the file's scheme
// (int8_scheme.h), unless the caller names one.
#include <resnet8/run/model_kind.h>

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace resnet8 {

struct Classifier {
  std::function<at::Tensor(const at::Tensor&)> forward;
  ModelKind kind = ModelKind::kTorchScript;
  std::string engine;          // quantized engine set for the file's int8 kernels ("" for fp32 and .tflite)
  std::filesystem::path file;  // where its weights came from
  std::uintmax_t file_bytes = 0;
  std::string kernels{};  // .tflite: the host kernels of its convolutions (host_kernels.h); native fp32: the float
                          // kernels' level (float_direct.h); else ""
  // A model whose output is an int8 tensor (.tflite): its scale and zero point. forward() returns the
  // dequantized values, (q - zero_point) * scale, from which q is recovered exactly. Scale 0: float outputs.
  float output_scale = 0;
  int32_t output_zero_point = 0;
  // The arithmetic of one image, for rates: its multiply-accumulates (0: ResNet8's, from the architecture) and
  // whether they are integer (int8 files and .tflite: GOP/s) or float (GFLOP/s).
  int64_t multiply_accumulates = 0;
  bool integer = false;
};

// torch::jit::load of `file`, in eval mode. For an int8 file of resnet8-ptq, `engine` (or, when empty,
// engine_for() its recorded scheme) is set first; a scheme no engine here computes exactly is refused.
// Throws resnet8::Error when the file is missing or is not a TorchScript module.
Classifier torchscript_classifier(const std::filesystem::path& file, const std::string& engine = "");

// The native paths, with the weights of `file` read as data only: for the fp32 TorchScript export, the direct
// float kernels (DirectFloatNet, run/float_direct.h) at `kernels` ("auto" when empty, else parse_float_level()),
// images in parallel on the LibTorch threads and one image on two cores (SplitWorker) when the batch runs on
// one image thread; for an int8 file of resnet8-ptq, Int8ResNet8 on `engine` (chosen as for
// torchscript_classifier when empty), `kernels` refused.
Classifier native_classifier(const std::filesystem::path& file, const std::string& engine = "",
                             const std::string& kernels = "");

// The unfolded resnet8::ResNet8 torch::nn::Module (the reference port: separate batch norms, SameConv2d
// padding) with the weights of `file` read as data only. Slower than native_classifier.
Classifier module_classifier(const std::filesystem::path& file);

// c.forward(x), checked: any exception from the model (a TorchScript `raise`, a LibTorch op failing,
// running out of memory) becomes one resnet8::Error line naming c.file; the result must be a floating
// tensor of shape [N, 10] (N = x.size(0)) with finite values, else resnet8::Error says what it was.
at::Tensor classify(const Classifier& c, const at::Tensor& x);

// A .tflite int8 model, read as data (read_tflite()) and run on the integer kernels exactly as TensorFlow
// Lite Micro's reference kernels run it (program/interpreter.h), one image at a time, images in parallel on
// the LibTorch thread pool. The pixels go in as the model's input quantization says (scale 1, zero point
// -128: pixel - 128).
// `kernels`: "auto" (the fastest this CPU runs), "reference" (the portable C kernels), "avx2" or
// "avx512_vnni" (parse_host_kernels()).
Classifier tflite_classifier(const std::filesystem::path& file, const std::string& kernels = "auto");

// What runs a model file: the tools' default, --native and --module. A .tflite file always runs on the
// integer kernels (the default and --native alike: its data is read, no code); --module refuses it.
enum class Runner { kTorchScript, kNative, kModule };
// `engine` as for torchscript_classifier; ignored for fp32 files. `kernels` as for tflite_classifier ("": auto),
// or with kNative as for native_classifier; refused (OptionError "kernels") elsewhere.
Classifier load_classifier(const std::filesystem::path& file, Runner runner, const std::string& engine = "",
                           const std::string& kernels = "");

}  // namespace resnet8
