// resnet8-analyze: simulated-quantization analysis of the fp32 ResNet8 on CIFAR-10 -- bit-width
// sweeps (weights x activations, per-tensor and per-channel), per-layer sensitivity, and a greedy
// mixed-precision search (keep the most sensitive layers in fp32 until the drop is within a bound).
// The analysis itself is the library's (analysis.h); this tool parses flags and prints.
#include "../common/flags.h"

#include <resnet8/data/calibration.h>
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/analysis.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/quant/activation_ranges.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/progress.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>

using namespace resnet8;

namespace {

void add_options(cxxopts::Options& options) {
  // One option per line, as cxxopts tables read best.
  // clang-format off
  options.add_options()
      ("m,model", "fp32 TorchScript export", cxxopts::value<std::string>()->default_value(cli::repository_data("resnet8_fp32.pt")))
      ("d,data", "CIFAR-10 binary directory", cxxopts::value<std::string>()->default_value(cli::repository_data("cifar-10-batches-bin")))
      ("calib-per-class", "calibration images per class, 1..5000", cxxopts::value<std::string>()->default_value("100"))
      ("seed", "calibration sample seed, 0..2^64-1", cxxopts::value<std::string>()->default_value("0"))
      ("observer", "activation ranges: minmax, percentile or mse", cxxopts::value<std::string>()->default_value("percentile"))
      ("bits", "bit-widths swept for weights and activations", cxxopts::value<std::string>()->default_value("4,5,6,7,8"))
      ("sensitivity", "weight/activation bit-widths of the per-layer sensitivity runs", cxxopts::value<std::string>()->default_value("w8a8,w4a8,w8a4"))
      ("mixed", "weight/activation bit-widths of the mixed-precision search", cxxopts::value<std::string>()->default_value("w4a8"))
      ("max-drop", "mixed precision: largest accepted accuracy drop vs fp32, in percentage points, 0..100", cxxopts::value<std::string>()->default_value("1.0"))
      ("compare", "bit-widths of the method comparison (round-to-nearest, weight MSE, CLE, bias correction, AdaRound, "
                  "all), e.g. w3a8,w4a8,w5a8,w6a6,w8a8", cxxopts::value<std::string>()->default_value("w4a8"))
      ("sections", "what to run, comma-separated: sweep, sensitivity, mixed, compare, what-if",
       cxxopts::value<std::string>()->default_value("sweep,sensitivity,mixed"))
      ("what-if", "bit-widths of the what-if section: one plan, evaluated per class and as a confusion matrix "
                  "beside fp32", cxxopts::value<std::string>()->default_value("w8a8"))
      ("per-tensor", "what-if: per-tensor weight scales (default per-channel)")
      ("keep-float", "what-if: comma-separated layers kept in fp32, of " + cli::layer_list(), cxxopts::value<std::string>())
      ("limit", "evaluate on the first N test images only, 0..100000; 0 = all", cxxopts::value<std::string>()->default_value("0"))
      ("json", "write every number as JSON to PATH", cxxopts::value<std::string>())
      ("t,threads", "LibTorch threads, 0..1024; 0 = one per hardware thread", cxxopts::value<std::string>()->default_value("0"));
  // clang-format on
  cli::add_method_options(options);
  cli::add_data_options(options);
}

std::set<std::string> sections_flag(const cxxopts::ParseResult& args) {
  const std::set<std::string> known = {"sweep", "sensitivity", "mixed", "compare", "what-if"};
  std::set<std::string> out;
  for (const std::string& item : cli::split_list("sections", args["sections"].as<std::string>(), "sections")) {
    if (!known.count(item)) {
      throw cli::UsageError(
          fmt::format("--sections: unknown section '{}'; expected sweep, sensitivity, mixed, compare, what-if", item));
    }
    out.insert(item);
  }
  // A flag of a section that will not run would be silently ignored: refused instead.
  const std::map<std::string, std::string> section_of = {
      {"bits", "sweep"},      {"sensitivity", "sensitivity"}, {"mixed", "mixed"},        {"max-drop", "mixed"},
      {"compare", "compare"}, {"what-if", "what-if"},         {"per-tensor", "what-if"}, {"keep-float", "what-if"}};
  for (const auto& [flag, section] : section_of) {
    const bool runs = out.count(section) || (section == "sensitivity" && out.count("mixed"));
    if (args.count(flag) && !runs) {
      throw cli::UsageError(fmt::format("--{} applies to the {} section, which --sections {} does not run", flag,
                                        section, args["sections"].as<std::string>()));
    }
  }
  if (out.count("mixed") && !out.count("sensitivity")) out.insert("sensitivity");  // the search ranks by it
  return out;
}

void print_comparison(const std::vector<MethodComparison>& rows, const std::vector<PlanMethod>& methods) {
  fmt::print("\nmethods (simulated, per-channel weights), accuracy %\n{:>6}", "");
  for (const auto& m : methods) fmt::print(" {:>17}", m.name);
  fmt::print("\n");
  for (const auto& r : rows) {
    fmt::print("{:>6}", r.bits.name());
    for (const MethodAccuracy& a : r.accuracy) fmt::print(" {:>17.2f}", a.accuracy);
    fmt::print("\n");
  }
}

// --`flag` w4a8,...: the simulation takes 2..16 bits (the sweep's range) for weights and activations.
std::vector<BitWidths> bit_widths_flag(const cxxopts::ParseResult& args, const std::string& flag) {
  std::vector<BitWidths> out;
  for (const cli::BitWidthsFlag& b : cli::bit_widths_flag(args, flag, 2, 16))
    out.push_back({b.weight_bits, b.activation_bits});
  return out;
}

void print_sweep(const std::vector<SweepPoint>& points, const std::vector<int>& bits) {
  std::string out;
  size_t i = 0;
  for (const bool per_channel : {false, true}) {
    out += fmt::format("weights {} (rows) x activations (columns), accuracy %\n{:>6}",
                       per_channel ? "per-channel" : "per-tensor", "");
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
  fmt::print("per-layer sensitivity: accuracy drop (pp) with only that layer quantized (weights, output)\n{:<18}",
             "layer");
  for (const BitWidths& b : configs) fmt::print(" {:>8}", b.name());
  fmt::print("\n");
  for (size_t i = 0; i < layers.size(); ++i) {
    fmt::print("{:<18}", layers[i]);
    for (size_t c = 0; c < configs.size(); ++c) fmt::print(" {:>8.2f}", rows.at(c * layers.size() + i).drop);
    fmt::print("\n");
  }
}

void print_mixed(const MixedPrecision& m) {
  fmt::print(
      "\nmixed precision at {} (per-channel; input and residual adds stay quantized): "
      "layers kept in fp32 -> accuracy\n",
      m.bits.name());
  for (const auto& s : m.steps) {
    const size_t k = s.fp32_layers.size();
    fmt::print("  k={:<2} {:<60} {:.2f}% (drop {:.2f} pp)\n", k,
               k == 0 ? "(none)" : fmt::format("{}", fmt::join(s.fp32_layers, ", ")), s.accuracy, s.drop);
    if (s.drop <= m.max_drop) {
      fmt::print("  -> {} layer{} in fp32 meet{} the {:.2f} pp bound\n", k, k == 1 ? "" : "s", k == 1 ? "s" : "",
                 m.max_drop);
    }
  }
}

void print_what_if(const WhatIf& w) {
  fmt::print("\nwhat if {} ({} weights{}), simulated on {} test images\n{:<12} {:>9} {:>9} {:>9}\n", w.bits.name(),
             w.per_channel ? "per-channel" : "per-tensor",
             w.float_layers.empty() ? "" : fmt::format("; fp32: {}", fmt::join(w.float_layers, ",")), w.fp32.images,
             "class", "fp32", w.bits.name(), "delta");
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    const double a = 100.0 * w.fp32.class_accuracy(c), b = 100.0 * w.simulated.class_accuracy(c);
    fmt::print("{:<12} {:>8.1f}% {:>8.1f}% {:>+6.1f} pp\n", cifar10::kClassNames[c], a, b, b - a);
  }
  fmt::print("{:<12} {:>8.2f}% {:>8.2f}% {:>+6.2f} pp\n", "accuracy", 100.0 * w.fp32.accuracy(),
             100.0 * w.simulated.accuracy(), 100.0 * (w.simulated.accuracy() - w.fp32.accuracy()));
}

struct Sections {
  std::set<std::string> names;
  std::vector<int> bits;
  std::vector<BitWidths> sensitivity, compare;
  BitWidths mixed, what_if;
  bool per_channel = true;
  std::set<std::string> float_layers;
  double max_drop = 1.0;
  AdaRoundOptions adaround;
};

// How long the sections will take, from what this machine just did: every simulated plan is one evaluation of
// the test images (about as long as the fp32 one, which the analyzer timed), and a plan with AdaRound adds its
// optimisation (layers x iterations, at ~0.6 ms a step of a layer on these 2-core machines).
std::string time_estimate(const Analyzer& analyzer, const Sections& run, bool adaround_everywhere) {
  const double layers = static_cast<double>(analyzer.layers().size());
  double plans = 0, adaround_plans = 0;
  const double bits = static_cast<double>(run.bits.size());
  if (run.names.count("sweep")) plans += 2 * bits * bits;
  if (run.names.count("sensitivity")) plans += static_cast<double>(run.sensitivity.size()) * layers;
  if (run.names.count("mixed")) plans += layers + 1;  // at most: one more fp32 layer a step
  if (run.names.count("compare")) {
    plans += static_cast<double>(run.compare.size()) * 6;  // plan_methods(): six, two of them with AdaRound
    adaround_plans += static_cast<double>(run.compare.size()) * 2;
  }
  if (run.names.count("what-if")) plans += 1;
  if (adaround_everywhere) adaround_plans = plans;
  const double eval = std::max(analyzer.fp32_report().seconds, 0.01);
  const double ada = layers * static_cast<double>(run.adaround.iterations) * 0.6e-3;
  const double total = plans * eval * 1.2 + adaround_plans * ada;
  return fmt::format(
      "~{:.0f} simulated plans of {} test images (~{:.1f} s each, timed on the fp32 run){}: about {}", plans,
      analyzer.fp32_report().images, eval * 1.2,
      adaround_plans > 0 ? fmt::format(", {:.0f} of them with AdaRound (~{:.0f} s each)", adaround_plans, ada) : "",
      total < 90 ? fmt::format("{:.0f} s", total) : fmt::format("{:.0f} min", total / 60));
}

// Runs and prints the sections asked for; returns their JSON.
nlohmann::json run_sections(const Analyzer& analyzer, const Sections& run) {
  nlohmann::json out = nlohmann::json::object();
  if (run.names.count("sweep")) {
    Progress bar("sweeping");
    const auto points = sweep(analyzer, run.bits, [&](int64_t d, int64_t t) { bar.update(d, t); });
    print_sweep(points, run.bits);
    out["sweep"] = points;
  }
  if (run.names.count("sensitivity")) {
    Progress bar("per-layer sensitivity");
    const auto rows = layer_sensitivity(analyzer, run.sensitivity, [&](int64_t d, int64_t t) { bar.update(d, t); });
    print_sensitivity(rows, run.sensitivity, analyzer.layers());
    out["sensitivity"] = rows;
    if (run.names.count("mixed")) {
      const MixedPrecision mp = mixed_precision_search(analyzer, run.mixed, run.max_drop, rows);
      print_mixed(mp);
      out["mixed_precision"] = mp;
    }
  }
  if (run.names.count("compare")) {
    const std::vector<PlanMethod> methods = plan_methods(run.adaround);
    Progress bar("comparing methods");
    const auto rows = compare_methods(analyzer, run.compare, methods, [&](int64_t d, int64_t t) { bar.update(d, t); });
    print_comparison(rows, methods);
    out["method_comparison"] = rows;
  }
  if (run.names.count("what-if")) {
    const WhatIf w = cli::naming_flags({{"float_layers", "--keep-float"}}, [&] {
      return what_if(analyzer, run.what_if, run.per_channel, run.float_layers);
    });
    print_what_if(w);
    out["what_if"] = w;
  }
  return out;
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
        "  3. mixed precision at --mixed: keep the k most sensitive layers in fp32 until the drop <= --max-drop;\n"
        "  4. (--sections compare) the ways of making a plan side by side at the --compare bit-widths;\n"
        "  5. (--sections what-if) one plan at --what-if (--per-tensor, --keep-float), per class and confusion.\n"
        "--weight-range, --equalize, --rounding and --bias-correction apply to the plans of sections 1-3 and 5.\n"
        "It prints an estimate of its time before it starts. Typical on 2 cores: the defaults (sweep of 5\n"
        "bit-widths, 3 sensitivity configs, the mixed search; ~90 simulated plans) 5-10 min; one what-if ~10 s;\n"
        "compare ~1 min per bit-width plus ~1 min per AdaRound plan (2 per bit-width); --rounding adaround makes\n"
        "every plan an AdaRound plan.");
    add_options(options);
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    const ObserverKind observer = cli::observer(args);
    const cli::Methods methods = cli::methods(args);
    PlanOptions base;
    base.weight_range = methods.weight_range;
    Sections run;
    run.names = sections_flag(args);
    run.bits = cli::number_list<int>("bits", args["bits"].as<std::string>(), 2, 16);
    run.sensitivity = bit_widths_flag(args, "sensitivity");
    run.mixed = bit_widths_flag(args, "mixed").at(0);
    run.compare = bit_widths_flag(args, "compare");
    run.what_if = bit_widths_flag(args, "what-if").at(0);
    run.per_channel = !args.count("per-tensor");
    run.float_layers = cli::keep_float_flag(args);
    const int64_t limit = cli::number<int64_t>(args, "limit", 0, 100000);
    run.max_drop = cli::number<double>(args, "max-drop", 0.0, 100.0);
    run.adaround = methods.refine.adaround;
    const int64_t per_class = cli::number<int64_t>(args, "calib-per-class", 1, cli::kMaxCalibPerClass);
    const auto seed = cli::number<uint64_t>(args, "seed", 0, std::numeric_limits<uint64_t>::max());
    const std::optional<std::string> json = cli::output_path(args, "json");
    EvalOptions eval;
    eval.threads = cli::threads(args);
    const std::string data_dir = cli::input_path(args, "data"), model = cli::input_path(args, "model");
    cli::check_distinct_outputs(model, data_dir, {{"--json", json.value_or("")}});

