// resnet8-micro: any ResNet8 .tflite (resnet8-ptq --tflite's, the MLPerf Tiny reference, ...) as
// dependency-free C99 for microcontrollers.
#include "../common/flags.h"

#include <resnet8/formats/tflite_model.h>
#include <resnet8/pipeline/export.h>
#include <resnet8/program/emit_c.h>
#include <resnet8/program/program.h>

#include <fmt/format.h>

using namespace resnet8;

int main(int argc, char** argv) {
  return cli::run("resnet8-micro", [&] {
    cxxopts::Options options(
        "resnet8-micro",
        "Turns a ResNet8 .tflite (int8 or INT4 weights; resnet8-ptq --tflite writes one, the MLPerf Tiny\n"
        "reference is one) into portable C99 for a microcontroller: resnet8_model.h/.c (weights as const arrays,\n"
        "the kernel calls with a memory plan made at export) and the integer kernels resnet8-eval runs the\n"
        "file with, which compute what TensorFlow Lite Micro computes. No OS, malloc or floating point.\n"
        "Call it as: int label = resnet8_classify(image /* 32x32x3 HWC 0..255 */, scores /* int8[10] */);");
    // clang-format off
    options.add_options()
        ("m,model", "the .tflite model; required", cxxopts::value<std::string>())
        ("c-source", "directory to write the C into (created if absent; the files it generates are replaced); "
                     "required", cxxopts::value<std::string>());
    // clang-format on
    const auto parsed = cli::parse(options, argc, argv);
    if (!parsed) return 0;
    const cxxopts::ParseResult& args = *parsed;
    if (!args.count("model")) throw cli::UsageError("--model FILE.tflite is required");
    if (!args.count("c-source")) throw cli::UsageError("--c-source DIR is required");
    const std::string model = args["model"].as<std::string>();
    const std::string dir = *cli::output_directory(args, "c-source");
    std::vector<NamedPath> outputs;
    cli::add_c_source_outputs(outputs, dir, "c-source");
    try {
      check_distinct({{"--model", model}}, outputs);
    } catch (const Error& e) {
      throw cli::UsageError(e.what());
    }

    const IntegerProgram program = prepare_program(read_tflite(model), model);
    const CSourceSummary s = c_source_summary(program);
    fmt::print("model        {} ({} operators)\n", model, program.model().operators.size());
    fmt::print("program      {} kernel calls, {} multiply-accumulates per image\n", s.kernel_calls,
               s.multiply_accumulates);
    fmt::print("memory       arena {} bytes (RESNET8_ARENA_BYTES); const arrays {} bytes, {} of them weights\n",
               s.arena_bytes, s.array_bytes, s.weight_bytes);
    cli::print_after_commit(export_c(
        program, dir,
        fmt::format("resnet8-micro {} from {}", RESNET8_VERSION, std::filesystem::path(model).filename().string())));
    return 0;
  });
}
