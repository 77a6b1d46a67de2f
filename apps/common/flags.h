#pragma once
// The resnet8 tools' shared flags, in groups: threads, the ways of making a plan (--best & co.), the runner
// and engine of a model file, --keep-float, bit-width lists, CIFAR-10 data, outputs and generated-C
// directories. Each group adds its options and reads them back, checked, naming the flag in every error.
#include "cli_kit.h"

#include <resnet8/data/cifar10.h>
#include <resnet8/quant/observer.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/refine.h>
#include <resnet8/run/classifier.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/output_guard.h>

#include <cxxopts.hpp>

#include <optional>
#include <set>
#include <string>
#include <vector>

namespace resnet8::cli {

// At most this many LibTorch threads: far above any useful count, far below what makes libgomp run out
// of memory or crash (--threads 100000 did).
inline constexpr int kMaxThreads = 1024;
// Bounds of the other numeric flags, far above any useful value (each tool's --help states them).
inline constexpr int64_t kMaxBatchSize = 100000;            // images per forward call
inline constexpr int64_t kMaxCalibPerClass = 5000;          // the training split has 5,000 images per class
inline constexpr int64_t kMaxAdaRoundIterations = 1000000;  // 100x the default

// --threads N: 0 (one per hardware thread) .. kMaxThreads.
int threads(const cxxopts::ParseResult& args);

// The --observer flag as an ObserverKind; an unknown name is a usage error.
ObserverKind observer(const cxxopts::ParseResult& args);

// The network's layers (architecture.h), comma-separated: what --keep-float accepts.
std::string layer_list();
// This LibTorch build's quantized engines, comma-separated.
std::string available_engine_list();

// How the plan is made beyond the bit-widths, shared by resnet8-ptq and resnet8-analyze.
struct Methods {
  WeightRange weight_range = WeightRange::kMax;
  bool equalize = false;
  RefineOptions refine;
  std::string describe() const;  // "weight range mse, CLE, AdaRound, bias correction"
};

// The most accurate combination for 3..5-bit weights, chosen on held-out training images, never the test set
// (docs/QUANTIZATION.md, "Low-bit weights").
inline constexpr const char* kBestPreset = "--weight-range mse --rounding adaround --equalize";

void add_method_options(cxxopts::Options& options);
Methods methods(const cxxopts::ParseResult& args);

// --native / --module: the C++ paths with the weights of --model read as data; --engine for int8 files.
void add_runner_options(cxxopts::Options& options);
// --engine NAME: one of this build's engines; "" when not given.
std::string engine_flag(const cxxopts::ParseResult& args);
Runner runner(const cxxopts::ParseResult& args);
// --kernels NAME for a .tflite (auto, reference, avx2, avx512_vnni), checked against this CPU; "" when not given.
std::string kernels_flag(const cxxopts::ParseResult& args);

// --keep-float LAYERS: the comma-separated layer names (checked against the model by the planner).
std::set<std::string> keep_float_flag(const cxxopts::ParseResult& args);

// --`flag` w4a8,w8a8,...: weight and activation bit-widths, each `minimum`..`maximum`.
struct BitWidthsFlag {
  int weight_bits = 8, activation_bits = 8;
};
std::vector<BitWidthsFlag> bit_widths_flag(const cxxopts::ParseResult& args, const std::string& flag, int minimum,
                                           int maximum);

// `name` in the repository's data/ (scripts/setup.sh fills it), where the tools find their default inputs from
// any working directory.
std::string repository_data(const std::string& name);
// The input path of --`flag`; when the flag was not given and its default is missing, a usage error that says
// so and which flag to pass (instead of a bare "not found" about a path the user never typed).
std::string input_path(const cxxopts::ParseResult& args, const std::string& flag);

// --partial-data: CIFAR-10 batch files of any whole number of records, instead of exactly 10,000.
void add_data_options(cxxopts::Options& options);
cifar10::Records records(const cxxopts::ParseResult& args);

// The path given to output flag --`flag` (that has a value, given or by default), checked writable before
// any work: an empty one is a usage error naming the flag.
std::string required_output_path(const cxxopts::ParseResult& args, const std::string& flag);
// The same for an optional output flag (e.g. --json); nothing if absent.
std::optional<std::string> output_path(const cxxopts::ParseResult& args, const std::string& flag);

// The directory given to output flag --`flag` for generated C (absent: nothing), checked before any work:
// an existing directory whose generated files can be replaced, or a new one in an existing directory.
std::optional<std::string> output_directory(const cxxopts::ParseResult& args, const std::string& flag);
// The generated C files --`flag` DIR may replace (none if absent), added to `outputs` for the check
// that no output is an input or another output.
void add_c_source_outputs(std::vector<NamedPath>& outputs, const std::optional<std::string>& dir,
                          const std::string& flag);

// Refuses (exit 2) outputs that are the same file as the model, a CIFAR-10 batch file or another output.
void check_distinct_outputs(const std::string& model, const std::string& data_dir,
                            const std::vector<NamedPath>& outputs);

}  // namespace resnet8::cli
