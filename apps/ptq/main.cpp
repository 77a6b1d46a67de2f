// resnet8-ptq: static int8 post-training quantization of the fp32 ResNet8 export, written as a
// quantized TorchScript file, then compared with fp32 on the CIFAR-10 test set.
#include "../common/flags.h"

#include <resnet8/data/calibration.h>
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/engine/engine.h>
#include <resnet8/engine/float_kernels.h>
#include <resnet8/formats/onnx.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/export.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/pipeline/quantize.h>
#include <resnet8/run/classifier.h>
#include <resnet8/run/evaluate.h>
#include <resnet8/run/report.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/progress.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <array>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>

using namespace resnet8;
namespace fs = std::filesystem;

namespace {

void add_options(cxxopts::Options& options) {
  // One option per line, as cxxopts tables read best.
  // clang-format off
  options.add_options()
      ("m,model", "fp32 TorchScript export (weights are read as data)",
       cxxopts::value<std::string>()->default_value(cli::repository_data("resnet8_fp32.pt")))
      ("d,data", "CIFAR-10 binary directory", cxxopts::value<std::string>()->default_value(cli::repository_data("cifar-10-batches-bin")))
      ("o,output", "quantized TorchScript file to write", cxxopts::value<std::string>()->default_value("resnet8_int8.pt"))
      ("onnx", "also write the same quantized model as ONNX (QDQ, opset 13: uint8 activations, int8 weights) to PATH, "
               "for ONNX Runtime and other runtimes", cxxopts::value<std::string>())
      ("tflite", "also write the same quantized model as TFLite int8 to PATH, for TensorFlow Lite Micro (the MLPerf "
                 "Tiny interface: int8 input pixel - 128, int8 softmax output; 4-bit weights as INT4)",
       cxxopts::value<std::string>())
      ("c-source", "also write the same quantized model as dependency-free C99 for microcontrollers into directory "
                   "DIR (created if absent): resnet8_model.h/.c and the integer kernels, bit-exact with the --tflite "
                   "file in TensorFlow Lite Micro", cxxopts::value<std::string>())
      ("calib-per-class", "calibration images per class, 1..5000", cxxopts::value<std::string>()->default_value("100"))
      ("seed", "calibration sample seed, 0..2^64-1", cxxopts::value<std::string>()->default_value("0"))
      ("observer", "activation range observer: minmax, percentile or mse", cxxopts::value<std::string>()->default_value("percentile"))
      ("per-channel", "per-output-channel symmetric qint8 weights (the default)")
      ("per-tensor", "one symmetric qint8 scale per weight tensor")
      ("engine", "quantized engine: " + cli::available_engine_list() +
                 "; default: x86 where the int8 kernels have VNNI, else onednn",
       cxxopts::value<std::string>())
      ("weight-bits", "symmetric weight bits, 2..8; 7 ([-63, 63]) is exact on every x86 CPU, 8 only with VNNI "
                      "or 7-bit activations", cxxopts::value<std::string>()->default_value("7"))
      ("end-bits", "weight bits of the first and last layers (stem.conv, which sees the pixels, and fc), 2..8; "
                   "default 7, or --weight-bits if wider: a low-bit plan keeps them at 7 bits (1.4 % of the weights)",
       cxxopts::value<std::string>())
      ("reduce-range", "7-bit activations: auto (on only for 8-bit weights on kernels without VNNI), on or off; "
                       "a scheme that would saturate int16 here is refused",
       cxxopts::value<std::string>()->default_value("auto"))
      ("activation-bits", "unsigned activation bits, 2..8 (instead of --reduce-range; 7 = --reduce-range on); at 6 "
                          "and fewer the file clamps every activation to its range", cxxopts::value<std::string>())
      ("keep-float", "mixed precision: comma-separated layers kept in fp32, of " + cli::layer_list(),
       cxxopts::value<std::string>())
      ("json-weights", "with --json: also every layer's integer weights and the fp32 weights they were made from (under "
                       "'weights'; ~2 MB)")
      ("json", "write the quantization plan (per-layer scales/zero points, weight ranges), sizes and results as JSON",
       cxxopts::value<std::string>())
      ("no-eval", "only write the quantized file")
      ("b,batch-size", "images per forward call in evaluation, 1..100000", cxxopts::value<std::string>()->default_value("1000"))
      ("t,threads", "LibTorch intra-op threads, 0..1024; 0 = one per hardware thread", cxxopts::value<std::string>()->default_value("0"));
  // clang-format on
  cli::add_method_options(options);
  cli::add_data_options(options);
}

// --activation-bits N, or --reduce-range on (7) / off (8) / auto (unset); not both.
std::optional<int> activation_bits_flag(const cxxopts::ParseResult& args) {
  const std::string text = args["reduce-range"].as<std::string>();
  if (text != "auto" && text != "on" && text != "off") {
    throw cli::UsageError(fmt::format("--reduce-range {}: expected auto, on or off", text));
  }
  if (args.count("activation-bits")) {
    if (args["reduce-range"].count()) throw cli::UsageError("--activation-bits and --reduce-range exclude each other");
    return cli::number<int>(args, "activation-bits", 2, 8);
  }
  if (text == "auto") return std::nullopt;
  return text == "on" ? 7 : 8;
}

QuantizeOptions quantize_options(const cxxopts::ParseResult& args) {
  if (args.count("per-channel") && args.count("per-tensor"))
    throw cli::UsageError("--per-channel and --per-tensor exclude each other");
  QuantizeOptions q;
  q.observer = cli::observer(args);
  q.per_channel = !args.count("per-tensor");
  const cli::Methods methods = cli::methods(args);
  q.weight_range = methods.weight_range;
  q.equalize = methods.equalize;
  q.refine = methods.refine;
  q.engine = cli::engine_flag(args);
  q.activation_bits = activation_bits_flag(args);
  q.weight_bits = cli::number<int>(args, "weight-bits", 2, 8);
  if (args.count("end-bits")) q.end_bits = cli::number<int>(args, "end-bits", 2, 8);
  const std::string flags =
      args.count("activation-bits")
          ? fmt::format("--weight-bits {} --activation-bits {}", q.weight_bits, *q.activation_bits)
          : fmt::format("--weight-bits {} --reduce-range {}", q.weight_bits, args["reduce-range"].as<std::string>());
  const std::string end_flag = q.end_bits ? fmt::format(" --end-bits {}", *q.end_bits) : "";
  cli::naming_flags({{"weight_bits", flags}, {"reduce_range", flags + end_flag}, {"activation_bits", flags}},
                    [&] { return resolve_scheme(q, q.engine.empty() ? default_engine() : q.engine); });
  q.calib_per_class = cli::number<int64_t>(args, "calib-per-class", 1, cli::kMaxCalibPerClass);
  q.float_layers = cli::keep_float_flag(args);
  q.seed = cli::number<uint64_t>(args, "seed", 0, std::numeric_limits<uint64_t>::max());
  return q;
}

// Quantizes with a progress bar per calibration pass.
QuantizedResNet8 quantize_with_progress(const FoldedResNet8& folded, const cifar10::Dataset& calibration,
                                        QuantizeOptions q) {
  std::unique_ptr<Progress> progress;
  std::string stage;
  q.on_progress = [&](const std::string& s, int64_t done, int64_t total) {
    if (s != stage) progress = std::make_unique<Progress>(stage = s);
    progress->update(done, total);
  };
  return cli::naming_flags({{"float_layers", "--keep-float"}}, [&] { return quantize(folded, calibration, q); });
}

std::string comparison_table(const EvalReport& f, const EvalReport& q) {
  auto pct = [](int64_t a, int64_t b) { return b ? 100.0 * double(a) / double(b) : 0.0; };
  int64_t agree = 0;
  for (size_t i = 0; i < f.predictions.size() && i < q.predictions.size(); ++i)
    agree += f.predictions[i] == q.predictions[i];
  std::string out = fmt::format("{:<14} {:>14} {:>14} {:>12}\n", "", "fp32", "int8", "delta");
  out += fmt::format("{:<14} {:>13.2f}% {:>13.2f}% {:>+9.2f} pp\n", "accuracy", 100 * f.accuracy(), 100 * q.accuracy(),
                     100 * (q.accuracy() - f.accuracy()));
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    const double a = 100.0 * f.class_accuracy(c), b = 100.0 * q.class_accuracy(c);
    out += fmt::format("  {:<12} {:>13.1f}% {:>13.1f}% {:>+9.1f} pp\n", cifar10::kClassNames[c], a, b, b - a);
  }
  out += fmt::format("{:<14} {:>12} B {:>12} B {:>10.2f}x smaller\n", "file size", f.model_bytes, q.model_bytes,
                     double(f.model_bytes) / double(q.model_bytes));
  out += fmt::format("{:<14} {:>14} {:>13.2f}% ({} of {} test images)\n", "top-1 agree", "", pct(agree, q.images),
                     agree, q.images);
  out += fmt::format("{:<14} {:>14.0f} {:>14.0f} {:>10.2f}x faster\n", "images/s", f.images_per_second(),
                     q.images_per_second(), q.images_per_second() / f.images_per_second());
  return out;
}

