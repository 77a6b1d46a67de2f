// resnet8-bench: images/s and latency of a ResNet8 model file across batch sizes and thread counts.
#include "../common/flags.h"

#include <resnet8/data/cifar10.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/run/benchmark.h>
#include <resnet8/run/classifier.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/progress.h>

#include <fmt/format.h>

#include <optional>

using namespace resnet8;

int main(int argc, char** argv) {
  return cli::run("resnet8-bench", [&] {
    cxxopts::Options options(
        "resnet8-bench",
        "Measures images/s of a ResNet8 model file (fp32 or int8, TorchScript, --native or --module) on\n"
        "CIFAR-10 test images at several batch sizes and thread counts: a warm-up pass, then\n"
        "--repeats timed passes; the median is reported, with p50/p99 latency at batch size 1.");
    // One option per line, as cxxopts tables read best.
    // clang-format off
    options.add_options()
        ("m,model", "TorchScript model file; required", cxxopts::value<std::string>())
        ("d,data", "CIFAR-10 binary directory (test images are the input)",
         cxxopts::value<std::string>()->default_value(cli::repository_data("cifar-10-batches-bin")))
        ("batch-sizes", "comma-separated batch sizes, each 1..100000", cxxopts::value<std::string>()->default_value("1,32,256,1000"))
        ("threads", "comma-separated LibTorch thread counts, each 1..1024", cxxopts::value<std::string>()->default_value("2"))
        ("repeats", "timed passes per configuration (median reported), 1..1000", cxxopts::value<std::string>()->default_value("5"))
        ("images", "images per timed pass, 1..1000000", cxxopts::value<std::string>()->default_value("2000"))
        ("profile", "also run LibTorch's profiler at each batch size (first thread count) and print where a forward "
                    "call's time goes, per operator (TorchScript runs only: fp32 --native and a .tflite run on "
                    "resnet8's own kernels, which it does not see, and are refused)")
        ("json", "also write the results as JSON to PATH", cxxopts::value<std::string>());
    // clang-format on
    cli::add_runner_options(options);
    cli::add_data_options(options);
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    if (!args.count("model")) throw cli::UsageError("--model FILE is required");
    BenchOptions bench;
    bench.batch_sizes =
        cli::number_list<int64_t>("batch-sizes", args["batch-sizes"].as<std::string>(), 1, cli::kMaxBatchSize);
    bench.threads = cli::number_list<int>("threads", args["threads"].as<std::string>(), 1, cli::kMaxThreads);
    bench.repeats = cli::number<int>(args, "repeats", 1, 1000);
    bench.images = cli::number<int64_t>(args, "images", 1, 1000000);
    const std::optional<std::string> json = cli::output_path(args, "json");
    const std::string model = args["model"].as<std::string>();
    const std::string data_dir = cli::input_path(args, "data");
    cli::check_distinct_outputs(model, data_dir, {{"--json", json.value_or("")}});
    const Classifier classifier =
        load_classifier(model, cli::runner(args), cli::engine_flag(args), cli::kernels_flag(args));
    if (args.count("profile") && !classifier.kernels.empty()) {
      throw cli::UsageError(fmt::format(
          "--profile: LibTorch's profiler sees LibTorch's operators only, and {} runs on resnet8's own {} kernels; "
          "use perf record on this command without --profile{}",
          model, classifier.kernels, classifier.integer ? "" : ", or profile the TorchScript run (no --native)"));
    }
    const int64_t needed = *std::max_element(bench.batch_sizes.begin(), bench.batch_sizes.end());
    const cifar10::Dataset test =
        cifar10::read_split(data_dir, cifar10::Split::kTest, std::max<int64_t>(needed, 1000), cli::records(args));
    if (test.size() < needed)
      throw cli::UsageError(fmt::format("--batch-sizes: {} exceeds the {} test images", needed, test.size()));
    const bool tty = Progress::stderr_is_terminal();
    bench.on_step = [&](const std::string& step) {
      if (tty) fmt::print(stderr, "\rmeasuring {:<30}", step);
    };
    BenchReport report = benchmark(classifier, test.images, bench);
    if (args.count("profile")) {
      for (const int64_t batch : bench.batch_sizes) {
        bench.on_step(fmt::format("profile, batch {}", batch));
        report.profiles.push_back(profile_ops(classifier, test.images, batch,
                                              std::max<int64_t>(20, bench.images / batch), bench.threads.front()));
      }
    }
    if (tty) fmt::print(stderr, "\r{:<42}\r", "");
    fmt::print("{}", to_table(report));
    for (const auto& p : report.profiles) fmt::print("\n{}", to_table(p));
    if (json) write_file_atomic(*json, json_text(report));
    return 0;
  });
}
