// The host side of the differential test against TFLM (tests/test_tflm_diff.py): every .tflite named on the
// command line is read and prepared as resnet8-eval reads and prepares it, then each input is run through
// the planned program (run_program: fused ADDs, views, one arena) and through the reference interpreter
// (run_reference: each operator alone), and through the planned program once more on each x86 level of the
// convolution kernels this CPU runs (host_kernels.h); and the program's C is written for the host compiler.
//
//   resnet8-tflite-diff INPUTS OUT_DIR MODEL.tflite...
//
// INPUTS holds N int8 input tensors of 32 x 32 x 3 bytes. OUT_DIR/results.jsonl gets one line per model:
// {"model", "refused": the one-line message} or {"model", "arena", "calls", "program": [N x 10 ints],
// "reference": [N x 10 ints], "x86": {level: [N x 10 ints]}}; OUT_DIR/c/<model stem>/ its resnet8_model.h/.c,
// OUT_DIR/c/kernels/ the kernels.
#include <resnet8/formats/tflite_model.h>
#include <resnet8/program/emit_c.h>
#include <resnet8/program/host_kernels.h>
#include <resnet8/program/interpreter.h>
#include <resnet8/program/program.h>
#include <resnet8/support/error.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using resnet8::IntegerProgram;

namespace {

constexpr size_t kInputBytes = 32 * 32 * 3;

void write(const fs::path& file, const std::string& text) {
  fs::create_directories(file.parent_path());
  std::ofstream(file, std::ios::binary) << text;
}

// Every input through the planned program and through the reference interpreter.
nlohmann::json run(const IntegerProgram& program, const std::vector<int8_t>& inputs) {
  nlohmann::json planned = nlohmann::json::array(), reference = nlohmann::json::array();
  std::vector<int8_t> arena, out(10), ref(10);
  for (size_t at = 0; at + kInputBytes <= inputs.size(); at += kInputBytes) {
    resnet8::run_program(program, inputs.data() + at, out.data(), arena);
    resnet8::run_reference(program, inputs.data() + at, ref.data());
    planned.push_back(std::vector<int>(out.begin(), out.end()));
    reference.push_back(std::vector<int>(ref.begin(), ref.end()));
  }
  return {{"program", planned}, {"reference", reference}};
}

// The planned program again on each x86 level of the convolutions this CPU runs (host_kernels.h).
nlohmann::json run_x86(IntegerProgram& program, const std::vector<int8_t>& inputs) {
  nlohmann::json levels = nlohmann::json::object();
  for (auto k : {resnet8::HostKernels::kAvx2, resnet8::HostKernels::kAvx512Vnni}) {
    if (!resnet8::host_kernels_supported(k)) continue;
    resnet8::use_host_kernels(program, k);
    levels[resnet8::host_kernels_name(k)] = run(program, inputs)["program"];
  }
  resnet8::use_host_kernels(program, resnet8::HostKernels::kReference);
  return levels;
}

// The program's C: its model files in c/<stem>/, the kernel files in c/kernels/.
void emit(const IntegerProgram& program, const fs::path& out, const std::string& stem) {
  for (const resnet8::CSourceFile& f : resnet8::c_source(program, "resnet8-tflite-diff from " + stem)) {
    const bool model = f.name.rfind("resnet8_model", 0) == 0;
    write(out / "c" / (model ? stem : "kernels") / f.name, f.text);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::cerr << "usage: resnet8-tflite-diff INPUTS OUT_DIR MODEL.tflite...\n";
    return 2;
  }
  std::ifstream in(argv[1], std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::vector<int8_t> inputs(bytes.begin(), bytes.end());
  const fs::path out = argv[2];
  fs::create_directories(out);
  std::ofstream results(out / "results.jsonl");
  for (int i = 3; i < argc; ++i) {
    const fs::path model = argv[i];
    nlohmann::json row = {{"model", model.filename().string()}};
    try {
      IntegerProgram program = resnet8::prepare_program(resnet8::read_tflite(model), model.filename().string());
      row.update(run(program, inputs));
      row["x86"] = run_x86(program, inputs);
      row["arena"] = program.plan.arena_bytes;
      row["calls"] = program.calls.size();
      emit(program, out, model.stem().string());
    } catch (const resnet8::Error& e) {
      row["refused"] = e.what();
    }
    results << row.dump() << "\n";
  }
  return 0;
}
