#pragma once
// The int8 file format's records, apart from quantization, so that loading a file does not depend on
// how it was made: a TorchScript archive (int8_torchscript.h) with two extra records, the engine its
// packed weights were built for and the JSON metadata of what produced it (int8_metadata.h).
#include <resnet8/data/archive.h>
#include <resnet8/formats/int8_metadata.h>
#include <resnet8/quant/int8_scheme.h>
#include <resnet8/quant/quant_plan.h>

#include <filesystem>
#include <optional>
#include <string>

namespace torch::jit {
struct Module;
}

namespace resnet8 {

inline constexpr const char* kMetadataRecord = "resnet8_ptq.json";
// The layout of the state and the code, recorded as "format" in the metadata. 1 (files without the field):
// the pool keeps its input's grid. 2: the pool has an activation point of its own, after the adds' in the
// state; plans of 6 activation bits and fewer clamp every activation. 3: as 2, with layers whose weights take
// another width (layer_weight_bits; bit_pack.h packs them in runs). Files of a later format are refused.
inline constexpr int kInt8FileFormat = 3;
// The format a plan is written in: 3 with layers of other widths, 2, or 1 for a plan whose pool keeps its
// input's grid. Throws resnet8::Error for layers of other widths with the pool on its input's grid.
int int8_file_format(const QuantPlan& plan);
inline constexpr const char* kEngineRecord = "quantized_engine";

// The range every scale in an int8 file must lie in (activation and weight scales alike): far wider than
// any ResNet8 plan needs (activation scales ~1e-3..1, weight scales down to quantize_weight()'s 1e-12
// floor), narrow enough that no requantization multiplier overflows.
inline constexpr double kMinScale = 1e-12, kMaxScale = 1e6;

// Saves `module` with the two records: serialized in memory, then written atomically (atomic_file.h).
void save_quantized(const torch::jit::Module& module, const std::string& engine, const std::string& metadata,
                    const std::filesystem::path& file);

// An int8 file of resnet8-ptq read as data: its records and its plan, from one open archive.
struct Int8File {
  Int8FileMetadata metadata;
  std::string engine;  // the engine its packed weights were built for
  QuantPlan plan;
  Int8Scheme declared_scheme() const { return {metadata.widest_weight_bits(), metadata.activation_bits}; }
};

// The int8 file in `archive`, or nothing for a TorchScript file without resnet8-ptq's metadata record. The
// plan is read as data only (no code from the file is compiled or run): its structure from the ResNet8
// architecture and the recorded metadata (format, weight and activation bits, per-channel or per-tensor
// weights, fp32 layers), its values (integer or fp32 weights, biases, scales, zero points) from the file's
// flat state. Observed ranges are not stored and stay 0. Every path that runs an int8 file reads it through
// here first (run/classifier.h), so that a file LibTorch would read out of bounds or run as nonsense is
// refused on the TorchScript path too. Checked: every storage record against its tensor's size and no
// storage record beyond the state's; every pickle's length fields; no constants; the state's length
// against the plan; floats finite; scales in [kMinScale, kMaxScale]; zero points in 0..255; weights inside
// the recorded bit-width; biases inside int32 steps. Throws resnet8::Error naming the file and the first
// problem.
std::optional<Int8File> read_int8_file(const TorchScriptArchive& archive);

// The same for one file, opened for the call: its recorded engine ("" for a TorchScript file that is not an
// int8 file), its declared scheme (nothing for such a file), its plan (such a file is refused).
std::string recorded_engine(const std::filesystem::path& file);
std::optional<Int8Scheme> recorded_scheme(const std::filesystem::path& file);
QuantPlan read_quantized_plan(const std::filesystem::path& file);

}  // namespace resnet8