nlohmann::json eval_summary(const EvalReport& r) {
  return {{"path", r.model_path},
          {"bytes", r.model_bytes},
          {"correct", r.correct},
          {"accuracy", r.accuracy()},
          {"images_per_second", r.images_per_second()}};
}

// Evaluates the fp32 and the int8 file on the test set, prints the comparison, returns its JSON. The int8
// file is read where this run staged it (it is put in place when the run succeeds).
nlohmann::json compare(const fs::path& fp32, const fs::path& int8, const fs::path& data_dir, cifar10::Records records,
                       EvalOptions eval) {
  const cifar10::Dataset test = cifar10::read_split(data_dir, cifar10::Split::kTest, -1, records);
  std::array<EvalReport, 2> reports;
  const std::array<fs::path, 2> files = {fp32, written_path(int8)};
  for (int i = 0; i < 2; ++i) {
    Progress bar(i == 0 ? "evaluating fp32" : "evaluating int8");
    eval.on_progress = [&](int64_t done, int64_t total) { bar.update(done, total); };
    reports[i] = evaluate(torchscript_classifier(files[i]), test, eval);
  }
  reports[1].model_path = int8.string();
  fmt::print("\n{}", comparison_table(reports[0], reports[1]));
  return {{"fp32", eval_summary(reports[0])}, {"int8", eval_summary(reports[1])}};
}

