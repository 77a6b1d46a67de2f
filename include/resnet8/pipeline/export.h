#pragma once
// A plan or a program written as the files that ship: the TFLite model and the C99 for microcontrollers
// (resnet8-ptq --tflite / --c-source, resnet8-micro --c-source). Each file is written all or nothing, under
// the run's OutputGuard.
#include <resnet8/program/program.h>
#include <resnet8/quant/quant_plan.h>

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace resnet8 {

struct ExportOutputs {
  std::optional<std::filesystem::path> tflite;    // the .tflite
  std::optional<std::filesystem::path> c_source;  // the directory of the C
};

// Writes `plan` as asked and returns one "wrote ..." line per output. The TFLite model is read back and
// prepared as resnet8-eval prepares it before anything is written, so a file TFLM would refuse is never
// written. `producer` ("resnet8-ptq 0.1.0") and `scheme` ("7-bit weights, 8-bit activations") go into the
// files' descriptions. Throws OptionError for a plan TFLite cannot hold, resnet8::Error for a write.
std::vector<std::string> export_plan(const QuantPlan& plan, const std::string& producer, const std::string& scheme,
                                     const ExportOutputs& outputs);

// The C of `program` into `dir` (created if absent); its "wrote ..." line.
std::string export_c(const IntegerProgram& program, const std::filesystem::path& dir, const std::string& description);

}  // namespace resnet8
