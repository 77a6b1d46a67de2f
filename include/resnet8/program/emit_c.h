#pragma once
// The integer program (program/program.h) as dependency-free C99 for microcontrollers:
//   resnet8_model.h   the API: resnet8_classify(image, scores) on a static arena of RESNET8_ARENA_BYTES, or
//                     resnet8_classify_in(image, scores, arena) on the caller's, and resnet8_run(input, output,
//                     arena) on the int8 tensors themselves
//   resnet8_model.c   the weights and every operator's parameters as const data (flash), and the kernel calls
//                     in the planned order at the planned arena offsets (run/arena_plan.h)
//   r8_*.h, r8_*.c    the integer kernels the program calls, byte for byte those of the library
//                     (include/resnet8/micro, src/micro): the code resnet8-eval runs a .tflite with, so the C
//                     computes what the host computes, which is what TensorFlow Lite Micro computes.
// No operating system, malloc or floating point on the inference path; 4-bit weights stay two per byte.
#include <resnet8/program/program.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace resnet8 {

struct CSourceFile {
  std::string name;  // "resnet8_model.c"
  std::string text;
};

struct CSourceSummary {
  int64_t arena_bytes = 0;   // RESNET8_ARENA_BYTES: every activation and a convolution's scratch
  int64_t array_bytes = 0;   // the const arrays: weights, biases, multipliers, shifts (the parameter
                             // structs add a few hundred bytes)
  int64_t weight_bytes = 0;  // of which weights
  int64_t multiply_accumulates = 0;
  int kernel_calls = 0;
};

// The files for `program`. `description` (the producer and the source) goes into their header comments. The
// API: resnet8_run() on the model's int8 input tensor always; resnet8_classify() / resnet8_classify_in() on
// 0..255 pixels where the input is the MLPerf Tiny interface (int8, scale 1, zero point -128: pixel - 128).
std::vector<CSourceFile> c_source(const IntegerProgram& program, const std::string& description);
CSourceSummary c_source_summary(const IntegerProgram& program);

// Throws resnet8::Error naming `flag` unless `dir` can take the files: an existing directory, or a name whose
// parent directory exists (it is created when the files are written); each file in it absent or a regular
// file. Tools call it before long work.
void check_c_source_dir(const std::filesystem::path& dir, const std::string& flag);

// Every file c_source() may write into `dir` (to check them against a tool's inputs).
std::vector<std::filesystem::path> c_source_paths(const std::filesystem::path& dir);

// Writes `files` into `dir`, creating it if absent. Each file is written all or nothing; under an
// OutputGuard they are committed with the run's other outputs, and a directory this run created is
// removed again if the run fails.
void write_c_source(const std::filesystem::path& dir, const std::vector<CSourceFile>& files);

}  // namespace resnet8