struct Outputs {
  fs::path model;
  std::optional<std::string> json, onnx, tflite, c_source;
};

// The same plan as ONNX QDQ (the tools' own target), TFLite and C, as asked.
void write_other_formats(const QuantizedResNet8& quantized, const Outputs& out) {
  const std::string producer = int8_metadata(quantized).producer;
  if (out.onnx) {
    write_file_atomic(*out.onnx, onnx_model(quantized.plan, producer));
    cli::print_after_commit(
        fmt::format("wrote        {} ({} bytes, ONNX QDQ)", *out.onnx, fs::file_size(written_path(*out.onnx))));
  }
  ExportOutputs formats;
  if (out.tflite) formats.tflite = *out.tflite;
  if (out.c_source) formats.c_source = *out.c_source;
  for (const std::string& line : export_plan(quantized.plan, producer, quantized.describe_scheme(), formats)) {
    cli::print_after_commit(line);
  }
}

// The other formats need a plan they can hold: checked before any work. ONNX's and TFLite's int8 tensors do
// not clamp to fewer bits (7 or 8), and TFLite quantizes every layer.
void check_format_flags(const cxxopts::ParseResult& args, const QuantizeOptions& q) {
  for (const char* flag : {"onnx", "tflite", "c-source"}) {
    if (!args.count(flag)) continue;
    const std::string format = std::string(flag) == "onnx" ? "ONNX QDQ" : "TFLite";
    if (format == "TFLite" && !q.float_layers.empty())
      throw cli::UsageError(fmt::format("--{}: a TFLite int8 model quantizes every layer; drop --keep-float", flag));
    if (q.activation_bits && *q.activation_bits < 7) {
      throw cli::UsageError(fmt::format(
          "--{}: {}'s int8 tensors take 7- or 8-bit activations, not --activation-bits {} (the .pt takes 2..8)", flag,
          format, *q.activation_bits));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  pin_float_kernels();  // before LibTorch's first computation: the same file on every x86-64 CPU
  return cli::run("resnet8-ptq", [&] {
    cxxopts::Options options(
        "resnet8-ptq",
        "Static int8 post-training quantization of the fp32 ResNet8 export with LibTorch's quantized ops.\n"
        "Calibrates on a stratified, seeded sample of the CIFAR-10 training batches (never the test set),\n"
        "writes a quantized TorchScript file any LibTorch (C++ or Python torch.jit.load) can run, then\n"
        "evaluates fp32 and int8 on the 10,000 test images and prints one comparison table.");
    add_options(options);
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    const QuantizeOptions q = quantize_options(args);
    EvalOptions eval;
    eval.batch_size = cli::number<int64_t>(args, "batch-size", 1, cli::kMaxBatchSize);
    eval.threads = cli::threads(args);
    const fs::path model_path = cli::input_path(args, "model"), data_dir = cli::input_path(args, "data");
    const fs::path output = cli::required_output_path(args, "output");

    const Outputs out{output, cli::output_path(args, "json"), cli::output_path(args, "onnx"),
                      cli::output_path(args, "tflite"), cli::output_directory(args, "c-source")};
    const std::optional<std::string>& json = out.json;
    if (args.count("json-weights") && !json) throw cli::UsageError("--json-weights: it adds to --json PATH; give both");
    std::vector<NamedPath> outputs = {{"--output", output},
                                      {"--json", json.value_or("")},
                                      {"--onnx", out.onnx.value_or("")},
                                      {"--tflite", out.tflite.value_or("")}};
    cli::add_c_source_outputs(outputs, out.c_source, "c-source");
    cli::check_distinct_outputs(model_path.string(), data_dir.string(), outputs);
    check_format_flags(args, q);
    at::set_num_threads(resolve_threads(eval.threads));

    const FoldedResNet8 folded = fold(load_resnet8(model_path));
    std::vector<int64_t> calibration_indices;
    const cifar10::Dataset calibration =
        calibration_set(data_dir, q.calib_per_class, q.seed, &calibration_indices, cli::records(args));
    fmt::print("calibration  {} training images ({} per class, seed {}), observer {}, {} weights\nmethods      {}\n",
               calibration.size(), q.calib_per_class, q.seed, observer_name(q.observer),
               q.per_channel ? "per-channel" : "per-tensor", cli::methods(args).describe());
    const QuantizedResNet8 quantized = quantize_with_progress(folded, calibration, q);
    fmt::print("float        {}{}\n", quantized.float_kernels.describe(),
               quantized.float_kernels.pinned()
                   ? " (pinned: the same file on every x86-64 CPU)"
                   : " (the environment overrides the pinned ATEN_CPU_CAPABILITY or MKL_CBWR: "
                     "the file may differ on another CPU)");
    save_quantized(quantized, output);
    fmt::print("scheme       {}, engine {}\n", quantized.describe_scheme(), quantized.engine);
    cli::print_after_commit(
        fmt::format("wrote        {} ({} bytes)", output.string(), fs::file_size(written_path(output))));
    write_other_formats(quantized, out);
    const nlohmann::json results =
        args.count("no-eval") ? nlohmann::json() : compare(model_path, output, data_dir, cli::records(args), eval);
    if (json) {
      write_file_atomic(*json, json_text({{"ptq",
                                           {{"metadata", int8_metadata(quantized)},
                                            {"plan", quantized.plan},
                                            {"equalization", quantized.equalization},
                                            {"refinement", quantized.refinement}}},
                                          {"weights", args.count("json-weights") ? weights_json(quantized) : nullptr},
                                          {"fp32_bytes", fs::file_size(model_path)},
                                          {"int8_bytes", fs::file_size(written_path(output))},
                                          {"evaluation", results},
                                          {"calibration_indices", calibration_indices}}));
      cli::print_after_commit(fmt::format("report       {}", *json));
    }
    return 0;
  });
}
