// resnet8-analyze: simulated-quantization analysis of the fp32 ResNet8 on CIFAR-10 -- bit-width
// sweeps (weights x activations, per-tensor and per-channel), per-layer sensitivity, and a greedy
// mixed-precision search (keep the most sensitive layers in fp32 until the drop is within a bound).
// The analysis itself is the library's (analysis.h); this tool parses flags and prints.
#include "../common/cli.h"

#include <resnet8/activation_ranges.h>
#include <resnet8/analysis.h>
#include <resnet8/atomic_file.h>
#include <resnet8/calibration.h>
#include <resnet8/cifar10.h>
#include <resnet8/folded.h>
#include <resnet8/json.h>
#include <resnet8/model.h>
#include <resnet8/progress.h>
#include <resnet8/weights.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <map>
#include <optional>

using namespace resnet8;

namespace {

void add_options(cxxopts::Options& options) {
  options.add_options()
      ("m,model", "fp32 TorchScript export", cxxopts::value<std::string>()->default_value("data/resnet8_fp32.pt"))
      ("d,data", "CIFAR-10 binary directory", cxxopts::value<std::string>()->default_value("data/cifar-10-batches-bin"))
      ("calib-per-class", "calibration images per class", cxxopts::value<int64_t>()->default_value("100"))
      ("seed", "calibration sample seed", cxxopts::value<uint64_t>()->default_value("0"))
      ("observer", "activation ranges: minmax, percentile or mse", cxxopts::value<std::string>()->default_value("percentile"))
      ("weight-range", "weight scales: max (max|w|) or mse (squared-error search)", cxxopts::value<std::string>()->default_value("max"))
      ("bits", "bit-widths swept for weights and activations", cxxopts::value<std::string>()->default_value("4,5,6,7,8"))
      ("sensitivity", "weight/activation bit-widths of the per-layer sensitivity runs", cxxopts::value<std::string>()->default_value("w8a8,w4a8,w8a4"))
      ("mixed", "weight/activation bit-widths of the mixed-precision search", cxxopts::value<std::string>()->default_value("w4a8"))
      ("max-drop", "mixed precision: largest accepted accuracy drop vs fp32, in percentage points", cxxopts::value<double>()->default_value("1.0"))
      ("json", "write every number as JSON to PATH", cxxopts::value<std::string>())
      ("t,threads", "LibTorch threads; 0 = one per hardware thread", cxxopts::value<int>()->default_value("0"));
}

std::vector<BitWidths> bit_widths_flag(const cxxopts::ParseResult& args, const std::string& flag) {
  return cli::naming_flags({{flag, "--" + flag}}, [&] { return parse_bit_widths(flag, args[flag].as<std::string>()); });
}

void print_sweep(const std::vector<SweepPoint>& points, const std::vector<int>& bits) {
  std::string out;
  size_t i = 0;
  for (const bool per_channel : {false, true}) {
    out += fmt::format("weights {} (rows) x activations (columns), accuracy %\n{:>6}", per_channel ? "per-channel" : "per-tensor", "");
    for (int a : bits) out += fmt::format(" {:>7}", fmt::format("a{}", a));
    out += "\n";
    for (int w : bits) {
      out += fmt::format("{:>6}", fmt::format("w{}", w));
      for (size_t k = 0; k < bits.size(); ++k) out += fmt::format(" {:>7.2f}", points.at(i++).accuracy);
      out += "\n";
    }
    out += "\n";
  }
  fmt::print("{}", out);
}

void print_sensitivity(const std::vector<LayerSensitivity>& rows, const std::vector<BitWidths>& configs,
                       const std::vector<std::string>& layers) {
  fmt::print("per-layer sensitivity: accuracy drop (pp) with only that layer quantized (weights, output)\n{:<18}", "layer");
  for (const BitWidths& b : configs) fmt::print(" {:>8}", b.name());
  fmt::print("\n");
  for (size_t i = 0; i < layers.size(); ++i) {
    fmt::print("{:<18}", layers[i]);
    for (size_t c = 0; c < configs.size(); ++c) fmt::print(" {:>8.2f}", rows.at(c * layers.size() + i).drop);
    fmt::print("\n");
  }
}

void print_mixed(const MixedPrecision& m) {
  fmt::print("\nmixed precision at {} (per-channel; input and residual adds stay quantized): "
             "layers kept in fp32 -> accuracy\n", m.bits.name());
  for (const auto& s : m.steps) {
    const size_t k = s.fp32_layers.size();
    fmt::print("  k={:<2} {:<60} {:.2f}% (drop {:.2f} pp)\n", k,
               k == 0 ? "(none)" : fmt::format("{}", fmt::join(s.fp32_layers, ", ")), s.accuracy, s.drop);
    if (s.drop <= m.max_drop) {
      fmt::print("  -> {} layer{} in fp32 meet{} the {:.2f} pp bound\n", k, k == 1 ? "" : "s", k == 1 ? "s" : "", m.max_drop);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run("resnet8-analyze", [&] {
    cxxopts::Options options(
        "resnet8-analyze",
        "Simulated quantization of the fp32 ResNet8 (weights and activations quantized-dequantized in float),\n"
        "calibrated on the same stratified training sample as resnet8-ptq, evaluated on the 10,000 test images:\n"
        "  1. accuracy for every (weight bits, activation bits) pair, per-tensor and per-channel weights;\n"
        "  2. per-layer sensitivity: one layer (weights + output) quantized at a time, for each --sensitivity config;\n"
        "  3. mixed precision at --mixed: keep the k most sensitive layers in fp32 until the drop <= --max-drop.");
    add_options(options);
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    const ObserverKind observer = cli::observer(args);
    PlanOptions base;
    base.weight_range = cli::naming_flags({{"weight_range", "--weight-range"}},
                                          [&] { return parse_weight_range(args["weight-range"].as<std::string>()); });
    const auto bits = cli::int_list<int>("bits", args["bits"].as<std::string>(), 2, 16);
    const auto sens_configs = bit_widths_flag(args, "sensitivity");
    const BitWidths mixed = bit_widths_flag(args, "mixed").at(0);
    const double max_drop = args["max-drop"].as<double>();
    if (max_drop < 0) throw cli::UsageError("--max-drop must be >= 0");
    const int64_t per_class = cli::positive<int64_t>(args, "calib-per-class");
    const std::optional<std::string> json = cli::output_path(args, "json");
    EvalOptions eval;
    eval.threads = cli::threads(args);
    const std::string data_dir = args["data"].as<std::string>();
    cli::check_distinct_outputs(args["model"].as<std::string>(), data_dir, {{"--json", json.value_or("")}});

    const FoldedResNet8 folded = fold(load_resnet8(args["model"].as<std::string>()));
    const cifar10::Dataset calibration = calibration_set(data_dir, per_class, args["seed"].as<uint64_t>());
    const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest);
    const ActivationRanges ranges = calibrate(folded, calibration, {observer, 500, nullptr});
    const Analyzer analyzer(folded, ranges, test, eval, base);
    fmt::print("fp32 (folded)   {:.2f}%\nobserver        {}, weight range {}, calibration {} images\n\n",
               analyzer.fp32_accuracy(), observer_name(observer), weight_range_name(base.weight_range), calibration.size());

    Progress sweep_bar("sweeping");
    const auto sweep_points = sweep(analyzer, bits, [&](int64_t d, int64_t t) { sweep_bar.update(d, t); });
    print_sweep(sweep_points, bits);
    Progress sens_bar("per-layer sensitivity");
    const auto sensitivity = layer_sensitivity(analyzer, sens_configs, [&](int64_t d, int64_t t) { sens_bar.update(d, t); });
    print_sensitivity(sensitivity, sens_configs, analyzer.layers());
    const MixedPrecision mp = mixed_precision_search(analyzer, mixed, max_drop, sensitivity);
    print_mixed(mp);

    if (json) {
      write_file_atomic(*json, json_text({{"fp32_accuracy", analyzer.fp32_accuracy()},
                                          {"observer", observer_name(observer)},
                                          {"weight_range", weight_range_name(base.weight_range)},
                                          {"calibration_images", calibration.size()},
                                          {"sweep", sweep_points},
                                          {"sensitivity", sensitivity},
                                          {"mixed_precision", mp}}));
      fmt::print("report          {}\n", *json);
    }
    return 0;
  });
}
