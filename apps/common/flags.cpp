// The tools' shared flag groups (flags.h).
#include "flags.h"

#include <resnet8/engine/engine.h>
#include <resnet8/model/architecture.h>
#include <resnet8/program/emit_c.h>
#include <resnet8/program/host_kernels.h>
#include <resnet8/run/float_direct.h>
#include <resnet8/support/atomic_file.h>

#include <fmt/format.h>

#include <algorithm>

namespace resnet8::cli {

int threads(const cxxopts::ParseResult& args) { return number<int>(args, "threads", 0, kMaxThreads); }

ObserverKind observer(const cxxopts::ParseResult& args) {
  return naming_flags({{"observer", "--observer"}}, [&] { return parse_observer(args["observer"].as<std::string>()); });
}

std::string layer_list() {
  std::string out;
  for (const Node* n : resnet8_graph().layers()) out += (out.empty() ? "" : ", ") + n->name;
  return out;
}

std::string available_engine_list() {
  std::string out;
  for (const auto& e : available_engines()) out += (out.empty() ? "" : ", ") + e;
  return out;
}

void add_method_options(cxxopts::Options& options) {
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
      ("best", std::string("the most accurate combination for 3..5-bit weights, chosen on held-out training "
                           "images: ") + kBestPreset + " (an explicit --weight-range or --rounding wins)");
  // clang-format on
}

Methods methods(const cxxopts::ParseResult& args) {
  Methods m;
  const bool best = args.count("best") > 0;
  const std::string range = best && !args["weight-range"].count() ? "mse" : args["weight-range"].as<std::string>();
  const std::string rounding = best && !args["rounding"].count() ? "adaround" : args["rounding"].as<std::string>();
  m.weight_range = naming_flags({{"weight_range", "--weight-range"}}, [&] { return parse_weight_range(range); });
  m.refine.rounding = naming_flags({{"rounding", "--rounding"}}, [&] { return parse_rounding(rounding); });
  m.equalize = args.count("equalize") > 0 || best;
  m.refine.bias_correction = args.count("bias-correction") > 0;
  m.refine.adaround.iterations = number<int64_t>(args, "adaround-iterations", 1, kMaxAdaRoundIterations);
  return m;
}

std::string Methods::describe() const {
  std::string out = "weight range " + weight_range_name(weight_range);
  if (equalize) out += ", CLE";
  if (refine.rounding == Rounding::kAdaRound) out += ", AdaRound";
  if (refine.bias_correction) out += ", bias correction";
  return out;
}

void add_runner_options(cxxopts::Options& options) {
  // One option per line, as cxxopts tables read best.
  // clang-format off
  options.add_options()
      ("native", "run natively in C++ instead of the file's TorchScript code, with the weights of --model read as data: "
                 "for the fp32 export our direct float kernels (batch norm folded into the convolutions; --kernels), "
                 "for an int8 file of resnet8-ptq the int8 runner (LibTorch's quantized kernels called directly)")
      ("module", "run the unfolded C++ resnet8::ResNet8 torch::nn::Module (the reference port, slower) with the "
                 "weights of --model (the fp32 export) read as data")
      ("engine", "quantized engine for an int8 file: " + available_engine_list() +
                 "; default: the fastest one that computes the file's scheme exactly on this CPU",
       cxxopts::value<std::string>())
      ("kernels", "integer kernels for a .tflite's convolutions: auto (the fastest this CPU runs), reference (the "
                  "portable C kernels emitted for microcontrollers), avx2 or avx512_vnni; all compute the same integers. "
                  "With --native and the fp32 export, its float kernels: auto, portable, avx2 or avx512",
       cxxopts::value<std::string>());
  // clang-format on
}

std::string engine_flag(const cxxopts::ParseResult& args) {
  if (!args.count("engine")) return "";
  const std::string engine = args["engine"].as<std::string>();
  const auto engines = available_engines();
  if (std::find(engines.begin(), engines.end(), engine) == engines.end()) {
    throw UsageError(fmt::format("--engine {}: not available in this LibTorch build; available: {}", engine,
                                 available_engine_list()));
  }
  return engine;
}

std::string kernels_flag(const cxxopts::ParseResult& args) {
  if (!args.count("kernels")) return "";
  const std::string kernels = args["kernels"].as<std::string>();
  // The names of the integer kernels, or with --native the float kernels'; whether the model takes them, on load.
  if (!args.count("native")) {
    naming_flags({{"kernels", "--kernels"}}, [&] { return parse_host_kernels(kernels, "kernels"); });
  } else {
    naming_flags({{"kernels", "--kernels"}}, [&] { return parse_float_level(kernels, "kernels"); });
  }
  return kernels;
}

Runner runner(const cxxopts::ParseResult& args) {
  if (args.count("native") && args.count("module")) throw UsageError("--native and --module exclude each other");
  return args.count("native") ? Runner::kNative : args.count("module") ? Runner::kModule : Runner::kTorchScript;
}

std::string required_output_path(const cxxopts::ParseResult& args, const std::string& flag) {
  std::string path = args[flag].as<std::string>();
  if (path.empty()) throw UsageError(fmt::format("--{}: an empty path; expected a file name", flag));
  check_writable(path, "--" + flag);
  return path;
}

std::optional<std::string> output_path(const cxxopts::ParseResult& args, const std::string& flag) {
  if (!args.count(flag)) return std::nullopt;
  return required_output_path(args, flag);
}

std::set<std::string> keep_float_flag(const cxxopts::ParseResult& args) {
  if (!args.count("keep-float")) return {};
  const auto layers = split_list("keep-float", args["keep-float"].as<std::string>(), "layer names");
  return {layers.begin(), layers.end()};
}

std::vector<BitWidthsFlag> bit_widths_flag(const cxxopts::ParseResult& args, const std::string& flag, int minimum,
                                           int maximum) {
  const std::string text = args[flag].as<std::string>();
  const std::string what =
      fmt::format("bit-widths like w4a8 (weights and activations {}..{} bits each)", minimum, maximum);
  std::vector<BitWidthsFlag> out;
  const auto bits = [&](const std::string& digits) {
    const int v = parse_number<int>(digits).value_or(-1);
    if (v < minimum || v > maximum) {
      throw UsageError(fmt::format("--{} {}: expected a comma-separated list of {}", flag, text, what));
    }
    return v;
  };
  for (const std::string& item : split_list(flag, text, what)) {
    const size_t a = item.find('a');
    if (item[0] != 'w' || a == std::string::npos) bits("");  // throws
    out.push_back({bits(item.substr(1, a - 1)), bits(item.substr(a + 1))});
  }
  return out;
}

std::optional<std::string> output_directory(const cxxopts::ParseResult& args, const std::string& flag) {
  if (!args.count(flag)) return std::nullopt;
  std::string dir = args[flag].as<std::string>();
  try {
    check_c_source_dir(dir, "--" + flag);
  } catch (const Error& e) {
    throw UsageError(e.what());
  }
  return dir;
}

void add_c_source_outputs(std::vector<NamedPath>& outputs, const std::optional<std::string>& dir,
                          const std::string& flag) {
  if (!dir) return;
  outputs.push_back({"--" + flag, *dir});  // the directory itself, so that -o DIR --c-source DIR is refused too
  for (const std::filesystem::path& f : c_source_paths(*dir)) outputs.push_back({"--" + flag, f});
}

std::string repository_data(const std::string& name) { return std::string(RESNET8_DATA_DIR) + "/" + name; }

std::string input_path(const cxxopts::ParseResult& args, const std::string& flag) {
  const std::string path = args[flag].as<std::string>();
  if (!args[flag].count() && !std::filesystem::exists(path)) {
    throw UsageError(
        fmt::format("--{}: the default {} does not exist; run scripts/setup.sh, or pass --{} with "
                    "your own",
                    flag, path, flag));
  }
  return path;
}

void add_data_options(cxxopts::Options& options) {
  options.add_options()("partial-data",
                        "accept CIFAR-10 batch files of any whole number of records up to 100,000 (the official files, "
                        "the default, hold exactly 10,000 each; a cut file is refused without this)");
}

cifar10::Records records(const cxxopts::ParseResult& args) {
  return args.count("partial-data") ? cifar10::Records::kAnyCount : cifar10::Records::kOfficial;
}

void check_distinct_outputs(const std::string& model, const std::string& data_dir,
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

}  // namespace resnet8::cli
