// resnet8-eval: accuracy and speed of a ResNet8 model file on the CIFAR-10 test set.
#include "../common/flags.h"

#include <resnet8/data/cifar10.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/run/classifier.h>
#include <resnet8/run/evaluate.h>
#include <resnet8/run/report.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/progress.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <optional>

using namespace resnet8;

namespace {

// One line per image: the int8 output integers of a quantized-output model (recovered exactly from the
// dequantized scores), else the float scores at full precision.
std::string scores_text(const Classifier& c, const std::vector<float>& scores) {
  std::string out;
  const size_t k = cifar10::kNumClasses;
  for (size_t i = 0; i < scores.size(); ++i) {
    const float s = scores[i];
    out += c.output_scale > 0 ? fmt::format("{}", std::lround(s / c.output_scale) + c.output_zero_point)
                              : fmt::format("{:.9g}", s);
    out += (i + 1) % k == 0 ? "\n" : " ";
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  return cli::run("resnet8-eval", [&] {
    cxxopts::Options options("resnet8-eval",
                             "Evaluates a ResNet8 model file on the CIFAR-10 test set (10,000 images) and reports\n"
                             "accuracy, per-class accuracy and images/s (with --json also the confusion matrix).\n"
                             "Models take NHWC float32 input with raw 0..255 pixels and return [N, 10] scores.");
    // One option per line, as cxxopts tables read best.
    // clang-format off
    options.add_options()
        ("m,model", "model file: TorchScript (the fp32 export or an int8 file of resnet8-ptq) or a .tflite int8 model; "
                    "required", cxxopts::value<std::string>())
        ("d,data", "CIFAR-10 binary directory", cxxopts::value<std::string>()->default_value(cli::repository_data("cifar-10-batches-bin")))
        ("b,batch-size", "images per forward call, 1..100000", cxxopts::value<std::string>()->default_value("1000"))
        ("t,threads", "LibTorch intra-op threads, 0..1024; 0 = one per hardware thread", cxxopts::value<std::string>()->default_value("0"))
        ("limit", "evaluate only the first N test images, 0..100000; 0 = all", cxxopts::value<std::string>()->default_value("0"))
        ("json", "also write the full report as JSON to PATH", cxxopts::value<std::string>())
        ("predictions", "also write the predicted class (0..9) of every evaluated image to PATH, one per line",
         cxxopts::value<std::string>())
        ("scores", "also write every evaluated image's 10 scores to PATH, one image per line: for a .tflite the int8 "
                   "output tensor's integers, else the model's float outputs", cxxopts::value<std::string>());
    // clang-format on
    cli::add_runner_options(options);
    cli::add_data_options(options);
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    if (!args.count("model")) throw cli::UsageError("--model FILE is required");

    const std::string model_path = args["model"].as<std::string>();
    const std::string data_dir = cli::input_path(args, "data");
    EvalOptions eval;
    eval.batch_size = cli::number<int64_t>(args, "batch-size", 1, cli::kMaxBatchSize);
    eval.threads = cli::threads(args);
    const int64_t limit = cli::number<int64_t>(args, "limit", 0, 100000);
    const std::optional<std::string> json = cli::output_path(args, "json");
    const std::optional<std::string> predictions = cli::output_path(args, "predictions");
    const std::optional<std::string> scores = cli::output_path(args, "scores");
    eval.keep_scores = scores.has_value();
    cli::check_distinct_outputs(model_path, data_dir,
                                {{"--json", json.value_or("")},
                                 {"--predictions", predictions.value_or("")},
                                 {"--scores", scores.value_or("")}});

    const Classifier classifier =
        load_classifier(model_path, cli::runner(args), cli::engine_flag(args), cli::kernels_flag(args));
    const cifar10::Dataset test =
        cifar10::read_split(data_dir, cifar10::Split::kTest, limit > 0 ? limit : -1, cli::records(args));

    Progress progress("evaluating");
    eval.on_progress = [&](int64_t done, int64_t total) { progress.update(done, total); };
    EvalReport report = evaluate(classifier, test, eval);
    report.data_dir = data_dir;

    fmt::print("{}", to_table(report));
    if (json) {
      write_file_atomic(*json, json_text(report));
      cli::print_after_commit(fmt::format("report     {}", *json));
    }
    if (predictions) {
      write_file_atomic(*predictions, fmt::format("{}\n", fmt::join(report.predictions, "\n")));
      cli::print_after_commit(fmt::format("predicted  {}", *predictions));
    }
    if (scores) {
      write_file_atomic(*scores, scores_text(classifier, report.scores));
      cli::print_after_commit(fmt::format("scores     {}", *scores));
    }
    return 0;
  });
}
