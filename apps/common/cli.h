#pragma once
// What every resnet8 tool shares: the error policy (one "error: ..." line on stderr, exit 1 for a
// bad file or data, exit 2 for a bad command line) and flag checks.
#include <resnet8/data/cifar10.h>
#include <resnet8/engine/engine.h>
#include <resnet8/model/architecture.h>
#include <resnet8/program/emit_c.h>
#include <resnet8/quant/observer.h>
#include <resnet8/quant/planner.h>
#include <resnet8/quant/refine.h>
#include <resnet8/run/classifier.h>
#include <resnet8/support/allocator.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>
#include <resnet8/support/output_guard.h>

#include <c10/util/Exception.h>
#include <fmt/format.h>
#include <cxxopts.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

namespace resnet8::cli {

inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;

struct UsageError : Error {
  using Error::Error;
};

// A number written in `text`, whole (no sign for unsigned types, no trailing characters), or nothing.
template <typename T>
std::optional<T> parse_number(const std::string& text) {
  T value{};
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    errno = 0;
    const double v = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(v)) return std::nullopt;
    value = static_cast<T>(v);
  } else {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  }
  return value;
}

// The numeric flag --`flag` (declared as a string option, so that every bad value gets this message):
// a number in [minimum, maximum]; anything else is a usage error naming the flag and the range.
template <typename T>
T number(const cxxopts::ParseResult& args, const std::string& flag, T minimum, T maximum) {
  const std::string text = args[flag].as<std::string>();
  const std::optional<T> value = parse_number<T>(text);
  if (!value || *value < minimum || *value > maximum) {
    throw UsageError(fmt::format("--{} {}: expected {} in {}..{}", flag, text,
                                 std::is_floating_point_v<T> ? "a number" : "an integer", minimum, maximum));
  }
  return *value;
}

// At most this many LibTorch threads: far above any useful count, far below what makes libgomp run out
// of memory or crash (--threads 100000 did).
inline constexpr int kMaxThreads = 1024;
// Bounds of the other numeric flags, far above any useful value (each tool's --help states them).
inline constexpr int64_t kMaxBatchSize = 100000;            // images per forward call
inline constexpr int64_t kMaxCalibPerClass = 5000;          // the training split has 5,000 images per class
inline constexpr int64_t kMaxAdaRoundIterations = 1000000;  // 100x the default; ~15 min per layer here

// --threads N: 0 (one per hardware thread) .. kMaxThreads.
inline int threads(const cxxopts::ParseResult& args) { return number<int>(args, "threads", 0, kMaxThreads); }

// Adds -h/--help and parses argv. Prints the help and returns nothing when it was asked for;
// refuses stray positional arguments.
inline std::optional<cxxopts::ParseResult> parse(cxxopts::Options& options, int argc, char** argv) {
  options.add_options()("h,help", "show this help");
  auto args = options.parse(argc, argv);
  if (args.count("help")) {
    fmt::print("{}\n", options.help());
    return std::nullopt;
  }
  if (!args.unmatched().empty()) throw UsageError(fmt::format("unexpected argument '{}'", args.unmatched()[0]));
  return args;
}

// "1,32,256" -> {1, 32, 256}: integers in [minimum, maximum]; anything else is a usage error naming `flag`.
template <typename T>
std::vector<T> int_list(const std::string& flag, const std::string& text, T minimum, T maximum) {
  const auto bad = [&] {
    return UsageError(
        fmt::format("--{} {}: expected a comma-separated list of integers in {}..{}", flag, text, minimum, maximum));
  };
  std::vector<T> out;
  if (text.empty() || text.back() == ',') throw bad();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    size_t used = 0;
    long long v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      throw bad();
    }
    if (used != item.size() || v < minimum || v > maximum) throw bad();
    out.push_back(static_cast<T>(v));
  }
  return out;
}

// Runs f(); an OptionError from the library becomes a usage error that names the tool's flag for
// that option (`flags`: library option -> flag text, e.g. {"float_layers", "--keep-float"}).
template <typename F>
auto naming_flags(const std::map<std::string, std::string>& flags, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const OptionError& e) {
    const auto it = flags.find(e.option());
    throw UsageError(it == flags.end() ? std::string(e.what()) : it->second + ": " + e.what());
  }
}

// The --observer flag as an ObserverKind; an unknown name is a usage error.
inline ObserverKind observer(const cxxopts::ParseResult& args) {
  return naming_flags({{"observer", "--observer"}}, [&] { return parse_observer(args["observer"].as<std::string>()); });
}

// The network's layers (architecture.h), comma-separated: what --keep-float accepts.
inline std::string layer_list() {
  std::string out;
  for (const Node* n : resnet8_graph().layers()) out += (out.empty() ? "" : ", ") + n->name;
  return out;
}

inline std::string available_engine_list() {
  std::string out;
  for (const auto& e : available_engines()) out += (out.empty() ? "" : ", ") + e;
  return out;
}

