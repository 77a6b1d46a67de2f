// The memory plan (program/arena_plan.h) on the MLPerf Tiny reference .tflite (suite "e2e"; ctest passes its
// location in RESNET8_TFLITE_REFERENCE and the CIFAR-10 directory in RESNET8_DATA_DIR): the fused,
// reordered, placed program gives the same int8 output as the model's operators run one by one, each in
// its own memory, on real images and with every arena byte it does not write poisoned; and it holds
// ResNet8's activations in two 32x32x16 tensors and one convolution's scratch.
#include "testing.h"

#include <resnet8/data/cifar10.h>
#include <resnet8/formats/tflite_model.h>
#include <resnet8/micro/r8_variants.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/operators.h>
#include <resnet8/program/program.h>

#include <cstdlib>
#include <random>

namespace {

std::filesystem::path required_path(const char* variable) {
  const char* value = std::getenv(variable);
  REQUIRE_MESSAGE(value != nullptr, variable, " is not set (ctest sets it)");
  REQUIRE_MESSAGE(std::filesystem::exists(value), value, " does not exist: run scripts/setup.sh");
  return value;
}

}  // namespace

TEST_SUITE("e2e") {
  TEST_CASE("the planned program computes what the operators compute one by one, in 2 x 16 KiB + scratch") {
    using namespace resnet8;
    const auto reference = required_path("RESNET8_TFLITE_REFERENCE");
    const IntegerProgram planned = prepare_program(read_tflite(reference), "reference");
    CHECK(planned.model().operators.size() == 16);
    CHECK(planned.calls.size() == 12);  // the three ADDs fused, the RESHAPE a view
    int fused = 0;
    for (const ArenaStep& s : planned.plan.steps) fused += s.fused_add >= 0;
    CHECK(fused == 3);
    const int64_t two_tensors = 2 * 32 * 32 * 16;
    MESSAGE("arena ", planned.plan.arena_bytes, " bytes");
    CHECK(planned.plan.arena_bytes >= two_tensors);  // a convolution's input and its output are live together
    CHECK(planned.plan.arena_bytes <= two_tensors + 8 * 3 * 3 * 16);  // plus one 3x3x16 layer's scratch (8 rows)

    ProgramOptions no_fusion;
    no_fusion.fuse_adds = false;
    const IntegerProgram unfused = prepare_program(read_tflite(reference), "reference", no_fusion);
    CHECK(unfused.calls.size() == 15);
    CHECK(unfused.plan.arena_bytes >
          planned.plan.arena_bytes + 16384 - 1);  // a block's ADD needs a third 16 KiB tensor

    const cifar10::Dataset test = cifar10::read_split(required_path("RESNET8_DATA_DIR"), cifar10::Split::kTest);
    std::mt19937 rng(11);
    std::vector<int8_t> arena, image(3072), out(10), out_unfused(10);
    for (int64_t i = 0; i < 200; ++i) {
      const auto pixels = test.images[i].contiguous();  // HWC uint8
      for (size_t k = 0; k < image.size(); ++k) image[k] = static_cast<int8_t>(pixels.data_ptr<uint8_t>()[k] - 128);
      arena.assign(static_cast<size_t>(planned.plan.arena_bytes), 0);
      for (auto& b : arena) b = static_cast<int8_t>(rng());  // nothing may read a byte it did not write
      run_program(planned, image.data(), out.data(), arena);
      std::vector<int8_t> arena2;
      run_program(unfused, image.data(), out_unfused.data(), arena2);
      std::vector<int8_t> one_by_one(10);
      run_reference(planned, image.data(), one_by_one.data());
      REQUIRE(out == one_by_one);
      REQUIRE(out_unfused == one_by_one);
    }
  }
}
