// The plan as TFLite and C (export.h).
#include <resnet8/formats/tflite_model.h>
#include <resnet8/pipeline/export.h>
#include <resnet8/program/emit_c.h>
#include <resnet8/support/atomic_file.h>

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace fs = std::filesystem;

namespace resnet8 {

std::string export_c(const IntegerProgram& program, const fs::path& dir, const std::string& description) {
  const CSourceSummary s = c_source_summary(program);
  write_c_source(dir, c_source(program, description));
  return fmt::format("wrote        {}/ (C99: {} bytes of weights, arena {} bytes)", dir.string(), s.weight_bytes,
                     s.arena_bytes);
}

namespace {

// Whether the written model holds INT4 weights (the TFLite writer decides which layers, tflite_model.h).
bool has_int4(const TfliteModel& model) {
  return std::any_of(model.tensors.begin(), model.tensors.end(),
                     [](const TfliteTensor& t) { return t.type == TfliteType::kInt4; });
}

}  // namespace

std::vector<std::string> export_plan(const QuantPlan& plan, const std::string& producer, const std::string& scheme,
                                     const ExportOutputs& out) {
  std::vector<std::string> lines;
  if (!out.tflite && !out.c_source) return lines;
  const std::string what = out.tflite ? "--tflite " + out.tflite->string() : "--c-source " + out.c_source->string();
  const std::string bytes = tflite_bytes(tflite_model(plan, producer));  // verified
  // Read back as resnet8-eval reads it, and prepared: refuses what TFLM would refuse, before writing.
  TfliteModel model = parse_tflite(bytes, what);
  const bool int4 = has_int4(model);
  const IntegerProgram program = prepare_program(std::move(model), what);
  if (out.tflite) {
    write_file_atomic(*out.tflite, bytes);
    lines.push_back(fmt::format("wrote        {} ({} bytes, TFLite int8{})", out.tflite->string(),
                                fs::file_size(written_path(*out.tflite)), int4 ? ", INT4 convolution weights" : ""));
  }
  if (out.c_source) {
    lines.push_back(export_c(program, *out.c_source, fmt::format("{} --c-source ({})", producer, scheme)));
  }
  return lines;
}

}  // namespace resnet8