// How the plan is made beyond the bit-widths, shared by resnet8-ptq and resnet8-analyze.
struct Methods {
  WeightRange weight_range = WeightRange::kMax;
  bool equalize = false;
  RefineOptions refine;
  std::string describe() const;  // "weight range mse, CLE, AdaRound, bias correction"
};

// Measured best for 3..5-bit weights (README, "Low-bit weights"): CLE and bias correction on top of
// AdaRound cost 0.1-0.4 pp there.
inline constexpr const char* kBestPreset = "--weight-range mse --rounding adaround";

inline void add_method_options(cxxopts::Options& options) {
  // One option per line, as cxxopts tables read best.
  // clang-format off
  options.add_options()
      ("weight-range", "weight scales: max (max|w|, nothing clipped) or mse (the clipping that minimises the weights' "
                       "squared quantization error)", cxxopts::value<std::string>()->default_value("max"))
      ("equalize", "cross-layer equalization of each residual block's conv1/conv2 pair before calibration")
      ("rounding", "weight rounding: nearest, or adaround (learned per weight against each layer's fp32 output on the "
                   "calibration images, layer by layer)", cxxopts::value<std::string>()->default_value("nearest"))
      ("bias-correction", "empirical bias correction: remove the mean output shift quantization causes, layer by layer")
      ("adaround-iterations", fmt::format("AdaRound optimisation steps per layer, 1..{}", kMaxAdaRoundIterations),
       cxxopts::value<std::string>()->default_value("10000"))
      ("best", std::string("the most accurate combination measured for 3..5-bit weights: ") + kBestPreset +
               " (an explicit --weight-range or --rounding wins)");
  // clang-format on
}

inline Methods methods(const cxxopts::ParseResult& args) {
  Methods m;
  const bool best = args.count("best") > 0;
  const std::string range = best && !args["weight-range"].count() ? "mse" : args["weight-range"].as<std::string>();
  const std::string rounding = best && !args["rounding"].count() ? "adaround" : args["rounding"].as<std::string>();
  m.weight_range = naming_flags({{"weight_range", "--weight-range"}}, [&] { return parse_weight_range(range); });
  m.refine.rounding = naming_flags({{"rounding", "--rounding"}}, [&] { return parse_rounding(rounding); });
  m.equalize = args.count("equalize") > 0;
  m.refine.bias_correction = args.count("bias-correction") > 0;
  m.refine.adaround.iterations = number<int64_t>(args, "adaround-iterations", 1, kMaxAdaRoundIterations);
  return m;
}

inline std::string Methods::describe() const {
  std::string out = "weight range " + weight_range_name(weight_range);
  if (equalize) out += ", CLE";
  if (refine.rounding == Rounding::kAdaRound) out += ", AdaRound";
  if (refine.bias_correction) out += ", bias correction";
  return out;
}

// --native / --module: the C++ paths with the weights of --model read as data; --engine for int8 files
// (help text shared by the tools).
inline void add_runner_options(cxxopts::Options& options) {
  // One option per line, as cxxopts tables read best.
  // clang-format off
  options.add_options()
      ("native", "run natively in C++ instead of the file's TorchScript code, with the weights of --model read as data: "
                 "for the fp32 export FoldedResNet8 (batch norm folded into the convolutions, oneDNN called directly), "
                 "for an int8 file of resnet8-ptq the int8 runner (LibTorch's quantized kernels called directly)")
      ("module", "run the unfolded C++ resnet8::ResNet8 torch::nn::Module (the reference port, slower) with the "
                 "weights of --model (the fp32 export) read as data")
      ("engine", "quantized engine for an int8 file: " + available_engine_list() +
                 "; default: the fastest one that computes the file's scheme exactly on this CPU",
       cxxopts::value<std::string>());
  // clang-format on
}

// --engine NAME: one of this build's engines; "" when not given.
inline std::string engine_flag(const cxxopts::ParseResult& args) {
  if (!args.count("engine")) return "";
  const std::string engine = args["engine"].as<std::string>();
  const auto engines = available_engines();
  if (std::find(engines.begin(), engines.end(), engine) == engines.end()) {
    throw UsageError(fmt::format("--engine {}: not available in this LibTorch build; available: {}", engine,
                                 available_engine_list()));
  }
  return engine;
}

inline Runner runner(const cxxopts::ParseResult& args) {
  if (args.count("native") && args.count("module")) throw UsageError("--native and --module exclude each other");
  return args.count("native") ? Runner::kNative : args.count("module") ? Runner::kModule : Runner::kTorchScript;
}

// The path given to output flag --`flag` (that has a value, given or by default), checked writable before
// any work: an empty one is a usage error naming the flag.
inline std::string required_output_path(const cxxopts::ParseResult& args, const std::string& flag) {
  std::string path = args[flag].as<std::string>();
  if (path.empty()) throw UsageError(fmt::format("--{}: an empty path; expected a file name", flag));
  check_writable(path, "--" + flag);
  return path;
}

