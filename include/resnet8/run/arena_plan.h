#pragma once
// The memory plan of an IntegerProgram (run/tflite_program.h): where every activation lives in one
// arena, decided once from the tensors' lifetimes, for the host evaluator and the generated
// microcontroller code alike.
//   1. An ADD whose input is a convolution's only reader is fused into that convolution, which adds its
//      int8 output to the ADD's other input in place (r8_conv_params::add), so the convolution's output
//      needs no buffer. Where the other input's producer comes later in the model (the MLPerf Tiny
//      reference computes each shortcut after its block's second convolution), it moves before the
//      convolution when its inputs allow. Where both of an ADD's inputs are convolutions that qualify,
//      every choice is planned and the one with the smallest arena kept.
//   2. A RESHAPE is a view: its output is its input's bytes, and it takes no kernel call.
//   3. Each buffer, largest first, goes to the lowest 4-byte-aligned offset that no buffer live at the
//      same time holds (TFLM's greedy memory planner's rule); a convolution's scratch lives for its call.
// For ResNet8 the peak is two 32x32x16 tensors and one convolution's scratch.
#include <resnet8/run/tflite_program.h>

#include <string>

namespace resnet8 {

// Plans `program` in place (prepare_program calls it): fuses (if `fuse_adds`), orders, places, and sets
// every op's offsets and the arena's size. Throws resnet8::Error naming `what` if the arena would exceed
// 64 MiB.
void plan_arena(IntegerProgram& program, bool fuse_adds, const std::string& what);

}  // namespace resnet8
