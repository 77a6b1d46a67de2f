#pragma once
// The integer program run on the host: its kernel calls in order, in its planned arena.
#include <resnet8/program/program.h>
#include <resnet8/program/split_worker.h>

#include <cstdint>
#include <vector>

namespace resnet8 {

// Runs the program on one image's int8 input, writing its int8 output (program.output_bytes() bytes).
// `arena` holds the program's arena (resized to its arena_bytes as needed); reuse it across images.
// With `worker` (its scratch at least program.host_scratch_bytes), each convolution on an x86 variant is split
// between the caller and the worker by output rows: one image on two cores.
void run_program(const IntegerProgram& program, const int8_t* input, int8_t* output, std::vector<int8_t>& arena,
                 SplitWorker* worker = nullptr);

// The model's operators one by one in TFLite's order, each with its own input and output memory: no fused
// ADD, no RESHAPE view, no shared arena. The reference the planned program is checked against (the tests,
// the .tflite fuzzer, the differential test): both must give the same output, byte for byte.
void run_reference(const IntegerProgram& program, const int8_t* input, int8_t* output);

}  // namespace resnet8