    const FoldedResNet8 folded = fold(load_resnet8(model));
    cli::naming_flags({{"float_layers", "--keep-float"}}, [&] { check_float_layers(folded, run.float_layers); });
    std::vector<int64_t> indices;
    const cifar10::Dataset calibration = calibration_set(data_dir, per_class, seed, &indices, cli::records(args));
    const cifar10::Dataset test =
        cifar10::read_split(data_dir, cifar10::Split::kTest, limit > 0 ? limit : -1, cli::records(args));
    const Analyzer analyzer(folded, calibration, observer, test, eval, base, {methods.equalize, methods.refine});
    fmt::print("fp32 (folded)   {:.2f}%\nobserver        {}, calibration {} images\nmethods         {}\n",
               analyzer.fp32_accuracy(), observer_name(observer), calibration.size(), methods.describe());
    fmt::print("estimate        {}\n\n", time_estimate(analyzer, run, methods.refine.rounding == Rounding::kAdaRound));
    nlohmann::json report = run_sections(analyzer, run);
    if (json) {
      report.update({{"fp32_accuracy", analyzer.fp32_accuracy()},
                     {"observer", observer_name(observer)},
                     {"weight_range", weight_range_name(base.weight_range)},
                     {"methods", methods.describe()},
                     {"calibration_images", calibration.size()},
                     {"calibration_indices", indices}});
      write_file_atomic(*json, json_text(report));
      cli::print_after_commit(fmt::format("report          {}", *json));
    }
    return 0;
  });
}
