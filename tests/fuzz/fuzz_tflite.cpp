// libFuzzer target: the .tflite reader (FlatBuffers verifier, then every field checked), the preparation for
// the integer kernels, and, for a model that passes both, the program on one image, compared with the
// reference interpreter (each operator alone, no fusion, no shared arena: program/interpreter.h). Any outcome
// but equal outputs or a resnet8::Error is a finding (crash, sanitizer report, other exception, hang, OOM,
// or the planned program computing something else than the operators one by one).
#include <resnet8/formats/tflite_model.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/program.h>
#include <resnet8/support/error.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const std::string bytes(reinterpret_cast<const char*>(data), size);
    const resnet8::IntegerProgram program = resnet8::prepare_program(resnet8::parse_tflite(bytes, "input"), "input");
    std::vector<int8_t> image(32 * 32 * 3), scores(10), reference(10), arena;
    for (size_t i = 0; i < image.size(); ++i) image[i] = static_cast<int8_t>(i * 37 + size);
    resnet8::run_program(program, image.data(), scores.data(), arena);
    resnet8::run_reference(program, image.data(), reference.data());
    if (scores != reference) {
      std::fprintf(stderr, "fuzz_tflite: the planned program and the operators one by one disagree\n");
      std::abort();
    }
  } catch (const resnet8::Error&) {}
  return 0;
}
