// resnet8-analyze: simulated-quantization analysis of the fp32 ResNet8 on CIFAR-10 -- bit-width
// sweeps (weights x activations, per-tensor and per-channel), per-layer sensitivity, and a greedy
// mixed-precision search (keep the most sensitive layers in fp32 until the drop is within a bound).
#include "../common/cli.h"

#include <resnet8/atomic_file.h>
#include <resnet8/calibration.h>
#include <resnet8/cifar10.h>
#include <resnet8/evaluate.h>
#include <resnet8/fake_quant.h>
#include <resnet8/folded.h>
#include <resnet8/model.h>
#include <resnet8/progress.h>
#include <resnet8/weights.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <optional>
#include <sstream>

using namespace resnet8;

namespace {

std::vector<int> parse_bits(const std::string& flag, const std::string& text) {
  return cli::int_list<int>(flag, text, 2, 16);
}

struct WA {
  int w, a;
  std::string name() const { return fmt::format("w{}a{}", w, a); }
};

// "w4a8,w8a8" -> {{4, 8}, {8, 8}}
std::vector<WA> parse_wa(const std::string& flag, const std::string& text) {
  std::vector<WA> out;
  std::stringstream in(text);
  std::string item;
  const auto bad = [&] { return cli::UsageError(fmt::format("--{} {}: expected items like w4a8 (bit-widths 2..16), comma-separated", flag, text)); };
  while (std::getline(in, item, ',')) {
    const auto a = item.find('a');
    if (item.size() < 4 || item[0] != 'w' || a == std::string::npos) throw bad();
    const auto w = parse_bits(flag, item.substr(1, a - 1)), act = parse_bits(flag, item.substr(a + 1));
    out.push_back({w[0], act[0]});
  }
  if (out.empty() || text.back() == ',') throw bad();
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
        "  3. mixed precision at --mixed: keep the k most sensitive layers in fp32 until the drop <= --max-drop.");
    options.add_options()
        ("m,model", "fp32 TorchScript export", cxxopts::value<std::string>()->default_value("data/resnet8_fp32.pt"))
        ("d,data", "CIFAR-10 binary directory", cxxopts::value<std::string>()->default_value("data/cifar-10-batches-bin"))
        ("calib-per-class", "calibration images per class", cxxopts::value<int64_t>()->default_value("100"))
        ("seed", "calibration sample seed", cxxopts::value<uint64_t>()->default_value("0"))
        ("observer", "activation ranges: minmax, percentile or mse", cxxopts::value<std::string>()->default_value("percentile"))
        ("bits", "bit-widths swept for weights and activations", cxxopts::value<std::string>()->default_value("4,5,6,7,8"))
        ("sensitivity", "weight/activation bit-widths of the per-layer sensitivity runs", cxxopts::value<std::string>()->default_value("w8a8,w4a8,w8a4"))
        ("mixed", "weight/activation bit-widths of the mixed-precision search", cxxopts::value<std::string>()->default_value("w4a8"))
        ("max-drop", "mixed precision: largest accepted accuracy drop vs fp32, in percentage points", cxxopts::value<double>()->default_value("1.0"))
        ("json", "write every number as JSON to PATH", cxxopts::value<std::string>())
        ("t,threads", "LibTorch threads; 0 = one per hardware thread", cxxopts::value<int>()->default_value("0"));
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    const ObserverKind observer = cli::observer(args);
    const auto bits = parse_bits("bits", args["bits"].as<std::string>());
    const auto sens_configs = parse_wa("sensitivity", args["sensitivity"].as<std::string>());
    const WA mixed = parse_wa("mixed", args["mixed"].as<std::string>()).at(0);
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
    const ActivationRanges ranges(folded, calibration, observer);

    auto accuracy = [&](const FakeQuantConfig& config) {
      const FakeQuantModel m = fake_quantize(folded, ranges, config);
      Classifier c{[&m](const at::Tensor& x) { return m.forward(x); }, "fake-quant", "", "", 0};
      return 100.0 * evaluate(c, test, eval).accuracy();
    };
    const double fp32 =
        100.0 * evaluate(Classifier{[&](const at::Tensor& x) { return folded.forward(x); }, "native", "", "", 0}, test, eval)
                    .accuracy();
    fmt::print("fp32 (folded)   {:.2f}%\nobserver        {}, calibration {} images\n\n", fp32, observer_name(observer),
               calibration.size());

    // 1. Sweep.
    std::vector<std::string> sweep_json;
    Progress progress("sweeping");
    const int64_t total = 2 * int64_t(bits.size() * bits.size());
    int64_t done = 0;
    std::string tables;
    for (const bool per_channel : {false, true}) {
      tables += fmt::format("weights {} (rows) x activations (columns), accuracy %\n{:>6}", per_channel ? "per-channel" : "per-tensor", "");
      for (int a : bits) tables += fmt::format(" {:>7}", fmt::format("a{}", a));
      tables += "\n";
      for (int w : bits) {
        tables += fmt::format("{:>6}", fmt::format("w{}", w));
        for (int a : bits) {
          FakeQuantConfig cfg;
          cfg.weight_bits = w;
          cfg.activation_bits = a;
          cfg.per_channel = per_channel;
          const double acc = accuracy(cfg);
          tables += fmt::format(" {:>7.2f}", acc);
          sweep_json.push_back(fmt::format("{{\"weights\": \"{}\", \"weight_bits\": {}, \"activation_bits\": {}, \"accuracy\": {:.2f}}}",
                                           per_channel ? "per_channel" : "per_tensor", w, a, acc));
          progress.update(++done, total);
        }
        tables += "\n";
      }
      tables += "\n";
    }
    fmt::print("{}", tables);

