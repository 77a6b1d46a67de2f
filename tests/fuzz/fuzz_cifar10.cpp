// libFuzzer target: the CIFAR-10 batch reader on arbitrary bytes. Any outcome but records read or a
// resnet8::Error is a finding (crash, sanitizer report, other exception, hang).
#include "fuzz_file.h"

#include <resnet8/data/cifar10.h>
#include <resnet8/support/error.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto file = resnet8::fuzz::write_input("test_batch.bin", data, size);
  try {
    const auto batch = resnet8::cifar10::read_batch_file(file, -1, resnet8::cifar10::Records::kAnyCount);
    (void)resnet8::cifar10::to_model_input(batch.images.slice(0, 0, 1));
  } catch (const resnet8::Error&) {}
  return 0;
}
