#pragma once
// Static int8 post-training quantization of ResNet8 with LibTorch's quantized ops, written as a
// self-contained TorchScript module.
//
// Layout of the int8 network: the NHWC 0..255 input is quantized exactly (quint8, scale 1, zero
// point 0); convolutions with their batch norm folded in run as quantized::conv2d(_relu) with
// packed qint8 weights (per-channel or per-tensor symmetric, N-bit: range [-(2^(N-1)-1), 2^(N-1)-1],
// by default 7-bit [-63, 63], which int8_scheme.h shows exact on every x86 CPU); residual adds as
// quantized::add_relu; the 8x8 average pool on quantized tensors; the classifier as
// quantized::linear; the logits are dequantized before the softmax. Activation ranges come from a
// calibration set through an observer (observer.h); ReLU outputs keep zero point 0.
#include <resnet8/cifar10.h>
#include <resnet8/folded.h>
#include <resnet8/int8_scheme.h>
#include <resnet8/observer.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace torch::jit {
struct Module;
}

namespace resnet8 {

struct QuantizeOptions {
  ObserverKind observer = ObserverKind::kPercentile;
  bool per_channel = true;
  std::string engine;                // empty = default_engine()
  int weight_bits = 7;               // 2..8; 7 cannot overflow the int16 pair sums of non-VNNI kernels
  // 7-bit activations. Unset: only where the weights alone would not make the scheme exact here
  // (8-bit weights on kernels that saturate int16 pairs). A scheme that would saturate is refused.
  std::optional<bool> reduce_range;
  int64_t batch_size = 500;          // calibration batch size
  // Mixed precision: layers ("stem.conv", "stack2.conv1", ..., "fc") kept in fp32. Their input is
  // dequantized, the float conv runs, its output is quantized again for the int8 layers after it.
  std::set<std::string> float_layers;
  // Provenance, recorded in the file.
  int64_t calib_per_class = 0;
  uint64_t seed = 0;
  // Called as calibration batches are done: (stage, images done, images in total).
  std::function<void(const std::string&, int64_t, int64_t)> on_progress;
};

struct ActivationQuant {
  std::string point;              // FoldedResNet8 observation point
  double observed_min = 0, observed_max = 0;
  double range_min = 0, range_max = 0;  // after the observer's choice
  QParams qparams;
};

struct LayerQuant {
  std::string name;  // "stem.conv", "stack2.shortcut", "fc"
  std::vector<int64_t> weight_shape;
  double weight_min = 0, weight_max = 0;
  std::vector<double> weight_scales;  // one per output channel, or one; empty when kept_float
  QParams output;
  bool kept_float = false;
};

struct QuantizedResNet8 {
  std::shared_ptr<torch::jit::Module> module;  // forward(NHWC float 0..255) -> probabilities
  std::string engine;
  Int8Scheme scheme;
  QuantizeOptions options;
  std::vector<ActivationQuant> activations;
  std::vector<LayerQuant> layers;

  std::string metadata_json() const;  // what produced it; stored in the file as extra/resnet8_ptq.json
  std::string report_json() const;    // metadata + per-activation and per-layer parameters
};

// Symmetric `bits`-bit weights in [-qmax, qmax], qmax = 2^(bits-1) - 1: round(w / scale) with
// scale = max|w| / qmax per output channel (dim 0) or per tensor, the scales rounded to float32 first
// (as stored). Returns int8 values; `scales` receives the float32 scales.
at::Tensor quantize_weight(const at::Tensor& w, int bits, bool per_channel, at::Tensor& scales);

// The options' scheme on `engine`: weight bits, and reduce_range resolved as documented above.
// Throws resnet8::Error for weight bits outside 2..8 or a scheme that would saturate here.
Int8Scheme resolve_scheme(const QuantizeOptions& options, const std::string& engine);

// Sets the engine, calibrates `model` on `calibration` and builds the int8 module.
QuantizedResNet8 quantize(const FoldedResNet8& model, const cifar10::Dataset& calibration,
                          const QuantizeOptions& options);

// Saves q.module with its metadata, via a temporary file and a rename.
void save_quantized(const QuantizedResNet8& q, const std::filesystem::path& file);

// The quantized engine recorded in a TorchScript file written by save_quantized(), or "" for any
// other TorchScript file. Throws resnet8::Error if the file is not a TorchScript archive.
std::string recorded_engine(const std::filesystem::path& file);

// The scheme a file written by save_quantized() records (files from before weight_bits was recorded
// used 8-bit weights), or nothing for any other TorchScript file.
std::optional<Int8Scheme> recorded_scheme(const std::filesystem::path& file);

inline constexpr const char* kMetadataRecord = "resnet8_ptq.json";
inline constexpr const char* kEngineRecord = "quantized_engine";

}  // namespace resnet8
