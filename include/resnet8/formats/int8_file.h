#pragma once
// The int8 file format's records, apart from quantization, so that loading a file does not depend on
// how it was made: a TorchScript archive (int8_torchscript.h) with two extra records, the engine its
// packed weights were built for and the JSON metadata of what produced it (quantize.h).
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
inline constexpr const char* kEngineRecord = "quantized_engine";

// Saves `module` with the two records, via a temporary file and a rename.
void save_quantized(const torch::jit::Module& module, const std::string& engine, const std::string& metadata,
                    const std::filesystem::path& file);

// The quantized engine recorded in a file written by save_quantized(), or "" for any other
// TorchScript file. Throws resnet8::Error if the file is not a TorchScript archive.
std::string recorded_engine(const std::filesystem::path& file);

// The scheme a file written by save_quantized() records (files from before weight_bits was recorded
// used 8-bit weights), or nothing for any other TorchScript file.
std::optional<Int8Scheme> recorded_scheme(const std::filesystem::path& file);

// The quantization plan a file written by save_quantized() holds, read as data only (no code from the file
// is compiled or run): its structure from the ResNet8 architecture and the recorded metadata (weight and
// activation bits, per-channel or per-tensor weights, fp32 layers), its values (integer or fp32 weights,
// biases, scales, zero points) from the file's flat state. Observed ranges are not stored and stay 0.
// Throws resnet8::Error naming the file when it is no such file or its state does not fit its plan.
QuantPlan read_quantized_plan(const std::filesystem::path& file);

}  // namespace resnet8
