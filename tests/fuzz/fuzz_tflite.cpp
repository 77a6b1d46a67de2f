// libFuzzer target: the .tflite reader (FlatBuffers verifier, then every field checked), the preparation
// for the integer kernels, and, for a model that passes both, the kernels on one image. Any outcome but
// a model run or a resnet8::Error is a finding (crash, sanitizer report, other exception, hang, OOM).
#include <resnet8/formats/tflite_model.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/program.h>
#include <resnet8/support/error.h>

#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const resnet8::IntegerProgram program = resnet8::prepare_program(resnet8::parse_tflite(bytes, "input"), "input");
    std::vector<int8_t> image(32 * 32 * 3, 0), scores(10), arena;
    resnet8::run_program(program, image.data(), scores.data(), arena);
  } catch (const resnet8::Error&) {}
  return 0;
}
