// libFuzzer target: the data-only TorchScript reader (as the fp32 loader uses it, and with the tuple
// state of int8 files accepted, as read_quantized_plan() uses it) and the weight loader on arbitrary
// bytes. Any outcome but tensors read or a resnet8::Error is a finding (crash, sanitizer report, other
// exception, hang, out of memory).
#include "fuzz_file.h"

#include <resnet8/data/weights.h>
#include <resnet8/model/model.h>
#include <resnet8/support/error.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = resnet8::fuzz::write_input("model.pt", data, size);
  try {
    resnet8::ResNet8 model;
    resnet8::load_weights(*model, resnet8::read_torchscript_tensors(file), file.string());
  } catch (const resnet8::Error&) {}
  try {
    resnet8::read_torchscript_tensors(file, /*tuple_state=*/true);
  } catch (const resnet8::Error&) {}
  return 0;
}