    // 2. Per-layer sensitivity (per-channel weights).
    const auto layers = quantizable_layers(folded);
    auto all_but = [&](const std::string& keep) {
      std::set<std::string> out(layers.begin(), layers.end());
      out.erase(keep);
      return out;
    };
    auto only_layer = [&](const std::string& layer, const WA& wa) {
      FakeQuantConfig cfg;
      cfg.weight_bits = wa.w;
      cfg.activation_bits = wa.a;
      cfg.float_layers = all_but(layer);
      cfg.input_and_adds = false;
      return fp32 - accuracy(cfg);
    };
    std::map<std::string, std::vector<std::pair<std::string, double>>> drops;
    std::vector<std::string> sens_json;
    Progress sens_progress("per-layer sensitivity");
    int64_t sens_done = 0;
    for (const WA& wa : sens_configs) {
      for (const auto& layer : layers) {
        const double drop = only_layer(layer, wa);
        sens_progress.update(++sens_done, int64_t(sens_configs.size() * layers.size()));
        drops[wa.name()].push_back({layer, drop});
        sens_json.push_back(fmt::format("{{\"layer\": \"{}\", \"config\": \"{}\", \"weight_bits\": {}, \"activation_bits\": {}, "
                                        "\"drop\": {:.2f}}}", layer, wa.name(), wa.w, wa.a, drop));
      }
    }
    fmt::print("per-layer sensitivity: accuracy drop (pp) with only that layer quantized (weights, output)\n{:<18}", "layer");
    for (const WA& wa : sens_configs) fmt::print(" {:>8}", wa.name());
    fmt::print("\n");
    for (size_t i = 0; i < layers.size(); ++i) {
      fmt::print("{:<18}", layers[i]);
      for (const WA& wa : sens_configs) fmt::print(" {:>8.2f}", drops[wa.name()][i].second);
      fmt::print("\n");
    }

    // 3. Mixed precision: rank layers by their drop at the --mixed config, keep the worst in fp32 one by one.
    std::vector<std::pair<std::string, double>> ranking = drops[mixed.name()];
    if (ranking.empty()) {
      for (const auto& layer : layers) ranking.push_back({layer, only_layer(layer, mixed)});
    }
    std::sort(ranking.begin(), ranking.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
    std::vector<std::string> mixed_json, kept;
    fmt::print("\nmixed precision at {} (per-channel; input and residual adds stay quantized): "
               "layers kept in fp32 -> accuracy\n", mixed.name());
    for (size_t k = 0; k <= ranking.size(); ++k) {
      FakeQuantConfig cfg;
      cfg.weight_bits = mixed.w;
      cfg.activation_bits = mixed.a;
      if (k > 0) kept.push_back(ranking[k - 1].first);
      cfg.float_layers.insert(kept.begin(), kept.end());
      const double acc = accuracy(cfg);
      fmt::print("  k={:<2} {:<60} {:.2f}% (drop {:.2f} pp)\n", k, kept.empty() ? "(none)" : fmt::format("{}", fmt::join(kept, ", ")),
                 acc, fp32 - acc);
      mixed_json.push_back(fmt::format("{{\"k\": {}, \"fp32_layers\": [{}], \"accuracy\": {:.2f}, \"drop\": {:.2f}}}", k,
                                       kept.empty() ? "" : fmt::format("\"{}\"", fmt::join(kept, "\", \"")), acc, fp32 - acc));
      if (fp32 - acc <= max_drop) {
        fmt::print("  -> {} layer{} in fp32 meet{} the {:.2f} pp bound\n", k, k == 1 ? "" : "s", k == 1 ? "s" : "", max_drop);
        break;
      }
    }

    if (json) {
      write_file_atomic(*json, fmt::format(
          "{{\n\"fp32_accuracy\": {:.2f},\n\"observer\": \"{}\",\n\"calibration_images\": {},\n\"sweep\": [\n  {}\n],\n"
          "\"sensitivity\": [\n  {}\n],\n\"mixed_precision\": {{\"config\": \"{}\", \"max_drop\": {}, \"steps\": [\n  {}\n]}}\n}}\n",
          fp32, observer_name(observer), calibration.size(), fmt::join(sweep_json, ",\n  "), fmt::join(sens_json, ",\n  "),
          mixed.name(), max_drop, fmt::join(mixed_json, ",\n  ")));
      fmt::print("report          {}\n", *json);
    }
    return 0;
  });
}