// The same for an optional output flag (e.g. --json); nothing if absent.
inline std::optional<std::string> output_path(const cxxopts::ParseResult& args, const std::string& flag) {
  if (!args.count(flag)) return std::nullopt;
  return required_output_path(args, flag);
}

// --keep-float LAYERS: the comma-separated layer names (checked against the model by the planner).
inline std::set<std::string> keep_float_flag(const cxxopts::ParseResult& args) {
  std::set<std::string> layers;
  if (!args.count("keep-float")) return layers;
  std::stringstream in(args["keep-float"].as<std::string>());
  std::string layer;
  while (std::getline(in, layer, ',')) {
    if (!layer.empty()) layers.insert(layer);
  }
  if (layers.empty()) throw UsageError("--keep-float: expected a comma-separated list of layer names");
  return layers;
}

// The directory given to output flag --`flag` for generated C (absent: nothing), checked before any work:
// an existing directory whose generated files can be replaced, or a new one in an existing directory.
inline std::optional<std::string> output_directory(const cxxopts::ParseResult& args, const std::string& flag) {
  if (!args.count(flag)) return std::nullopt;
  std::string dir = args[flag].as<std::string>();
  try {
    check_c_source_dir(dir, "--" + flag);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  return dir;
}

// The generated C files --`flag` DIR may replace (none if absent), added to `outputs` for the check
// that no output is an input or another output.
inline void add_c_source_outputs(std::vector<NamedPath>& outputs, const std::optional<std::string>& dir,
                                 const std::string& flag) {
  if (!dir) return;
  for (const std::filesystem::path& f : c_source_paths(*dir)) outputs.push_back({"--" + flag, f});
}

// --partial-data: CIFAR-10 batch files of any whole number of records, instead of exactly 10,000.
inline void add_data_options(cxxopts::Options& options) {
  options.add_options()("partial-data",
                        "accept CIFAR-10 batch files of any whole number of records up to 100,000 (the official files, "
                        "the default, hold exactly 10,000 each; a cut file is refused without this)");
}

inline cifar10::Records records(const cxxopts::ParseResult& args) {
  return args.count("partial-data") ? cifar10::Records::kAnyCount : cifar10::Records::kOfficial;
}

// Refuses (exit 2) outputs that are the same file as the model, a CIFAR-10 batch file or another output.
inline void check_distinct_outputs(const std::string& model, const std::string& data_dir,
                                   const std::vector<NamedPath>& outputs) {
  std::vector<NamedPath> inputs = {{"--model", model}};
  for (const auto split : {cifar10::Split::kTest, cifar10::Split::kTrain}) {
    for (const auto& f : cifar10::batch_files(data_dir, split)) inputs.push_back({"--data", f});
  }
  std::vector<NamedPath> present;
  for (const auto& o : outputs) {
    if (!o.path.empty()) present.push_back(o);
  }
  try {
    check_distinct(inputs, present);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
}

// LibTorch warns once that creating quantized tensors (quantize_per_tensor & co.) is deprecated.
// The quantized TorchScript these tools write depends on exactly those ops, so the tools drop that
// one warning (README.md, "Quantized ops deprecation") and print any other as "warning: ...".
class WarningFilter : public c10::WarningHandler {
 public:
  explicit WarningFilter(const char* tool) : tool_(tool) {}
  void process(const c10::Warning& warning) override {
    const std::string& msg = warning.msg();
    if (msg.find("quantized tensor creation functions") != std::string::npos) return;
    fmt::print(stderr, "{}: warning: {}\n", tool_, msg.substr(0, msg.find('\n')));
  }

 private:
  const char* tool_;
};

// Runs body(); turns every exception into one clear line and the right exit code.
// Runs body() with all-or-nothing outputs (output_guard.h): kept only when it returns 0.
template <typename Body>
int run(const char* tool, Body&& body) {
  keep_freed_memory_for_reuse();
  OutputGuard outputs;
  install_signal_cleanup();
  static WarningFilter filter(tool);
  c10::WarningUtils::set_warning_handler(&filter);
  auto fail = [tool](int code, const std::string& message) {
    fmt::print(stderr, "{}: error: {}\n", tool, message);
    if (code == kExitUsage) fmt::print(stderr, "(see {} --help)\n", tool);
    return code;
  };
  try {
    const int code = body();
    if (code == 0) outputs.commit();
    return code;
  } catch (const cxxopts::exceptions::exception& e) {
    return fail(kExitUsage, e.what());
  } catch (const UsageError& e) {
    return fail(kExitUsage, e.what());
  } catch (const OptionError& e) {
    return fail(kExitUsage, e.what());
  } catch (const Error& e) {
    return fail(kExitError, e.what());
  } catch (const c10::Error& e) {
    return fail(kExitError, "libtorch: " + one_line_reason(e));
  } catch (const std::exception& e) {
    return fail(kExitError, one_line_reason(e));
  }
}

}  // namespace resnet8::cli
