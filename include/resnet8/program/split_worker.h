#pragma once
// A second core for one image: a persistent worker thread that computes the second half of the output rows of
// each convolution run on an x86 variant (host_kernels.h), or of the direct float network's
// (run/float_direct.h), while the caller computes the first half. It spins
// between layers (a thread woken per layer would cost more than a layer) and sleeps after 200 us without
// work, so an idle worker does not hold a core.
#include <resnet8/micro/r8_kernels.h>

#include <cstdint>
#include <memory>

namespace resnet8 {

class SplitWorker {
 public:
  // `scratch_bytes`: the most any convolution it runs needs (IntegerProgram::host_scratch_bytes).
  explicit SplitWorker(int64_t scratch_bytes);
  ~SplitWorker();
  SplitWorker(const SplitWorker&) = delete;
  SplitWorker& operator=(const SplitWorker&) = delete;

  // Starts r8_conv_x86_rows(p, packed, input, output, its scratch, row_begin, row_end) on the worker.
  void start(const r8_conv_params* p, const int32_t* packed, const int8_t* input, int8_t* output, int32_t row_begin,
             int32_t row_end);
  // Starts job(context) on the worker: any work, the caller keeping `context` alive until finish().
  using Job = void (*)(const void* context);
  void start(Job job, const void* context);
  // Returns when the started rows (or job) are done.
  void finish();
  int64_t scratch_bytes() const;

 private:
  void post();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace resnet8
